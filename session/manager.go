package session

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// Defaults for ManagerConfig.
const (
	DefaultLifetime    = 8 * time.Hour
	DefaultIdleTimeout = 30 * time.Minute
)

// ManagerConfig configures a Manager. Only Store is required.
type ManagerConfig struct {
	// Store holds the sessions. Required; NewMemoryStore gives one.
	Store Store
	// Prefix starts every token, so secret scanners can find leaked ones:
	// 1 to MaxPrefixLength ASCII letters, digits and underscores. Default
	// DefaultPrefix ("sess_").
	Prefix string
	// Lifetime is the absolute lifetime of a session, counted from Issue;
	// neither use nor Rotate extends it. Default DefaultLifetime (8 hours).
	Lifetime time.Duration
	// IdleTimeout ends a session that has not been validated for this long.
	// Default DefaultIdleTimeout (30 minutes), unless SkipIdleTimeout is set.
	IdleTimeout time.Duration
	// SkipIdleTimeout issues sessions without an idle timeout, so only
	// Lifetime ends them. Default false.
	SkipIdleTimeout bool
	// TouchInterval lets ValidateToken skip the store write that slides the
	// idle timeout while LastSeenAt is younger than this, trading up to
	// TouchInterval of idle-timeout precision for fewer writes. Default 0:
	// every successful validation writes.
	TouchInterval time.Duration
	// Now is the clock for issue times and expiry checks. Default time.Now.
	// It must agree with the Store's clock.
	Now func() time.Time
}

// Manager issues, validates, rotates and revokes session tokens against a
// Store. It is safe for concurrent use and implements Validator.
type Manager struct {
	store         Store
	prefix        string
	lifetime      time.Duration
	idleTimeout   time.Duration
	touchInterval time.Duration
	now           func() time.Time
}

var _ Validator = (*Manager)(nil)

// NewManager returns a Manager for cfg, or an error naming the field that
// is invalid.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("session: ManagerConfig.Store is required; use NewMemoryStore for a single process")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	if cfg.Lifetime < 0 || cfg.IdleTimeout < 0 || cfg.TouchInterval < 0 {
		return nil, errors.New("session: ManagerConfig durations must not be negative")
	}
	if cfg.Lifetime == 0 {
		cfg.Lifetime = DefaultLifetime
	}
	switch {
	case cfg.SkipIdleTimeout:
		cfg.IdleTimeout = 0
	case cfg.IdleTimeout == 0:
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{
		store:         cfg.Store,
		prefix:        cfg.Prefix,
		lifetime:      cfg.Lifetime,
		idleTimeout:   cfg.IdleTimeout,
		touchInterval: cfg.TouchInterval,
		now:           cfg.Now,
	}, nil
}

// Prefix returns the prefix of the tokens m issues.
func (m *Manager) Prefix() string { return m.prefix }

// CheckFormat checks token against the format m issues, without a store
// lookup; see CheckTokenFormat.
func (m *Manager) CheckFormat(token string) error {
	return CheckTokenFormat(token, m.prefix)
}

// Issue starts a session for subject and returns its token, which is the
// only copy: the store keeps only its digest. attrs is copied.
func (m *Manager) Issue(ctx context.Context, subject string, attrs map[string]string) (string, *Session, error) {
	if err := m.ready(); err != nil {
		return "", nil, err
	}
	if subject == "" {
		return "", nil, errors.New("session: Issue needs a non-empty subject")
	}
	token, err := NewToken(m.prefix)
	if err != nil {
		return "", nil, err
	}
	now := m.now()
	s := &Session{
		ID:          newID(),
		Subject:     subject,
		Attributes:  maps.Clone(attrs),
		CreatedAt:   now,
		LastSeenAt:  now,
		IdleTimeout: m.idleTimeout,
		ExpiresAt:   now.Add(m.lifetime),
	}
	if s.Attributes == nil {
		s.Attributes = map[string]string{}
	}
	if err := m.store.Create(ctx, digest(token), s); err != nil {
		return "", nil, fmt.Errorf("session: storing new session: %w", err)
	}
	return token, s, nil
}

