package jwks

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ErrUnavailable reports that a key source could not be consulted, for
// example because the issuer's JWKS endpoint failed and no recent keys are
// held. It is the server's fault, not the token's, so middleware responds with 503.
var ErrUnavailable = errors.New("jwks: key source unavailable")

const (
	// MinRSABits is the smallest RSA modulus accepted for verifying or signing.
	MinRSABits = 2048
	// MaxRSABits bounds the RSA modulus accepted from a key set, because
	// verifying with a huge modulus costs CPU an attacker could choose to spend.
	MaxRSABits = 8192
	// minHMACKeySize is the shortest HMAC secret accepted: RFC 7518 section
	// 3.2 requires a key at least as long as the hash output, 32 bytes for HS256.
	minHMACKeySize = 32
)

// keyPolicy lists which key kinds a conversion accepts.
type keyPolicy struct {
	// allowSecret accepts symmetric ("oct") keys.
	allowSecret bool
	// allowPrivate accepts asymmetric private keys and keeps only their
	// public half.
	allowPrivate bool
}

// newKey validates k as a signature verification key and extracts the raw
// public key once, so that verifiers need not convert it per token. The
// returned error states why the key is unusable.
func newKey(k jwk.Key, policy keyPolicy) (Key, error) {
	if use := k.KeyUsage(); use != "" && use != string(jwk.ForSignature) {
		return Key{}, fmt.Errorf(`"use" is %q, not "sig"`, use)
	}
	if ops := k.KeyOps(); len(ops) > 0 && !hasSignatureOp(ops) {
		return Key{}, fmt.Errorf(`"key_ops" %v contains neither "verify" nor "sign"`, ops)
	}

	if asym, ok := k.(jwk.AsymmetricKey); ok && asym.IsPrivate() {
		if !policy.allowPrivate {
			return Key{}, errors.New("contains private key members")
		}
		pub, err := k.PublicKey()
		if err != nil {
			return Key{}, fmt.Errorf("cannot take public half: %v", err)
		}
		k = pub
	}
	if k.KeyType() == jwa.OctetSeq && !policy.allowSecret {
		return Key{}, errors.New(`symmetric ("oct") keys are not accepted here`)
	}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}

	var raw any
	if err := k.Raw(&raw); err != nil {
		return Key{}, fmt.Errorf("cannot extract key material: %v", err)
	}
	alg := k.Algorithm().String()
	if err := checkRaw(raw, alg); err != nil {
		return Key{}, err
	}
	return Key{ID: k.KeyID(), Algorithm: alg, Public: raw, JWK: k}, nil
}

func hasSignatureOp(ops jwk.KeyOperationList) bool {
	for _, op := range ops {
		if op == jwk.KeyOpVerify || op == jwk.KeyOpSign {
			return true
		}
	}
	return false
}

// checkRaw checks the key material itself and that alg, when present, fits
// the key type and size.
func checkRaw(raw any, alg string) error {
	switch pub := raw.(type) {
	case *ecdsa.PublicKey:
		var want string
		switch pub.Curve {
		case elliptic.P256():
			want = "ES256"
		case elliptic.P384():
			want = "ES384"
		case elliptic.P521():
			want = "ES512"
		default:
			return fmt.Errorf("unsupported curve %s", pub.Curve.Params().Name)
		}
		// ECDH rejects points that are not on the curve.
		if _, err := pub.ECDH(); err != nil {
			return fmt.Errorf("invalid EC public key: %v", err)
		}
		if alg != "" && alg != want {
			return fmt.Errorf("algorithm %q does not match curve %s (want %s)", alg, pub.Curve.Params().Name, want)
		}
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("RSA modulus has %d bits, want %d to %d", bits, MinRSABits, MaxRSABits)
		}
		if pub.E < 3 || pub.E%2 == 0 {
			return fmt.Errorf("invalid RSA public exponent %d", pub.E)
		}
		switch alg {
		case "", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		default:
			return fmt.Errorf("algorithm %q does not fit an RSA key", alg)
		}
	case ed25519.PublicKey:
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 public key has %d bytes, want %d", len(pub), ed25519.PublicKeySize)
		}
		// "Ed25519" is the fully specified name RFC 9864 gives EdDSA over Ed25519.
		if alg != "" && alg != "EdDSA" && alg != "Ed25519" {
			return fmt.Errorf("algorithm %q does not fit an Ed25519 key", alg)
		}
	case []byte:
		minSize := minHMACKeySize
		switch alg {
		case "", "HS256":
		case "HS384":
			minSize = 48
		case "HS512":
			minSize = 64
		default:
			return fmt.Errorf("algorithm %q does not fit a symmetric key", alg)
		}
		if len(pub) < minSize {
			return fmt.Errorf("symmetric key has %d bytes, want at least %d", len(pub), minSize)
		}
	default:
		// X25519 lands here: it is a key agreement curve, not a signature one.
		return fmt.Errorf("unsupported key material %T", raw)
	}
	return nil
}

// keyIndex is an immutable lookup table over a set of keys. Its slices are
// handed out to callers, which must not modify them.
type keyIndex struct {
	all  []Key
	byID map[string][]Key
	// anonymous holds the keys without "kid". They match every kid, because
	// a token cannot name them and a PEM key carries no kid at all.
	anonymous []Key
}

func newKeyIndex(keys []Key) *keyIndex {
	x := &keyIndex{all: keys[:len(keys):len(keys)], byID: make(map[string][]Key, len(keys))}
	for _, k := range keys {
		if k.ID == "" {
			x.anonymous = append(x.anonymous, k)
			continue
		}
		x.byID[k.ID] = append(x.byID[k.ID], k)
	}
	// Capping capacity makes a caller's append copy instead of writing into
	// the shared backing array.
	for id, ks := range x.byID {
		x.byID[id] = ks[:len(ks):len(ks)]
	}
	x.anonymous = x.anonymous[:len(x.anonymous):len(x.anonymous)]
	return x
}

// lookup returns the keys for kid: all keys for "", else the keys with that
// ID, else the keys without an ID.
func (x *keyIndex) lookup(kid string) ([]Key, bool) {
	if kid == "" {
		return x.all, len(x.all) > 0
	}
	if ks, ok := x.byID[kid]; ok {
		return ks, true
	}
	return x.anonymous, len(x.anonymous) > 0
}

// notFound returns the error for an unknown kid. The kid comes from a token,
// so it is shortened before it goes into a message that may be logged.
func notFound(kid string) error {
	const maxShown = 64
	if len(kid) > maxShown {
		kid = kid[:maxShown] + "..."
	}
	return fmt.Errorf("%w: kid %q", ErrKeyNotFound, kid)
}
