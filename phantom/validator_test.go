package phantom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/session"
)

func TestValidator(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read write")
	v, err := NewValidator(ClientConfig{
		Endpoint:     env.http.URL + introspectPath,
		ClientID:     plainID,
		ClientSecret: plainSecret,
		Now:          env.clock.Now,
	})
	require.NoError(t, err)
	ctx := context.Background()

	s, err := v.ValidateToken(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, "alice", s.Subject)
	assert.Equal(t, []string{"read", "write"}, s.Scopes())
	assert.Equal(t, "web-app", s.Attributes["client_id"])
	assert.Equal(t, env.clock.Now(), s.CreatedAt)
	assert.False(t, s.ExpiresAt.IsZero())

	_, err = v.ValidateToken(ctx, "sess_unknown")
	assert.ErrorIs(t, err, session.ErrInvalidToken)
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.ErrorIs(t, err, ErrInactive)

	t.Run("session middleware", func(t *testing.T) {
		h := session.Middleware(v, session.MiddlewareConfig{SkipCookie: true})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, ok := session.FromContext(r.Context())
			if !ok || s.Subject != "alice" {
				w.WriteHeader(http.StatusTeapot)
			}
		}))
		assert.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
		assert.Equal(t, http.StatusUnauthorized, serve(h, bearerRequest("sess_unknown")).Code)

		env.http.Close()
		assert.Equal(t, http.StatusServiceUnavailable, serve(h, bearerRequest(token)).Code)
	})
}

func TestValidatorUnavailableIsNotInvalidToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	v, err := NewValidator(ClientConfig{Endpoint: srv.URL, ClientID: "svc", ClientSecret: "s"})
	require.NoError(t, err)
	_, err = v.ValidateToken(context.Background(), "tok")
	assert.ErrorIs(t, err, ErrUnavailable)
	assert.NotErrorIs(t, err, session.ErrInvalidToken)
}

func TestValidatorWithoutCacheCallsEveryTime(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	v, err := NewValidator(ClientConfig{Endpoint: env.http.URL + introspectPath, ClientID: plainID, ClientSecret: plainSecret, Now: env.clock.Now})
	require.NoError(t, err)
	for range 3 {
		_, err := v.ValidateToken(context.Background(), token)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 3, env.calls.Load())
}

func TestCachedValidator(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read write")
	v, err := NewCachedValidator(CachedValidatorConfig{
		Client: ClientConfig{Endpoint: env.http.URL + introspectPath, ClientID: plainID, ClientSecret: plainSecret, Now: env.clock.Now},
		Bus:    env.bus,
	})
	require.NoError(t, err)
	defer v.Close()
	ctx := context.Background()

	for range 5 {
		s, err := v.ValidateToken(ctx, token)
		require.NoError(t, err)
		assert.Equal(t, "alice", s.Subject)
		assert.Equal(t, []string{"read", "write"}, s.Scopes())
		s.Attributes["scope"] = "admin" // each caller gets its own Session
	}
	assert.EqualValues(t, 1, env.calls.Load(), "positive answers are cached")

	env.clock.Advance(DefaultValidatorMaxTTL)
	_, err = v.ValidateToken(ctx, token)
	require.NoError(t, err)
	assert.EqualValues(t, 2, env.calls.Load(), "entries end after DefaultValidatorMaxTTL")

	_, err = v.ValidateToken(ctx, "sess_unknown")
	assert.ErrorIs(t, err, session.ErrNotFound)
	_, err = v.ValidateToken(ctx, "sess_unknown")
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.EqualValues(t, 3, env.calls.Load(), "inactive answers are cached")

	resp, _ := postForm(t, env.http.URL+revokePath, url.Values{"token": {token}}, gatewayID, gatewaySecret, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = v.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrInvalidToken, "a revocation event evicts at once")
	assert.EqualValues(t, 3, env.calls.Load())

	v.Close()
	other := env.issue(t, "read")
	_, err = v.ValidateToken(ctx, other)
	require.NoError(t, err)
	require.NoError(t, env.bus.Publish(ctx, bearer.Digest(other)))
	_, err = v.ValidateToken(ctx, other)
	assert.NoError(t, err, "after Close the validator no longer hears the bus")
}

func TestCachedValidatorRejectsSharedCache(t *testing.T) {
	env := newTestEnv(t)
	cache := NewCache(CacheConfig{})
	g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.Cache = cache })
	require.NotNil(t, g)
	_, err := NewCachedValidator(CachedValidatorConfig{
		Client: ClientConfig{Endpoint: env.http.URL + introspectPath, ClientID: plainID, ClientSecret: plainSecret},
		Cache:  cache,
	})
	assert.ErrorContains(t, err, "another Client")
}
