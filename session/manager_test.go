package session_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

// newTestManager returns a Manager and MemoryStore that share a fake clock.
func newTestManager(t testing.TB, cfg session.ManagerConfig) (*session.Manager, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	store := session.NewMemoryStore(session.MemoryStoreConfig{Now: clock.Now})
	t.Cleanup(func() { _ = store.Close() })
	cfg.Store = store
	cfg.Now = clock.Now
	m, err := session.NewManager(cfg)
	require.NoError(t, err)
	return m, clock
}

func TestNewManagerRejectsBadConfig(t *testing.T) {
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	cases := map[string]session.ManagerConfig{
		"no store":         {},
		"bad prefix":       {Store: store, Prefix: "sess-"},
		"long prefix":      {Store: store, Prefix: "abcdefghijklmnopq"},
		"negative idle":    {Store: store, IdleTimeout: -time.Second},
		"negative life":    {Store: store, Lifetime: -time.Second},
		"negative touches": {Store: store, TouchInterval: -time.Second},
	}
	for name, cfg := range cases {
		_, err := session.NewManager(cfg)
		assert.Error(t, err, name)
	}
}

func TestManagerIssueValidate(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{})
	attrs := map[string]string{"name": "Alice", "scope": "profile:read orders"}

	token, issued, err := m.Issue(ctx, "alice", attrs)
	require.NoError(t, err)
	attrs["name"] = "changed by caller"

	assert.NoError(t, m.CheckFormat(token))
	assert.NotEmpty(t, issued.ID)
	assert.NotContains(t, token, issued.ID, "the session ID must not be part of the token")
	assert.Equal(t, clock.Now(), issued.CreatedAt)
	assert.Equal(t, session.DefaultIdleTimeout, issued.IdleTimeout)
	assert.Equal(t, clock.Now().Add(session.DefaultLifetime), issued.ExpiresAt)

	got, err := m.ValidateToken(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, issued.ID, got.ID)
	assert.Equal(t, "alice", got.Subject)
	assert.Equal(t, "Alice", got.Attributes["name"], "Issue must copy attrs")
	assert.Equal(t, []string{"profile:read", "orders"}, got.Scopes())
}

func TestManagerIssueNeedsSubject(t *testing.T) {
	m, _ := newTestManager(t, session.ManagerConfig{})
	_, _, err := m.Issue(context.Background(), "", nil)
	assert.Error(t, err)
}

func TestManagerValidateRejectsBadFormatBeforeStore(t *testing.T) {
	store := &countingStore{Store: session.NewMemoryStore(session.MemoryStoreConfig{})}
	m, err := session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	token, _, err := m.Issue(context.Background(), "alice", nil)
	require.NoError(t, err)
	store.gets = 0

	for _, bad := range []string{"", token[:len(token)-1], token + "A", token[:20] + "Z" + token[21:], "x" + token[1:]} {
		_, err := m.ValidateToken(context.Background(), bad)
		assert.ErrorIs(t, err, session.ErrMalformed, "%q", bad)
	}
	assert.Zero(t, store.gets, "malformed tokens must not reach the store")
}

func TestManagerUnknownToken(t *testing.T) {
	m, _ := newTestManager(t, session.ManagerConfig{})
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	_, err = m.ValidateToken(context.Background(), token)
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.ErrorIs(t, err, session.ErrInvalidToken)
}

func TestManagerIdleTimeoutSlides(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{IdleTimeout: 10 * time.Minute, Lifetime: time.Hour})
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	// Each use within the idle timeout slides it: 5 uses 9 minutes apart
	// outlive the first 10-minute window by far.
	for i := range 5 {
		clock.Advance(9 * time.Minute)
		s, err := m.ValidateToken(ctx, token)
		require.NoError(t, err, "use %d", i)
		assert.Equal(t, clock.Now(), s.LastSeenAt, "use %d", i)
	}

	clock.Advance(10 * time.Minute)
	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrInvalidToken, "an idle session must end")
}

