package txntoken

import (
	"encoding/json"
	"fmt"
	"iter"
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
	// A character-run pattern admits ASCII only, so a match also proves
	// the string valid UTF-8 and spares the second scan.
	matched := c.run != nil && c.run.match(s)
	if !matched && !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if len(s) > c.MaxLength {
		return fmt.Sprintf("is longer than %d bytes", c.MaxLength)
	}
	if len(c.Enum) > 0 && !slices.Contains(c.Enum, s) {
		return "is not one of the permitted values"
	}
	if c.pattern != nil && !matched && !c.matchPattern(s) {
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
func (c *Claim) parseForm(s string) (entry, string) {
	switch c.Type {
	case TypeString:
		if why := c.checkString(s); why != "" {
			return entry{}, why
		}
		return stringEntry(s), ""
	case TypeInteger:
		if !isJSONInteger(s) {
			return entry{}, "must be an integer"
		}
		return c.integer(s)
	case TypeNumber:
		if !isJSONNumber(s) {
			return entry{}, "must be a number"
		}
		return c.number(s)
	case TypeBoolean:
		switch s {
		case "true":
			return boolEntry(true), ""
		case "false":
			return boolEntry(false), ""
		}
		return entry{}, `must be "true" or "false"`
	}
	return entry{}, "has an unsupported type"
}

// integer converts s, which the caller checked against the JSON integer
// grammar, and checks its range.
func (c *Claim) integer(s string) (entry, string) {
	i, ok := smallInteger(s)
	if !ok {
		var err error
		i, err = strconv.ParseInt(s, 10, 64)
		if err != nil || i > MaxSafeInteger || i < -MaxSafeInteger {
			return entry{}, fmt.Sprintf("is outside ±%d", int64(MaxSafeInteger))
		}
	}
	if why := c.checkNumber(float64(i)); why != "" {
		return entry{}, why
	}
	return intEntry(i), ""
}

// smallInteger converts s when it is -?[0-9]+ with at most 15 digits:
// such a value is within ±MaxSafeInteger, and summing the digits
// costs less than strconv.ParseInt.
func smallInteger(s string) (int64, bool) {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	if neg {
		n = -n
	}
	return n, true
}

func (c *Claim) number(s string) (entry, string) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return entry{}, "is out of range"
	}
	if why := c.checkNumber(f); why != "" {
		return entry{}, why
	}
	return floatEntry(f), ""
}

// parseJSON converts one JSON value to c's type. No coercion happens here:
// an integer claim takes a JSON integer literal only (500, not 500.0, 5e2
// or "500"), because that is what Mint writes and any other spelling means
// the token was not minted by this package. A string result may share
// memory with raw, so raw must not change afterwards.
func (c *Claim) parseJSON(raw string) (entry, string) {
	if raw != "" && (isSpace(raw[0]) || isSpace(raw[len(raw)-1])) {
		raw = strings.TrimSpace(raw)
	}
	if len(raw) == 0 {
		return entry{}, "is empty"
	}
	switch c.Type {
	case TypeString:
		s, ok := jsonStringText(raw)
		if !ok {
			return entry{}, "must be a string"
		}
		if why := c.checkString(s); why != "" {
			return entry{}, why
		}
		return stringEntry(s), ""
	case TypeInteger:
		if !isJSONInteger(raw) {
			return entry{}, "must be an integer"
		}
		return c.integer(raw)
	case TypeNumber:
		if !isJSONNumber(raw) {
			return entry{}, "must be a number"
		}
		return c.number(raw)
	case TypeBoolean:
		switch raw {
		case "true":
			return boolEntry(true), ""
		case "false":
			return boolEntry(false), ""
		}
		return entry{}, "must be a boolean"
	}
	return entry{}, "has an unsupported type"
}