// ValidateToken checks the format of token, then looks it up in the store,
// checks the idle timeout and the absolute lifetime, and slides the idle
// timeout. A client-side failure returns an error matching ErrInvalidToken
// and one of ErrMalformed, ErrNotFound, ErrExpired or ErrRevoked. A store
// failure returns an error that wraps the store's error and does not match
// ErrInvalidToken.
func (m *Manager) ValidateToken(ctx context.Context, token string) (*Session, error) {
	if err := m.ready(); err != nil {
		return nil, err
	}
	if err := CheckTokenFormat(token, m.prefix); err != nil {
		return nil, err
	}
	digest := digest(token)
	s, err := m.store.Get(ctx, digest)
	if err != nil {
		return nil, storeError(err)
	}
	if s == nil {
		// A Store that returns neither a session nor an error is broken, so
		// fail closed with an error instead of dereferencing nil.
		return nil, storeError(errNilSession)
	}
	now := m.now()
	if !now.Before(s.Deadline()) {
		return nil, ErrExpired
	}
	if now.Sub(s.LastSeenAt) >= m.touchInterval {
		if err := m.store.Touch(ctx, digest, now); err != nil {
			return nil, storeError(err)
		}
		if now.After(s.LastSeenAt) {
			s.LastSeenAt = now
		}
	}
	return s, nil
}

// Rotate replaces token with a new token for the same session, as after a
// login or a privilege change, to defeat session fixation. The old token
// fails from the moment Rotate returns. The session keeps its ID, subject,
// attributes and absolute lifetime. Errors are those of ValidateToken.
func (m *Manager) Rotate(ctx context.Context, token string) (string, *Session, error) {
	if _, err := m.ValidateToken(ctx, token); err != nil {
		return "", nil, err
	}
	newToken, err := NewToken(m.prefix)
	if err != nil {
		return "", nil, err
	}
	s, err := m.store.Rotate(ctx, digest(token), digest(newToken), m.now())
	if err != nil {
		return "", nil, storeError(err)
	}
	if s == nil {
		return "", nil, storeError(errNilSession)
	}
	return newToken, s, nil
}

// Revoke ends the session of token at once. Revoking a token that is
// unknown, expired or already revoked returns nil, so logout is idempotent;
// a malformed token returns an error matching ErrMalformed.
func (m *Manager) Revoke(ctx context.Context, token string) error {
	if err := m.ready(); err != nil {
		return err
	}
	if err := CheckTokenFormat(token, m.prefix); err != nil {
		return err
	}
	err := m.store.Delete(ctx, digest(token))
	if err == nil || errors.Is(err, ErrInvalidToken) {
		return nil
	}
	return storeError(err)
}

// RevokeSubject ends every session of subject ("log out everywhere") and
// returns how many it ended.
func (m *Manager) RevokeSubject(ctx context.Context, subject string) (int, error) {
	if err := m.ready(); err != nil {
		return 0, err
	}
	if subject == "" {
		return 0, errors.New("session: RevokeSubject needs a non-empty subject")
	}
	n, err := m.store.DeleteSubject(ctx, subject)
	if err != nil {
		return n, storeError(err)
	}
	return n, nil
}

var errNotReady = errors.New("session: Manager is not initialized; create it with NewManager")

// ready guards against a nil or zero Manager, which has no store.
func (m *Manager) ready() error {
	if m == nil || m.store == nil {
		return errNotReady
	}
	return nil
}

var errNilSession = errors.New("session: store returned neither a session nor an error")

// storeError passes the client-fault errors of a Store through and wraps
// any other error, so it stays distinct from ErrInvalidToken.
func storeError(err error) error {
	if errors.Is(err, ErrInvalidToken) {
		return err
	}
	return fmt.Errorf("session: store failed: %w", err)
}
