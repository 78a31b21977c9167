package jwtutil

import (
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Header holds the JOSE header parameters of a verified token that callers
// commonly need.
type Header struct {
	// Algorithm is the "alg" the signature was verified with.
	Algorithm string
	// KeyID is the "kid", or empty when the token named none.
	KeyID string
	// Type is the "typ" as sent, or empty when absent.
	Type string
}

// Claims is a verified token's claims set. The registered claims are
// decoded into fields; every claim, registered or not, is also available as
// raw JSON through [Claims.Raw] and [Claims.Get].
//
// A Claims returned by [Verifier.Verify] may be shared with other callers
// through the verifier's cache, so treat it as read-only.
type Claims struct {
	// Issuer is "iss", or empty when absent.
	Issuer string
	// Subject is "sub", or empty when absent.
	Subject string
	// ID is "jti", or empty when absent.
	ID string
	// Audience is "aud" as a list; a single string becomes a one-element
	// list. It is nil when absent.
	Audience []string
	// ExpiresAt is "exp". Verify requires it, so it is never zero in
	// verified claims.
	ExpiresAt time.Time
	// NotBefore is "nbf", or the zero time when absent.
	NotBefore time.Time
	// IssuedAt is "iat", or the zero time when absent.
	IssuedAt time.Time
	// Header holds the token's header parameters.
	Header Header

	members  []member
	audience [1]string // backs Audience for the common single-string form
}

// Raw returns the JSON text of the claim name as it appeared in the token,
// and whether the claim is present. The returned slice is a copy.
func (c *Claims) Raw(name string) (json.RawMessage, bool) {
	for _, m := range c.members {
		if m.name == name {
			return json.RawMessage(m.value), true
		}
	}
	return nil, false
}

// Get decodes the claim name into v with encoding/json. It returns an
// error wrapping ErrMissingClaim when the claim is absent.
func (c *Claims) Get(name string, v any) error {
	raw, ok := c.Raw(name)
	if !ok {
		return fmt.Errorf("%w: %q", ErrMissingClaim, name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("jwtutil: decode claim %q: %w", name, err)
	}
	return nil
}

// Names returns the names of every claim in the token, in token order.
func (c *Claims) Names() []string {
	names := make([]string, len(c.members))
	for i, m := range c.members {
		names[i] = m.name
	}
	return names
}

// All returns an iterator over every top-level claim in token order,
// registered or not, yielding its name and its JSON text as it appeared in
// the token. It does not copy: each value shares memory with c. Like the
// rest of a Claims, the values are read-only. They may be kept after the
// loop, since a Claims never changes, but writing to one is a bug that
// corrupts c for every caller sharing it through the verifier's cache.
// Use [Claims.Raw] for a copy that may be modified.
func (c *Claims) All() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		for _, m := range c.members {
			// m.value is a substring of the decoded payload, which the
			// verifier allocated and never writes again, so viewing it
			// as bytes is safe for readers.
			raw := json.RawMessage(unsafe.Slice(unsafe.StringData(m.value), len(m.value)))
			if !yield(m.name, raw) {
				return
			}
		}
	}
}

// Scopes returns the "scope" claim split on spaces, U+0020 only (RFC 8693
// section 4.2 and RFC 9068 section 2.2.3). A JSON array of strings is accepted too,
// because some issuers send one. It returns nil when the claim is absent
// or of another type.
func (c *Claims) Scopes() []string {
	raw, ok := c.rawString("scope")
	if !ok {
		return nil
	}
	if s, ok := stringValue(raw); ok {
		// Only U+0020 separates scope tokens (RFC 6749 section 3.3);
		// strings.Fields would also split on tabs and Unicode spaces and
		// so grant "a" and "b" to a token whose one odd scope is "a\tb".
		var list []string
		for tok := range strings.SplitSeq(s, " ") {
			if tok != "" {
				list = append(list, tok)
			}
		}
		return list
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil
	}
	return list
}

// HasScope reports whether the "scope" claim contains scope.
func (c *Claims) HasScope(scope string) bool {
	for _, s := range c.Scopes() {
		if s == scope {
			return true
		}
	}
	return false
}

func (c *Claims) rawString(name string) (string, bool) {
	for _, m := range c.members {
		if m.name == name {
			return m.value, true
		}
	}
	return "", false
}

// decodeClaims parses payload, the decoded JWT claims set, into c in one
// pass. Registered claims must have their RFC 7519 types: "iss", "sub" and
// "jti" strings, "aud" a string or an array of strings, and "exp", "nbf" and
// "iat" JSON numbers (a NumericDate string such as "1700000000" is rejected).
func decodeClaims(payload string, c *Claims) error {
	members, ok, dup := readObject(payload, make([]member, 0, 12))
	if dup {
		return errDuplicate
	}
	if !ok {
		return errClaimsJSON
	}
	c.members = members
	for _, m := range members {
		var ok bool
		switch m.name {
		case "iss":
			c.Issuer, ok = stringValue(m.value)
		case "sub":
			c.Subject, ok = stringValue(m.value)
		case "jti":
			c.ID, ok = stringValue(m.value)
		case "aud":
			ok = c.decodeAudience(m.value)
		case "exp":
			c.ExpiresAt, ok = numericDate(m.value)
		case "nbf":
			c.NotBefore, ok = numericDate(m.value)
		case "iat":
			c.IssuedAt, ok = numericDate(m.value)
		default:
			ok = true
		}
		if !ok {
			return claimTypeError(m.name)
		}
	}
	return nil
}

func claimTypeError(name string) error {
	switch name {
	case "aud":
		return fmt.Errorf("%w: \"aud\" must be a string or an array of strings", ErrMalformed)
	case "exp", "nbf", "iat":
		return fmt.Errorf("%w: %q must be a JSON number of seconds since the epoch", ErrMalformed, name)
	}
	return fmt.Errorf("%w: %q must be a string", ErrMalformed, name)
}

func (c *Claims) decodeAudience(raw string) bool {
	if s, ok := stringValue(raw); ok {
		c.audience[0] = s
		c.Audience = c.audience[:]
		return true
	}
	if raw == "" || raw[0] != '[' {
		return false
	}
	// The reader validated raw already, so this walk only splits it.
	r := jsonReader{data: raw, pos: 1}
	list := make([]string, 0, 4)
	for {
		r.skipSpace()
		if r.pos < len(raw) && raw[r.pos] == ']' {
			break
		}
		start := r.pos
		if !r.skipValue(1) {
			return false
		}
		s, ok := stringValue(raw[start:r.pos])
		if !ok {
			return false
		}
		list = append(list, s)
		r.skipSpace()
		if r.pos < len(raw) && raw[r.pos] == ',' {
			r.pos++
		}
	}
	c.Audience = list
	return true
}

// NumericDate bounds: years 1 to 9999, the range time.Time formats
// round-trip. Values outside are rejected rather than clamped.
const (
	minNumericDate = -62135596800
	maxNumericDate = 253402300799
)

// numericDate decodes an RFC 7519 NumericDate: a JSON number of seconds
// since the epoch, possibly with a fraction or exponent.
func numericDate(raw string) (time.Time, bool) {
	if raw == "" || !(raw[0] == '-' || '0' <= raw[0] && raw[0] <= '9') {
		return time.Time{}, false
	}
	if sec, ok := plainInteger(raw); ok {
		if sec < minNumericDate || sec > maxNumericDate {
			return time.Time{}, false
		}
		return time.Unix(sec, 0), true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || f < minNumericDate || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// plainInteger parses an optionally negative run of at most 18 digits.
func plainInteger(s string) (int64, bool) {
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