func TestManagerIdleTimeoutEndsUnusedSession(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{IdleTimeout: 10 * time.Minute})
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	clock.Advance(10*time.Minute - time.Nanosecond)
	_, err = m.ValidateToken(ctx, token)
	require.NoError(t, err, "just before the idle deadline")

	clock.Advance(10 * time.Minute)
	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrExpired)
}

func TestManagerAbsoluteLifetimeDoesNotSlide(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{IdleTimeout: 10 * time.Minute, Lifetime: 30 * time.Minute})
	token, issued, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	for range 3 {
		clock.Advance(9 * time.Minute)
		s, err := m.ValidateToken(ctx, token)
		require.NoError(t, err)
		assert.Equal(t, issued.ExpiresAt, s.ExpiresAt, "use must not extend the absolute lifetime")
	}
	clock.Advance(3 * time.Minute) // 30 minutes since Issue
	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrExpired)
}

func TestManagerSkipIdleTimeout(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{SkipIdleTimeout: true, Lifetime: 2 * time.Hour})
	token, issued, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	assert.Zero(t, issued.IdleTimeout)

	clock.Advance(2*time.Hour - time.Second)
	_, err = m.ValidateToken(ctx, token)
	require.NoError(t, err)
	clock.Advance(time.Second)
	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrExpired)
}

func TestManagerTouchInterval(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	store := &countingStore{Store: session.NewMemoryStore(session.MemoryStoreConfig{Now: clock.Now})}
	m, err := session.NewManager(session.ManagerConfig{Store: store, Now: clock.Now, TouchInterval: time.Minute})
	require.NoError(t, err)
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	for range 5 {
		clock.Advance(10 * time.Second)
		_, err := m.ValidateToken(ctx, token)
		require.NoError(t, err)
	}
	assert.Equal(t, 0, store.touches, "validations within TouchInterval must not write")
	clock.Advance(10 * time.Second)
	_, err = m.ValidateToken(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, 1, store.touches)
}

func TestManagerRevoke(t *testing.T) {
	ctx := context.Background()
	m, _ := newTestManager(t, session.ManagerConfig{})
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	other, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	require.NoError(t, m.Revoke(ctx, token))
	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrRevoked, "the very next validation must fail")
	_, err = m.ValidateToken(ctx, other)
	assert.NoError(t, err, "another session of the subject stays")

	assert.NoError(t, m.Revoke(ctx, token), "revoking twice is not an error")
	unknown, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	assert.NoError(t, m.Revoke(ctx, unknown), "revoking an unknown token is not an error")
	assert.ErrorIs(t, m.Revoke(ctx, "garbage"), session.ErrMalformed)
}

func TestManagerRotate(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{})
	oldToken, issued, err := m.Issue(ctx, "alice", map[string]string{"scope": "a"})
	require.NoError(t, err)
	clock.Advance(time.Minute)

	newToken, rotated, err := m.Rotate(ctx, oldToken)
	require.NoError(t, err)
	assert.NotEqual(t, oldToken, newToken)
	assert.NoError(t, m.CheckFormat(newToken))
	assert.Equal(t, issued.ID, rotated.ID, "Rotate keeps the session")
	assert.Equal(t, issued.ExpiresAt, rotated.ExpiresAt, "Rotate must not extend the absolute lifetime")
	assert.Equal(t, clock.Now(), rotated.LastSeenAt)

	_, err = m.ValidateToken(ctx, oldToken)
	assert.ErrorIs(t, err, session.ErrRevoked, "the old token must fail at once")
	got, err := m.ValidateToken(ctx, newToken)
	require.NoError(t, err)
	assert.Equal(t, issued.ID, got.ID)

	_, _, err = m.Rotate(ctx, oldToken)
	assert.ErrorIs(t, err, session.ErrRevoked, "a replaced token cannot rotate again")
	_, _, err = m.Rotate(ctx, "sess_bad")
	assert.ErrorIs(t, err, session.ErrMalformed)
}

