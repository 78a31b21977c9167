package jwtutil

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// Defaults for [Config] fields left at their zero value.
const (
	// DefaultMaxTokenSize bounds the token length Verify accepts, in bytes.
	DefaultMaxTokenSize = 8 << 10
	// DefaultLeeway is the clock skew tolerated on "exp", "nbf" and "iat".
	DefaultLeeway = 30 * time.Second
	// DefaultCacheMaxAge bounds how long a verified token stays cached.
	DefaultCacheMaxAge = time.Minute
)

// Config configures a [Verifier]. Its zero value is strict: every check is
// on, and turning one off takes an explicit Skip field. NewVerifier rejects
// a Config that leaves a check without the value it needs, such as an empty
// Issuer without SkipIssuerCheck.
type Config struct {
	// Keys supplies the verification keys. It is required. Keys is asked
	// for the token's "kid" only; header parameters that carry keys or key
	// URLs ("jwk", "jku", "x5c", "x5u") are ignored.
	Keys jwks.KeySource

	// Issuer is the exact "iss" a token must carry. It is required unless
	// SkipIssuerCheck is set.
	Issuer string
	// SkipIssuerCheck accepts any "iss", or none.
	SkipIssuerCheck bool

	// Audience lists accepted audiences; a token is accepted when its "aud"
	// (a string or an array of strings) contains any of them. It is
	// required unless SkipAudienceCheck is set.
	Audience []string
	// SkipAudienceCheck accepts any "aud", or none.
	SkipAudienceCheck bool

	// Algorithms lists the accepted "alg" values, such as "ES256". Empty
	// means every algorithm the token's key supports: the key's own "alg"
	// when the JWK names one, otherwise every algorithm of its key type.
	// "none" is never accepted, and an HMAC algorithm is accepted only with
	// a symmetric key, whatever this list contains.
	Algorithms []string

	// Type is the "typ" header a token must carry, such as "at+jwt" for
	// RFC 9068 access tokens. It is compared case-insensitively and an
	// "application/" prefix is optional on either side (RFC 7515 section
	// 4.1.9). Empty means "typ" must be "JWT" or absent, so a token minted
	// with an explicit other type, such as a transaction token or an
	// at+jwt, is not accepted in its place.
	Type string
	// SkipTypeCheck accepts any "typ", or none.
	SkipTypeCheck bool

	// Leeway is the clock skew tolerated when checking "exp", "nbf" and
	// "iat". Zero means DefaultLeeway; a negative value means none.
	Leeway time.Duration

	// RequiredClaims lists claim names that must be present in addition to
	// "exp", which is always required.
	RequiredClaims []string

	// MaxTokenSize is the largest token, in bytes, that Verify decodes;
	// longer input is rejected before any decoding. Zero means
	// DefaultMaxTokenSize.
	MaxTokenSize int

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// CacheSize is the maximum number of verified tokens kept in memory
	// so that repeated tokens skip signature verification. Zero disables
	// the cache.
	// A cached token is served until its "exp" or CacheMaxAge after it was
	// verified, whichever comes first, even if its key leaves the key
	// source in the meantime.
	CacheSize int
	// CacheMaxAge bounds how long a verified token stays cached. Zero means
	// DefaultCacheMaxAge.
	CacheMaxAge time.Duration
}

// Verifier verifies compact JWS JWTs against a [Config]. It is safe for
// concurrent use; create one per issuer and audience and reuse it.
type Verifier struct {
	keys          jwks.KeySource
	issuer        string
	checkIssuer   bool
	audience      []string
	checkAudience bool
	algorithms    [algCount]bool
	typ           string
	checkType     bool
	leeway        time.Duration
	required      []string
	maxSize       int
	now           func() time.Time
	cache         *tokenCache
	policy        [32]byte
	hmacs         hmacPools
}

