package txntoken

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// SizeParams describes the token envelope for WorstCaseSize: what the
// signer writes around the context claims.
type SizeParams struct {
	// Algorithm is the JWS algorithm, such as "ES256". Required.
	Algorithm string
	// Layout is the token layout. Default LayoutFlat.
	Layout Layout
	// KeyID is the "kid" header value. Default: a 43-character RFC 7638
	// SHA-256 thumbprint, as jwks.KeyRing writes.
	KeyID string
	// OmitKeyID leaves "kid" out of the header, as signers do for an HMAC
	// key without an ID.
	OmitKeyID bool
	// Type is the "typ" header value. Default JWTType, which an Issuer
	// writes in both layouts.
	Type string
	// Issuer is the "iss" value; empty means the token carries no "iss".
	Issuer string
	// Audience is the "aud" used when the operation declares none.
	Audience string
	// Requester is the "req_wl" value of the IETF layout. Default: a value
	// of MaxRequesterLength bytes.
	Requester string
	// RequestContext adds a "rctx" of MaxRequestContextSize bytes in the
	// IETF layout.
	RequestContext bool
	// RSABits is the RSA modulus size for RS* and PS* algorithms. Default 2048.
	RSABits int
}

// WorstCaseSize returns an upper bound of the length in bytes of an encoded
// token of the operation: the header, and the payload with every optional
// claim present and every value at its longest JSON encoding (strings at
// max_length with the worst JSON escaping their pattern or enum allows,
// integers at the widest of min and max, numbers at 24 characters, a "sub"
// of MaxSubjectLength bytes), plus the signature, all base64url-encoded.
func (r *Registry) WorstCaseSize(operation string, p SizeParams) (int, error) {
	op, err := r.lookup(operation)
	if err != nil {
		return 0, err
	}
	sigLen, err := signatureLength(p.Algorithm, p.RSABits)
	if err != nil {
		return 0, err
	}
	kidLen := 43
	if p.KeyID != "" {
		kidLen = worstStringLen(p.KeyID) - 2
	}
	typ := p.Type
	if typ == "" {
		typ = JWTType
	}
	// {"alg":"…","kid":"…","typ":"…"}
	header := 2 + member("alg", worstStringLen(p.Algorithm)) + 1 + member("typ", worstStringLen(typ))
	if !p.OmitKeyID {
		header += 1 + member("kid", kidLen+2)
	}

	audience := op.Audience
	if audience == "" {
		audience = p.Audience
	}
	var m payloadSize
	m.add(claimSub, 2+r.maxSubjectLength*6)
	// The signer may write "aud" as a one-element array.
	m.add(claimAud, worstStringLen(audience)+2)
	m.add(claimIat, maxTimeWidth)
	m.add(claimExp, maxTimeWidth)
	if p.Issuer != "" {
		m.add(claimIss, worstStringLen(p.Issuer))
	}
	context := op.worstContextSize()
	switch p.Layout {
	case LayoutFlat:
		m.add(claimTxnTag, len(op.Name)+2)
		m.add(claimJti, idLength+2)
		m.n += context.n
		m.count += context.count
	case LayoutIETF:
		m.add(claimTxn, idLength+2)
		m.add(claimScope, len(op.Name)+2)
		requester := MaxRequesterLength + 2
		if p.Requester != "" {
			requester = worstStringLen(p.Requester)
		}
		m.add(claimReqWL, requester)
		m.add(claimTctx, context.object())
		if p.RequestContext {
			m.add(claimRctx, MaxRequestContextSize)
		}
	default:
		return 0, fmt.Errorf("txntoken: unknown layout %d", p.Layout)
	}
	return b64Len(header) + 1 + b64Len(m.object()) + 1 + b64Len(sigLen), nil
}

// payloadSize sums the encoded length of the members of a JSON object.
type payloadSize struct {
	n, count int
}

func (s *payloadSize) add(name string, valueLen int) {
	s.n += member(name, valueLen)
	s.count++
}

// object returns the length of the object: braces, members and commas.
func (s *payloadSize) object() int {
	commas := 0
	if s.count > 1 {
		commas = s.count - 1
	}
	return 2 + s.n + commas
}

// member returns the length of `"name":value`; names are never escaped
// because validName admits none that need it.
func member(name string, valueLen int) int { return len(name) + 3 + valueLen }

func (o *Operation) worstContextSize() payloadSize {
	var s payloadSize
	for i := range o.Claims {
		s.add(o.Claims[i].Name, o.Claims[i].worstValueLen())
	}
	return s
}

