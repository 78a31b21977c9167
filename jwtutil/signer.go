package jwtutil

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
)

// DefaultLifetime is the token lifetime a [Signer] uses when
// SignerConfig.Lifetime is zero.
const DefaultLifetime = 5 * time.Minute

// SigningKeySource supplies the current private signing key. A
// *jwks.KeyRing implements it, so a signer follows the ring's rotations.
type SigningKeySource interface {
	SigningKey() (jwk.Key, error)
}

type staticSigningKey struct{ key jwk.Key }

func (s staticSigningKey) SigningKey() (jwk.Key, error) { return s.key, nil }

// StaticSigningKey returns a SigningKeySource that always returns k.
func StaticSigningKey(k jwk.Key) SigningKeySource { return staticSigningKey{k} }

// SignerConfig configures a [Signer].
type SignerConfig struct {
	// Keys supplies the private signing key for each token. It is required.
	// The key's "alg" is used when set; otherwise the algorithm follows the
	// key type: ES256, ES384 or ES512 by curve, EdDSA, RS256 or HS256. Its
	// "kid" goes into the header; an asymmetric key without one gets its
	// RFC 7638 SHA-256 thumbprint.
	Keys SigningKeySource
	// Issuer is the "iss" set on every token. Empty means none is set.
	Issuer string
	// Audience is the "aud" set on every token: a string when it has one
	// element, an array otherwise. Empty means none is set.
	Audience []string
	// Lifetime sets "exp" relative to "iat". Zero means DefaultLifetime.
	Lifetime time.Duration
	// Type is the "typ" header. Empty means "JWT".
	Type string
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Signer creates signed JWTs. It is safe for concurrent use.
type Signer struct {
	keys     SigningKeySource
	issuer   string
	audience any
	lifetime time.Duration
	typ      string
	now      func() time.Time
}

// NewSigner returns a Signer for cfg.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if cfg.Keys == nil {
		return nil, errors.New("jwtutil: SignerConfig.Keys is nil: use StaticSigningKey or a jwks.KeyRing")
	}
	if cfg.Lifetime < 0 {
		return nil, fmt.Errorf("jwtutil: SignerConfig.Lifetime is %v: use a positive duration, or zero for %v", cfg.Lifetime, DefaultLifetime)
	}
	s := &Signer{
		keys:     cfg.Keys,
		issuer:   cfg.Issuer,
		lifetime: cfg.Lifetime,
		typ:      cfg.Type,
		now:      cfg.Now,
	}
	switch len(cfg.Audience) {
	case 0:
	case 1:
		s.audience = cfg.Audience[0]
	default:
		s.audience = append([]string(nil), cfg.Audience...)
	}
	if s.lifetime == 0 {
		s.lifetime = DefaultLifetime
	}
	if s.typ == "" {
		s.typ = "JWT"
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// registeredClaims are the claims Sign fills or drops when set to nil.
var registeredClaims = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// Sign signs claims with the current key and the configured "typ". It sets
// "iss", "aud", "iat", "exp" and a random 128-bit "jti" when claims lacks
// them. A value the caller sets wins, and a registered claim set to nil is
// left out. time.Time values of "exp", "nbf" and "iat" are written as
// NumericDate seconds. A registered claim of another JSON type than RFC 7519
// gives it, such as a string "exp" or a numeric "aud", is an error, because
// no strict verifier would accept the token. claims itself is not modified.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	return s.SignWithType(s.typ, claims)
}

// SignWithType is Sign with the "typ" header set to typ, such as "at+jwt"
// for an RFC 9068 access token.
func (s *Signer) SignWithType(typ string, claims map[string]any) (string, error) {
	if typ == "" {
		return "", errors.New("jwtutil: empty token type: pass a \"typ\" value such as \"JWT\"")
	}
	key, err := s.keys.SigningKey()
	if err != nil {
		return "", fmt.Errorf("jwtutil: get signing key: %w", err)
	}
	if key == nil {
		return "", errors.New("jwtutil: signing key source returned no key")
	}
	alg, raw, err := signingKey(key)
	if err != nil {
		return "", err
	}
	payload, err := s.payload(claims)
	if err != nil {
		return "", err
	}

	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, typ); err != nil {
		return "", fmt.Errorf("jwtutil: set typ header: %w", err)
	}
	kid := key.KeyID()
	if kid == "" && !alg.isHMAC() {
		tp, err := key.Thumbprint(crypto.SHA256)
		if err != nil {
			return "", fmt.Errorf("jwtutil: compute key thumbprint: %w", err)
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	if kid != "" {
		if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
			return "", fmt.Errorf("jwtutil: set kid header: %w", err)
		}
	}
	token, err := jws.Sign(payload, jws.WithKey(jwa.SignatureAlgorithm(alg.String()), raw, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("jwtutil: sign token: %w", err)
	}
	return string(token), nil
}

func (s *Signer) payload(claims map[string]any) ([]byte, error) {
	now := s.now()
	out := make(map[string]any, len(claims)+5)
	for k, v := range claims {
		out[k] = v
	}
	setDefault := func(name string, v any) {
		if _, ok := out[name]; !ok {
			out[name] = v
		}
	}
	if s.issuer != "" {
		setDefault("iss", s.issuer)
	}
	if s.audience != nil {
		setDefault("aud", s.audience)
	}
	setDefault("iat", now.Unix())
	setDefault("exp", now.Add(s.lifetime).Unix())

	if _, ok := out["jti"]; !ok {
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return nil, fmt.Errorf("jwtutil: generate jti: %w", err)
		}
		out["jti"] = base64.RawURLEncoding.EncodeToString(id[:])
	}

	for _, name := range registeredClaims {
		v, ok := out[name]
		if !ok {
			continue
		}
		switch t := v.(type) {
		case nil:
			delete(out, name)
			continue
		case time.Time:
			if name == "exp" || name == "nbf" || name == "iat" {
				out[name] = t.Unix()
				continue
			}
		}
		if !registeredType(name, v) {
			return nil, registeredTypeError(name, v)
		}
	}

	payload, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("jwtutil: encode claims: %w", err)
	}
	return payload, nil
}

