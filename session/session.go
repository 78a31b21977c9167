package session

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Session is the server-side state that a session token points at. The
// token itself is never part of it.
type Session struct {
	// ID is a random identifier of the session, distinct from the token.
	// It stays the same across [Manager.Rotate], so logs and audit trails
	// can follow one session without ever recording a usable token.
	ID string
	// Subject identifies the user or client the session belongs to.
	Subject string
	// Attributes holds free-form data fixed at issue time, such as "name",
	// "scope" (space-delimited) or "client_id". Treat the map as read-only:
	// sessions returned by a Store or a Manager may share it with the
	// store, which keeps the validation path free of per-request copies.
	Attributes map[string]string
	// CreatedAt is when the session was issued.
	CreatedAt time.Time
	// LastSeenAt is when the session was last issued, rotated or validated.
	// The idle timeout counts from it.
	LastSeenAt time.Time
	// IdleTimeout ends the session once this long has passed since
	// LastSeenAt. Zero means no idle timeout.
	IdleTimeout time.Duration
	// ExpiresAt is the end of the absolute lifetime, which no use extends.
	ExpiresAt time.Time
}

// Scopes returns Attributes["scope"] split on spaces, or nil when the
// attribute is absent or empty.
func (s *Session) Scopes() []string {
	if s == nil {
		return nil
	}
	return strings.Fields(s.Attributes["scope"])
}

// Deadline returns the instant the session ends: the earlier of ExpiresAt
// and LastSeenAt plus IdleTimeout. Stores expire records at this instant.
func (s *Session) Deadline() time.Time {
	if s.IdleTimeout <= 0 {
		return s.ExpiresAt
	}
	idle := s.LastSeenAt.Add(s.IdleTimeout)
	if idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// Validator validates a session token. The session middleware takes any
// Validator: *Manager validates against a local Store, and a remote
// validator (such as phantom's introspection client) calls an auth server.
//
// ValidateToken returns an error satisfying errors.Is(err, ErrInvalidToken)
// when the token is at fault, and any other error when the validator could
// not reach a verdict; the middleware answers 401 to the first and 503 to
// the second.
type Validator interface {
	ValidateToken(ctx context.Context, token string) (*Session, error)
}

// ErrInvalidToken is the umbrella for every outcome that is the client's
// fault. ErrMalformed, ErrNotFound, ErrExpired and ErrRevoked all satisfy
// errors.Is(err, ErrInvalidToken).
var ErrInvalidToken = errors.New("session: invalid token")

var (
	// ErrMalformed reports a token that fails the format check: wrong
	// prefix, wrong length, a character outside base64url, or a checksum
	// mismatch. Such tokens never reach the store.
	ErrMalformed error = &tokenError{"session: malformed token"}
	// ErrNotFound reports a well-formed token that no store record matches.
	ErrNotFound error = &tokenError{"session: session not found"}
	// ErrExpired reports a session past its idle timeout or absolute lifetime.
	ErrExpired error = &tokenError{"session: session expired"}
	// ErrRevoked reports a session that was revoked, or a token that was
	// replaced by [Manager.Rotate].
	ErrRevoked error = &tokenError{"session: session revoked"}
)

// tokenError is the type of the client-fault sentinels; its Is method makes
// each of them match ErrInvalidToken without a wrapping allocation.
type tokenError struct{ msg string }

func (e *tokenError) Error() string { return e.msg }

func (e *tokenError) Is(target error) bool { return target == ErrInvalidToken }

type contextKey struct{}

// NewContext returns a copy of ctx that carries s, as the middleware does.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, contextKey{}, s)
}

// FromContext returns the session that the middleware stored in ctx.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(contextKey{}).(*Session)
	return s, ok && s != nil
}
