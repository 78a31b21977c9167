package txntoken

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryReplayCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	c := NewMemoryReplayCache(MemoryReplayCacheConfig{MaxEntries: 2, Now: clock})
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

	first, err = c.First(ctx, "old", now.Add(-time.Second))
	require.NoError(t, err)
	assert.True(t, first)
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
