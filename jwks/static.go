package jwks

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Static is a fixed set of verification keys, for services that are
// configured with their issuer's keys instead of fetching them. It
// implements [KeySource] and never changes after construction.
type Static struct {
	index *keyIndex
}

var _ KeySource = (*Static)(nil)

// NewStatic builds a Static key source from set. Every key must be usable
// for signature verification, otherwise NewStatic returns an error naming
// the key and the reason, because a silently dropped configured key shows
// up only later as failed logins. Accepted are EC keys on P-256, P-384 and
// P-521, RSA keys of [MinRSABits] to [MaxRSABits] bits, Ed25519 keys, and
// symmetric ("oct") HMAC secrets of at least 32 bytes. A private asymmetric
// key is accepted and only its public half is kept. A key's "alg", when
// present, must fit its type and size.
func NewStatic(set jwk.Set) (*Static, error) {
	if set == nil || set.Len() == 0 {
		return nil, errors.New("jwks: static key set is empty")
	}
	policy := keyPolicy{allowSecret: true, allowPrivate: true}
	keys := make([]Key, 0, set.Len())
	for i := range set.Len() {
		jk, _ := set.Key(i)
		k, err := newKey(jk, policy)
		if err != nil {
			return nil, fmt.Errorf("jwks: static key %d (kid %q): %v", i, jk.KeyID(), err)
		}
		keys = append(keys, k)
	}
	return &Static{index: newKeyIndex(keys)}, nil
}

// ParseStatic parses a JWK Set document ({"keys":[...]}) or a single JWK and
// builds a Static key source from it with the rules of [NewStatic].
func ParseStatic(jwksJSON []byte) (*Static, error) {
	set, err := jwk.Parse(jwksJSON)
	if err != nil {
		return nil, fmt.Errorf("jwks: parse static JWKS: %v", err)
	}
	return NewStatic(set)
}

// ParseStaticPEM builds a Static key source from PEM blocks of public keys:
// "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS #1) and "CERTIFICATE" (the
// certificate's key is used, its validity is not checked). Private key
// blocks are rejected, so a secret cannot end up in verifier configuration
// by mistake. PEM carries no key ID, so the keys get none and each matches
// every kid; see [Static.Keys].
func ParseStaticPEM(pemData []byte) (*Static, error) {
	var keys []Key
	rest := bytes.TrimSpace(pemData)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("jwks: PEM block %d: no valid PEM data", len(keys))
		}
		raw, err := parsePEMPublicKey(block)
		if err != nil {
			return nil, fmt.Errorf("jwks: PEM block %d (%s): %v", len(keys), block.Type, err)
		}
		jk, err := jwk.FromRaw(raw)
		if err != nil {
			return nil, fmt.Errorf("jwks: PEM block %d (%s): %v", len(keys), block.Type, err)
		}
		k, err := newKey(jk, keyPolicy{})
		if err != nil {
			return nil, fmt.Errorf("jwks: PEM block %d (%s): %v", len(keys), block.Type, err)
		}
		keys = append(keys, k)
		rest = bytes.TrimSpace(rest)
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: no PEM blocks found")
	}
	return &Static{index: newKeyIndex(keys)}, nil
}

func parsePEMPublicKey(block *pem.Block) (any, error) {
	switch block.Type {
	case "PUBLIC KEY":
		return x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return cert.PublicKey, nil
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("private key rejected; pass the public key or certificate")
	default:
		return nil, errors.New(`unsupported block type; want "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE"`)
	}
}

// Keys returns the keys whose ID is kid, or every key for an empty kid. Keys
// without an ID (such as those from PEM) match any kid when no key has that
// ID. An unknown kid gives an error wrapping [ErrKeyNotFound]. The returned
// slice is shared: callers must not modify it.
func (s *Static) Keys(_ context.Context, kid string) ([]Key, error) {
	if ks, ok := s.index.lookup(kid); ok {
		return ks, nil
	}
	return nil, notFound(kid)
}

// Len returns the number of keys.
func (s *Static) Len() int { return len(s.index.all) }
