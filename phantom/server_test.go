package phantom

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/internal/clocktest"
	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
)

// postForm sends a form to the env's endpoint with optional Basic
// credentials and extra headers.
func postForm(t *testing.T, endpoint string, form url.Values, user, pass string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestIntrospectionHandlerStatuses(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	endpoint := env.http.URL + introspectPath
	tokenForm := url.Values{"token": {token}}

	tests := []struct {
		name       string
		do         func() (*http.Response, []byte)
		wantStatus int
		wantError  string
		wantBody   string
	}{
		{
			name: "get method",
			do: func() (*http.Response, []byte) {
				resp, err := http.Get(endpoint)
				require.NoError(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, b
			},
			wantStatus: http.StatusMethodNotAllowed, wantError: "invalid_request",
		},
		{
			name: "json body",
			do: func() (*http.Response, []byte) {
				resp, err := http.Post(endpoint, "application/json", strings.NewReader(`{"token":"x"}`))
				require.NoError(t, err)
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, b
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_request",
		},
		{
			name: "missing token",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, url.Values{}, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_request",
		},
		{
			name: "repeated token",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, url.Values{"token": {token, token}}, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_request",
		},
		{
			name:       "no client credentials",
			do:         func() (*http.Response, []byte) { return postForm(t, endpoint, tokenForm, "", "", nil) },
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "wrong secret",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, tokenForm, gatewayID, "wrong-secret-0123456789", nil)
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "unknown client",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, tokenForm, "stranger", gatewaySecret, nil)
			},
			wantStatus: http.StatusUnauthorized, wantError: "invalid_client",
		},
		{
			name: "two auth methods",
			do: func() (*http.Response, []byte) {
				f := url.Values{"token": {token}, "client_id": {gatewayID}, "client_secret": {gatewaySecret}}
				return postForm(t, endpoint, f, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusBadRequest, wantError: "invalid_request",
		},
		{
			name: "oversized body",
			do: func() (*http.Response, []byte) {
				f := url.Values{"token": {strings.Repeat("a", DefaultMaxBodySize+1)}}
				return postForm(t, endpoint, f, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusRequestEntityTooLarge, wantError: "invalid_request",
		},
		{
			name: "unknown token",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, url.Values{"token": {"sess_unknown"}}, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusOK, wantBody: `{"active":false}`,
		},
		{
			name: "malformed token characters",
			do: func() (*http.Response, []byte) {
				return postForm(t, endpoint, url.Values{"token": {"a b&c"}}, gatewayID, gatewaySecret, nil)
			},
			wantStatus: http.StatusOK, wantBody: `{"active":false}`,
		},
		{
			name: "client secret post",
			do: func() (*http.Response, []byte) {
				f := url.Values{"token": {token}, "client_id": {plainID}, "client_secret": {plainSecret}}
				return postForm(t, endpoint, f, "", "", nil)
			},
			wantStatus: http.StatusOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.do()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			if tc.wantError != "" {
				var e oauthErrorBody
				require.NoError(t, json.Unmarshal(body, &e), string(body))
				assert.Equal(t, tc.wantError, e.Error)
			}
			if tc.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, `Basic realm="phantom"`, resp.Header.Get("WWW-Authenticate"))
			}
			if tc.wantBody != "" {
				assert.JSONEq(t, tc.wantBody, string(body))
			}
		})
	}
}

func TestIntrospectionReferenceExchange(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read write")

	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	resp, body := postForm(t, env.http.URL+introspectPath, form, gatewayID, gatewaySecret, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	var answer map[string]any
	require.NoError(t, json.Unmarshal(body, &answer))
	assert.Equal(t, true, answer["active"])
	assert.Equal(t, "read write", answer["scope"])
	assert.Equal(t, "alice", answer["sub"])
	assert.Equal(t, "web-app", answer["client_id"])
	assert.Equal(t, "Bearer", answer["token_type"])
	assert.EqualValues(t, env.clock.Now().Unix(), answer["iat"])
	assert.EqualValues(t, env.clock.Now().Add(session.DefaultIdleTimeout).Unix(), answer["exp"])

	jwt, ok := answer["jwt"].(string)
	require.True(t, ok, "answer has no jwt member")
	claims, err := env.verifier.Verify(context.Background(), jwt)
	require.NoError(t, err)
	assert.Equal(t, "alice", claims.Subject)
	assert.Equal(t, []string{"read", "write"}, claims.Scopes())
	var name, azp, sid string
	require.NoError(t, claims.Get("name", &name))
	require.NoError(t, claims.Get("azp", &azp))
	require.NoError(t, claims.Get("sid", &sid))
	assert.Equal(t, "Alice", name)
	assert.Equal(t, "web-app", azp)
	assert.NotEmpty(t, sid)
	assert.Equal(t, env.clock.Now().Add(DefaultJWTLifetime), claims.ExpiresAt)
}

func TestIntrospectionPlainClientGetsNoJWT(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	resp, body := postForm(t, env.http.URL+introspectPath, url.Values{"token": {token}}, plainID, plainSecret, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var answer map[string]any
	require.NoError(t, json.Unmarshal(body, &answer))
	assert.Equal(t, true, answer["active"])
	assert.NotContains(t, answer, "jwt")
}

func TestJWTNeverOutlivesSession(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	token := env.issue(t, "read")
	// Let the absolute lifetime run down to two minutes, touching the
	// session so the idle timeout does not end it first.
	remaining := session.DefaultLifetime - 2*time.Minute
	for remaining > 0 {
		step := min(remaining, 20*time.Minute)
		env.clock.Advance(step)
		remaining -= step
		_, err := env.manager.ValidateToken(ctx, token)
		require.NoError(t, err)
	}
	in, err := env.newClient(t).Introspect(ctx, token, nil)
	require.NoError(t, err)
	require.NotNil(t, in.JWTClaims)
	assert.False(t, in.JWTClaims.ExpiresAt.After(in.ExpiresAt), "jwt exp %v after token exp %v", in.JWTClaims.ExpiresAt, in.ExpiresAt)
	assert.True(t, in.JWTClaims.ExpiresAt.Before(env.clock.Now().Add(DefaultJWTLifetime)))
}

func TestBasicCredentialsURLEncoded(t *testing.T) {
	const id = "gw:1 ü%"
	const secret = "s%cr:t+/=&ü 0123456789"
	env := newTestEnv(t, func(cfg *ServerConfig) {
		c, err := NewRegisteredClient(id, secret)
		require.NoError(t, err)
		cfg.Clients = append(cfg.Clients, c)
	})
	token := env.issue(t, "read")
	for _, method := range []string{AuthSecretBasic, AuthSecretPost} {
		t.Run(method, func(t *testing.T) {
			c := env.newClient(t, func(cfg *ClientConfig) {
				cfg.ClientID, cfg.ClientSecret, cfg.AuthMethod = id, secret, method
			})
			in, err := c.Introspect(context.Background(), token, nil)
			require.NoError(t, err)
			assert.True(t, in.Active)
		})
	}
}

// recordingStore is a SessionStore that answers active for one token and
// records every token it is asked about.
type recordingStore struct {
	mu     sync.Mutex
	active string
	seen   []string
	err    error
}

func (s *recordingStore) ValidateToken(_ context.Context, token string) (*session.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, token)
	if s.err != nil {
		return nil, s.err
	}
	if token != s.active {
		return nil, session.ErrNotFound
	}
	now := time.Now()
	return &session.Session{ID: "sid-1", Subject: "bob", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}, nil
}

func (s *recordingStore) Revoke(_ context.Context, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, token)
	return s.err
}

func TestTokenRoundTripsByteExact(t *testing.T) {
	token := "a+b&c=d%20e/" + strings.Repeat("x", 4096) + "=="
	store := &recordingStore{active: token}
	env := newTestEnv(t, func(cfg *ServerConfig) { cfg.Sessions = store })
	env.clock = clocktest.New(time.Now())

	c := env.newClient(t, func(cfg *ClientConfig) { cfg.Verifier = nil; cfg.Now = nil })
	in, err := c.Introspect(context.Background(), token, nil)
	require.NoError(t, err)
	assert.True(t, in.Active)
	require.Len(t, store.seen, 1)
	assert.Equal(t, token, store.seen[0])
}

func TestIntrospectionStoreFailure(t *testing.T) {
	store := &recordingStore{err: errors.New("connection refused")}
	env := newTestEnv(t, func(cfg *ServerConfig) { cfg.Sessions = store })
	resp, body := postForm(t, env.http.URL+introspectPath, url.Values{"token": {"x"}}, gatewayID, gatewaySecret, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.NotContains(t, string(body), "connection refused")
}

func TestIntrospectionJWTResponse(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read write")
	header := http.Header{"Accept": {MediaTypeJWTIntrospection}}
	resp, body := postForm(t, env.http.URL+introspectPath, url.Values{"token": {token}}, gatewayID, gatewaySecret, header)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, MediaTypeJWTIntrospection, resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	v, err := jwtutil.NewVerifier(jwtutil.Config{
		Keys: env.ring, Issuer: testIssuer, Audience: []string{gatewayID},
		Type: "token-introspection+jwt", Now: env.clock.Now,
	})
	require.NoError(t, err)
	claims, err := v.Verify(context.Background(), string(body))
	require.NoError(t, err)
	assert.Equal(t, []string{gatewayID}, claims.Audience)
	assert.Equal(t, env.clock.Now(), claims.IssuedAt)
	var inner map[string]any
	require.NoError(t, claims.Get("token_introspection", &inner))
	assert.Equal(t, true, inner["active"])
	assert.Equal(t, "read write", inner["scope"])

	t.Run("client", func(t *testing.T) {
		c := env.newClient(t, func(cfg *ClientConfig) {
			cfg.JWTResponse = &JWTResponseConfig{Keys: env.ring, Issuer: testIssuer}
		})
		in, err := c.Introspect(context.Background(), token, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"read", "write"}, in.Scopes)
		assert.NotEmpty(t, in.JWT)
	})
	t.Run("client with wrong audience", func(t *testing.T) {
		c := env.newClient(t, func(cfg *ClientConfig) {
			cfg.JWTResponse = &JWTResponseConfig{Keys: env.ring, Issuer: testIssuer}
		})
		// Another client's signed answer must not be accepted.
		c.clientID = "someone-else"
		_, err := c.Introspect(context.Background(), token, nil)
		assert.ErrorIs(t, err, ErrUnavailable)
	})
	t.Run("client with foreign keys", func(t *testing.T) {
		other, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
		require.NoError(t, err)
		c := env.newClient(t, func(cfg *ClientConfig) {
			cfg.JWTResponse = &JWTResponseConfig{Keys: other, Issuer: testIssuer}
		})
		_, err = c.Introspect(context.Background(), token, nil)
		assert.ErrorIs(t, err, ErrUnavailable)
	})
}

type failingMinter struct{ err error }

func (m failingMinter) MintJWT(context.Context, *session.Session, string, url.Values) (string, error) {
	return "", m.err
}

// longMinter mints a JWT that outlives any session.
type longMinter struct{ signer *jwtutil.Signer }

func (m longMinter) MintJWT(_ context.Context, s *session.Session, _ string, _ url.Values) (string, error) {
	return m.signer.Sign(map[string]any{"sub": s.Subject, "exp": s.ExpiresAt.Add(time.Hour).Unix()})
}

func TestIntrospectionMinterErrors(t *testing.T) {
	tests := []struct {
		name       string
		minter     func(env *testEnv) Minter
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"oauth error", func(*testEnv) Minter {
			return failingMinter{&OAuthError{Code: "invalid_request", Description: "missing operation"}}
		}, nil, http.StatusBadRequest, "invalid_request"},
		{"insufficient scope", func(*testEnv) Minter {
			return failingMinter{&OAuthError{Code: "insufficient_scope", Description: "needs payments", Scope: "payments"}}
		}, nil, http.StatusForbidden, "insufficient_scope"},
		{"insufficient scope wrapped", func(*testEnv) Minter {
			return failingMinter{fmt.Errorf("minter: %w", &OAuthError{Code: "insufficient_scope", Scope: "payments"})}
		}, nil, http.StatusForbidden, "insufficient_scope"},
		{"internal error", func(*testEnv) Minter { return failingMinter{errors.New("hsm offline")} }, nil, http.StatusInternalServerError, "server_error"},
		{"jwt outlives session", func(env *testEnv) Minter { return longMinter{env.signer} }, nil, http.StatusInternalServerError, "server_error"},
		{"default minter rejects params", func(env *testEnv) Minter {
			m, _ := NewJWTMinter(JWTMinterConfig{Signer: env.signer, Now: env.clock.Now})
			return m
		}, url.Values{"operation": {"pay"}}, http.StatusBadRequest, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := newTestEnv(t)
			env := newTestEnv(t, func(cfg *ServerConfig) {
				cfg.Sessions = base.manager
				cfg.Minter = tc.minter(base)
			})
			token := base.issue(t, "read")
			form := url.Values{"token": {token}}
			for k, v := range tc.form {
				form[k] = v
			}
			resp, body := postForm(t, env.http.URL+introspectPath, form, gatewayID, gatewaySecret, nil)
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			var e oauthErrorBody
			require.NoError(t, json.Unmarshal(body, &e))
			assert.Equal(t, tc.wantError, e.Error)
			if tc.wantError == "insufficient_scope" {
				assert.Equal(t, "payments", e.Scope)
			} else {
				assert.Empty(t, e.Scope, "scope member outside insufficient_scope")
			}
			assert.NotContains(t, string(body), "hsm")
		})
	}
}

