package txntoken

import (
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// checkString returns why s violates c's string constraints, or "".
func (c *Claim) checkString(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if len(s) > c.MaxLength {
		return fmt.Sprintf("is longer than %d bytes", c.MaxLength)
	}
	if len(c.Enum) > 0 && !slices.Contains(c.Enum, s) {
		return "is not one of the permitted values"
	}
	if c.pattern != nil && !c.matchPattern(s) {
		return "does not match the pattern " + strconv.Quote(c.Pattern)
	}
	return ""
}

func (c *Claim) matchPattern(s string) bool {
	if c.run != nil {
		return c.run.match(s)
	}
	return c.pattern.MatchString(s)
}

// checkNumber returns why v violates c's range, or "".
func (c *Claim) checkNumber(v float64) string {
	if c.Min != nil && v < *c.Min {
		return "is less than min " + formatBound(*c.Min)
	}
	if c.Max != nil && v > *c.Max {
		return "is greater than max " + formatBound(*c.Max)
	}
	return ""
}

func formatBound(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// parseForm converts the text form of a value, as it arrives in a form
// field, query parameter, path value or header, to c's type. Integers and
// numbers must follow the JSON number grammar, so "0x10", "1_000", "+5",
// "Inf" and "NaN" are rejected; booleans must be "true" or "false".
func (c *Claim) parseForm(s string) (any, string) {
	switch c.Type {
	case TypeString:
		if why := c.checkString(s); why != "" {
			return nil, why
		}
		return s, ""
	case TypeInteger:
		if !isJSONInteger(s) {
			return nil, "must be an integer"
		}
		return c.integer(s)
	case TypeNumber:
		if !isJSONNumber(s) {
			return nil, "must be a number"
		}
		return c.number(s)
	case TypeBoolean:
		switch s {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, `must be "true" or "false"`
	}
	return nil, "has an unsupported type"
}

func (c *Claim) integer(s string) (any, string) {
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil || i > MaxSafeInteger || i < -MaxSafeInteger {
		return nil, fmt.Sprintf("is outside ±%d", int64(MaxSafeInteger))
	}
	if why := c.checkNumber(float64(i)); why != "" {
		return nil, why
	}
	return i, ""
}

func (c *Claim) number(s string) (any, string) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, "is out of range"
	}
	if why := c.checkNumber(f); why != "" {
		return nil, why
	}
	return f, ""
}

// parseJSON converts one JSON value to c's type. No coercion happens here:
// an integer claim takes a JSON integer literal only (500, not 500.0, 5e2
// or "500"), because that is what Mint writes and any other spelling means
// the token was not minted by this package. A string result may share
// memory with raw, so raw must not change afterwards.
func (c *Claim) parseJSON(raw string) (any, string) {
	raw = strings.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, "is empty"
	}
	switch c.Type {
	case TypeString:
		s, ok := jsonStringText(raw)
		if !ok {
			return nil, "must be a string"
		}
		if why := c.checkString(s); why != "" {
			return nil, why
		}
		return s, ""
	case TypeInteger:
		if !isJSONInteger(raw) {
			return nil, "must be an integer"
		}
		return c.integer(raw)
	case TypeNumber:
		if !isJSONNumber(raw) {
			return nil, "must be a number"
		}
		return c.number(raw)
	case TypeBoolean:
		switch raw {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return nil, "must be a boolean"
	}
	return nil, "has an unsupported type"
}

// checkValue validates a Go value given to Mint, converting the integer and
// float kinds to int64 and float64. Strings are parsed as form values, so a
// caller may pass url.Values-style text for any type.
func (c *Claim) checkValue(v any) (any, string) {
	switch x := v.(type) {
	case string:
		return c.parseForm(x)
	case json.Number:
		return c.parseForm(string(x))
	case bool:
		if c.Type != TypeBoolean {
			break
		}
		return x, ""
	case int:
		return c.fromInt(int64(x))
	case int32:
		return c.fromInt(int64(x))
	case int64:
		return c.fromInt(x)
	case uint32:
		return c.fromInt(int64(x))
	case float64:
		return c.fromFloat(x)
	case float32:
		return c.fromFloat(float64(x))
	}
	return nil, fmt.Sprintf("must be a %s", c.Type)
}

func (c *Claim) fromInt(i int64) (any, string) {
	switch c.Type {
	case TypeInteger:
		return c.integer(strconv.FormatInt(i, 10))
	case TypeNumber:
		return c.fromFloat(float64(i))
	}
	return nil, fmt.Sprintf("must be a %s", c.Type)
}

func (c *Claim) fromFloat(f float64) (any, string) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, "must be finite"
	}
	switch c.Type {
	case TypeNumber:
		if why := c.checkNumber(f); why != "" {
			return nil, why
		}
		return f, ""
	case TypeInteger:
		if f != math.Trunc(f) || math.Abs(f) > MaxSafeInteger {
			return nil, "must be an integer"
		}
		return c.integer(strconv.FormatInt(int64(f), 10))
	}
	return nil, fmt.Sprintf("must be a %s", c.Type)
}

// decodeJSONString decodes a JSON string literal into a new string.
func decodeJSONString(raw []byte) (string, bool) {
	return jsonStringText(string(raw))
}

// jsonStringText decodes a JSON string literal. When the literal holds no
// escape sequence, which is the common case, the result is a substring of
// raw and nothing is allocated; otherwise encoding/json decodes it.
func jsonStringText(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if strings.IndexByte(inner, '\\') < 0 && strings.IndexByte(inner, '"') < 0 {
		for i := 0; i < len(inner); i++ {
			if inner[i] < 0x20 {
				return "", false
			}
		}
		return inner, true
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", false
	}
	return s, true
}

