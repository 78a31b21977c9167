package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

type suite struct {
	Options
}

// now returns the store's time at millisecond precision without a
// monotonic reading, so it survives a round trip through any store.
func (s *suite) now() time.Time {
	return s.Now().Round(0).Truncate(time.Millisecond)
}

// short is a duration after which an expiry test looks at a record. It is
// long when the clock can be advanced and one second of real time
// otherwise, which leaves margins of a quarter second for a busy machine.
func (s *suite) short() time.Duration {
	if s.Advance != nil {
		return time.Hour
	}
	return time.Second
}

// waitUntil moves the store's clock to at least deadline: by Advance, or by
// sleeping.
func (s *suite) waitUntil(deadline time.Time) {
	d := deadline.Sub(s.Now())
	if d <= 0 {
		return
	}
	if s.Advance != nil {
		s.Advance(d)
		return
	}
	time.Sleep(d)
}

// requireGone waits until the store reports the record under digest as
// expired or absent. Real-time stores may expire a little late, so it
// polls for up to two seconds.
func (s *suite) requireGone(t *testing.T, st session.Store, digest [32]byte) {
	t.Helper()
	check := func() bool {
		_, err := st.Get(context.Background(), digest)
		return errors.Is(err, session.ErrExpired) || errors.Is(err, session.ErrNotFound)
	}
	if s.Advance != nil {
		require.True(t, check(), "Get must report ErrExpired or ErrNotFound past the deadline")
		return
	}
	require.Eventually(t, check, 2*time.Second, 20*time.Millisecond,
		"Get must report ErrExpired or ErrNotFound past the deadline")
}

func (s *suite) newSession(subject string) *session.Session {
	now := s.now()
	return &session.Session{
		ID:          randomID(),
		Subject:     subject,
		Attributes:  map[string]string{"name": "Alice Example", "scope": "read write"},
		CreatedAt:   now,
		LastSeenAt:  now,
		IdleTimeout: 24 * time.Hour,
		ExpiresAt:   now.Add(48 * time.Hour),
	}
}

func (s *suite) create(t *testing.T, st session.Store, subject string) ([32]byte, *session.Session) {
	t.Helper()
	d := randomDigest()
	sess := s.newSession(subject)
	require.NoError(t, st.Create(context.Background(), d, sess))
	return d, sess
}

func randomDigest() [32]byte {
	var d [32]byte
	_, _ = rand.Read(d[:])
	return d
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

func assertSameSession(t *testing.T, want, got *session.Session) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.Subject, got.Subject, "Subject")
	assert.Equal(t, want.Attributes, got.Attributes, "Attributes")
	assert.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt: want %v, got %v", want.CreatedAt, got.CreatedAt)
	assert.True(t, want.LastSeenAt.Equal(got.LastSeenAt), "LastSeenAt: want %v, got %v", want.LastSeenAt, got.LastSeenAt)
	assert.Equal(t, want.IdleTimeout, got.IdleTimeout, "IdleTimeout")
	assert.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt: want %v, got %v", want.ExpiresAt, got.ExpiresAt)
}

func (s *suite) createThenGet(t *testing.T, st session.Store) {
	d, want := s.create(t, st, "alice")
	got, err := st.Get(context.Background(), d)
	require.NoError(t, err)
	assertSameSession(t, want, got)
}

func (s *suite) createTakenDigest(t *testing.T, st session.Store) {
	ctx := context.Background()
	d, first := s.create(t, st, "alice")
	err := st.Create(ctx, d, s.newSession("mallory"))
	assert.ErrorIs(t, err, session.ErrExists)
	got, err := st.Get(ctx, d)
	require.NoError(t, err)
	assertSameSession(t, first, got)

	require.NoError(t, st.Delete(ctx, d))
	err = st.Create(ctx, d, s.newSession("mallory"))
	assert.ErrorIs(t, err, session.ErrExists, "a tombstone must keep its digest taken")
}

func (s *suite) getUnknown(t *testing.T, st session.Store) {
	_, err := st.Get(context.Background(), randomDigest())
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.ErrorIs(t, err, session.ErrInvalidToken)
}

