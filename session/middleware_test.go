package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

// stubValidator returns fixed results, so the middleware can be tested
// apart from any store; it records the token it was asked about.
type stubValidator struct {
	session *session.Session
	err     error
	calls   int
	token   string
}

func (v *stubValidator) ValidateToken(_ context.Context, token string) (*session.Session, error) {
	v.calls++
	v.token = token
	return v.session, v.err
}

// whoami writes the subject of the session in the request context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s, ok := session.FromContext(r.Context())
	if !ok {
		http.Error(w, "no session in context", http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, s.Subject)
})

func TestMiddlewareStatuses(t *testing.T) {
	ctx := context.Background()
	m, clock := newTestManager(t, session.ManagerConfig{IdleTimeout: 10 * 60e9})
	good, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	revoked, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	require.NoError(t, m.Revoke(ctx, revoked))
	unknown, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	expiring, _, err := m.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	_ = clock

	cases := []struct {
		name      string
		headers   []string
		cookies   []string
		status    int
		challenge string
	}{
		{name: "bearer header", headers: []string{"Bearer " + good}, status: 200},
		{name: "lowercase scheme", headers: []string{"bearer " + good}, status: 200},
		{name: "cookie", cookies: []string{good}, status: 200},
		{name: "same token in both", headers: []string{"Bearer " + good}, cookies: []string{good}, status: 200},
		{name: "Basic header with cookie", headers: []string{"Basic YTpi"}, cookies: []string{good}, status: 200},
		{name: "missing", status: 401, challenge: `Bearer realm="api"`},
		{name: "Basic header only", headers: []string{"Basic YTpi"}, status: 401, challenge: `Bearer realm="api"`},
		{name: "malformed token", headers: []string{"Bearer " + good[:len(good)-1]}, status: 401, challenge: `error="invalid_token"`},
		{name: "malformed cookie", cookies: []string{"sess_short"}, status: 401, challenge: `error="invalid_token"`},
		{name: "unknown token", headers: []string{"Bearer " + unknown}, status: 401, challenge: `error="invalid_token"`},
		{name: "revoked token", headers: []string{"Bearer " + revoked}, status: 401, challenge: `error="invalid_token"`},
		{name: "two Authorization headers", headers: []string{"Bearer " + good, "Bearer " + good}, status: 400, challenge: `error="invalid_request"`},
		{name: "bad header syntax", headers: []string{"Bearer  " + good}, status: 400, challenge: `error="invalid_request"`},
		{name: "header and cookie differ", headers: []string{"Bearer " + good}, cookies: []string{unknown}, status: 400, challenge: `error="invalid_request"`},
		{name: "two different cookies", cookies: []string{good, unknown}, status: 400, challenge: `error="invalid_request"`},
	}
	handler := session.Middleware(m, session.MiddlewareConfig{Realm: "api"})(whoami)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tc.headers {
				req.Header.Add("Authorization", h)
			}
			for _, c := range tc.cookies {
				req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: c})
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)

			assert.Equal(t, tc.status, rec.Code)
			if tc.status == 200 {
				assert.Equal(t, "alice", rec.Body.String())
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				return
			}
			challenge := rec.Header().Get("WWW-Authenticate")
			assert.True(t, strings.HasPrefix(challenge, "Bearer"), "challenge %q", challenge)
			assert.Contains(t, challenge, tc.challenge)
			assert.Contains(t, challenge, `realm="api"`)
			assert.NotContains(t, rec.Body.String(), good, "a response must never echo a token")
		})
	}

	t.Run("expired token", func(t *testing.T) {
		clock.Advance(10 * 60e9)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+expiring)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	})
}

func TestMiddlewareStoreFailure(t *testing.T) {
	store := &failingStore{err: errors.New("dial tcp 127.0.0.1:6379: connection refused")}
	m, err := session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	reached := false
	handler := session.Middleware(m, session.MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		reached = true
	}))

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.False(t, reached, "a store failure must never let the request through")
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "a store failure is not the token's fault")
	assert.NotContains(t, rec.Body.String(), "6379", "the body must not leak the cause")
}

func TestMiddlewareValidatorErrors(t *testing.T) {
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"malformed", session.ErrMalformed, 401},
		{"not found", session.ErrNotFound, 401},
		{"expired", session.ErrExpired, 401},
		{"revoked", session.ErrRevoked, 401},
		{"umbrella", session.ErrInvalidToken, 401},
		{"wrapped revoked", errors.Join(errors.New("remote"), session.ErrRevoked), 401},
		{"backend failure", errors.New("auth server timed out"), 503},
		{"context canceled", context.Canceled, 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := &stubValidator{err: tc.err}
			handler := session.Middleware(v, session.MiddlewareConfig{})(whoami)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, 1, v.calls)
		})
	}
}

func TestMiddlewareSkipCookie(t *testing.T) {
	v := &stubValidator{session: &session.Session{Subject: "alice"}}
	handler := session.Middleware(v, session.MiddlewareConfig{SkipCookie: true})(whoami)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: "sess_x"})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Zero(t, v.calls, "the cookie must be ignored")
}

func TestMiddlewareSkipHeader(t *testing.T) {
	v := &stubValidator{session: &session.Session{Subject: "alice"}}
	handler := session.Middleware(v, session.MiddlewareConfig{SkipHeader: true, CookieName: "__Host-sid"})(whoami)

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer from-header")
	req.AddCookie(&http.Cookie{Name: "__Host-sid", Value: "from-cookie"})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "from-cookie", v.token, "only the configured cookie is read")
}

func TestMiddlewareNilValidatorPanics(t *testing.T) {
	assert.Panics(t, func() { session.Middleware(nil, session.MiddlewareConfig{}) })
}

func TestMiddlewareNilSessionWithoutError(t *testing.T) {
	// A validator returning (nil, nil) is broken, so the request must not
	// reach the handler as if it had been authenticated.
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	reached := false
	v := &stubValidator{}
	handler := session.Middleware(v, session.MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		reached = true
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.False(t, reached, "a nil session must never let the request through")
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"), "the validator is at fault, not the token")
	assert.Equal(t, 1, v.calls)
}
