package phantom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome names which sentinel an error matches, and fails the test when
// it matches more than one.
func outcome(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return "ok"
	}
	var ie *IntrospectionError
	require.True(t, errors.As(err, &ie), "error %v is not an *IntrospectionError", err)
	var names []string
	for _, s := range []struct {
		name string
		err  error
	}{{"inactive", ErrInactive}, {"unavailable", ErrUnavailable}, {"rejected", ErrExchangeRejected}} {
		if errors.Is(err, s.err) {
			names = append(names, s.name)
		}
	}
	require.Len(t, names, 1, "error %v matches %v", err, names)
	return names[0]
}

func TestClientOutcomes(t *testing.T) {
	env := newTestEnv(t)
	exp := env.clock.Now().Add(time.Hour).Unix()
	bigJWT, err := env.signer.Sign(map[string]any{"sub": "alice", "pad": strings.Repeat("p", 20<<10)})
	require.NoError(t, err)
	goodJWT, err := env.signer.Sign(map[string]any{"sub": "alice"})
	require.NoError(t, err)

	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		config  func(*ClientConfig)
		want    string
		check   func(t *testing.T, in *Introspection, err error)
	}{
		{name: "invalid client", handler: jsonAnswer(401, `{"error":"invalid_client"}`), want: "unavailable",
			check: func(t *testing.T, _ *Introspection, err error) {
				var ie *IntrospectionError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, 401, ie.StatusCode)
				assert.Equal(t, "invalid_client", ie.ErrorCode)
			}},
		{name: "empty object", handler: jsonAnswer(200, `{}`), want: "unavailable"},
		{name: "active as string", handler: jsonAnswer(200, `{"active":"true"}`), want: "unavailable"},
		{name: "duplicate active", handler: jsonAnswer(200, `{"active":false,"active":true}`), want: "unavailable"},
		{name: "inactive", handler: jsonAnswer(200, `{"active":false,"sub":"alice"}`), want: "inactive"},
		{name: "exp zero", handler: jsonAnswer(200, `{"active":true,"exp":0}`), want: "inactive"},
		{name: "exp float", handler: jsonAnswer(200, fmt.Sprintf(`{"active":true,"exp":%d.5}`, exp)), want: "unavailable"},
		{name: "no exp", handler: jsonAnswer(200, `{"active":true,"sub":"alice","scope":"read"}`), want: "ok",
			check: func(t *testing.T, in *Introspection, _ error) {
				assert.True(t, in.ExpiresAt.IsZero())
				assert.Equal(t, "alice", in.Subject)
			}},
		{name: "scope array", handler: jsonAnswer(200, `{"active":true,"scope":["read","write"]}`), want: "unavailable"},
		{name: "scope array allowed", handler: jsonAnswer(200, `{"active":true,"scope":["read","write"]}`),
			config: func(c *ClientConfig) { c.AllowScopeArray = true }, want: "ok",
			check: func(t *testing.T, in *Introspection, _ error) {
				assert.Equal(t, []string{"read", "write"}, in.Scopes)
			}},
		{name: "scope two spaces", handler: jsonAnswer(200, `{"active":true,"scope":"read  write"}`), want: "unavailable"},
		{name: "audience missing", handler: jsonAnswer(200, `{"active":true,"aud":["other"]}`),
			config: func(c *ClientConfig) { c.Audience = "api" }, want: "inactive"},
		{name: "audience as string", handler: jsonAnswer(200, `{"active":true,"aud":"api"}`),
			config: func(c *ClientConfig) { c.Audience = "api" }, want: "ok"},
		{name: "20 KiB jwt", handler: jsonAnswer(200, `{"active":true,"jwt":"`+bigJWT+`"}`), want: "unavailable"},
		{name: "valid jwt", handler: jsonAnswer(200, `{"active":true,"jwt":"`+goodJWT+`"}`), want: "ok",
			check: func(t *testing.T, in *Introspection, _ error) {
				assert.Equal(t, goodJWT, in.JWT)
				require.NotNil(t, in.JWTClaims)
				assert.Equal(t, "alice", in.JWTClaims.Subject)
			}},
		{name: "forged jwt", handler: jsonAnswer(200, `{"active":true,"jwt":"`+goodJWT[:len(goodJWT)-4]+`AAAA"}`), want: "unavailable"},
		{name: "jwt without verifier", handler: jsonAnswer(200, `{"active":true,"jwt":"x.y.z"}`),
			config: func(c *ClientConfig) { c.Verifier = nil }, want: "ok",
			check: func(t *testing.T, in *Introspection, _ error) { assert.Empty(t, in.JWT) }},
		{name: "server error", handler: jsonAnswer(500, `oops`), want: "unavailable"},
		{name: "not json", handler: jsonAnswer(200, `<html>`), want: "unavailable"},
		{name: "trailing data", handler: jsonAnswer(200, `{"active":false} {}`), want: "unavailable"},
		{name: "html content type", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `{"active":true}`)
		}, want: "unavailable"},
		{name: "oversized answer", handler: jsonAnswer(200, `{"active":false,"pad":"`+strings.Repeat("p", DefaultMaxResponseSize)+`"}`), want: "unavailable"},
		{name: "redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusTemporaryRedirect)
		}, want: "unavailable"},
		{name: "never answers", handler: func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server notice the client hang up.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, config: func(c *ClientConfig) { c.Timeout = 100 * time.Millisecond }, want: "unavailable",
			check: func(t *testing.T, _ *Introspection, err error) {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			cfg := env.clientConfig()
			cfg.Endpoint = srv.URL
			if tc.config != nil {
				tc.config(&cfg)
			}
			c, err := NewClient(cfg)
			require.NoError(t, err)
			start := time.Now()
			in, err := c.Introspect(context.Background(), "opaque-token", nil)
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.Equal(t, tc.want, outcome(t, err), "error: %v", err)
			if tc.want == "ok" {
				require.NotNil(t, in)
			}
			if tc.check != nil {
				tc.check(t, in, err)
			}
		})
	}
}