// NewVerifier returns a Verifier for cfg, or an error naming the first
// field that needs a value.
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	v := &Verifier{
		keys:          cfg.Keys,
		issuer:        cfg.Issuer,
		checkIssuer:   !cfg.SkipIssuerCheck,
		audience:      append([]string(nil), cfg.Audience...),
		checkAudience: !cfg.SkipAudienceCheck,
		typ:           cfg.Type,
		checkType:     !cfg.SkipTypeCheck,
		leeway:        cfg.Leeway,
		required:      append([]string(nil), cfg.RequiredClaims...),
		maxSize:       cfg.MaxTokenSize,
		now:           cfg.Now,
	}
	if len(cfg.Algorithms) == 0 {
		for a := algHS256; a < algCount; a++ {
			v.algorithms[a] = true
		}
	}
	for _, name := range cfg.Algorithms {
		v.algorithms[algorithmByName(name)] = true
	}

	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	} else if v.leeway < 0 {
		v.leeway = 0
	}
	if v.maxSize == 0 {
		v.maxSize = DefaultMaxTokenSize
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.policy = policyDigest(v)
	if cfg.CacheSize > 0 {
		maxAge := cfg.CacheMaxAge
		if maxAge == 0 {
			maxAge = DefaultCacheMaxAge
		}
		v.cache = newTokenCache(cfg.CacheSize, maxAge)
	}
	return v, nil
}

// Leeway returns the clock skew the verifier tolerates on "exp", "nbf" and
// "iat", with the default applied. The verifier accepts a token until its
// "exp" plus Leeway, so a record of used token ids must last that long.
func (v *Verifier) Leeway() time.Duration { return v.leeway }

// AcceptsType reports whether v accepts a token whose "typ" header is typ,
// by the rule documented on Config.Type. An empty typ means a token
// without "typ". Packages that build on a caller's Verifier call it to
// reject a Verifier configured for another kind of token.
func (v *Verifier) AcceptsType(typ string) bool {
	return v.checkTypeHeader(header{typ: typ, hasTyp: typ != ""}) == nil
}

// validateConfig returns an error naming the first field of cfg that needs
// a value or holds an invalid one.
func validateConfig(cfg Config) error {
	if cfg.Keys == nil {
		return errors.New("jwtutil: Config.Keys is nil: set a key source such as a jwks.Remote or jwks.Static")
	}
	if cfg.Issuer == "" && !cfg.SkipIssuerCheck {
		return errors.New("jwtutil: Config.Issuer is empty: set the expected \"iss\", or set SkipIssuerCheck to accept any issuer")
	}
	if len(cfg.Audience) == 0 && !cfg.SkipAudienceCheck {
		return errors.New("jwtutil: Config.Audience is empty: set the accepted \"aud\" values, or set SkipAudienceCheck to accept any audience")
	}
	for _, a := range cfg.Audience {
		if a == "" {
			return errors.New("jwtutil: Config.Audience contains an empty string: remove it")
		}
	}
	for _, name := range cfg.Algorithms {
		if algorithmByName(name) == algInvalid {
			return fmt.Errorf("jwtutil: Config.Algorithms contains %q: use JWS names such as ES256, EdDSA, RS256 or PS256 (\"none\" is never allowed)", name)
		}
	}
	if cfg.MaxTokenSize < 0 {
		return fmt.Errorf("jwtutil: Config.MaxTokenSize is %d: use a positive size, or zero for the default %d", cfg.MaxTokenSize, DefaultMaxTokenSize)
	}
	if cfg.CacheSize < 0 || cfg.CacheMaxAge < 0 {
		return errors.New("jwtutil: Config.CacheSize and Config.CacheMaxAge must not be negative")
	}
	return nil
}

// policyDigest hashes every setting that decides whether a token is
// accepted, so cache entries can never be served under another policy.
func policyDigest(v *Verifier) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "iss=%v:%q\naud=%v:%q\nalg=%v\ntyp=%v:%q\nleeway=%d\nreq=%q\nmax=%d\n",
		v.checkIssuer, v.issuer, v.checkAudience, v.audience, v.algorithms,
		v.checkType, v.typ, v.leeway, v.required, v.maxSize)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// scratch is per-call working memory, pooled so that verification does not
