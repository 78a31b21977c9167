package jwtutil

import "fmt"

// maxKIDLength bounds the "kid" passed to the key source. Real key IDs
// (thumbprints, UUIDs, short names) are far shorter.
const maxKIDLength = 256

// header is the part of a JOSE header the verifier acts on.
type header struct {
	alg    algorithm
	kid    string
	typ    string
	hasTyp bool
}

// parseHeader decodes the JSON of a JWS protected header. Parameters it
// does not name are ignored. In particular "jku", "x5u", "jwk" and "x5c"
// are never used to find a key, because a key the token brings along would
// let anyone sign. "crit" is rejected because this package implements no
// extension, as RFC 7515 section 4.1.11 requires, and "b64" (RFC 7797) is
// rejected because only base64url payloads are supported.
func parseHeader(text string) (header, error) {
	var h header
	var buf [8]member
	members, ok, dup := readObject(text, buf[:0])
	if dup {
		return h, errDuplicate
	}
	if !ok {
		return h, errHeaderJSON
	}
	algSeen := false
	for _, m := range members {
		switch m.name {
		case "alg":
			name, ok := stringValue(m.value)
			if !ok {
				return h, fmt.Errorf("%w: \"alg\" must be a string", ErrMalformed)
			}
			algSeen = true
			h.alg = algorithmByName(name)
		case "kid":
			kid, ok := stringValue(m.value)
			if !ok {
				return h, fmt.Errorf("%w: \"kid\" must be a string", ErrMalformed)
			}
			if len(kid) > maxKIDLength {
				return h, errKIDTooLong
			}
			h.kid = kid
		case "typ":
			typ, ok := stringValue(m.value)
			if !ok {
				return h, fmt.Errorf("%w: \"typ\" must be a string", ErrMalformed)
			}
			h.typ, h.hasTyp = typ, true
		case "crit":
			return h, errCrit
		case "b64":
			return h, errB64
		}
	}
	if !algSeen {
		return h, errNoAlg
	}
	if h.alg == algInvalid {
		return h, errUnknownAlg
	}
	return h, nil
}