// checkValue validates a Go value given to Mint, converting the integer and
// float kinds to int64 and float64. Strings are parsed as form values, so a
// caller may pass url.Values-style text for any type.
func (c *Claim) checkValue(v any) (entry, string) {
	switch x := v.(type) {
	case string:
		return c.parseForm(x)
	case json.Number:
		return c.parseForm(string(x))
	case bool:
		if c.Type != TypeBoolean {
			break
		}
		return boolEntry(x), ""
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
	return entry{}, fmt.Sprintf("must be a %s", c.Type)
}

func (c *Claim) fromInt(i int64) (entry, string) {
	switch c.Type {
	case TypeInteger:
		return c.integer(strconv.FormatInt(i, 10))
	case TypeNumber:
		return c.fromFloat(float64(i))
	}
	return entry{}, fmt.Sprintf("must be a %s", c.Type)
}

func (c *Claim) fromFloat(f float64) (entry, string) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return entry{}, "must be finite"
	}
	switch c.Type {
	case TypeNumber:
		if why := c.checkNumber(f); why != "" {
			return entry{}, why
		}
		return floatEntry(f), ""
	case TypeInteger:
		if f != math.Trunc(f) || math.Abs(f) > MaxSafeInteger {
			return entry{}, "must be an integer"
		}
		return c.integer(strconv.FormatInt(int64(f), 10))
	}
	return entry{}, fmt.Sprintf("must be a %s", c.Type)
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
	plain := true
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c < 0x20 || c == '\\' || c == '"' {
			plain = false
			break
		}
	}
	if plain {
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

// valueKind is the type of one held value.
type valueKind uint8

const (
	kindString valueKind = iota + 1
	kindInt
	kindFloat
	kindBool
)

// entry is one typed claim value, held without boxing it in an interface.
// It names its claim by position, so that it takes 32 bytes.
type entry struct {
	str  string    // kindString
	num  uint64    // kindInt: the int64; kindFloat: the float64 bits; kindBool: 0 or 1
	idx  uint8     // position of the claim in Operation.Claims
	kind valueKind // 0 only in the entry returned with an error
}

// The claim position fits in entry.idx.
var _ [255 - MaxClaims]struct{}

func stringEntry(s string) entry { return entry{kind: kindString, str: s} }
func intEntry(i int64) entry     { return entry{kind: kindInt, num: uint64(i)} }
func floatEntry(f float64) entry { return entry{kind: kindFloat, num: math.Float64bits(f)} }

func boolEntry(b bool) entry {
	e := entry{kind: kindBool}
	if b {
		e.num = 1
	}
	return e
}

func (e *entry) float() float64 { return math.Float64frombits(e.num) }

// value boxes e as string, int64, float64 or bool.
func (e *entry) value() any {
	switch e.kind {
	case kindString:
		return e.str
	case kindInt:
		return int64(e.num)
	case kindFloat:
		return e.float()
	case kindBool:
		return e.num != 0
	}
	return nil
}

// encode returns what Mint writes for e. Numbers are written as json.Number
// so that the output does not depend on the signer's JSON encoder.
func (e *entry) encode() any {
	switch e.kind {
	case kindInt:
		return json.Number(strconv.FormatInt(int64(e.num), 10))
	case kindFloat:
		return json.Number(strconv.FormatFloat(e.float(), 'g', -1, 64))
	}
	return e.value()
}

// equal reports whether e and o hold the same typed value. Numbers compare
// by value, so 0 equals -0.
func (e *entry) equal(o *entry) bool {
	if e.kind != o.kind {
		return false
	}
	if e.kind == kindFloat {
		return e.float() == o.float()
	}
	return e.str == o.str && e.num == o.num
}

// inlineValues is how many values a Context holds without a second
// allocation. A token with more claims gets its values on the heap. Four
// keep a Context at 384 bytes, and verification cost grows with its size.
const inlineValues = 4

// Values are the typed context claims of one token: string, int64, float64
// or bool as the schema declares. Read them with String, Int, Float and
// Bool, which report false for an absent claim or one of another type.
// Values are read-only and may be copied, and copies share their storage.
// The zero Values holds no claims.
type Values struct {
	op      *Operation
	entries []entry // ordered by idx, which is name order
}

// name returns the claim name of v.entries[i].
func (v Values) name(i int) string { return v.op.names[v.entries[i].idx] }

// find returns the entry of the claim name, or nil.
func (v Values) find(name string) *entry {
	if len(v.entries) == 0 {
		return nil
	}
	i, ok := v.op.index(name)
	if !ok {
		return nil
	}
	es := v.entries
	lo, hi := 0, len(es)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if int(es[m].idx) < i {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(es) && int(es[lo].idx) == i {
		return &es[lo]
	}
	return nil
}

// String returns the string claim name.
func (v Values) String(name string) (string, bool) {
	if e := v.find(name); e != nil && e.kind == kindString {
		return e.str, true
	}
	return "", false
}

// Int returns the integer claim name.
func (v Values) Int(name string) (int64, bool) {
	if e := v.find(name); e != nil && e.kind == kindInt {
		return int64(e.num), true
	}
	return 0, false
}

// Float returns the number claim name.
func (v Values) Float(name string) (float64, bool) {
	if e := v.find(name); e != nil && e.kind == kindFloat {
		return e.float(), true
	}
	return 0, false
}

// Bool returns the boolean claim name.
func (v Values) Bool(name string) (bool, bool) {
	if e := v.find(name); e != nil && e.kind == kindBool {
		return e.num != 0, true
	}
	return false, false
}

// Has reports whether the claim name is present.
func (v Values) Has(name string) bool { return v.find(name) != nil }

// Len returns the number of claims present.
func (v Values) Len() int { return len(v.entries) }

// All returns an iterator over the claims in name order, each value boxed
// as string, int64, float64 or bool.
func (v Values) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for i := range v.entries {
			if !yield(v.name(i), v.entries[i].value()) {
				return
			}
		}
	}
}