func (c *Claim) worstValueLen() int {
	switch c.Type {
	case TypeString:
		if len(c.Enum) > 0 {
			longest := 0
			for _, v := range c.Enum {
				longest = max(longest, worstStringLen(v))
			}
			return longest
		}
		factor := 6
		if c.pattern != nil {
			factor = patternEscapeFactor(c.Pattern)
		}
		return 2 + c.MaxLength*factor
	case TypeInteger:
		lo, hi := -float64(MaxSafeInteger), float64(MaxSafeInteger)
		if c.Min != nil {
			lo = *c.Min
		}
		if c.Max != nil {
			hi = *c.Max
		}
		return max(len(strconv.FormatInt(int64(lo), 10)), len(strconv.FormatInt(int64(hi), 10)))
	case TypeNumber:
		// The maximum length of a shortest-form float64, as strconv.FormatFloat(f, 'g',
		// -1, 64) writes it, such as -2.2250738585072014e-308.
		return 24
	case TypeBoolean:
		return len("false")
	}
	return 0
}

// escapedLen returns the longest JSON encoding of r that a conforming
// encoder may choose: \u00XX for control characters, and for <, > and &
// (HTML-safe encoders such as encoding/json), \uXXXX (or a surrogate pair)
// for any non-ASCII rune, and a backslash escape for " and \.
func escapedLen(r rune) int {
	switch {
	case r < 0x20, r == '<', r == '>', r == '&':
		return 6
	case r == '"', r == '\\':
		return 2
	case r < utf8.RuneSelf:
		return 1
	case r > 0xffff:
		return 12
	}
	return 6
}

// worstStringLen returns the longest JSON encoding of s with its quotes.
func worstStringLen(s string) int {
	n := 2
	for _, r := range s {
		n += escapedLen(r)
	}
	return n
}

// patternEscapeFactor returns the largest ratio of encoded bytes to UTF-8
// bytes over every rune the pattern can match: 1 when it matches only
// characters that never need escaping, up to 6 for control characters.
func patternEscapeFactor(pattern string) int {
	re, err := syntax.Parse(`^(?:`+pattern+`)$`, syntax.Perl)
	if err != nil {
		return 6
	}
	return regexpFactor(re)
}

func regexpFactor(re *syntax.Regexp) int {
	factor := 1
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 6
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			factor = max(factor, runeFactor(r))
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					factor = max(factor, runeFactor(f))
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			factor = max(factor, rangeFactor(re.Rune[i], re.Rune[i+1]))
		}
	}
	for _, sub := range re.Sub {
		factor = max(factor, regexpFactor(sub))
	}
	return factor
}

// runeFactor is escapedLen(r) per UTF-8 byte of r, rounded up.
func runeFactor(r rune) int {
	n := utf8.RuneLen(r)
	if n < 1 {
		return 6
	}
	return (escapedLen(r) + n - 1) / n
}

// rangeFactor returns the largest runeFactor in lo..hi. Every rune in a
// band below has the same factor, so testing whether the range meets each
// band is enough.
func rangeFactor(lo, hi rune) int {
	bands := []struct {
		lo, hi rune
		factor int
	}{
		{0, 0x1f, 6}, {'<', '<', 6}, {'>', '>', 6}, {'&', '&', 6},
		{'"', '"', 2}, {'\\', '\\', 2},
		{0x80, 0x7ff, 3}, {0x800, 0xffff, 2}, {0x10000, unicode.MaxRune, 3},
	}
	factor := 1
	for _, b := range bands {
		if lo <= b.hi && hi >= b.lo {
			factor = max(factor, b.factor)
		}
	}
	return factor
}

// signatureLength returns the raw signature length of alg in bytes.
func signatureLength(alg string, rsaBits int) (int, error) {
	if rsaBits == 0 {
		rsaBits = 2048
	}
	switch alg {
	case "HS256":
		return 32, nil
	case "ES256", "ES256K", "EdDSA":
		return 64, nil
	case "HS384":
		return 48, nil
	case "HS512":
		return 64, nil
	case "ES384":
		return 96, nil
	case "ES512":
		return 132, nil
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		if rsaBits < 2048 || rsaBits%8 != 0 {
			return 0, fmt.Errorf("txntoken: RSA modulus of %d bits is not supported; use 2048 or more", rsaBits)
		}
		return rsaBits / 8, nil
	}
	return 0, fmt.Errorf("txntoken: unsupported signing algorithm %q", alg)
}

// b64Len returns the unpadded base64url length of n bytes.
func b64Len(n int) int { return (n*8 + 5) / 6 }