func (s *suite) getReturnsCopy(t *testing.T, st session.Store) {
	ctx := context.Background()
	d, want := s.create(t, st, "alice")
	want.Subject = "changed after Create"

	got, err := st.Get(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Subject, "Create must copy the session")

	got.Subject = "changed after Get"
	got.ExpiresAt = got.ExpiresAt.Add(time.Hour)
	again, err := st.Get(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, "alice", again.Subject, "Get must return a copy")
	assert.False(t, again.ExpiresAt.Equal(got.ExpiresAt), "Get must return a copy")
}

func (s *suite) touchMovesLastSeenForward(t *testing.T, st session.Store) {
	ctx := context.Background()
	d, sess := s.create(t, st, "alice")
	later := sess.LastSeenAt.Add(time.Minute)
	require.NoError(t, st.Touch(ctx, d, later))
	got, err := st.Get(ctx, d)
	require.NoError(t, err)
	assert.True(t, later.Equal(got.LastSeenAt), "LastSeenAt: want %v, got %v", later, got.LastSeenAt)

	require.NoError(t, st.Touch(ctx, d, sess.LastSeenAt), "an earlier Touch is not an error")
	got, err = st.Get(ctx, d)
	require.NoError(t, err)
	assert.True(t, later.Equal(got.LastSeenAt), "Touch must never move LastSeenAt backwards")
	assert.True(t, sess.ExpiresAt.Equal(got.ExpiresAt), "Touch must not change ExpiresAt")
}

func (s *suite) touchUnknown(t *testing.T, st session.Store) {
	err := st.Touch(context.Background(), randomDigest(), s.now())
	assert.ErrorIs(t, err, session.ErrNotFound)
}

func (s *suite) deleteLeavesTombstone(t *testing.T, st session.Store) {
	ctx := context.Background()
	d, _ := s.create(t, st, "alice")
	require.NoError(t, st.Delete(ctx, d))

	_, err := st.Get(ctx, d)
	assert.ErrorIs(t, err, session.ErrRevoked, "Get")
	assert.ErrorIs(t, st.Touch(ctx, d, s.now()), session.ErrRevoked, "Touch must not revive")
	assert.ErrorIs(t, st.Delete(ctx, d), session.ErrRevoked, "second Delete")
	_, err = st.Rotate(ctx, d, randomDigest(), s.now())
	assert.ErrorIs(t, err, session.ErrRevoked, "Rotate")
	_, err = st.Get(ctx, d)
	assert.ErrorIs(t, err, session.ErrRevoked, "Get after the other calls")
}

func (s *suite) deleteUnknown(t *testing.T, st session.Store) {
	assert.ErrorIs(t, st.Delete(context.Background(), randomDigest()), session.ErrNotFound)
}

func (s *suite) rotateMovesSession(t *testing.T, st session.Store) {
	ctx := context.Background()
	oldDigest, want := s.create(t, st, "alice")
	newDigest := randomDigest()
	at := want.LastSeenAt.Add(time.Second)

	moved, err := st.Rotate(ctx, oldDigest, newDigest, at)
	require.NoError(t, err)
	want.LastSeenAt = at
	assertSameSession(t, want, moved)

	got, err := st.Get(ctx, newDigest)
	require.NoError(t, err)
	assertSameSession(t, want, got)

	_, err = st.Get(ctx, oldDigest)
	assert.ErrorIs(t, err, session.ErrRevoked, "the old digest must fail at once")
}

func (s *suite) rotateUnknown(t *testing.T, st session.Store) {
	ctx := context.Background()
	newDigest := randomDigest()
	_, err := st.Rotate(ctx, randomDigest(), newDigest, s.now())
	assert.ErrorIs(t, err, session.ErrNotFound)
	_, err = st.Get(ctx, newDigest)
	assert.ErrorIs(t, err, session.ErrNotFound, "a failed Rotate must not create the new digest")
}

func (s *suite) rotateIntoTakenDigest(t *testing.T, st session.Store) {
	ctx := context.Background()
	d1, s1 := s.create(t, st, "alice")
	d2, s2 := s.create(t, st, "bob")

	_, err := st.Rotate(ctx, d1, d2, s.now().Add(time.Second))
	assert.ErrorIs(t, err, session.ErrExists)

	got1, err := st.Get(ctx, d1)
	require.NoError(t, err, "a failed Rotate must leave the old digest live")
	assertSameSession(t, s1, got1)
	got2, err := st.Get(ctx, d2)
	require.NoError(t, err)
	assertSameSession(t, s2, got2)
}

