package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/clocktest"
	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/session/redisstore"
	"github.com/tokenpattern/tokenpattern/session/storetest"
)

// fakeClock is the manual test clock shared by every component of a test.
type fakeClock = clocktest.Clock

// storeFactory returns stores on one server, each under its own key prefix
// so that subtests cannot see each other's keys.
func storeFactory(srv *redistest.Server, now func() time.Time) func(t *testing.T) session.Store {
	client := srv.Client()
	var n atomic.Int64
	return func(t *testing.T) session.Store {
		prefix := fmt.Sprintf("{test%d}:", n.Add(1))
		st, err := redisstore.New(redisstore.Config{Client: client, KeyPrefix: prefix, Now: now})
		require.NoError(t, err)
		return st
	}
}

// TestStoreContract runs the session.Store suite with a fake clock, so
// expiry is decided by the store's clock while Redis key lifetimes stay
// long.
func TestStoreContract(t *testing.T) {
	srv := redistest.Start(t)
	clock := clocktest.New(time.Now())
	storetest.RunWithOptions(t, storetest.Options{
		NewStore: storeFactory(srv, clock.Now),
		Now:      clock.Now,
		Advance:  clock.Advance,
	})
}

// TestStoreContractRealTime runs the suite on the real clock, so records
// must also disappear from Redis itself when their lifetime ends.
func TestStoreContractRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real expiry; skipped with -short")
	}
	srv := redistest.Start(t)
	storetest.Run(t, storeFactory(srv, nil))
}

var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newStore(t *testing.T, client redis.UniversalClient, now func() time.Time) *redisstore.Store {
	t.Helper()
	st, err := redisstore.New(redisstore.Config{Client: client, Now: now})
	require.NoError(t, err)
	return st
}

func testSession(subject string, now time.Time) *session.Session {
	return &session.Session{
		ID:          "sid-" + subject,
		Subject:     subject,
		Attributes:  map[string]string{"scope": "read"},
		CreatedAt:   now,
		LastSeenAt:  now,
		IdleTimeout: 10 * time.Minute,
		ExpiresAt:   now.Add(time.Hour),
	}
}

func TestKeysAndLifetimes(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	clock := clocktest.New(epoch)
	st := newStore(t, client, clock.Now)

	const token = "sess_raw-token-value"
	digest := [32]byte{0xab, 0xcd}
	require.NoError(t, st.Create(ctx, digest, testSession("alice", epoch)))

	keys, err := client.Keys(ctx, "*").Result()
	require.NoError(t, err)
	recordKey := redisstore.DefaultKeyPrefix + "s:abcd" + fmt.Sprintf("%060x", 0)
	indexKey := redisstore.DefaultKeyPrefix + "u:alice"
	assert.ElementsMatch(t, []string{recordKey, indexKey}, keys)
	for _, k := range keys {
		assert.NotContains(t, k, token)
	}

	// The record expires at the idle deadline (10 minutes), the earlier one.
	assertTTL(t, client, recordKey, 10*time.Minute)
	assertTTL(t, client, indexKey, 10*time.Minute)

	// A touch 5 minutes later moves both to 15 minutes from the start.
	clock.Advance(5 * time.Minute)
	require.NoError(t, st.Touch(ctx, digest, clock.Now()))
	assertTTL(t, client, recordKey, 10*time.Minute)
	assertTTL(t, client, indexKey, 10*time.Minute)

	// Touches every 8 minutes keep it alive; 3 minutes before the end of
	// the absolute lifetime, the lifetime caps the TTL.
	for clock.Now().Before(epoch.Add(57 * time.Minute)) {
		clock.Advance(min(8*time.Minute, epoch.Add(57*time.Minute).Sub(clock.Now())))
		require.NoError(t, st.Touch(ctx, digest, clock.Now()))
	}
	assertTTL(t, client, recordKey, 3*time.Minute)

	// A tombstone keeps the remaining lifetime and nothing else.
	require.NoError(t, st.Delete(ctx, digest))
	assertTTL(t, client, recordKey, 3*time.Minute)
	fields, err := client.HGetAll(ctx, recordKey).Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"revoked": "1"}, fields, "a tombstone keeps no session data")
	assert.Zero(t, client.Exists(ctx, indexKey).Val(), "the index goes with its last member")
}

