package phantom

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/tokenpattern/tokenpattern/session"
)

// Validator checks opaque tokens remotely by plain introspection, without
// a JWT: the session-ID pattern for services that do not share the session
// store. It implements session.Validator, so session.Middleware accepts
// it. It is safe for concurrent use.
//
// TODO: add an optional Cache; every ValidateToken is one introspection
// call.
type Validator struct {
	client *Client
}

// NewValidator returns a Validator that introspects with a Client built
// from cfg. cfg.Verifier may stay nil, because the "jwt" member is not
// used.
func NewValidator(cfg ClientConfig) (*Validator, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Validator{client: c}, nil
}

// ValidateToken implements session.Validator. An inactive token returns an
// error matching session.ErrNotFound (and so session.ErrInvalidToken); an
// auth-server failure returns an error matching ErrUnavailable and not
// session.ErrInvalidToken, which session middleware answers with 503.
//
// The session is built from the answer: ID from an "sid" member if the
// server sends one, Subject from "sub", Attributes "scope", "client_id" and
// "username", CreatedAt from "iat", ExpiresAt from "exp" and LastSeenAt as
// the time of the check.
func (v *Validator) ValidateToken(ctx context.Context, token string) (*session.Session, error) {
	in, err := v.client.Introspect(ctx, token, nil)
	if err != nil {
		if isInactive(err) {
			return nil, &validatorError{kind: session.ErrNotFound, cause: err}
		}
		return nil, err
	}
	s := &session.Session{
		Subject:    in.Subject,
		Attributes: map[string]string{},
		CreatedAt:  in.IssuedAt,
		LastSeenAt: v.client.now(),
		ExpiresAt:  in.ExpiresAt,
	}
	if raw, ok := in.Raw["sid"]; ok {
		var sid string
		if json.Unmarshal(raw, &sid) == nil {
			s.ID = sid
		}
	}
	if len(in.Scopes) > 0 {
		s.Attributes["scope"] = strings.Join(in.Scopes, " ")
	}
	if in.ClientID != "" {
		s.Attributes["client_id"] = in.ClientID
	}
	if in.Username != "" {
		s.Attributes["username"] = in.Username
	}
	return s, nil
}

// validatorError matches both a session error and the introspection
// error that caused it.
type validatorError struct {
	kind  error
	cause error
}

func (e *validatorError) Error() string { return e.cause.Error() }

func (e *validatorError) Unwrap() []error { return []error{e.kind, e.cause} }