// allocate a copy of every token.
type scratch struct {
	buf []byte
	mac [64]byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, 0, 1024)} }}

// Verify checks token and returns its claims. The order is fixed: the
// token's shape and size, its header, the key and algorithm, the signature
// over the raw signing input, and only then "typ" and the claims. So a
// forged token reports ErrSignature whatever its "typ" and claims contain.
// Errors satisfy errors.Is for one of the package's Err values.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	// The size bound comes first, and the segment scan below uses
	// IndexByte without allocating, so garbage of any length costs a
	// bounded, allocation-free rejection.
	if len(token) > v.maxSize {
		return nil, errTooLarge
	}
	dot1, dot2, ok := splitToken(token)
	if !ok {
		return nil, errSegments
	}

	var key [32]byte
	if v.cache != nil {
		key = v.cacheKey(token)
		if c, ok := v.cache.get(key, v.now()); ok {
			return c, nil
		}
	}
	c, err := v.verify(ctx, token, dot1, dot2)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(key, c, v.now())
	}
	return c, nil
}

// splitToken returns the positions of the two dots of a compact JWS and
// whether there are exactly two. It reads the token once and does not
// allocate, whatever the input.
func splitToken(token string) (dot1, dot2 int, ok bool) {
	dot1 = strings.IndexByte(token, '.')
	if dot1 < 0 {
		return 0, 0, false
	}
	dot2 = strings.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return 0, 0, false
	}
	dot2 += dot1 + 1
	if strings.IndexByte(token[dot2+1:], '.') >= 0 {
		return 0, 0, false
	}
	return dot1, dot2, true
}

func (v *Verifier) cacheKey(token string) [32]byte {
	s := scratchPool.Get().(*scratch)
	s.buf = append(append(s.buf[:0], v.policy[:]...), token...)
	key := sha256.Sum256(s.buf)
	scratchPool.Put(s)
	return key
}

