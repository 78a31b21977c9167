package redisreplay_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/txntoken/redisreplay"
)

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newCache(t *testing.T, client redis.UniversalClient, cfg redisreplay.Config) *redisreplay.Cache {
	t.Helper()
	cfg.Client = client
	c, err := redisreplay.New(cfg)
	require.NoError(t, err)
	return c
}

func TestFirstOnce(t *testing.T) {
	srv := redistest.Start(t)
	c := newCache(t, srv.Client(), redisreplay.Config{})
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)

	first, err := c.First(ctx, "id-1", exp)
	require.NoError(t, err)
	assert.True(t, first, "first use")

	again, err := c.First(ctx, "id-1", exp)
	require.NoError(t, err)
	assert.False(t, again, "second use of the same id")

	other, err := c.First(ctx, "id-2", exp)
	require.NoError(t, err)
	assert.True(t, other, "another id is independent")
}

func TestFirstExpiry(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	c := newCache(t, client, redisreplay.Config{Leeway: 30 * time.Second, Now: func() time.Time { return epoch }})

	tests := []struct {
		name      string
		id        string
		expiresAt time.Time
		wantTTL   time.Duration
	}{
		{"future exp plus leeway", "future", epoch.Add(90 * time.Second), 120 * time.Second},
		{"past exp keeps leeway", "past", epoch.Add(-time.Hour), 30 * time.Second},
		{"exp now keeps leeway", "now", epoch, 30 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, err := c.First(ctx, tc.id, tc.expiresAt)
			require.NoError(t, err)
			require.True(t, first)

			keys, err := client.Keys(ctx, redisreplay.DefaultKeyPrefix+"*").Result()
			require.NoError(t, err)
			var ttl time.Duration
			for _, k := range keys {
				if d := client.PTTL(ctx, k).Val(); d > tc.wantTTL-2*time.Second && d <= tc.wantTTL {
					ttl = d
				}
			}
			assert.NotZero(t, ttl, "a key with a TTL just under %v must exist", tc.wantTTL)

			again, err := c.First(ctx, tc.id, tc.expiresAt)
			require.NoError(t, err)
			assert.False(t, again)
		})
	}
}

func TestFirstForgetsAfterExpiry(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	c := newCache(t, srv.Client(), redisreplay.Config{Leeway: 50 * time.Millisecond, Now: func() time.Time { return epoch }})

	first, err := c.First(ctx, "short", epoch)
	require.NoError(t, err)
	require.True(t, first)

	// Redis expires keys on its own clock, so this one wait cannot use a fake clock.
	assert.Eventually(t, func() bool {
		again, err := c.First(ctx, "short", epoch)
		return err == nil && again
	}, 5*time.Second, 20*time.Millisecond, "the id must be forgotten once its record expires")
}

func TestKeysHoldNoRawID(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	c := newCache(t, client, redisreplay.Config{KeyPrefix: "svc:replay:"})

	const id = "7b0d3c1e-raw-token-id"
	_, err := c.First(ctx, id, time.Now().Add(time.Minute))
	require.NoError(t, err)

	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.True(t, strings.HasPrefix(keys[0], "svc:replay:"), "key %q uses the configured prefix", keys[0])
	assert.NotContains(t, keys[0], id)
	assert.Len(t, keys[0], len("svc:replay:")+64, "prefix plus hex SHA-256")
}

// TestConcurrentUseAcrossReplicas plays 50 concurrent uses of one token id
// against 3 service replicas, each with its own connection pool to one Redis.
func TestConcurrentUseAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	replicas := make([]*redisreplay.Cache, 3)
	for i := range replicas {
		replicas[i] = newCache(t, srv.Client(), redisreplay.Config{})
	}
	exp := time.Now().Add(time.Minute)

	var accepted, rejected atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 50 {
		wg.Go(func() {
			<-start
			first, err := replicas[i%len(replicas)].First(ctx, "txn-shared", exp)
			if !assert.NoError(t, err) {
				return
			}
			if first {
				accepted.Add(1)
			} else {
				rejected.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()

	assert.Equal(t, int32(1), accepted.Load(), "accepted")
	assert.Equal(t, int32(49), rejected.Load(), "rejected")
}

func TestFirstFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	c := newCache(t, srv.Client(), redisreplay.Config{})
	exp := time.Now().Add(time.Minute)

	t.Run("server killed", func(t *testing.T) {
		srv.Kill()
		first, err := c.First(context.Background(), "while-down", exp)
		assert.Error(t, err)
		assert.False(t, first)
		assert.Contains(t, err.Error(), "redisreplay:")
	})

	t.Run("server restarted", func(t *testing.T) {
		srv.Restart()
		first, err := c.First(context.Background(), "after-restart", exp)
		require.NoError(t, err, "the cache recovers without being rebuilt")
		assert.True(t, first)
	})

	t.Run("server hung", func(t *testing.T) {
		srv.Pause()
		defer srv.Resume()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		first, err := c.First(ctx, "while-hung", exp)
		assert.False(t, first)
		assert.True(t, errors.Is(err, context.DeadlineExceeded), "error %v wraps the context's deadline", err)
		assert.Less(t, time.Since(start), 900*time.Millisecond)
	})
}

func TestFirstRejectsBadInput(t *testing.T) {
	srv := redistest.Start(t)
	c := newCache(t, srv.Client(), redisreplay.Config{})
	exp := time.Now().Add(time.Minute)
	tests := []struct {
		name      string
		id        string
		expiresAt time.Time
		want      string
	}{
		{"empty id", "", exp, "empty token id"},
		{"zero exp", "id", time.Time{}, "zero expiresAt"},
		{"long id", strings.Repeat("x", redisreplay.MaxIDLength+1), exp, "exceeds the maximum"},
		{"exp too far ahead", "id", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "too far in the future"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, err := c.First(context.Background(), tc.id, tc.expiresAt)
			assert.False(t, first)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := redisreplay.New(redisreplay.Config{})
	assert.ErrorContains(t, err, "Config.Client is nil")

	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	_, err = redisreplay.New(redisreplay.Config{Client: client, Leeway: -time.Second})
	assert.ErrorContains(t, err, "Leeway is negative")
}

// argsHook records the arguments of every command a client sends.
type argsHook struct {
	mu   sync.Mutex
	args [][]any
}

func (h *argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.args = append(h.args, cmd.Args())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestFirstRoundsTTLUp checks that a lifetime with a fraction of a
// millisecond is rounded up, so the record never ends before expiresAt
// plus the leeway.
func TestFirstRoundsTTLUp(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	hook := &argsHook{}
	client.AddHook(hook)
	c := newCache(t, client, redisreplay.Config{Leeway: time.Millisecond, Now: func() time.Time { return epoch }})

	first, err := c.First(context.Background(), "id", epoch.Add(2500*time.Microsecond))
	require.NoError(t, err)
	require.True(t, first)

	hook.mu.Lock()
	defer hook.mu.Unlock()
	var args []any
	for _, a := range hook.args {
		if a[0] == "set" {
			args = a
		}
	}
	require.Len(t, args, 6, "one SET with PX and NX")
	assert.Equal(t, "px", args[3])
	assert.Equal(t, int64(4), args[4], "3.5 ms rounds up to 4 ms")
}
