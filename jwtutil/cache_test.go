package jwtutil

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// countingSource counts key lookups, which happen only on a cache miss.
type countingSource struct {
	testKeySource
	calls atomic.Int64
}

func (s *countingSource) Keys(ctx context.Context, kid string) ([]jwks.Key, error) {
	s.calls.Add(1)
	return s.testKeySource.Keys(ctx, kid)
}

func TestCacheHitAndExpiry(t *testing.T) {
	now := testNow
	src := &countingSource{testKeySource: testKeySource{keys: []jwks.Key{keyFor(t, "ES256").public}}}
	v, err := NewVerifier(Config{
		Keys: src, Issuer: "https://issuer.example", Audience: []string{"api"},
		Now: func() time.Time { return now }, CacheSize: 16, CacheMaxAge: time.Hour,
	})
	require.NoError(t, err)
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, goodClaims) // exp = testNow+300s

	first, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	second, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Same(t, first, second)
	assert.Equal(t, int64(1), src.calls.Load())

	// At exp the entry is gone even though leeway would still accept the
	// token, so the verifier runs again.
	now = testNow.Add(300 * time.Second)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, int64(2), src.calls.Load())

	now = testNow.Add(331 * time.Second)
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrExpired)
}

func TestCacheMaxAge(t *testing.T) {
	now := testNow
	src := &countingSource{testKeySource: testKeySource{keys: []jwks.Key{keyFor(t, "ES256").public}}}
	v, err := NewVerifier(Config{
		Keys: src, Issuer: "https://issuer.example", Audience: []string{"api"},
		Now: func() time.Time { return now }, CacheSize: 16, CacheMaxAge: 10 * time.Second,
	})
	require.NoError(t, err)
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, goodClaims)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	now = now.Add(10 * time.Second)
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, int64(2), src.calls.Load())
}

func TestCacheBounded(t *testing.T) {
	c := newTokenCache(32, time.Hour)
	claims := &Claims{ExpiresAt: testNow.Add(time.Hour)}
	for i := 0; i < 1000; i++ {
		var key [32]byte
		key[0], key[1], key[2] = byte(i), byte(i>>8), 1
		c.put(key, claims, testNow)
	}
	total := 0
	for i := range c.shards {
		total += len(c.shards[i].entries)
	}
	assert.LessOrEqual(t, total, 32)
	assert.Positive(t, total)
}

func TestCacheNeverServesRejectedToken(t *testing.T) {
	v := testVerifier(t, func(c *Config) { c.CacheSize = 16 }, "ES256")
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://evil.example","aud":"api","exp":1700000300}`)
	for range 2 {
		_, err := v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, ErrIssuer)
	}
}
