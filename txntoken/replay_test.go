package txntoken

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

func TestMemoryReplayCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	c := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 2, Now: clock, Leeway: time.Second})
	defer c.Close()
	ctx := context.Background()

	first, err := c.First(ctx, "a", now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	first, err = c.First(ctx, "a", now.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, first, "second use")

	first, err = c.First(ctx, "b", now.Add(2*time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	_, err = c.First(ctx, "c", now.Add(time.Minute))
	assert.ErrorIs(t, err, ErrReplayCacheFull, "full of live ids: fail, never forget")

	now = now.Add(90 * time.Second) // "a" expired, "b" has not
	first, err = c.First(ctx, "c", now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first, "room made by sweeping the expired id")
	first, err = c.First(ctx, "b", now.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, first)

	_, err = c.First(ctx, "recent", now.Add(-time.Second/2))
	assert.ErrorIs(t, err, ErrReplayCacheFull, "past exp but within the leeway, so it must be stored")
	first, err = c.First(ctx, "old", now.Add(-time.Second))
	require.NoError(t, err)
	assert.False(t, first, "past the leeway: not recorded, so not vouched for")
	assert.Equal(t, 2, c.Len(), "expired ids are not stored")

	now = now.Add(time.Hour)
	c.Sweep()
	assert.Equal(t, 0, c.Len())

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.First(cancelled, "x", now.Add(time.Minute))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestMemoryReplayCacheConcurrentFirst(t *testing.T) {
	c := NewMemoryReplayCache(MemoryReplayCacheConfig{})
	defer c.Close()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := c.First(context.Background(), "same", time.Now().Add(time.Minute)); err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestMemoryReplayCacheSweeperStops(t *testing.T) {
	c := NewMemoryReplayCache(MemoryReplayCacheConfig{SweepInterval: time.Millisecond})
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	ok, err := c.First(context.Background(), "a", time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, ok, "cache works after Close")
}

// TestReplayWithinExpiryLeeway replays a token after its "exp" but within
// the JWT verifier's leeway, when the verifier still accepts it: the second
// use must be rejected.
func TestReplayWithinExpiryLeeway(t *testing.T) {
	reg := testRegistry(t)
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "ES256"})
	require.NoError(t, err)
	minted := time.Unix(1_700_000_000, 0)
	now := minted
	clock := func() time.Time { return now }
	iss, err := NewIssuer(IssuerConfig{Registry: reg, Keys: ring, Issuer: "https://txn.example", TrustDomain: "https://bank.example", Now: clock})
	require.NoError(t, err)
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://txn.example",
		Audience: []string{"https://bank.example", "https://payments.example"}, Type: JWTType, Now: clock})
	require.NoError(t, err)
	cache := NewMemoryReplayCache(MemoryReplayCacheConfig{Now: clock})
	defer cache.Close()
	v, err := NewVerifier(VerifierConfig{Registry: reg, JWT: jv, Replay: cache})
	require.NoError(t, err)
	h := v.Require("payment_initiate")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))

	token, err := iss.Mint(context.Background(), MintRequest{Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": 5}})
	require.NoError(t, err)
	// The lifetime is DefaultLifetime and jwtutil.DefaultLeeway is 30s.
	now = minted.Add(DefaultLifetime + 10*time.Second)
	statuses := make([]int, 3)
	for i := range statuses {
		req := httptest.NewRequest(http.MethodPost, "/pay", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		statuses[i] = rec.Code
	}
	assert.Equal(t, []int{http.StatusOK, http.StatusUnauthorized, http.StatusUnauthorized}, statuses)
}

// exactReplayCache keeps each id until expiresAt and no longer: the
// least the ReplayCache contract allows.
type exactReplayCache struct {
	mu    sync.Mutex
	now   func() time.Time
	until map[string]time.Time
	calls []time.Time
}

func (c *exactReplayCache) First(_ context.Context, id string, expiresAt time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, expiresAt)
	if until, ok := c.until[id]; ok && c.now().Before(until) {
		return false, nil
	}
	c.until[id] = expiresAt
	return true, nil
}

// TestReplayExpiryIncludesVerifierLeeway uses a JWT verifier whose leeway
// (2 min) exceeds the memory cache's margin (1 min). A token presented
// 90 s after its "exp" must be accepted once and rejected on second use,
// with no replay setting tuned to the verifier.
func TestReplayExpiryIncludesVerifierLeeway(t *testing.T) {
	reg := testRegistry(t)
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "ES256"})
	require.NoError(t, err)
	minted := time.Unix(1_700_000_000, 0)
	now := minted
	clock := func() time.Time { return now }
	iss, err := NewIssuer(IssuerConfig{Registry: reg, Keys: ring, Issuer: "https://txn.example", TrustDomain: "https://bank.example", Now: clock})
	require.NoError(t, err)
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://txn.example",
		Audience: []string{"https://bank.example", "https://payments.example"}, Type: JWTType, Leeway: 2 * time.Minute, Now: clock})
	require.NoError(t, err)

	memory := NewMemoryReplayCache(MemoryReplayCacheConfig{Now: clock})
	defer memory.Close()
	exact := &exactReplayCache{now: clock, until: map[string]time.Time{}}
	for _, tc := range []struct {
		name  string
		cache ReplayCache
	}{{"memory", memory}, {"exact", exact}} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(VerifierConfig{Registry: reg, JWT: jv, Replay: tc.cache})
			require.NoError(t, err)
			h := v.Require("payment_initiate")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			now = minted
			token, err := iss.Mint(context.Background(), MintRequest{Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": 5}})
			require.NoError(t, err)

			now = minted.Add(DefaultLifetime + 90*time.Second)
			statuses := make([]int, 3)
			for i := range statuses {
				req := httptest.NewRequest(http.MethodPost, "/pay", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				statuses[i] = rec.Code
			}
			assert.Equal(t, []int{http.StatusOK, http.StatusUnauthorized, http.StatusUnauthorized}, statuses)
		})
	}
	require.NotEmpty(t, exact.calls)
	assert.Equal(t, minted.Add(DefaultLifetime+2*time.Minute), exact.calls[0], "expiresAt is exp plus the verifier's leeway")
}
