package jwtutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
)

// algorithm is a JWS "alg" value this package implements (RFC 7518
// section 3, RFC 8037 section 3.1). "none" has no value here, so no code
// path can select it.
type algorithm uint8

const (
	algInvalid algorithm = iota
	algHS256
	algHS384
	algHS512
	algRS256
	algRS384
	algRS512
	algPS256
	algPS384
	algPS512
	algES256
	algES384
	algES512
	algEdDSA
	algCount
)

var algorithmNames = [algCount]string{
	algHS256: "HS256", algHS384: "HS384", algHS512: "HS512",
	algRS256: "RS256", algRS384: "RS384", algRS512: "RS512",
	algPS256: "PS256", algPS384: "PS384", algPS512: "PS512",
	algES256: "ES256", algES384: "ES384", algES512: "ES512",
	algEdDSA: "EdDSA",
}

// minRSABits is the smallest RSA modulus accepted for signing or
// verification (RFC 7518 section 3.3 requires 2048 bits).
const minRSABits = 2048

// algorithmByName returns the algorithm for an exact, case-sensitive "alg"
// value, or algInvalid. RFC 7515 defines "alg" values as case-sensitive, so
// "hs256" and "None" are unknown, not aliases.
func algorithmByName(name string) algorithm {
	for a := algHS256; a < algCount; a++ {
		if algorithmNames[a] == name {
			return a
		}
	}
	return algInvalid
}

func (a algorithm) String() string {
	if a >= algCount {
		return ""
	}
	return algorithmNames[a]
}

func (a algorithm) hash() crypto.Hash {
	switch a {
	case algHS256, algRS256, algPS256, algES256:
		return crypto.SHA256
	case algHS384, algRS384, algPS384, algES384:
		return crypto.SHA384
	case algHS512, algRS512, algPS512, algES512:
		return crypto.SHA512
	}
	return 0
}

func (a algorithm) isHMAC() bool { return a >= algHS256 && a <= algHS512 }

// usableWith reports whether key material pub may verify a signature made
// with a. It is the guard against algorithm confusion: an HMAC algorithm
// takes only a []byte secret, never a public key's bytes, and each
// asymmetric algorithm takes only its own key type and curve.
func (a algorithm) usableWith(pub any) bool {
	switch a {
	case algHS256, algHS384, algHS512:
		k, ok := pub.([]byte)
		// RFC 7518 section 3.2: the key must be at least the hash size.
		return ok && len(k) >= a.hash().Size()
	case algRS256, algRS384, algRS512, algPS256, algPS384, algPS512:
		k, ok := pub.(*rsa.PublicKey)
		return ok && k != nil && k.N != nil && k.N.BitLen() >= minRSABits
	case algES256:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k != nil && k.Curve == elliptic.P256()
	case algES384:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k != nil && k.Curve == elliptic.P384()
	case algES512:
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k != nil && k.Curve == elliptic.P521()
	case algEdDSA:
		k, ok := pub.(ed25519.PublicKey)
		return ok && len(k) == ed25519.PublicKeySize
	}
	return false
}

// digest hashes msg with a's hash into out and returns the digest.
func (a algorithm) digest(msg []byte, out *[64]byte) []byte {
	switch a.hash() {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return append(out[:0], d[:]...)
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return append(out[:0], d[:]...)
	default:
		d := sha512.Sum512(msg)
		return append(out[:0], d[:]...)
	}
}

// verifyAsymmetric checks sig over signingInput with an asymmetric key that
// usableWith accepted for a. HMAC is handled by the verifier, which pools
// its hash state.
func verifyAsymmetric(a algorithm, pub any, signingInput, sig []byte) bool {
	if a == algEdDSA {
		return ed25519.Verify(pub.(ed25519.PublicKey), signingInput, sig)
	}
	var sum [64]byte
	digest := a.digest(signingInput, &sum)
	switch a {
	case algRS256, algRS384, algRS512:
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), a.hash(), digest, sig) == nil
	case algPS256, algPS384, algPS512:
		// RFC 7518 section 3.5: the salt is as long as the hash output.
		opts := rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: a.hash()}
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), a.hash(), digest, sig, &opts) == nil
	case algES256:
		return verifyECDSA(pub.(*ecdsa.PublicKey), p256Order[:], digest, sig)
	case algES384:
		return verifyECDSA(pub.(*ecdsa.PublicKey), p384Order[:], digest, sig)
	case algES512:
		return verifyECDSA(pub.(*ecdsa.PublicKey), p521Order[:], digest, sig)
	}
	return false
}

// Group orders as fixed-length big-endian bytes, for range checks on r and s
// without big.Int allocations.
var (
	p256Order = orderBytes(elliptic.P256(), 32)
	p384Order = orderBytes(elliptic.P384(), 48)
	p521Order = orderBytes(elliptic.P521(), 66)
)

func orderBytes(c elliptic.Curve, size int) []byte {
	return c.Params().N.FillBytes(make([]byte, size))
}

// verifyECDSA checks a JWS ECDSA signature, which RFC 7518 section 3.4
// encodes as r||s, each exactly as long as the group order (IEEE P1363).
// A DER signature has another length and fails. r and s must lie in
// [1, n-1]; rejecting zero here is what stops the r=s=0 forgery that some
// verifiers accepted. The pair is re-encoded as DER on the stack for
// ecdsa.VerifyASN1, which avoids the big.Int round trip of ecdsa.Verify.
func verifyECDSA(pub *ecdsa.PublicKey, order, digest, sig []byte) bool {
	size := len(order)
	if len(sig) != 2*size {
		return false
	}
	r, s := sig[:size], sig[size:]
	if !inScalarRange(r, order) || !inScalarRange(s, order) {
		return false
	}
	var buf [2 * (2 + 1 + 66)]byte
	body := appendDERInteger(buf[:0], r)
	body = appendDERInteger(body, s)
	var der [3 + len(buf)]byte
	out := append(der[:0], 0x30)
	if len(body) >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(len(body)))
	out = append(out, body...)
	return ecdsa.VerifyASN1(pub, digest, out)
}

// inScalarRange reports whether the big-endian v, as long as order, is in
// [1, order-1].
func inScalarRange(v, order []byte) bool {
	zero := true
	for _, b := range v {
		if b != 0 {
			zero = false
			break
		}
	}
	return !zero && bytes.Compare(v, order) < 0
}

// appendDERInteger appends the DER INTEGER for the non-zero big-endian
// unsigned v.
func appendDERInteger(b, v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	b = append(b, 0x02)
	if v[0]&0x80 != 0 {
		b = append(b, byte(len(v)+1), 0)
	} else {
		b = append(b, byte(len(v)))
	}
	return append(b, v...)
}