func TestRevocationHandler(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	token := env.issue(t, "read")
	var events []RevocationEvent
	unsubscribe := env.bus.Subscribe(func(ev RevocationEvent) { events = append(events, ev) })
	defer unsubscribe()

	resp, _ := postForm(t, env.http.URL+revokePath, url.Values{"token": {token}, "token_type_hint": {"access_token"}}, "web-app-not-registered", "x", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "unauthenticated revocation")

	resp, _ = postForm(t, env.http.URL+revokePath, url.Values{"token": {token}}, gatewayID, gatewaySecret, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	_, err := env.manager.ValidateToken(ctx, token)
	assert.ErrorIs(t, err, session.ErrInvalidToken)
	require.Len(t, events, 1)
	assert.Equal(t, bearer.Digest(token), events[0].Digest)

	resp, _ = postForm(t, env.http.URL+revokePath, url.Values{"token": {"sess_never_issued"}}, gatewayID, gatewaySecret, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "unknown token")

	resp, _ = postForm(t, env.http.URL+revokePath, url.Values{}, gatewayID, gatewaySecret, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "missing token")
}

func TestRevocationOtherClientsToken(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	resp, body := postForm(t, env.http.URL+revokePath, url.Values{"token": {token}}, plainID, plainSecret, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), "unauthorized_client")
	_, err := env.manager.ValidateToken(context.Background(), token)
	assert.NoError(t, err, "token of another client was revoked")
}

