package jwtutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignerDefaultsAndOverrides(t *testing.T) {
	k := keyFor(t, "ES256")
	s, err := NewSigner(SignerConfig{
		Keys: StaticSigningKey(k.private), Issuer: "https://issuer.example", Audience: []string{"api", "web"},
		Lifetime: time.Minute, Now: func() time.Time { return testNow },
	})
	require.NoError(t, err)
	claims := map[string]any{"sub": "alice", "aud": "only-this", "iat": nil, "nbf": testNow.Add(-time.Second)}
	tok, err := s.Sign(claims)
	require.NoError(t, err)
	assert.Len(t, claims, 4, "Sign must not modify the caller's map")

	header, payload, err := InspectUnverified(tok)
	require.NoError(t, err)
	assert.Equal(t, "ES256", header["alg"])
	assert.Equal(t, "kid-ES256", header["kid"])
	assert.Equal(t, "JWT", header["typ"])
	assert.Equal(t, "https://issuer.example", payload["iss"])
	assert.Equal(t, "only-this", payload["aud"])
	assert.NotContains(t, payload, "iat")
	assert.Equal(t, "1699999999", payload["nbf"].(interface{ String() string }).String())
	assert.Equal(t, "1700000060", payload["exp"].(interface{ String() string }).String())
	jti, ok := payload["jti"].(string)
	require.True(t, ok)
	assert.Len(t, jti, 22, "128 random bits in base64url")

	v := testVerifier(t, func(c *Config) { c.Audience = []string{"only-this"} }, "ES256")
	c, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Subject)

	other, err := s.Sign(map[string]any{})
	require.NoError(t, err)
	_, p2, err := InspectUnverified(other)
	require.NoError(t, err)
	assert.Equal(t, []any{"api", "web"}, p2["aud"])
	assert.NotEqual(t, jti, p2["jti"])
}

func TestSignWithType(t *testing.T) {
	s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(keyFor(t, "EdDSA").private), Issuer: "https://issuer.example", Audience: []string{"api"}, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	tok, err := s.SignWithType("at+jwt", map[string]any{"sub": "alice"})
	require.NoError(t, err)

	_, err = testVerifier(t, nil, "EdDSA").Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrType)
	c, err := testVerifier(t, func(c *Config) { c.Type = "at+jwt" }, "EdDSA").Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "at+jwt", c.Header.Type)
}

func TestSignerRejectsUnsafeKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ecPriv := keyFor(t, "ES256").private
	var ecRaw ecdsa.PrivateKey
	require.NoError(t, ecPriv.Raw(&ecRaw))
	tests := []struct {
		name string
		raw  any
		alg  string
		want string
	}{
		{"public EC key", &ecRaw.PublicKey, "", "public key"},
		{"public RSA key", &small.PublicKey, "", "public key"},
		{"RSA 1024", small, "", "at least 2048"},
		{"short HMAC", []byte("0123456789abcdef0123456789abcde"), "", "at least 32"},
		{"HS512 with 32 bytes", []byte("0123456789abcdef0123456789abcdef"), "HS512", "at least 64"},
		{"curve mismatch", &ecRaw, "ES384", "does not match"},
		{"alg none", []byte("0123456789abcdef0123456789abcdef"), "none", "does not sign"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := jwk.FromRaw(tc.raw)
			require.NoError(t, err)
			if tc.alg != "" {
				require.NoError(t, k.Set(jwk.AlgorithmKey, tc.alg))
			}
			s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(k)})
			require.NoError(t, err)
			tok, err := s.Sign(map[string]any{"sub": "x"})
			assert.Empty(t, tok)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSignerThumbprintKID(t *testing.T) {
	k := keyFor(t, "ES256")
	priv, err := k.private.Clone()
	require.NoError(t, err)
	require.NoError(t, priv.Remove(jwk.KeyIDKey))
	s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(priv)})
	require.NoError(t, err)
	tok, err := s.Sign(nil)
	require.NoError(t, err)
	h, _, err := InspectUnverified(tok)
	require.NoError(t, err)
	assert.Len(t, h["kid"], 43, "SHA-256 thumbprint in base64url")

}

func TestInspectUnverified(t *testing.T) {
	h, c, err := InspectUnverified(rfc7515A3Token)
	require.NoError(t, err)
	assert.Equal(t, "ES256", h["alg"])
	assert.Equal(t, "joe", c["iss"])
	for _, bad := range []string{"", "a.b", "a.b.c.d", "e30.bm90IGpzb24.x", "e30=.e30.x"} {
		_, _, err := InspectUnverified(bad)
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
}