// assertTTL checks that key expires in want, give or take two seconds of
// test run time.
func assertTTL(t *testing.T, client redis.UniversalClient, key string, want time.Duration) {
	t.Helper()
	got, err := client.PTTL(context.Background(), key).Result()
	require.NoError(t, err)
	assert.InDelta(t, want.Seconds(), got.Seconds(), 2, "TTL of %s", key)
}

func TestIndexTrimsExpiredMembers(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	ctx := context.Background()
	clock := clocktest.New(epoch)
	st := newStore(t, client, clock.Now)

	short := testSession("alice", epoch)
	short.IdleTimeout = time.Minute
	require.NoError(t, st.Create(ctx, [32]byte{1}, short))
	clock.Advance(2 * time.Minute)
	require.NoError(t, st.Create(ctx, [32]byte{2}, testSession("alice", clock.Now())))

	members, err := client.ZRange(ctx, redisstore.DefaultKeyPrefix+"u:alice", 0, -1).Result()
	require.NoError(t, err)
	assert.Len(t, members, 1, "the expired member is trimmed on the next write")
}

func TestRevokeWinsOverTouch(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := newStore(t, srv.Client(), nil)

	// Many touches race one revoke; whatever the order, the session ends
	// revoked and no touch brings it back.
	for round := range 20 {
		digest := [32]byte{byte(round), 0xee}
		require.NoError(t, st.Create(ctx, digest, testSession("alice", time.Now())))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				_ = st.Touch(ctx, digest, time.Now())
			})
		}
		wg.Go(func() {
			<-start
			assert.NoError(t, st.Delete(ctx, digest))
		})
		close(start)
		wg.Wait()
		_, err := st.Get(ctx, digest)
		assert.ErrorIs(t, err, session.ErrRevoked, "round %d", round)
	}
}

func TestStoreFailsClosed(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, srv.Client(), nil)
	ctx := context.Background()
	digest := [32]byte{7}
	require.NoError(t, st.Create(ctx, digest, testSession("alice", time.Now())))

	srv.Kill()
	calls := map[string]error{
		"Create": st.Create(ctx, [32]byte{8}, testSession("bob", time.Now())),
		"Touch":  st.Touch(ctx, digest, time.Now()),
		"Delete": st.Delete(ctx, digest),
	}
	_, calls["Get"] = st.Get(ctx, digest)
	_, calls["Rotate"] = st.Rotate(ctx, digest, [32]byte{9}, time.Now())
	_, calls["DeleteSubject"] = st.DeleteSubject(ctx, "alice")
	for name, err := range calls {
		assert.Error(t, err, name)
		assert.NotErrorIs(t, err, session.ErrInvalidToken, "%s: a store failure is never the client's fault", name)
		assert.ErrorContains(t, err, "redisstore:", name)
	}

	srv.Restart()
	_, err := st.Get(ctx, digest)
	assert.ErrorIs(t, err, session.ErrNotFound, "the restarted server is empty, and the store works again")
	require.NoError(t, st.Create(ctx, digest, testSession("alice", time.Now())), "scripts are loaded again after the restart")
	_, err = st.Get(ctx, digest)
	assert.NoError(t, err)
}

func TestStoreHonoursContextDeadline(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, srv.Client(), nil)
	srv.Pause()
	defer srv.Resume()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.Get(ctx, [32]byte{1})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, session.ErrInvalidToken)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
}

