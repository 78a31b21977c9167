package jwtutil

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMiddleware(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	good := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","sub":"alice","exp":1700000300,"scope":"read"}`)
	expired := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","exp":1}`)
	other := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","sub":"mallory","exp":1700000300}`)

	h := v.Middleware(MiddlewareConfig{CookieName: "access_token", Realm: "api"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := FromContext(r.Context())
		require.True(t, ok)
		_, _ = w.Write([]byte(c.Subject))
	}))
	tests := []struct {
		name       string
		headers    []string
		cookie     string
		wantStatus int
		wantAuth   string // substring of WWW-Authenticate
		wantBody   string
	}{
		{name: "valid header", headers: []string{"Bearer " + good}, wantStatus: 200, wantBody: "alice"},
		{name: "scheme case-insensitive", headers: []string{"bEaReR " + good}, wantStatus: 200, wantBody: "alice"},
		{name: "valid cookie", cookie: good, wantStatus: 200, wantBody: "alice"},
		{name: "header and cookie agree", headers: []string{"Bearer " + good}, cookie: good, wantStatus: 200, wantBody: "alice"},
		{name: "header and cookie disagree", headers: []string{"Bearer " + good}, cookie: other, wantStatus: 400, wantAuth: `error="invalid_request"`},
		{name: "no credentials", wantStatus: 401, wantAuth: `Bearer realm="api"`},
		{name: "basic scheme", headers: []string{"Basic dXNlcjpwYXNz"}, wantStatus: 401, wantAuth: `Bearer realm="api"`},
		{name: "no space after Bearer", headers: []string{"Bearer" + good}, wantStatus: 400, wantAuth: `error="invalid_request"`},
		{name: "two headers", headers: []string{"Bearer " + good, "Bearer " + good}, wantStatus: 400, wantAuth: `error="invalid_request"`},
		{name: "expired", headers: []string{"Bearer " + expired}, wantStatus: 401, wantAuth: `error="invalid_token", error_description="the access token expired"`},
		{name: "garbage", headers: []string{"Bearer a.b.c"}, wantStatus: 401, wantAuth: `error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, hv := range tc.headers {
				req.Header.Add("Authorization", hv)
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "access_token", Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			assert.Equal(t, tc.wantStatus, w.Code)
			if tc.wantBody != "" {
				assert.Equal(t, tc.wantBody, w.Body.String())
			}
			if tc.wantAuth != "" {
				assert.Contains(t, w.Header().Get("WWW-Authenticate"), tc.wantAuth)
			}
			if tc.name == "no credentials" || tc.name == "basic scheme" {
				assert.NotContains(t, w.Header().Get("WWW-Authenticate"), "error=")
			}
			assert.NotContains(t, w.Body.String(), "jwtutil")
			assert.NotContains(t, w.Header().Get("WWW-Authenticate"), "jwtutil")
		})
	}
}

func TestMiddlewareKeysUnavailable(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	v.keys = &testKeySource{err: assert.AnError}
	h := v.Middleware(MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("handler ran")
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, goodClaims))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotContains(t, w.Body.String(), assert.AnError.Error())
}

func TestMiddlewareErrorHandler(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	var got error
	h := v.Middleware(MiddlewareConfig{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		got = err
		w.WriteHeader(http.StatusTeapot)
	}})(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer a.b.c")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, http.StatusTeapot, w.Code)
	assert.ErrorIs(t, got, ErrMalformed)
}

func TestRequireScope(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"scope":"orders:read profile"}`)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	serve := func(h http.Handler) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	mw := v.Middleware(MiddlewareConfig{})

	w := serve(mw(RequireScope("orders:read")(ok)))
	assert.Equal(t, http.StatusOK, w.Code)

	w = serve(mw(RequireScope("orders:read", "orders:write")(ok)))
	assert.Equal(t, http.StatusForbidden, w.Code)
	auth := w.Header().Get("WWW-Authenticate")
	assert.Contains(t, auth, `error="insufficient_scope"`)
	assert.Contains(t, auth, `scope="orders:read orders:write"`)

	// Without the verifying middleware in front, nothing is let through.
	w = serve(RequireScope("orders:read")(ok))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.False(t, strings.Contains(w.Body.String(), "ok"))
}
