package txntoken

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the JSON type of a context claim.
type Type string

// Claim types.
const (
	TypeString  Type = "string"
	TypeInteger Type = "integer"
	TypeNumber  Type = "number"
	TypeBoolean Type = "boolean"
)

// Schema limits. They keep every token small and every check cheap.
const (
	// DefaultLifetime is the token lifetime of an operation that sets none.
	DefaultLifetime = 60 * time.Second
	// MaxLifetime caps an operation's lifetime: a transaction token covers one
	// call chain, not a session.
	MaxLifetime = 10 * time.Minute
	// DefaultMaxSize is the size budget in bytes of an operation that sets none.
	DefaultMaxSize = 4096
	// MaxStringLength caps a string claim's MaxLength, in bytes.
	MaxStringLength = 4096
	// MaxClaims caps the number of context claims of one operation.
	MaxClaims = 64
	// MaxNameLength caps operation and claim names, in bytes.
	MaxNameLength = 64
	// MaxEnumValues caps the number of values of one enum.
	MaxEnumValues = 256
	// MaxSafeInteger is the largest integer a claim may carry (2^53-1). Larger
	// integers lose precision in JavaScript and other float64 JSON parsers,
	// which RFC 7493 (I-JSON) warns about.
	MaxSafeInteger = 1<<53 - 1
	// DefaultMaxSubjectLength is the longest "sub" accepted when a registry
	// sets no MaxSubjectLength, in bytes.
	DefaultMaxSubjectLength = 255
)

// Claim declares one typed context claim of an operation.
type Claim struct {
	// Name is the claim name inside the token. It must match
	// [A-Za-z_][A-Za-z0-9_]* and must not be a registered JWT or
	// transaction-token claim name (see ReservedNames) in any letter case,
	// nor differ from another claim of the operation only in case.
	Name string
	// Type is the claim's JSON type. Required.
	Type Type
	// Required makes the claim mandatory. Default: optional.
	Required bool

	// MaxLength is the maximum length of a string value in bytes of UTF-8.
	// Required for strings, at most MaxStringLength, so that the token
	// size stays bounded.
	MaxLength int
	// Pattern is an RE2 regular expression (Go regexp syntax) that the whole
	// string value must match; it is anchored at both ends. Default: none.
	Pattern string
	// Enum lists the permitted string values. Default: any value.
	Enum []string

	// Min and Max bound integer and number values, inclusive. Nil means
	// unbounded (integers stay within ±MaxSafeInteger).
	Min, Max *float64

	pattern *regexp.Regexp
	run     *charRun // pattern's fast equivalent, nil when it has none
}

// Operation declares one kind of transaction: its name (the "txn_tag" claim
// in the flat layout, "scope" in the IETF layout) and the typed claims its
// tokens carry.
type Operation struct {
	// Name identifies the operation, such as "payment_initiate". It must
	// match [A-Za-z_][A-Za-z0-9_]*.
	Name string
	// Version increases with every change of the operation; Compare checks it.
	// Must be at least 1.
	Version int
	// Lifetime is how long a token stays valid. Default DefaultLifetime, at
	// most MaxLifetime.
	Lifetime time.Duration
	// Audience is the "aud" of the operation's tokens. Default: the issuer's
	// trust domain.
	Audience string
	// MaxSize is the budget in bytes for an encoded token. Default
	// DefaultMaxSize. Minting fails with ErrTooLarge above it.
	MaxSize int
	// RequiredScopes lists scopes the subject's session must hold for the
	// Issuer to mint this operation's token. Default: none.
	RequiredScopes []string
	// Claims are the context claims. Claims not listed here are rejected.
	Claims []Claim

	claims map[string]*Claim
	// names lists the claim names in the order of Claims (sorted), so that
	// one pass over a token's claims finds each claim's position.
	names []string
}

// Claim returns the declared claim called name.
func (o *Operation) Claim(name string) (*Claim, bool) {
	c, ok := o.claims[name]
	return c, ok
}

// reservedNames are the claim names that context claims may not use: the
// registered JWT claims, the claims each layout adds, and the form fields
// the introspection and token-exchange requests use for other purposes.
var reservedNames = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"txn_tag": true, "txn": true, "scope": true, "req_wl": true, "tctx": true, "rctx": true,
	"operation": true, "token": true, "token_type_hint": true, "client_id": true, "client_secret": true,
}

