package phantom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