func TestManagerRotateExpired(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{IdleTimeout: time.Minute})
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	clock.Advance(time.Minute)
	_, _, err = m.Rotate(ctx, token)
	assert.ErrorIs(t, err, session.ErrExpired)
}

func TestManagerRevokeSubject(t *testing.T) {
	ctx := context.Background()
	m, _ := newTestManager(t, session.ManagerConfig{})
	var alice []string
	for range 3 {
		token, _, err := m.Issue(ctx, "alice", nil)
		require.NoError(t, err)
		alice = append(alice, token)
	}
	rotated, _, err := m.Rotate(ctx, alice[2])
	require.NoError(t, err)
	alice[2] = rotated
	bob, _, err := m.Issue(ctx, "bob", nil)
	require.NoError(t, err)

	n, err := m.RevokeSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for i, token := range alice {
		_, err := m.ValidateToken(ctx, token)
		assert.ErrorIs(t, err, session.ErrRevoked, "alice token %d", i)
	}
	_, err = m.ValidateToken(ctx, bob)
	assert.NoError(t, err, "bob must keep his session")

	_, err = m.RevokeSubject(ctx, "")
	assert.Error(t, err)
}

func TestManagerStoreFailure(t *testing.T) {
	ctx := context.Background()
	failure := errors.New("connection refused")
	store := &failingStore{err: failure}
	m, err := session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)

	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, failure)
	assert.NotErrorIs(t, err, session.ErrInvalidToken, "a store failure is not the token's fault")

	_, _, err = m.Issue(ctx, "alice", nil)
	assert.ErrorIs(t, err, failure)
	_, _, err = m.Rotate(ctx, token)
	assert.NotErrorIs(t, err, session.ErrInvalidToken)
	err = m.Revoke(ctx, token)
	assert.ErrorIs(t, err, failure, "Revoke must not report success when the store failed")
	_, err = m.RevokeSubject(ctx, "alice")
	assert.ErrorIs(t, err, failure)
}

func TestManagerTouchFailureFailsClosed(t *testing.T) {
	ctx := context.Background()
	failure := errors.New("write timed out")
	mem := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer mem.Close()
	store := &failingStore{Store: mem, failTouch: failure}
	m, err := session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	token, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)

	_, err = m.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, failure)
	assert.NotErrorIs(t, err, session.ErrInvalidToken)
}