// ReservedNames returns the claim names that context claims may not use,
// sorted.
func ReservedNames() []string {
	names := make([]string, 0, len(reservedNames))
	for n := range reservedNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Registry holds the operations of one trust domain. Build it with
// NewRegistry or ParseRegistry; it is immutable afterwards and safe for
// concurrent use.
type Registry struct {
	ops              map[string]*Operation
	maxSubjectLength int
}

// RegistryConfig holds registry-wide settings.
type RegistryConfig struct {
	// MaxSubjectLength bounds "sub" in bytes, so that the worst-case token
	// size is known. Default DefaultMaxSubjectLength.
	MaxSubjectLength int
}

// NewRegistry checks ops and returns a registry holding them. The
// operations are copied, and defaults are filled in. It returns a
// *SchemaError naming the operation and claim for the first fault found.
func NewRegistry(cfg RegistryConfig, ops ...Operation) (*Registry, error) {
	r := &Registry{ops: make(map[string]*Operation, len(ops)), maxSubjectLength: cfg.MaxSubjectLength}
	if r.maxSubjectLength == 0 {
		r.maxSubjectLength = DefaultMaxSubjectLength
	}
	if r.maxSubjectLength < 0 || r.maxSubjectLength > MaxStringLength {
		return nil, &SchemaError{Reason: fmt.Sprintf("max subject length %d is outside 1..%d", cfg.MaxSubjectLength, MaxStringLength)}
	}
	for i := range ops {
		op, err := compileOperation(ops[i])
		if err != nil {
			return nil, err
		}
		if _, dup := r.ops[op.Name]; dup {
			return nil, &SchemaError{Operation: op.Name, Reason: "defined twice"}
		}
		r.ops[op.Name] = op
	}
	return r, nil
}

// Operation returns the operation called name.
func (r *Registry) Operation(name string) (*Operation, bool) {
	op, ok := r.ops[name]
	return op, ok
}

// Operations returns the operation names, sorted.
func (r *Registry) Operations() []string {
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// MaxSubjectLength returns the longest "sub" the registry accepts, in bytes.
func (r *Registry) MaxSubjectLength() int { return r.maxSubjectLength }

func (r *Registry) lookup(name string) (*Operation, error) {
	op, ok := r.ops[name]
	if !ok {
		return nil, unknownOperation(name)
	}
	return op, nil
}

func validName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func compileOperation(in Operation) (*Operation, error) {
	op := in
	fail := func(format string, args ...any) error {
		return &SchemaError{Operation: in.Name, Reason: fmt.Sprintf(format, args...)}
	}
	if !validName(op.Name) {
		return nil, fail("name must match [A-Za-z_][A-Za-z0-9_]* and be at most %d bytes", MaxNameLength)
	}
	if op.Version < 1 {
		return nil, fail("version must be at least 1")
	}
	switch {
	case op.Lifetime == 0:
		op.Lifetime = DefaultLifetime
	case op.Lifetime < time.Second:
		return nil, fail("lifetime %v is shorter than 1s", op.Lifetime)
	case op.Lifetime > MaxLifetime:
		return nil, fail("lifetime %v exceeds the maximum %v", op.Lifetime, MaxLifetime)
	}
	if op.Audience != "" && !validText(op.Audience, 1024) {
		return nil, fail("audience must be printable text of at most 1024 bytes")
	}
	switch {
	case op.MaxSize == 0:
		op.MaxSize = DefaultMaxSize
	case op.MaxSize < 0:
		return nil, fail("max size %d is negative", op.MaxSize)
	}
	for _, s := range op.RequiredScopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") || !validText(s, 256) {
			return nil, fail("required scope %q is not a valid scope token", s)
		}
	}
	op.RequiredScopes = slices.Clone(op.RequiredScopes)
	if len(op.Claims) > MaxClaims {
		return nil, fail("%d claims exceed the maximum %d", len(op.Claims), MaxClaims)
	}
	op.Claims = make([]Claim, len(in.Claims))
	op.claims = make(map[string]*Claim, len(in.Claims))
	folded := make(map[string]string, len(in.Claims))
	for i := range in.Claims {
		c, err := compileClaim(in.Name, in.Claims[i])
		if err != nil {
			return nil, err
		}
		if _, dup := op.claims[c.Name]; dup {
			return nil, &SchemaError{Operation: in.Name, Claim: c.Name, Reason: "defined twice"}
		}
		if other, dup := folded[strings.ToLower(c.Name)]; dup {
			return nil, &SchemaError{Operation: in.Name, Claim: c.Name,
				Reason: fmt.Sprintf("differs from claim %q only in case, which JSON decoders that ignore case cannot tell apart", other)}
		}
		folded[strings.ToLower(c.Name)] = c.Name
		op.Claims[i] = c
		op.claims[c.Name] = &op.Claims[i]
	}
	// A stable order makes tokens and size estimates reproducible.
	sort.Slice(op.Claims, func(i, j int) bool { return op.Claims[i].Name < op.Claims[j].Name })
	op.names = make([]string, len(op.Claims))
	for i := range op.Claims {
		op.claims[op.Claims[i].Name] = &op.Claims[i]
		op.names[i] = op.Claims[i].Name
	}
	return &op, nil
}

