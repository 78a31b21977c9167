package jwtutil

import (
	"context"
	"crypto/sha256"
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

func (c *tokenCache) len() int {
	total := 0
	for i := range c.shards {
		total += len(c.shards[i].entries)
	}
	return total
}

func TestCacheBoundedExactly(t *testing.T) {
	claims := &Claims{ExpiresAt: testNow.Add(time.Hour)}
	for _, size := range []int{1, 2, 3, 15, 16, 17, 32, 100} {
		c := newTokenCache(size, time.Hour)
		for i := 0; i < 4000; i++ {
			key := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
			c.put(key, claims, testNow)
			require.LessOrEqual(t, c.len(), size, "size %d after %d inserts", size, i+1)
		}
		// Enough inserts fill every shard, so the cache holds exactly size.
		assert.Equal(t, size, c.len(), "size %d", size)
	}
}

func TestCacheSizeOneVerifier(t *testing.T) {
	v := testVerifier(t, func(c *Config) { c.CacheSize = 1 }, "ES256")
	for _, sub := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`,
			`{"iss":"https://issuer.example","aud":"api","exp":1700000300,"sub":"`+sub+`"}`)
		_, err := v.Verify(context.Background(), tok)
		require.NoError(t, err)
		assert.LessOrEqual(t, v.cache.len(), 1)
	}
	assert.Equal(t, 1, v.cache.len())
}

func TestCacheNeverServesRejectedToken(t *testing.T) {
	v := testVerifier(t, func(c *Config) { c.CacheSize = 16 }, "ES256")
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://evil.example","aud":"api","exp":1700000300}`)
	for range 2 {
		_, err := v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, ErrIssuer)
	}
}