func TestManagerConcurrentUse(t *testing.T) {
	ctx := context.Background()
	m, _ := newTestManager(t, session.ManagerConfig{})
	const workers = 16
	const rounds = 50
	var wg sync.WaitGroup
	for w := range workers {
		subject := fmt.Sprintf("user-%d", w%4)
		wg.Go(func() {
			for range rounds {
				token, _, err := m.Issue(ctx, subject, map[string]string{"scope": "x"})
				if !assert.NoError(t, err) {
					return
				}
				if _, err := m.ValidateToken(ctx, token); err != nil {
					// Another worker of the same subject may have revoked it.
					assert.ErrorIs(t, err, session.ErrRevoked)
					continue
				}
				newToken, _, err := m.Rotate(ctx, token)
				if err != nil {
					assert.ErrorIs(t, err, session.ErrRevoked)
					continue
				}
				_, err = m.ValidateToken(ctx, token)
				assert.ErrorIs(t, err, session.ErrRevoked, "a rotated-away token must fail")
				assert.NoError(t, m.Revoke(ctx, newToken))
				_, err = m.ValidateToken(ctx, newToken)
				assert.ErrorIs(t, err, session.ErrRevoked)
			}
			_, err := m.RevokeSubject(ctx, subject)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

func TestManagerValidateAllocs(t *testing.T) {
	ctx := context.Background()
	m, _ := newTestManager(t, session.ManagerConfig{})
	token, _, err := m.Issue(ctx, "alice", map[string]string{"scope": "a b"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		_, _ = m.ValidateToken(ctx, token)
	})
	assert.LessOrEqual(t, allocs, 1.0, "validation should allocate only the returned Session")
}

// countingStore counts the calls that reach the wrapped store.
type countingStore struct {
	session.Store
	mu      sync.Mutex
	gets    int
	touches int
}

func (c *countingStore) Get(ctx context.Context, d [32]byte) (*session.Session, error) {
	c.mu.Lock()
	c.gets++
	c.mu.Unlock()
	return c.Store.Get(ctx, d)
}

func (c *countingStore) Touch(ctx context.Context, d [32]byte, at time.Time) error {
	c.mu.Lock()
	c.touches++
	c.mu.Unlock()
	return c.Store.Touch(ctx, d, at)
}

// failingStore fails every call with err, or only Touch with failTouch
// while passing the rest to the wrapped Store.
type failingStore struct {
	session.Store
	err       error
	failTouch error
}

func (f *failingStore) Create(ctx context.Context, d [32]byte, s *session.Session) error {
	if f.err != nil {
		return f.err
	}
	return f.Store.Create(ctx, d, s)
}

func (f *failingStore) Get(ctx context.Context, d [32]byte) (*session.Session, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.Store.Get(ctx, d)
}

func (f *failingStore) Touch(ctx context.Context, d [32]byte, at time.Time) error {
	if f.failTouch != nil {
		return f.failTouch
	}
	if f.err != nil {
		return f.err
	}
	return f.Store.Touch(ctx, d, at)
}

func (f *failingStore) Rotate(ctx context.Context, o, n [32]byte, at time.Time) (*session.Session, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.Store.Rotate(ctx, o, n, at)
}

func (f *failingStore) Delete(ctx context.Context, d [32]byte) error {
	if f.err != nil {
		return f.err
	}
	return f.Store.Delete(ctx, d)
}

func (f *failingStore) DeleteSubject(ctx context.Context, subject string) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	return f.Store.DeleteSubject(ctx, subject)
}

// nilStore is a broken Store whose Rotate returns (nil, nil), and whose
// Get does the same unless got is set.
type nilStore struct {
	session.Store
	got *session.Session
}

func (n nilStore) Get(context.Context, [32]byte) (*session.Session, error) { return n.got, nil }

func (nilStore) Rotate(context.Context, [32]byte, [32]byte, time.Time) (*session.Session, error) {
	return nil, nil
}

func (nilStore) Touch(context.Context, [32]byte, time.Time) error { return nil }

func TestManagerNilSessionFromStore(t *testing.T) {
	ctx := context.Background()
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)

	m, err := session.NewManager(session.ManagerConfig{Store: nilStore{}})
	require.NoError(t, err)
	s, err := m.ValidateToken(ctx, token)
	assert.Nil(t, s)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrInvalidToken, "a broken store is a server-side failure")

	now := time.Now()
	live := &session.Session{Subject: "alice", LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	m, err = session.NewManager(session.ManagerConfig{Store: nilStore{got: live}})
	require.NoError(t, err)
	newToken, s, err := m.Rotate(ctx, token)
	assert.Empty(t, newToken)
	assert.Nil(t, s)
	assert.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrInvalidToken)
}

func TestManagerZeroValue(t *testing.T) {
	// A format-valid token for the empty prefix passes CheckTokenFormat, so
	// without the guard it would reach the nil store.
	ctx := context.Background()
	full, err := session.NewToken("x")
	require.NoError(t, err)
	token := full[1:]
	require.NoError(t, session.CheckTokenFormat(token, ""))

	for name, m := range map[string]*session.Manager{"zero": {}, "nil": nil} {
		assert.NotPanics(t, func() {
			_, err := m.ValidateToken(ctx, token)
			assert.Error(t, err, name)
			assert.NotErrorIs(t, err, session.ErrInvalidToken, name)
			_, _, err = m.Issue(ctx, "alice", nil)
			assert.Error(t, err, name)
			_, _, err = m.Rotate(ctx, token)
			assert.Error(t, err, name)
			assert.Error(t, m.Revoke(ctx, token), name)
			_, err = m.RevokeSubject(ctx, "alice")
			assert.Error(t, err, name)
		}, name)
	}
}