func (v *Verifier) verify(ctx context.Context, token string, dot1, dot2 int) (*Claims, error) {
	// Header: decoded on the stack when small, which is nearly always.
	headerSeg := token[:dot1]
	n := decodedLen(len(headerSeg))
	if n <= 0 {
		return nil, errBase64
	}
	var headerBuf [256]byte
	dst := headerBuf[:]
	if n > len(dst) {
		if !isBase64URL(headerSeg) {
			return nil, errBase64
		}
		dst = make([]byte, n)
	}
	if !decodeSegment(dst, headerSeg) {
		return nil, errBase64
	}
	h, err := parseHeader(string(dst[:n]))
	if err != nil {
		return nil, err
	}
	if !v.algorithms[h.alg] {
		return nil, errAlgDisabled
	}

	// Signature, over the raw "header.payload" bytes of the token itself.
	sigSeg := token[dot2+1:]
	n = decodedLen(len(sigSeg))
	if n <= 0 {
		return nil, errBase64
	}
	var sigBuf [512]byte
	sig := sigBuf[:]
	if n > len(sig) {
		if !isBase64URL(sigSeg) {
			return nil, errBase64
		}
		sig = make([]byte, n)
	}
	if !decodeSegment(sig, sigSeg) {
		return nil, errBase64
	}
	sig = sig[:n]
	// The payload is decoded before the signature check only so that a
	// malformed segment reports ErrMalformed; nothing in it is read yet.
	payloadSeg := token[dot1+1 : dot2]
	n = decodedLen(len(payloadSeg))
	if n < 0 {
		return nil, errBase64
	}
	var payloadBuf [1024]byte
	payload := payloadBuf[:]
	if n > len(payload) {
		if !isBase64URL(payloadSeg) {
			return nil, errBase64
		}
		payload = make([]byte, n)
	}
	if !decodeSegment(payload, payloadSeg) {
		return nil, errBase64
	}
	payload = payload[:n]

	keys, err := v.keys.Keys(ctx, h.kid)
	if err != nil {
		if errors.Is(err, jwks.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, h.kid)
		}
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	if err := v.verifySignature(h.alg, keys, token[:dot2], sig); err != nil {
		return nil, err
	}

	// Policy checks, header and claims alike, come only after the
	// signature: a forger must learn nothing from them, so a forged token
	// with a wrong "typ" reports ErrSignature, not ErrType.
	if err := v.checkTypeHeader(h); err != nil {
		return nil, err
	}
	// Claims, parsed once, after the signature proved who wrote them.
	c := &Claims{Header: Header{Algorithm: h.alg.String(), KeyID: h.kid, Type: h.typ}}
	if err := decodeClaims(string(payload), c); err != nil {
		return nil, err
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	return c, nil
}

// verifySignature tries each key that may be used with alg and returns nil
// when one verifies sig. A key whose JWK names another "alg" is skipped,
// as is a key of the wrong type, so an RSA public key can never serve as an
// HMAC secret.
func (v *Verifier) verifySignature(alg algorithm, keys []jwks.Key, signingInput string, sig []byte) error {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.buf = append(s.buf[:0], signingInput...)
	candidates := 0
	for i := range keys {
		k := &keys[i]
		if k.Algorithm != "" && k.Algorithm != alg.String() {
			continue
		}
		if !alg.usableWith(k.Public) {
			continue
		}
		candidates++
		var ok bool
		if alg.isHMAC() {
			ok = v.hmacs.verify(alg, k.Public.([]byte), s.buf, sig, &s.mac)
		} else {
			ok = verifyAsymmetric(alg, k.Public, s.buf, sig)
		}
		if ok {
			return nil
		}
	}
	if candidates == 0 {
		return errNoKeyForAlg
	}
	return ErrSignature
}

// checkTypeHeader applies the "typ" rule documented on Config.Type.
func (v *Verifier) checkTypeHeader(h header) error {
	if !v.checkType {
		return nil
	}
	if v.typ == "" {
		if !h.hasTyp || sameMediaType(h.typ, "JWT") {
			return nil
		}
	} else if h.hasTyp && sameMediaType(h.typ, v.typ) {
		return nil
	}
	return typeError(h, v.typ)
}

// typeError names the token's "typ" and the accepted one, so that a setup
// mistake such as a missing Config.Type shows in logs. The token's value is
// truncated because it comes from the sender.
func typeError(h header, expected string) error {
	got := "no typ"
	if h.hasTyp {
		t := h.typ
		if len(t) > 64 {
			t = t[:64] + "..."
		}
		got = fmt.Sprintf("typ %q", t)
	}
	if expected == "" {
		expected = "JWT"
	}
	return fmt.Errorf("%w: token has %s, expected %q; set Config.Type to accept another type", ErrType, got, expected)
}

// sameMediaType compares two "typ" values as RFC 7515 section 4.1.9
// requires: case-insensitively, with an optional "application/" prefix.
func sameMediaType(a, b string) bool {
	return strings.EqualFold(trimApplication(a), trimApplication(b))
}

func trimApplication(s string) string {
	const prefix = "application/"
	if len(s) > len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

// checkClaims applies the time, issuer, audience and required-claim checks.
func (v *Verifier) checkClaims(c *Claims) error {
	if _, ok := c.rawString("exp"); !ok {
		return errMissingExp
	}
	now := v.now()
	if !now.Before(c.ExpiresAt.Add(v.leeway)) {
		return errExpired
	}
	late := now.Add(v.leeway)
	if _, ok := c.rawString("nbf"); ok && late.Before(c.NotBefore) {
		return errNotYetValid
	}
	if _, ok := c.rawString("iat"); ok && late.Before(c.IssuedAt) {
		return errIssuedFuture
	}
	if v.checkIssuer && c.Issuer != v.issuer {
		return ErrIssuer
	}
	if v.checkAudience && !anyAudience(c.Audience, v.audience) {
		return ErrAudience
	}
	for _, name := range v.required {
		if _, ok := c.rawString(name); !ok {
			return fmt.Errorf("%w: %q", ErrMissingClaim, name)
		}
	}
	return nil
}

func anyAudience(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}
