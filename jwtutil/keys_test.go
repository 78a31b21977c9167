package jwtutil

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// testKeySource is a KeySource over fixed keys for these tests, built with
// jwk.FromRaw so the JWK field is real.
type testKeySource struct {
	keys []jwks.Key
	err  error // returned by every call when set
}

func (s *testKeySource) Keys(_ context.Context, kid string) ([]jwks.Key, error) {
	if s.err != nil {
		return nil, s.err
	}
	if kid == "" {
		return s.keys, nil
	}
	for i := range s.keys {
		if s.keys[i].ID == kid {
			return s.keys[i : i+1], nil
		}
	}
	return nil, fmt.Errorf("kid %q: %w", kid, jwks.ErrKeyNotFound)
}

// testKey is a private JWK and the matching public jwks.Key.
type testKey struct {
	private jwk.Key
	public  jwks.Key
}

var (
	testKeysOnce sync.Once
	testKeys     map[string]testKey
)

// keyFor returns a cached key for alg ("ES256", "EdDSA", "RS256", "HS256",
// ...), generated once per test binary because RSA generation is slow.
func keyFor(t testing.TB, alg string) testKey {
	t.Helper()
	testKeysOnce.Do(func() {
		testKeys = map[string]testKey{}
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		ec521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		secret := make([]byte, 64)
		_, _ = rand.Read(secret)
		raws := map[string]any{
			"ES256": ec256, "ES384": ec384, "ES512": ec521, "EdDSA": ed,
			"RS256": rsaKey, "RS384": rsaKey, "RS512": rsaKey,
			"PS256": rsaKey, "PS384": rsaKey, "PS512": rsaKey,
			"HS256": secret, "HS384": secret, "HS512": secret,
		}
		for name, raw := range raws {
			testKeys[name] = newTestKey(name, raw)
		}
	})
	k, ok := testKeys[alg]
	require.True(t, ok, "no test key for %s", alg)
	return k
}

func newTestKey(alg string, raw any) testKey {
	priv, err := jwk.FromRaw(raw)
	if err != nil {
		panic(err)
	}
	kid := "kid-" + alg
	_ = priv.Set(jwk.KeyIDKey, kid)
	_ = priv.Set(jwk.AlgorithmKey, alg)
	var pubRaw any
	switch k := raw.(type) {
	case []byte:
		pubRaw = k
	case crypto.Signer:
		pubRaw = k.Public()
	}
	pub, err := jwk.FromRaw(pubRaw)
	if err != nil {
		panic(err)
	}
	_ = pub.Set(jwk.KeyIDKey, kid)
	_ = pub.Set(jwk.AlgorithmKey, alg)
	return testKey{private: priv, public: jwks.Key{ID: kid, Algorithm: alg, Public: pubRaw, JWK: pub}}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