func compileClaim(opName string, in Claim) (Claim, error) {
	c := in
	fail := func(format string, args ...any) error {
		return &SchemaError{Operation: opName, Claim: in.Name, Reason: fmt.Sprintf(format, args...)}
	}
	if !validName(c.Name) {
		return c, fail("name must match [A-Za-z_][A-Za-z0-9_]* and be at most %d bytes", MaxNameLength)
	}
	// Names are ASCII, so ToLower folds case the way encoding/json does: a
	// claim "SUB" would decode into a consumer's "sub" struct field.
	if reservedNames[strings.ToLower(c.Name)] {
		return c, fail("name is reserved; reserved names are %s", strings.Join(ReservedNames(), ", "))
	}
	switch c.Type {
	case TypeString:
		if c.Min != nil || c.Max != nil {
			return c, fail("min and max apply to integer and number claims only; use max_length or pattern")
		}
		if c.MaxLength <= 0 {
			return c, fail("string claim needs a max_length between 1 and %d", MaxStringLength)
		}
		if c.MaxLength > MaxStringLength {
			return c, fail("max_length %d exceeds the maximum %d", c.MaxLength, MaxStringLength)
		}
		if c.Pattern != "" {
			// The pattern must compile on its own first: wrapped unchecked,
			// "a)|(.*" would become ^(?:a)|(.*)$, which matches anything.
			if _, err := regexp.Compile(c.Pattern); err != nil {
				return c, fail("pattern does not compile: %v", err)
			}
			re, err := regexp.Compile(`^(?:` + c.Pattern + `)$`)
			if err != nil {
				return c, fail("pattern does not compile: %v", err)
			}
			c.pattern = re
			c.run = compileCharRun(c.Pattern)
		}
		if len(c.Enum) > MaxEnumValues {
			return c, fail("%d enum values exceed the maximum %d", len(c.Enum), MaxEnumValues)
		}
		seen := make(map[string]bool, len(c.Enum))
		for _, v := range c.Enum {
			if seen[v] {
				return c, fail("enum value %q is listed twice", v)
			}
			seen[v] = true
			if err := c.checkString(v); err != "" {
				return c, fail("enum value %q %s", v, err)
			}
		}
		c.Enum = slices.Clone(c.Enum)
	case TypeInteger, TypeNumber:
		if c.MaxLength != 0 || c.Pattern != "" || len(c.Enum) != 0 {
			return c, fail("max_length, pattern and enum apply to string claims only")
		}
		for _, b := range []struct {
			name string
			v    *float64
		}{{"min", c.Min}, {"max", c.Max}} {
			if b.v == nil {
				continue
			}
			if math.IsNaN(*b.v) || math.IsInf(*b.v, 0) {
				return c, fail("%s must be a finite number", b.name)
			}
			if c.Type == TypeInteger && (*b.v != math.Trunc(*b.v) || math.Abs(*b.v) > MaxSafeInteger) {
				return c, fail("%s of an integer claim must be an integer within ±%d", b.name, int64(MaxSafeInteger))
			}
		}
		if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
			return c, fail("min %v is greater than max %v", *c.Min, *c.Max)
		}
		c.Min, c.Max = clonePtr(c.Min), clonePtr(c.Max)
	case TypeBoolean:
		if c.MaxLength != 0 || c.Pattern != "" || len(c.Enum) != 0 || c.Min != nil || c.Max != nil {
			return c, fail("a boolean claim takes no max_length, pattern, enum, min or max")
		}
	case "":
		return c, fail("type is missing; use string, integer, number or boolean")
	default:
		return c, fail("type %q is not one of string, integer, number, boolean", string(c.Type))
	}
	return c, nil
}

func clonePtr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// validText reports whether s is valid UTF-8 without control characters and
// at most max bytes long.
func validText(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}
