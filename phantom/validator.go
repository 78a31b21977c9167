package phantom

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/session"
)

// Validator checks opaque tokens remotely by plain introspection, without
// a JWT: the session-ID pattern for services that do not share the session
// store. It implements session.Validator, so session.Middleware accepts
// it. It is safe for concurrent use.
//
// A Validator from [NewValidator] calls the auth server for every token,
// so a revoked or idle-expired session fails on its next request. One from
// [NewCachedValidator] trades that for fewer calls; see
// [CachedValidatorConfig].
type Validator struct {
	client      *Client
	cache       *Cache
	unsubscribe func()
}

// NewValidator returns a Validator that introspects with a Client built
// from cfg, once per ValidateToken call. cfg.Verifier may stay nil,
// because the "jwt" member is not used.
func NewValidator(cfg ClientConfig) (*Validator, error) {
	c, err := NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Validator{client: c}, nil
}

// DefaultValidatorMaxTTL is the MaxTTL of the cache NewCachedValidator
// creates when CachedValidatorConfig.Cache is nil.
const DefaultValidatorMaxTTL = 10 * time.Second

// CachedValidatorConfig configures a Validator that caches introspection
// answers.
//
// Positive answers are reused until the earliest of the token's "exp" and
// the cache's MaxTTL, so a service accepts a token for up to MaxTTL after
// the auth server stopped considering it active, unless Bus delivers the
// revocation first. Cache hits do not reach the auth server, so they do
// not extend a session's idle timeout either; keep MaxTTL well below it.
// Inactive answers are remembered for the cache's NegativeTTL.
type CachedValidatorConfig struct {
	// Client configures the introspection client, as for NewValidator.
	Client ClientConfig
	// Cache remembers answers; it must not serve another Client. Default:
	// NewCache with MaxTTL DefaultValidatorMaxTTL (10 s) and the other
	// defaults.
	Cache *Cache
	// Bus delivers revocation events that evict cached tokens at once.
	// Default nil: a revoked token stays valid until its cache entry
	// expires (at most the cache's MaxTTL).
	Bus RevocationBus
}

// NewCachedValidator returns a Validator that caches answers as cfg
// describes. Call Close to unsubscribe from cfg.Bus.
func NewCachedValidator(cfg CachedValidatorConfig) (*Validator, error) {
	c, err := NewClient(cfg.Client)
	if err != nil {
		return nil, err
	}
	v := &Validator{client: c, cache: cfg.Cache}
	if v.cache == nil {
		v.cache = NewCache(CacheConfig{MaxTTL: DefaultValidatorMaxTTL, Now: c.now, Logger: c.logger})
	}
	if err := v.cache.bind(c); err != nil {
		return nil, err
	}
	if cfg.Bus != nil {
		v.unsubscribe = v.cache.Subscribe(cfg.Bus)
	}
	return v, nil
}

// Close unsubscribes the validator's cache from the bus. It is a no-op for
// a Validator without a bus.
func (v *Validator) Close() {
	if v.unsubscribe != nil {
		v.unsubscribe()
	}
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
	var in *Introspection
	var err error
	if v.cache != nil {
		in, _, err = v.cache.exchange(ctx, token, v.client.Introspect)
	} else {
		in, err = v.client.Introspect(ctx, token, nil)
	}
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
