package jwtutil

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tokenpattern/tokenpattern/jwks"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512", "EdDSA", "RS256", "PS384", "HS256", "HS512"} {
		k := keyFor(t, alg)
		s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(k.private), Issuer: "iss", Audience: []string{"aud"}})
		require.NoError(t, err)
		tok, err := s.Sign(map[string]any{"sub": "alice", "scope": "a b"})
		require.NoError(t, err)
		v, err := NewVerifier(Config{Keys: &testKeySource{keys: []jwks.Key{k.public}}, Issuer: "iss", Audience: []string{"aud"}})
		require.NoError(t, err)
		c, err := v.Verify(context.Background(), tok)
		require.NoError(t, err, alg)
		require.Equal(t, "alice", c.Subject)
		require.WithinDuration(t, time.Now().Add(5*time.Minute), c.ExpiresAt, 2*time.Second)
	}
}
