package session_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/session/storetest"
)

func TestMemoryStoreFakeClock(t *testing.T) {
	clock := newFakeClock()
	storetest.RunWithOptions(t, storetest.Options{
		NewStore: func(t *testing.T) session.Store {
			st := session.NewMemoryStore(session.MemoryStoreConfig{Now: clock.Now})
			t.Cleanup(func() { _ = st.Close() })
			return st
		},
		Now:     clock.Now,
		Advance: clock.Advance,
	})
}

func TestMemoryStoreRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real-time expiry")
	}
	t.Parallel()
	storetest.Run(t, func(t *testing.T) session.Store {
		st := session.NewMemoryStore(session.MemoryStoreConfig{SweepInterval: 50 * time.Millisecond})
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

func TestMemoryStoreSweepRemovesExpired(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := session.NewMemoryStore(session.MemoryStoreConfig{Now: clock.Now})
	defer st.Close()

	now := clock.Now()
	short := &session.Session{ID: "a", Subject: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	long := &session.Session{ID: "b", Subject: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(3 * time.Hour)}
	revoked := &session.Session{ID: "c", Subject: "bob", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(2 * time.Hour)}
	require.NoError(t, st.Create(ctx, [32]byte{1}, short))
	require.NoError(t, st.Create(ctx, [32]byte{2}, long))
	require.NoError(t, st.Create(ctx, [32]byte{3}, revoked))
	require.NoError(t, st.Delete(ctx, [32]byte{3}))

	assert.Equal(t, 0, st.Sweep(), "nothing is past its deadline yet")
	assert.Equal(t, 3, st.Len(), "a tombstone is kept until its deadline")

	clock.Advance(time.Hour)
	assert.Equal(t, 1, st.Sweep())
	_, err := st.Get(ctx, [32]byte{1})
	assert.ErrorIs(t, err, session.ErrNotFound, "a swept record is gone")

	clock.Advance(time.Hour)
	assert.Equal(t, 1, st.Sweep(), "the tombstone goes at its deadline")
	_, err = st.Get(ctx, [32]byte{3})
	assert.ErrorIs(t, err, session.ErrNotFound)

	n, err := st.DeleteSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the swept session left the subject index")
}

func TestMemoryStoreBackgroundSweep(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStore(session.MemoryStoreConfig{SweepInterval: 10 * time.Millisecond})
	defer st.Close()
	now := time.Now()
	s := &session.Session{ID: "a", Subject: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(20 * time.Millisecond)}
	require.NoError(t, st.Create(ctx, [32]byte{1}, s))
	assert.Eventually(t, func() bool { return st.Len() == 0 }, 2*time.Second, 10*time.Millisecond,
		"the sweeper goroutine must delete the expired record")
}

func TestMemoryStoreCloseStopsSweeper(t *testing.T) {
	before := runtime.NumGoroutine()
	stores := make([]*session.MemoryStore, 20)
	for i := range stores {
		stores[i] = session.NewMemoryStore(session.MemoryStoreConfig{})
	}
	for _, st := range stores {
		require.NoError(t, st.Close())
		require.NoError(t, st.Close(), "Close must be safe to repeat")
	}
	// Close waits for each goroutine to exit, so none is left now; other
	// parallel tests may still start or stop goroutines, hence the margin.
	assert.Less(t, runtime.NumGoroutine(), before+len(stores)/2)
}

func TestMemoryStoreMaxSessions(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStore(session.MemoryStoreConfig{MaxSessions: 2})
	defer st.Close()
	now := time.Now()
	s := &session.Session{ID: "a", Subject: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, st.Create(ctx, [32]byte{1}, s))
	require.NoError(t, st.Create(ctx, [32]byte{2}, s))
	err := st.Create(ctx, [32]byte{3}, s)
	assert.ErrorIs(t, err, session.ErrStoreFull)
	assert.NotErrorIs(t, err, session.ErrInvalidToken, "a full store is a server-side failure")
}

func TestMemoryStoreRotateRespectsMaxSessions(t *testing.T) {
	// Each rotation leaves a tombstone behind, so without the bound a client
	// that rotates in a loop could grow the store past MaxSessions.
	ctx := context.Background()
	st := session.NewMemoryStore(session.MemoryStoreConfig{MaxSessions: 2})
	defer st.Close()
	now := time.Now()
	s := &session.Session{ID: "a", Subject: "alice", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, st.Create(ctx, [32]byte{1}, s))
	_, err := st.Rotate(ctx, [32]byte{1}, [32]byte{2}, now)
	require.NoError(t, err)

	_, err = st.Rotate(ctx, [32]byte{2}, [32]byte{3}, now)
	assert.ErrorIs(t, err, session.ErrStoreFull)
	assert.Equal(t, 2, st.Len())
	got, err := st.Get(ctx, [32]byte{2})
	require.NoError(t, err, "a rejected rotation must leave the session where it was")
	assert.Equal(t, "alice", got.Subject)
}

func TestMemoryStoreZeroValue(t *testing.T) {
	var st session.MemoryStore
	assert.NotPanics(t, func() { assert.NoError(t, st.Close()) })
	err := st.Create(context.Background(), [32]byte{1}, &session.Session{Subject: "alice"})
	assert.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrStoreFull, "the error must name the missing constructor")
}
