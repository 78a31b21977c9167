package redisreplay_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/txntoken"
	"github.com/tokenpattern/tokenpattern/txntoken/redisreplay"
)

// benchmarkFirst records a new id per iteration, as a stream of fresh
// tokens does, so it can be read as a ratio of the memory cache.
func benchmarkFirst(b *testing.B, cache txntoken.ReplayCache) {
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := cache.First(ctx, "txn-"+strconv.Itoa(i), exp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFirstRedis(b *testing.B) {
	srv := redistest.Start(b)
	cache, err := redisreplay.New(redisreplay.Config{Client: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkFirst(b, cache)
}

func BenchmarkFirstMemory(b *testing.B) {
	cache := txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	b.Cleanup(func() { _ = cache.Close() })
	benchmarkFirst(b, cache)
}
