package phantom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// maxNumericDate bounds exp, iat and nbf to dates before the year 10000, so
// that a hostile answer cannot overflow time arithmetic.
const maxNumericDate = 253402300799

// Introspection is a parsed RFC 7662 introspection answer. For an inactive
// token only Active (false) is set.
type Introspection struct {
	// Active reports whether the auth server considers the token active.
	Active bool
	// Scopes lists the granted scopes, from the space-delimited "scope".
	Scopes []string
	// ClientID is the "client_id" the token was issued to.
	ClientID string
	// Username is the "username" member.
	Username string
	// TokenType is the "token_type" member, such as "Bearer".
	TokenType string
	// Subject is the "sub" member.
	Subject string
	// Audience is the "aud" member, which the answer may send as a string
	// or as an array of strings.
	Audience []string
	// Issuer is the "iss" member.
	Issuer string
	// ID is the "jti" member.
	ID string
	// ExpiresAt is the "exp" member; zero when absent.
	ExpiresAt time.Time
	// IssuedAt is the "iat" member; zero when absent.
	IssuedAt time.Time
	// NotBefore is the "nbf" member; zero when absent.
	NotBefore time.Time
	// JWT is the "jwt" member after a [Client] verified it with its
	// Verifier, and empty otherwise.
	JWT string
	// JWTClaims are the verified claims of JWT, or nil when JWT is empty.
	JWTClaims *jwtutil.Claims
	// Raw holds every member of the answer as received, including
	// extension members such as "sid".
	Raw map[string]json.RawMessage

	// jwtExpiresAt is the verified JWT's "exp"; it bounds a cache entry.
	jwtExpiresAt time.Time
}

// HasScope reports whether every scope in want was granted.
func (in *Introspection) HasScope(want ...string) bool {
	for _, w := range want {
		found := false
		for _, s := range in.Scopes {
			if s == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// parseOptions are the parser's policies for answers that bend RFC 7662.
type parseOptions struct {
	// allowScopeArray accepts "scope" as a JSON array of scope tokens.
	allowScopeArray bool
}

// parseIntrospection parses an RFC 7662 JSON answer strictly: the body must
// be one JSON object without duplicate members, "active" must be a JSON
// boolean, registered members must have their registered types, and the
// NumericDate members must be non-negative integers. A JSON null counts as
// an absent member.
func parseIntrospection(data []byte, opts parseOptions) (*Introspection, error) {
	raw, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	activeRaw, ok := raw["active"]
	if !ok {
		return nil, errors.New(`missing "active" member`)
	}
	var active bool
	switch string(activeRaw) {
	case "true":
		active = true
	case "false":
	default:
		return nil, errors.New(`"active" is not a JSON boolean`)
	}
	if !active {
		// The other members of an inactive answer carry no meaning and a
		// caller must not act on them.
		return &Introspection{}, nil
	}
	in := &Introspection{Active: true, Raw: raw}
	if in.Scopes, err = parseScopeMember(raw["scope"], opts); err != nil {
		return nil, err
	}
	strs := []struct {
		name string
		dst  *string
	}{
		{"client_id", &in.ClientID}, {"username", &in.Username}, {"token_type", &in.TokenType},
		{"sub", &in.Subject}, {"iss", &in.Issuer}, {"jti", &in.ID}, {"jwt", &in.JWT},
	}
	for _, s := range strs {
		if *s.dst, err = stringMember(raw, s.name); err != nil {
			return nil, err
		}
	}
	if in.Audience, err = parseAudience(raw["aud"]); err != nil {
		return nil, err
	}
	dates := []struct {
		name string
		dst  *time.Time
	}{{"exp", &in.ExpiresAt}, {"iat", &in.IssuedAt}, {"nbf", &in.NotBefore}}
	for _, d := range dates {
		if *d.dst, err = numericDate(raw, d.name); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// decodeObject decodes one JSON object into its members and rejects
// duplicate names and trailing data, which encoding/json would accept
// silently (it keeps the last duplicate).
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, errors.New("response is not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("response is not a JSON object")
	}
	raw := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("response is not valid JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("response is not valid JSON")
		}
		if _, dup := raw[name]; dup {
			return nil, fmt.Errorf("duplicate member %q", name)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, errors.New("response is not valid JSON")
		}
		raw[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("response is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return raw, nil
}

func isNull(v json.RawMessage) bool {
	return v == nil || string(v) == "null"
}

func stringMember(raw map[string]json.RawMessage, name string) (string, error) {
	v := raw[name]
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%q is not a JSON string", name)
	}
	return s, nil
}

// parseScopeMember applies the scope policy: RFC 7662 sends "scope" as a
// string of scope tokens separated by single spaces (RFC 6749 section 3.3),
// and a string that breaks that grammar (two spaces, a leading space, a
// quote) is rejected rather than guessed at. Some servers send a JSON array
// of scope tokens instead; that is rejected unless allowScopeArray is set.
func parseScopeMember(v json.RawMessage, opts parseOptions) ([]string, error) {
	if isNull(v) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		scopes, ok := splitScope(s)
		if !ok {
			return nil, errors.New(`"scope" is not a list of scope tokens separated by single spaces`)
		}
		return scopes, nil
	}
	var arr []string
	if err := json.Unmarshal(v, &arr); err != nil {
		return nil, errors.New(`"scope" is not a JSON string`)
	}
	if !opts.allowScopeArray {
		return nil, errors.New(`"scope" is a JSON array; set ClientConfig.AllowScopeArray to accept it`)
	}
	for _, s := range arr {
		if !validScopeToken(s) {
			return nil, errors.New(`"scope" array contains an invalid scope token`)
		}
	}
	return arr, nil
}

// splitScope splits s on single spaces and checks every scope token. The
// empty string means no scopes.
func splitScope(s string) ([]string, bool) {
	if s == "" {
		return nil, true
	}
	var scopes []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != ' ' {
			continue
		}
		tok := s[start:i]
		if !validScopeToken(tok) {
			return nil, false
		}
		scopes = append(scopes, tok)
		start = i + 1
	}
	return scopes, true
}

// validScopeToken checks the RFC 6749 scope-token grammar:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func parseAudience(v json.RawMessage) ([]string, error) {
	if isNull(v) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return []string{s}, nil
	}
	var arr []string
	if err := json.Unmarshal(v, &arr); err != nil {
		return nil, errors.New(`"aud" is neither a JSON string nor an array of strings`)
	}
	return arr, nil
}

// numericDate parses an integer NumericDate. RFC 7519 allows fractions, but
// RFC 7662 servers send integers, and accepting floats would let 1e400 or
// 1.5 reach time arithmetic.
func numericDate(raw map[string]json.RawMessage, name string) (time.Time, error) {
	v := raw[name]
	if isNull(v) {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil || n < 0 || n > maxNumericDate {
		return time.Time{}, fmt.Errorf("%q is not a non-negative integer NumericDate", name)
	}
	return time.Unix(n, 0), nil
}