func TestClientSendsFormEncodedToken(t *testing.T) {
	const token = "a+b&c=d/e="
	var gotToken, gotHint, gotUser, gotPass, gotOp, gotContentType string
	var gotBasic bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		gotToken, gotHint, gotOp = r.PostForm.Get("token"), r.PostForm.Get("token_type_hint"), r.PostForm.Get("operation")
		gotContentType = r.Header.Get("Content-Type")
		gotUser, gotPass, gotBasic = r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active":false}`)
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{Endpoint: srv.URL, ClientID: "gw:1", ClientSecret: "p%ss"})
	require.NoError(t, err)
	// A parameter named "token" must not override the token itself.
	_, err = c.Introspect(context.Background(), token, map[string][]string{"operation": {"pay"}, "token": {"evil"}})
	assert.ErrorIs(t, err, ErrInactive)
	assert.Equal(t, token, gotToken)
	assert.Equal(t, "access_token", gotHint)
	assert.Equal(t, "pay", gotOp)
	assert.Equal(t, "application/x-www-form-urlencoded", gotContentType)
	require.True(t, gotBasic)
	assert.Equal(t, "gw%3A1", gotUser)
	assert.Equal(t, "p%25ss", gotPass)
}

func TestClientExchangeRejected(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "unknown operation")
	}))
	defer srv.Close()
	c, err := NewClient(ClientConfig{Endpoint: srv.URL, ClientID: "gw", ClientSecret: "s"})
	require.NoError(t, err)

	_, err = c.Introspect(context.Background(), "t", map[string][]string{"operation": {"x"}})
	assert.Equal(t, "rejected", outcome(t, err))
	var ie *IntrospectionError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "unknown operation", ie.ErrorDescription)

	// Without parameters a 400 is this gateway's bug, not the user's.
	_, err = c.Introspect(context.Background(), "t", nil)
	assert.Equal(t, "unavailable", outcome(t, err))
}

func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close()
	c, err := NewClient(ClientConfig{Endpoint: endpoint, ClientID: "gw", ClientSecret: "s"})
	require.NoError(t, err)
	_, err = c.Introspect(context.Background(), "t", nil)
	assert.Equal(t, "unavailable", outcome(t, err))
	assert.NotContains(t, err.Error(), "\"t\"")
}

func TestNewClientConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ClientConfig
	}{
		{"no endpoint", ClientConfig{ClientID: "a", ClientSecret: "b"}},
		{"relative endpoint", ClientConfig{Endpoint: "/introspect", ClientID: "a", ClientSecret: "b"}},
		{"http to remote host", ClientConfig{Endpoint: "http://auth.example/introspect", ClientID: "a", ClientSecret: "b"}},
		{"ftp endpoint", ClientConfig{Endpoint: "ftp://127.0.0.1/x", ClientID: "a", ClientSecret: "b"}},
		{"no client id", ClientConfig{Endpoint: "https://auth.example/i", ClientSecret: "b"}},
		{"unknown auth method", ClientConfig{Endpoint: "https://auth.example/i", ClientID: "a", ClientSecret: "b", AuthMethod: "private_key_jwt"}},
		{"jwt response without keys", ClientConfig{Endpoint: "https://auth.example/i", ClientID: "a", ClientSecret: "b", JWTResponse: &JWTResponseConfig{Issuer: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.cfg)
			assert.Error(t, err)
		})
	}
	_, err := NewClient(ClientConfig{Endpoint: "http://auth.example/introspect", ClientID: "a", ClientSecret: "b", InsecureAllowHTTP: true})
	assert.NoError(t, err)
	_, err = NewClient(ClientConfig{Endpoint: "http://[::1]:8080/introspect", ClientID: "a", ClientSecret: "b"})
	assert.NoError(t, err)
}
