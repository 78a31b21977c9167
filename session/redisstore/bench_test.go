package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/session/redisstore"
)

// benchmarkStore measures Get and Touch, the two calls of a validation, so
// that the Redis store can be read as a ratio of the memory store in the
// same run.
func benchmarkStore(b *testing.B, st session.Store) {
	ctx := context.Background()
	digest := [32]byte{42}
	require.NoError(b, st.Create(ctx, digest, testSession("alice", time.Now())))
	b.Run("Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.Get(ctx, digest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Touch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := st.Touch(ctx, digest, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkRedisStore(b *testing.B) {
	srv := redistest.Start(b)
	st, err := redisstore.New(redisstore.Config{Client: srv.Client()})
	require.NoError(b, err)
	benchmarkStore(b, st)
}

func BenchmarkMemoryStore(b *testing.B) {
	st := session.NewMemoryStore(session.MemoryStoreConfig{})
	b.Cleanup(func() { _ = st.Close() })
	benchmarkStore(b, st)
}
