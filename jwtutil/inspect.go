package jwtutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxInspectSize bounds the token length InspectUnverified decodes, in
// bytes. It is larger than DefaultMaxTokenSize so oversized tokens can be
// examined.
const MaxInspectSize = 1 << 20

// InspectUnverified decodes a compact JWS token's header and claims WITHOUT
// VERIFYING ANYTHING: not the signature, not the expiry, not the issuer.
// Anyone can forge the values it returns. Use it to debug, or to see that
// a JWT's payload is readable by everyone who handles the token. Never use
// it to make an access decision: that is what [Verifier.Verify] is for.
// Numbers are returned as json.Number so large values keep their digits.
// Like Verify, it rejects a header or claims set with duplicate member
// names, whose meaning depends on the parser.
func InspectUnverified(token string) (header map[string]any, claims map[string]any, err error) {
	if len(token) > MaxInspectSize {
		return nil, nil, errTooLarge
	}
	dot1, dot2, ok := splitToken(token)
	if !ok {
		return nil, nil, errSegments
	}
	header, err = decodeInspect(token[:dot1])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	claims, err = decodeInspect(token[dot1+1 : dot2])
	if err != nil {
		return nil, nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	return header, claims, nil
}

func decodeInspect(segment string) (map[string]any, error) {
	n := decodedLen(len(segment))
	if n < 0 {
		return nil, errBase64
	}
	raw := make([]byte, n)
	if !decodeSegment(raw, segment) {
		return nil, errBase64
	}
	// The strict reader runs first so that InspectUnverified refuses the
	// duplicate member names Verify refuses, instead of showing the last
	// of them as encoding/json would.
	if _, _, dup := readObject(string(raw), nil); dup {
		return nil, errors.New("duplicate JSON member name")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("data after the JSON object")
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}