func TestRevocationStoreFailure(t *testing.T) {
	store := &recordingStore{err: errors.New("redis down")}
	env := newTestEnv(t, func(cfg *ServerConfig) { cfg.Sessions = store })
	resp, _ := postForm(t, env.http.URL+revokePath, url.Values{"token": {"x"}}, gatewayID, gatewaySecret, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestNewServerConfigErrors(t *testing.T) {
	env := newTestEnv(t)
	gw := RegisteredClient{ID: "gw", SecretHash: HashSecret(gatewaySecret), AllowJWT: true}
	tests := []struct {
		name string
		cfg  ServerConfig
	}{
		{"no sessions", ServerConfig{Clients: []RegisteredClient{gw}}},
		{"no clients", ServerConfig{Sessions: env.manager}},
		{"allow jwt without minter", ServerConfig{Sessions: env.manager, Clients: []RegisteredClient{gw}}},
		{"duplicate client", ServerConfig{Sessions: env.manager, Clients: []RegisteredClient{{ID: "a", SecretHash: gw.SecretHash}, {ID: "a", SecretHash: gw.SecretHash}}}},
		{"client without hash", ServerConfig{Sessions: env.manager, Clients: []RegisteredClient{{ID: "a"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewServer(tc.cfg)
			assert.Error(t, err)
		})
	}
}

func TestRegisteredClientConstructors(t *testing.T) {
	_, err := NewRegisteredClient("gw", "short")
	assert.Error(t, err)

	c, err := NewRegisteredClient("gw", gatewaySecret)
	require.NoError(t, err)
	h, err := ParseSecretHash("4c1b7f7f8b2f0a8e1a3a1b0b7a2d2c4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c")
	require.NoError(t, err)
	assert.NotEqual(t, c.SecretHash, h)

	sum := HashSecret(gatewaySecret)
	parsed, err := ParseSecretHash(strings.ToUpper(hexString(sum[:])))
	require.NoError(t, err)
	assert.Equal(t, c.SecretHash, parsed)

	_, err = ParseSecretHash("abc")
	assert.Error(t, err)
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestUnverifiedExpiry(t *testing.T) {
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1700000000}`))
	exp, err := unverifiedExpiry("e30." + payload + ".sig")
	require.NoError(t, err)
	assert.Equal(t, int64(1700000000), exp)
	_, err = unverifiedExpiry("e30.e30.sig")
	assert.Error(t, err)
}