// Map returns the claims as a new map of string, int64, float64 and bool
// values, which the caller may change.
func (v Values) Map() map[string]any {
	m := make(map[string]any, len(v.entries))
	for i := range v.entries {
		m[v.name(i)] = v.entries[i].value()
	}
	return m
}

// MarshalJSON encodes v as a JSON object of its claims, as encoding/json
// encodes the map that Map returns.
func (v Values) MarshalJSON() ([]byte, error) {
	return json.Marshal(v.Map())
}

// ParseParams validates form parameters against the operation's schema and
// returns the typed values. Each parameter must be a declared claim given
// once; text such as "500" is converted to the declared type. Errors are
// *ValidationError values naming the claim.
func (o *Operation) ParseParams(params url.Values) (Values, error) {
	return parseAll(o, params, func(c *Claim, vs []string) (entry, string) {
		if len(vs) != 1 {
			return entry{}, "must be given exactly once"
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
	return set.values(o, nil)
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

// isSpace reports whether c is JSON whitespace, or another byte that
// strings.TrimSpace removes.
func isSpace(c byte) bool {
	return c <= ' ' || c >= utf8.RuneSelf
}

// index returns the position of the claim name in o.Claims. Operations
// are small, so a linear scan that compares lengths first beats a binary
// search for most of them.
func (o *Operation) index(name string) (int, bool) {
	if len(o.names) > 8 {
		return slices.BinarySearch(o.names, name)
	}
	for i, n := range o.names {
		if len(n) == len(name) && n == name {
			return i, true
		}
	}
	return 0, false
}

// add records the claim name with JSON text raw. It reports false, and
// keeps the first value, when name was added before. Callers whose names
// are unique already may ignore the result.
func (s *claimSet) add(o *Operation, name, raw string) bool {
	i, ok := o.index(name)
	if !ok {
		if !s.strange || name < s.unknown {
			s.unknown, s.strange = name, true
		}
		return true
	}
	if s.seen&(1<<i) != 0 {
		return false
	}
	s.raw[i] = raw
	s.seen |= 1 << i
	return true
}

// values validates the collected claims and returns them typed, appended
// to dst, whose capacity the caller may provide. The first error names the
// first faulty declared claim in name order, then the first undeclared
// name, so that it does not depend on the order of the claims in the
// token. String values share memory with the collected text.
func (s *claimSet) values(o *Operation, dst []entry) (Values, error) {
	if n := bits.OnesCount64(s.seen); cap(dst)-len(dst) < n {
		dst = slices.Grow(dst, n)
	}
	for i := range o.Claims {
		c := &o.Claims[i]
		if s.seen&(1<<i) == 0 {
			if c.Required {
				return Values{}, claimError(o.Name, c.Name, "is required")
			}
			continue
		}
		e, why := c.parseJSON(s.raw[i])
		if why != "" {
			return Values{}, claimError(o.Name, c.Name, "%s", why)
		}
		e.idx = uint8(i)
		dst = append(dst, e)
	}
	if s.strange {
		return Values{}, claimError(o.Name, s.unknown, "is not declared by the schema")
	}
	return Values{op: o, entries: dst}, nil
}

// orderedClaims checks context claims that arrive in the schema's name
// order, which is the order Mint writes them in, as they arrive: no table,
// no lookup by name, one comparison per claim. Anything else (another
// order, an undeclared or repeated name, a missing required claim, a value
// that fails its check) makes it give up, and the caller runs claimSet,
// whose errors are the ones reported. So this path decides nothing on its
// own: it accepts only what claimSet would accept, with the same values.
type orderedClaims struct {
	op   *Operation
	next int // position in op.Claims of the first claim not yet passed
	dst  []entry
	ok   bool
}

// take checks the context claim name with JSON text raw. It reports
// whether the fast path still applies, so that it can serve as the
// callback of scanObject.
func (w *orderedClaims) take(name, raw string) bool {
	i, ok := w.claim(name)
	if !ok {
		return false
	}
	e, why := w.op.Claims[i].parseJSON(raw)
	return w.keep(i, e, why)
}

// takeString is take for a string literal without escapes or control
// bytes, given as text, the bytes between its quotes. Only a string claim
// accepts it, as in parseJSON, and the text is not scanned again.
func (w *orderedClaims) takeString(name, text string) bool {
	i, ok := w.claim(name)
	if !ok {
		return false
	}
	c := &w.op.Claims[i]
	if c.Type != TypeString {
		w.ok = false
		return false
	}
	return w.keep(i, stringEntry(text), c.checkString(text))
}

// claim returns the position of the claim name at or after w.next, or
// gives up when name is out of order, undeclared, or skips a required
// claim.
func (w *orderedClaims) claim(name string) (int, bool) {
	if !w.ok {
		return 0, false
	}
	names := w.op.names
	i := w.next
	for i < len(names) && (len(names[i]) != len(name) || names[i] != name) {
		if w.op.Claims[i].Required {
			w.ok = false
			return 0, false
		}
		i++
	}
	if i == len(names) {
		w.ok = false
		return 0, false
	}
	return i, true
}

// keep appends e as the value of the claim at position i, or gives up
// when why, the reason the value failed its check, is not empty.
func (w *orderedClaims) keep(i int, e entry, why string) bool {
	if why != "" {
		w.ok = false
		return false
	}
	e.idx = uint8(i)
	w.dst = append(w.dst, e)
	w.next = i + 1
	return true
}

// values returns the checked claims, or false when the caller must run
// claimSet instead.
func (w *orderedClaims) values() (Values, bool) {
	if !w.ok {
		return Values{}, false
	}
	for i := w.next; i < len(w.op.Claims); i++ {
		if w.op.Claims[i].Required {
			return Values{}, false
		}
	}
	return Values{op: w.op, entries: w.dst}, true
}

// parseAll converts every entry of in with parse. It walks the declared
// claims in name order, so that the first error reported does not depend on
// map iteration order, then looks for undeclared names.
func parseAll[V any](o *Operation, in map[string]V, parse func(*Claim, V) (entry, string)) (Values, error) {
	out := make([]entry, 0, len(in))
	for i := range o.Claims {
		c := &o.Claims[i]
		raw, ok := in[c.Name]
		if !ok {
			if c.Required {
				return Values{}, claimError(o.Name, c.Name, "is required")
			}
			continue
		}
		e, why := parse(c, raw)
		if why != "" {
			return Values{}, claimError(o.Name, c.Name, "%s", why)
		}
		e.idx = uint8(i)
		out = append(out, e)
	}
	if len(out) != len(in) {
		var unknown []string
		for name := range in {
			if _, ok := o.claims[name]; !ok {
				unknown = append(unknown, name)
			}
		}
		slices.Sort(unknown)
		return Values{}, claimError(o.Name, unknown[0], "is not declared by the schema")
	}
	return Values{op: o, entries: out}, nil
}