// registeredType reports whether v has the JSON type RFC 7519 gives the
// registered claim name, so that Sign never issues a token that a strict
// verifier, this package's included, must reject.
func registeredType(name string, v any) bool {
	switch name {
	case "iss", "sub", "jti":
		_, ok := v.(string)
		return ok
	case "aud":
		switch t := v.(type) {
		case string, []string:
			return true
		case []any:
			for _, e := range t {
				if _, ok := e.(string); !ok {
					return false
				}
			}
			return true
		}
		return false
	}
	// "exp", "nbf" and "iat": a NumericDate.
	switch t := v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case float64:
		return !math.IsNaN(t) && !math.IsInf(t, 0)
	case float32:
		return !math.IsNaN(float64(t)) && !math.IsInf(float64(t), 0)
	case json.Number:
		_, err := strconv.ParseFloat(string(t), 64)
		return err == nil
	}
	return false
}

func registeredTypeError(name string, v any) error {
	switch name {
	case "iss", "sub", "jti":
		return fmt.Errorf("jwtutil: claim %q is a %T: pass a string, or nil to leave it out", name, v)
	case "aud":
		return fmt.Errorf("jwtutil: claim \"aud\" is a %T: pass a string or a []string, or nil to leave it out", v)
	}
	return fmt.Errorf("jwtutil: claim %q is a %T: pass a time.Time or a finite number of seconds since the epoch, or nil to leave it out", name, v)
}

// signingKey checks that k is private key material fit for signing and
// returns its algorithm and raw key.
func signingKey(k jwk.Key) (algorithm, any, error) {
	var raw any
	if err := k.Raw(&raw); err != nil {
		return algInvalid, nil, fmt.Errorf("jwtutil: export signing key: %w", err)
	}
	named := algInvalid
	if a := k.Algorithm().String(); a != "" {
		named = algorithmByName(a)
		if named == algInvalid {
			return algInvalid, nil, fmt.Errorf("jwtutil: signing key has \"alg\" %q, which this package does not sign with", a)
		}
	}
	var alg algorithm
	switch key := raw.(type) {
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			alg = algES256
		case elliptic.P384():
			alg = algES384
		case elliptic.P521():
			alg = algES512
		default:
			return algInvalid, nil, errors.New("jwtutil: signing key uses an unsupported elliptic curve: use P-256, P-384 or P-521")
		}
		if named != algInvalid && named != alg {
			return algInvalid, nil, fmt.Errorf("jwtutil: signing key \"alg\" %s does not match its curve (%s)", named, alg)
		}
	case ed25519.PrivateKey:
		alg = algEdDSA
		if named != algInvalid && named != alg {
			return algInvalid, nil, fmt.Errorf("jwtutil: signing key \"alg\" %s does not match its Ed25519 key", named)
		}
	case *rsa.PrivateKey:
		if bits := key.N.BitLen(); bits < minRSABits {
			return algInvalid, nil, fmt.Errorf("jwtutil: RSA signing key has %d bits: use at least %d", bits, minRSABits)
		}
		alg = algRS256
		if named != algInvalid {
			if !(named >= algRS256 && named <= algPS512) {
				return algInvalid, nil, fmt.Errorf("jwtutil: signing key \"alg\" %s does not match its RSA key", named)
			}
			alg = named
		}
	case []byte:
		alg = algHS256
		if named != algInvalid {
			if !named.isHMAC() {
				return algInvalid, nil, fmt.Errorf("jwtutil: signing key \"alg\" %s does not match its symmetric key", named)
			}
			alg = named
		}
		if size := alg.hash().Size(); len(key) < size {
			return algInvalid, nil, fmt.Errorf("jwtutil: %s secret has %d bytes: use at least %d random bytes", alg, len(key), size)
		}
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return algInvalid, nil, errors.New("jwtutil: signing key is a public key: pass the private key")
	default:
		return algInvalid, nil, fmt.Errorf("jwtutil: signing key type %T is not supported", raw)
	}
	return alg, raw, nil
}
