package phantom

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGatewayRequiresJWT checks that an active answer without a "jwt"
// member, as a gateway registered without AllowJWT gets, is the servers'
// fault and never reaches the upstream with an empty credential.
func TestGatewayRequiresJWT(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t, func(cfg *GatewayConfig) {
		cfg.Client = env.newClient(t, func(c *ClientConfig) { c.ClientID, c.ClientSecret = plainID, plainSecret })
	})
	upstream := &echoUpstream{}
	rec := serve(g.Middleware()(upstream), bearerRequest(token))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Nil(t, upstream.last(), "the upstream was called")
	assert.Zero(t, g.Cache().Len(), "an answer without a JWT was cached")
}

// TestGatewayDropsLookalikeForwardHeaders checks that a client cannot
// smuggle its own JWT in a header that some upstream stacks read as the
// forward header, such as X-Internal_JWT for X-Internal-JWT.
func TestGatewayDropsLookalikeForwardHeaders(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	for _, fh := range []string{"Authorization", "X-Internal-JWT"} {
		t.Run(fh, func(t *testing.T) {
			g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.ForwardHeader = fh })
			upstream := &echoUpstream{}
			r := bearerRequest(token)
			if under := strings.ReplaceAll(fh, "-", "_"); under != fh {
				r.Header[under] = []string{"forged"}
			}
			// Keys an upstream may read as the forward header or as
			// Authorization, in spellings the gateway's own Set misses.
			r.Header[strings.ToLower(fh)] = []string{"forged"}
			r.Header["authorization"] = []string{"forged"}
			if fh != "Authorization" {
				r.Header["X_internal_jwt"] = []string{"forged"}
				r.Header["X-Internal-Jwt"] = []string{"forged"}
			}
			rec := serve(g.Middleware()(upstream), r)
			require.Equal(t, http.StatusOK, rec.Code)
			for name, values := range upstream.last() {
				for _, v := range values {
					assert.NotEqual(t, "forged", v, "header %s reached the upstream", name)
				}
			}
		})
	}
}

func TestClientRejectsInconsistentJWT(t *testing.T) {
	env := newTestEnv(t)
	exp := env.clock.Now().Add(time.Hour)
	jwtFor := func(sub string, jexp time.Time) string {
		s, err := env.signer.Sign(map[string]any{"sub": sub, "exp": jexp.Unix()})
		require.NoError(t, err)
		return s
	}
	tests := []struct {
		name string
		body string
		want string
	}{
		{"same subject", fmt.Sprintf(`{"active":true,"sub":"alice","exp":%d,"jwt":%q}`, exp.Unix(), jwtFor("alice", exp.Add(-time.Minute))), "ok"},
		{"other subject", fmt.Sprintf(`{"active":true,"sub":"alice","exp":%d,"jwt":%q}`, exp.Unix(), jwtFor("mallory", exp.Add(-time.Minute))), "unavailable"},
		{"jwt outlives token", fmt.Sprintf(`{"active":true,"sub":"alice","exp":%d,"jwt":%q}`, exp.Unix(), jwtFor("alice", exp.Add(time.Minute))), "unavailable"},
		{"escaped duplicate active", `{"active":false,"\u0061ctive":true}`, "unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := env.newClient(t, func(cfg *ClientConfig) { cfg.Endpoint = srv.URL })
			_, err := c.Introspect(context.Background(), "tok", nil)
			assert.Equal(t, tc.want, outcome(t, err), "error: %v", err)
		})
	}
}

func TestIntrospectionFormAttacks(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	endpoint := env.http.URL + introspectPath
	post := func(target, ctype, body string, basic bool) int {
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		if basic {
			req.SetBasicAuth(gatewayID, gatewaySecret)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	assert.Equal(t, 400, post(endpoint+"?token="+url.QueryEscape(token), form, "", true), "token in query")
	assert.Equal(t, 400, post(endpoint, form, "token=a&token="+url.QueryEscape(token), true), "duplicate token")
	assert.Equal(t, 400, post(endpoint, "application/json", `{"token":"x"}`, true), "json body")
	assert.Equal(t, 400, post(endpoint, form, "token=a;b", true), "semicolon")
	assert.Equal(t, 400, post(endpoint, form, "token="+url.QueryEscape(token)+"&client_secret="+gatewaySecret, true), "basic and post")
	assert.Equal(t, 401, post(endpoint, form, "token="+url.QueryEscape(token)+"&client_id="+gatewayID+"&client_secret=", false), "empty secret")
	assert.Equal(t, 401, post(endpoint, form, "token="+url.QueryEscape(token)+"&client_id="+gatewayID, false), "no secret")
	assert.Equal(t, 200, post(endpoint, form, "token="+url.QueryEscape(token)+"&client_id="+gatewayID+"&client_secret="+gatewaySecret, false), "post")

	// Chunked body over the cap.
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, "token=")
		_, _ = io.WriteString(pw, strings.Repeat("a", DefaultMaxBodySize+10))
		_ = pw.Close()
	}()
	req, err := http.NewRequest(http.MethodPost, endpoint, pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", form)
	req.ContentLength = -1 // chunked
	req.SetBasicAuth(gatewayID, gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

// TestGatewayLeaderCancelled checks that waiters still get the answer
// when the request that started the shared introspection call goes away.
func TestGatewayLeaderCancelled(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	hook := func() {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
	}
	env.hook.Store(&hook)

	ctx, cancel := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := g.Exchange(ctx, token, nil)
		leaderErr <- err
	}()
	<-entered
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = g.Exchange(context.Background(), token, nil)
		}()
	}
	cancel()
	assert.ErrorIs(t, <-leaderErr, context.Canceled)
	close(release)
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 1, env.calls.Load())
}

func TestReverseProxyLeaks(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	var mu sync.Mutex
	var seen *http.Request
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Clone(context.Background())
		mu.Unlock()
	}))
	defer backend.Close()
	target, _ := url.Parse(backend.URL)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() }}
	g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.CookieName = "sid"; cfg.ForwardHeader = "X-Internal-JWT" })
	front := httptest.NewServer(g.Middleware()(proxy))
	defer front.Close()

	req, _ := http.NewRequest(http.MethodGet, front.URL+"/orders", nil)
	req.Header.Add("Cookie", "a=1; sid="+token)
	req.Header.Add("Cookie", "sid="+token+"; b=2")
	req.Header.Set("X-Internal-JWT", "forged")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	mu.Lock()
	defer mu.Unlock()
	for name, values := range seen.Header {
		for _, v := range values {
			assert.NotContains(t, v, token, name)
			assert.NotEqual(t, "forged", v, name)
		}
	}
	assert.Equal(t, "a=1; b=2", seen.Header.Get("Cookie"))
	assert.Empty(t, seen.Header.Get("Authorization"))
}

// TestCacheServesOneClient checks that a cache filled through one Client
// (its Audience, its Verifier) cannot answer for a gateway whose Client
// would have rejected the answer.
func TestCacheServesOneClient(t *testing.T) {
	env := newTestEnv(t)
	cache := NewCache(CacheConfig{Now: env.clock.Now})
	a := env.newClient(t)
	_, err := NewGateway(GatewayConfig{Client: a, Cache: cache})
	require.NoError(t, err)
	_, err = NewGateway(GatewayConfig{Client: a, Cache: cache})
	assert.NoError(t, err, "gateways sharing one Client may share its cache")
	_, err = NewGateway(GatewayConfig{Client: env.newClient(t, func(c *ClientConfig) { c.Audience = "other" }), Cache: cache})
	assert.ErrorContains(t, err, "another Client")
}