func TestNewConfig(t *testing.T) {
	_, err := redisstore.New(redisstore.Config{})
	assert.ErrorContains(t, err, "Config.Client is nil")

	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	t.Cleanup(func() { _ = cluster.Close() })
	tests := []struct {
		prefix string
		ok     bool
	}{
		{"", true}, // the default has a hash tag
		{"app:{sess}:", true},
		{"app:sessions:", false},
		{"app:{}:", false},
		{"app:{sess:", false},
	}
	for _, tc := range tests {
		_, err := redisstore.New(redisstore.Config{Client: cluster, KeyPrefix: tc.prefix})
		if tc.ok {
			assert.NoError(t, err, "prefix %q", tc.prefix)
		} else {
			assert.ErrorContains(t, err, "hash tag", "prefix %q", tc.prefix)
		}
	}

	// A client that reads from replicas could see a revoked session as
	// live, so New rejects it.
	for name, opts := range map[string]*redis.ClusterOptions{
		"ReadOnly":       {ReadOnly: true},
		"RouteByLatency": {RouteByLatency: true},
		"RouteRandomly":  {RouteRandomly: true},
	} {
		opts.Addrs = []string{"127.0.0.1:1"}
		replicas := redis.NewClusterClient(opts)
		t.Cleanup(func() { _ = replicas.Close() })
		_, err := redisstore.New(redisstore.Config{Client: replicas})
		assert.ErrorContains(t, err, "routes reads to replicas", name)
	}
}

// TestSubMillisecondIdleTimeout checks that an idle timeout shorter than the
// scripts' millisecond resolution still ends the session, instead of
// reading as "no idle timeout".
func TestSubMillisecondIdleTimeout(t *testing.T) {
	srv := redistest.Start(t)
	clock := clocktest.New(epoch)
	st := newStore(t, srv.Client(), clock.Now)
	ctx := context.Background()

	s := testSession("alice", epoch)
	s.IdleTimeout = 500 * time.Microsecond
	require.NoError(t, st.Create(ctx, [32]byte{1}, s))
	clock.Advance(time.Second)
	_, err := st.Get(ctx, [32]byte{1})
	assert.ErrorIs(t, err, session.ErrExpired)
	assert.ErrorIs(t, st.Touch(ctx, [32]byte{1}, clock.Now()), session.ErrExpired, "a touch cannot revive it")
}

// TestCreateRejectsInvalidUTF8 checks that Create rejects text that JSON
// would alter, instead of storing it changed.
func TestCreateRejectsInvalidUTF8(t *testing.T) {
	srv := redistest.Start(t)
	st := newStore(t, srv.Client(), nil)
	ctx := context.Background()
	tests := []struct {
		name string
		edit func(s *session.Session)
		want string
	}{
		{"attribute value", func(s *session.Session) { s.Attributes = map[string]string{"scope": "read\xffwrite"} }, `invalid attribute "scope": not valid UTF-8`},
		{"attribute name", func(s *session.Session) { s.Attributes = map[string]string{"sc\xffope": "read"} }, "invalid attribute"},
		{"session ID", func(s *session.Session) { s.ID = "sid\xfe" }, "invalid session ID"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession("alice", time.Now())
			tc.edit(s)
			digest := [32]byte{byte(i + 1)}
			err := st.Create(ctx, digest, s)
			assert.ErrorContains(t, err, tc.want)
			assert.NotErrorIs(t, err, session.ErrInvalidToken)
			_, err = st.Get(ctx, digest)
			assert.ErrorIs(t, err, session.ErrNotFound, "nothing is stored")
		})
	}

	// Subjects are stored as raw bytes, so any subject keeps its value.
	s := testSession("al\xffice", time.Now())
	s.ID = "sid-raw-subject"
	require.NoError(t, st.Create(ctx, [32]byte{9}, s))
	got, err := st.Get(ctx, [32]byte{9})
	require.NoError(t, err)
	assert.Equal(t, "al\xffice", got.Subject)
}