func (s *suite) deleteSubjectIsolation(t *testing.T, st session.Store) {
	ctx := context.Background()
	var alice, bob [][32]byte
	for range 3 {
		d, _ := s.create(t, st, "alice")
		alice = append(alice, d)
	}
	for range 2 {
		d, _ := s.create(t, st, "bob")
		bob = append(bob, d)
	}
	// A subject that shares a prefix with another must not match it.
	aliceB, _ := s.create(t, st, "alice2")
	require.NoError(t, st.Delete(ctx, alice[0]))

	n, err := st.DeleteSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "only live sessions count")
	for i, d := range alice {
		_, err := st.Get(ctx, d)
		assert.ErrorIs(t, err, session.ErrRevoked, "alice session %d", i)
	}
	for i, d := range append(bob, aliceB) {
		_, err := st.Get(ctx, d)
		assert.NoError(t, err, "session %d of another subject", i)
	}

	n, err = st.DeleteSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "second DeleteSubject")
	n, err = st.DeleteSubject(ctx, "nobody")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "unknown subject")
}

func (s *suite) deleteSubjectFollowsRotate(t *testing.T, st session.Store) {
	ctx := context.Background()
	oldDigest, _ := s.create(t, st, "alice")
	newDigest := randomDigest()
	_, err := st.Rotate(ctx, oldDigest, newDigest, s.now())
	require.NoError(t, err)

	n, err := st.DeleteSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a rotated session counts once")
	_, err = st.Get(ctx, newDigest)
	assert.ErrorIs(t, err, session.ErrRevoked)
}

func (s *suite) absoluteExpiry(t *testing.T, st session.Store) {
	ctx := context.Background()
	sess := s.newSession("alice")
	sess.IdleTimeout = 0
	sess.ExpiresAt = sess.CreatedAt.Add(s.short())
	d := randomDigest()
	require.NoError(t, st.Create(ctx, d, sess))
	_, err := st.Get(ctx, d)
	require.NoError(t, err, "before the deadline")

	s.waitUntil(sess.ExpiresAt)
	s.requireGone(t, st, d)
	assertGoneForAll(t, st, d, s.now())
}

func (s *suite) idleExpiry(t *testing.T, st session.Store) {
	ctx := context.Background()
	sess := s.newSession("alice")
	sess.IdleTimeout = s.short()
	d := randomDigest()
	require.NoError(t, st.Create(ctx, d, sess))

	s.waitUntil(sess.LastSeenAt.Add(sess.IdleTimeout))
	s.requireGone(t, st, d)
	assertGoneForAll(t, st, d, s.now())
}

// NOTE: with a real-time store this test has margins of 250 ms, a quarter
// of short(). A machine that stalls longer can fail it.
func (s *suite) touchExtendsIdleDeadline(t *testing.T, st session.Store) {
	ctx := context.Background()
	sess := s.newSession("alice")
	sess.IdleTimeout = s.short()
	d := randomDigest()
	require.NoError(t, st.Create(ctx, d, sess))

	s.waitUntil(sess.LastSeenAt.Add(sess.IdleTimeout / 2))
	touchedAt := s.now()
	require.NoError(t, st.Touch(ctx, d, touchedAt))

	// Past the first idle deadline, before the one the Touch set.
	s.waitUntil(sess.LastSeenAt.Add(sess.IdleTimeout + sess.IdleTimeout/4))
	_, err := st.Get(ctx, d)
	require.NoError(t, err, "Touch must slide the idle deadline")

	s.waitUntil(touchedAt.Add(sess.IdleTimeout))
	s.requireGone(t, st, d)
}

func (s *suite) touchStopsAtExpiresAt(t *testing.T, st session.Store) {
	ctx := context.Background()
	sess := s.newSession("alice")
	sess.IdleTimeout = s.short()
	sess.ExpiresAt = sess.CreatedAt.Add(s.short() * 3 / 4)
	d := randomDigest()
	require.NoError(t, st.Create(ctx, d, sess))
	// This Touch moves the idle deadline past ExpiresAt, which must still
	// end the session.
	s.waitUntil(sess.CreatedAt.Add(s.short() / 4))
	require.NoError(t, st.Touch(ctx, d, s.now()))

	s.waitUntil(sess.ExpiresAt)
	s.requireGone(t, st, d)
}

