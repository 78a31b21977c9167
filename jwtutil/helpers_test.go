package jwtutil

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// signCompact signs header and payload, both raw JSON text, with alg's test
// key, so tests can build tokens no honest signer would produce.
func signCompact(t testing.TB, alg, header, payload string) string {
	t.Helper()
	k := keyFor(t, alg)
	var raw any
	require.NoError(t, k.private.Raw(&raw))
	input := b64(header) + "." + b64(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(rawSign(t, algorithmByName(alg), raw, []byte(input)))
}

// rawSign produces a JWS signature over input with the standard library.
func rawSign(t testing.TB, a algorithm, key any, input []byte) []byte {
	t.Helper()
	if a.isHMAC() {
		mac := hmac.New(a.hash().New, key.([]byte))
		mac.Write(input)
		return mac.Sum(nil)
	}
	if a == algEdDSA {
		return ed25519.Sign(key.(ed25519.PrivateKey), input)
	}
	var sum [64]byte
	digest := a.digest(input, &sum)
	switch a {
	case algRS256, algRS384, algRS512:
		sig, err := rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), a.hash(), digest)
		require.NoError(t, err)
		return sig
	case algPS256, algPS384, algPS512:
		sig, err := rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), a.hash(), digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		require.NoError(t, err)
		return sig
	}
	priv := key.(*ecdsa.PrivateKey)
	r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
	require.NoError(t, err)
	size := (priv.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out
}

// testNow is the fixed clock of most tests.
var testNow = time.Unix(1_700_000_000, 0)

// testVerifier returns a strict verifier over the test keys for algs, with
// issuer "https://issuer.example", audience "api" and the fixed clock.
func testVerifier(t testing.TB, mod func(*Config), algs ...string) *Verifier {
	t.Helper()
	src := &testKeySource{}
	for _, a := range algs {
		src.keys = append(src.keys, keyFor(t, a).public)
	}
	cfg := Config{
		Keys:     src,
		Issuer:   "https://issuer.example",
		Audience: []string{"api"},
		Now:      func() time.Time { return testNow },
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(cfg)
	require.NoError(t, err)
	return v
}

// goodClaims is a claims set testVerifier accepts at testNow.
const goodClaims = `{"iss":"https://issuer.example","aud":"api","sub":"alice","exp":1700000300,"iat":1700000000}`

func mustECDSA(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func lastDot(s string) int { return strings.LastIndexByte(s, '.') }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