// isJSONInteger reports whether s is -?(0|[1-9][0-9]*).
func isJSONInteger(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 20 {
		return false
	}
	if s[0] == '0' {
		return len(s) == 1
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether s follows the JSON number grammar of RFC 8259
// section 6, and is at most 64 bytes long.
func isJSONNumber(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	i := 0
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// Values are the typed context claims of one token, keyed by claim name:
// string, int64, float64 or bool as the schema declares.
type Values map[string]any

// String returns the string claim name.
func (v Values) String(name string) (string, bool) {
	s, ok := v[name].(string)
	return s, ok
}

// Int returns the integer claim name.
func (v Values) Int(name string) (int64, bool) {
	i, ok := v[name].(int64)
	return i, ok
}

// Float returns the number claim name.
func (v Values) Float(name string) (float64, bool) {
	f, ok := v[name].(float64)
	return f, ok
}

// Bool returns the boolean claim name.
func (v Values) Bool(name string) (bool, bool) {
	b, ok := v[name].(bool)
	return b, ok
}

// ParseParams validates form parameters against the operation's schema and
// returns the typed values. Each parameter must be a declared claim given
// once; text such as "500" is converted to the declared type. Errors are
// *ValidationError values naming the claim.
func (o *Operation) ParseParams(params url.Values) (Values, error) {
	return parseAll(o, params, func(c *Claim, vs []string) (any, string) {
		if len(vs) != 1 {
			return nil, "must be given exactly once"
		}
		return c.parseForm(vs[0])
	})
}

// CheckValues validates Go values against the operation's schema and returns
// them converted to the canonical types (string, int64, float64, bool).
// Strings are parsed like form values.
func (o *Operation) CheckValues(values map[string]any) (Values, error) {
	return parseAll(o, values, (*Claim).checkValue)
}

// ParseClaims validates JSON claims, as found in a token payload (flat
// layout, context claims only) or in "tctx" (IETF layout), and returns the
// typed values. Unknown claims and missing required claims are errors.
func (o *Operation) ParseClaims(claims map[string]json.RawMessage) (Values, error) {
	var set claimSet
	for name, raw := range claims {
		// string(raw) copies, so the values returned do not share memory
		// with the caller's map, which the caller may change.
		set.add(o, name, string(raw))
	}
	return set.values(o)
}

// claimSet.seen holds one bit per claim.
var _ [64 - MaxClaims]struct{}

// claimSet collects the context claims of one token by their position in
// the operation's sorted claim list, so that checking them takes one pass
// over the token and no map. It lives on the stack.
type claimSet struct {
	raw     [MaxClaims]string // JSON text, indexed like Operation.Claims
	seen    uint64            // bit i set when raw[i] holds a value
	unknown string            // the smallest undeclared name seen
	strange bool              // whether an undeclared name was seen
}

// add records the claim name with JSON text raw. Names are unique within
// a JSON object as jwtutil and jsonObject read it, so a later add never
// replaces an earlier one.
func (s *claimSet) add(o *Operation, name, raw string) {
	i, ok := slices.BinarySearch(o.names, name)
	if !ok {
		if !s.strange || name < s.unknown {
			s.unknown, s.strange = name, true
		}
		return
	}
	s.raw[i] = raw
	s.seen |= 1 << i
}

// values validates the collected claims and returns them typed. The first
// error names the first faulty declared claim in name order, then the first
// undeclared name, so that it does not depend on the order of the claims in
// the token. String values share memory with the collected text.
func (s *claimSet) values(o *Operation) (Values, error) {
	out := make(Values, bits.OnesCount64(s.seen))
	for i := range o.Claims {
		c := &o.Claims[i]
		if s.seen&(1<<i) == 0 {
			if c.Required {
				return nil, claimError(o.Name, c.Name, "is required")
			}
			continue
		}
		v, why := c.parseJSON(s.raw[i])
		if why != "" {
			return nil, claimError(o.Name, c.Name, "%s", why)
		}
		out[c.Name] = v
	}
	if s.strange {
		return nil, claimError(o.Name, s.unknown, "is not declared by the schema")
	}
	return out, nil
}

// parseAll converts every entry of in with parse. It walks the declared
// claims in name order, so that the first error reported does not depend on
// map iteration order, then looks for undeclared names.
func parseAll[V any](o *Operation, in map[string]V, parse func(*Claim, V) (any, string)) (Values, error) {
	out := make(Values, len(in))
	for i := range o.Claims {
		c := &o.Claims[i]
		raw, ok := in[c.Name]
		if !ok {
			if c.Required {
				return nil, claimError(o.Name, c.Name, "is required")
			}
			continue
		}
		v, why := parse(c, raw)
		if why != "" {
			return nil, claimError(o.Name, c.Name, "%s", why)
		}
		out[c.Name] = v
	}
	if len(out) != len(in) {
		var unknown []string
		for name := range in {
			if _, ok := o.claims[name]; !ok {
				unknown = append(unknown, name)
			}
		}
		slices.Sort(unknown)
		return nil, claimError(o.Name, unknown[0], "is not declared by the schema")
	}
	return out, nil
}

// encodeValue returns the JSON text Mint writes for a canonical value. Numbers
// are written as json.Number so that the output does not depend on the
// signer's JSON encoder.
func encodeValue(v any) any {
	switch x := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	}
	return v
}