func (s *suite) deleteSubjectSkipsExpired(t *testing.T, st session.Store) {
	ctx := context.Background()
	expiring := s.newSession("alice")
	expiring.IdleTimeout = 0
	expiring.ExpiresAt = expiring.CreatedAt.Add(s.short())
	d1 := randomDigest()
	require.NoError(t, st.Create(ctx, d1, expiring))
	s.waitUntil(expiring.ExpiresAt)
	s.requireGone(t, st, d1)

	d2, _ := s.create(t, st, "alice")
	n, err := st.DeleteSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "an expired session must not count")
	_, err = st.Get(ctx, d2)
	assert.ErrorIs(t, err, session.ErrRevoked)
}

// assertGoneForAll checks that every method treats an expired record as
// gone.
func assertGoneForAll(t *testing.T, st session.Store, d [32]byte, now time.Time) {
	t.Helper()
	ctx := context.Background()
	gone := func(err error) bool {
		return errors.Is(err, session.ErrExpired) || errors.Is(err, session.ErrNotFound)
	}
	assert.True(t, gone(st.Touch(ctx, d, now)), "Touch must not revive an expired record")
	_, err := st.Get(ctx, d)
	assert.True(t, gone(err), "Get after Touch: %v", err)
	newDigest := randomDigest()
	_, err = st.Rotate(ctx, d, newDigest, now)
	assert.True(t, gone(err), "Rotate: %v", err)
	_, err = st.Get(ctx, newDigest)
	assert.ErrorIs(t, err, session.ErrNotFound, "Rotate of an expired record must not create the new digest")
	assert.True(t, gone(st.Delete(ctx, d)), "Delete")
}

func (s *suite) concurrentRotateOneWinner(t *testing.T, st session.Store) {
	ctx := context.Background()
	oldDigest, _ := s.create(t, st, "alice")
	const workers = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	newDigests := make([][32]byte, workers)
	for i := range workers {
		newDigests[i] = randomDigest()
		wg.Go(func() {
			<-start
			_, err := st.Rotate(ctx, oldDigest, newDigests[i], s.now())
			if err == nil {
				wins.Add(1)
			} else {
				assert.ErrorIs(t, err, session.ErrRevoked, "a losing Rotate")
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load(), "exactly one Rotate of one digest may win")

	live := 0
	for _, d := range newDigests {
		if _, err := st.Get(ctx, d); err == nil {
			live++
		}
	}
	assert.Equal(t, 1, live, "exactly one new digest may hold the session")
}

func (s *suite) concurrentDeleteOneWinner(t *testing.T, st session.Store) {
	ctx := context.Background()
	d, _ := s.create(t, st, "alice")
	const workers = 16
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			err := st.Delete(ctx, d)
			if err == nil {
				wins.Add(1)
			} else {
				assert.ErrorIs(t, err, session.ErrRevoked, "a losing Delete")
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

// concurrentMixedOperations runs every method from many goroutines, each
// on its own subject, while one goroutine revokes a shared subject, then
// checks that no goroutine saw another's sessions disappear.
func (s *suite) concurrentMixedOperations(t *testing.T, st session.Store) {
	ctx := context.Background()
	const workers = 8
	const rounds = 25
	var wg sync.WaitGroup
	for w := range workers {
		subject := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for range rounds {
				d := randomDigest()
				if !assert.NoError(t, st.Create(ctx, d, s.newSession(subject))) {
					return
				}
				_, err := st.Get(ctx, d)
				assert.NoError(t, err)
				assert.NoError(t, st.Touch(ctx, d, s.now()))
				next := randomDigest()
				_, err = st.Rotate(ctx, d, next, s.now())
				assert.NoError(t, err)
				assert.NoError(t, st.Delete(ctx, next))
			}
			// One session per worker stays live for the final count.
			assert.NoError(t, st.Create(ctx, randomDigest(), s.newSession(subject)))
		})
	}
	wg.Go(func() {
		for range rounds {
			d := randomDigest()
			assert.NoError(t, st.Create(ctx, d, s.newSession("shared")))
			_, err := st.DeleteSubject(ctx, "shared")
			assert.NoError(t, err)
		}
	})
	wg.Wait()

	for w := range workers {
		n, err := st.DeleteSubject(ctx, fmt.Sprintf("worker-%d", w))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "worker %d", w)
	}
	n, err := st.DeleteSubject(ctx, "shared")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "shared")
}
