package phantom

import (
	"context"
	"errors"
	"fmt"
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

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/session"
)

func TestGatewayForwardsJWT(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	g := env.newGateway(t)
	upstream := &echoUpstream{}
	h := g.Middleware("read")(upstream)

	rec := serve(h, bearerRequest(token))
	require.Equal(t, http.StatusOK, rec.Code)
	auth := upstream.last().Get("Authorization")
	require.True(t, strings.HasPrefix(auth, "Bearer "), auth)
	jwt := strings.TrimPrefix(auth, "Bearer ")
	assert.NotContains(t, auth, token)
	claims, err := env.verifier.Verify(context.Background(), jwt)
	require.NoError(t, err)
	assert.Equal(t, "alice", claims.Subject)
}

func TestGatewayBehindReverseProxy(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	upstream := &echoUpstream{}
	backend := httptest.NewServer(upstream)
	defer backend.Close()
	target, err := url.Parse(backend.URL)
	require.NoError(t, err)
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.CookieName = "__Host-session" })
	front := httptest.NewServer(g.Middleware()(proxy))
	defer front.Close()

	req, err := http.NewRequest(http.MethodGet, front.URL+"/orders", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
	req.AddCookie(&http.Cookie{Name: "__Host-session", Value: token})
	req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	got := upstream.last()
	assert.True(t, strings.HasPrefix(got.Get("Authorization"), "Bearer ey"), got.Get("Authorization"))
	assert.Equal(t, "theme=dark; lang=en", got.Get("Cookie"))
	for name, values := range got {
		for _, v := range values {
			assert.NotContains(t, v, token, "header %s carries the opaque token", name)
		}
	}
}

func TestGatewayCustomForwardHeader(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.ForwardHeader = "x-jwt" })
	upstream := &echoUpstream{}
	r := bearerRequest(token)
	r.Header.Set("X-Jwt", "spoofed")
	rec := serve(g.Middleware()(upstream), r)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, upstream.last().Get("Authorization"))
	assert.True(t, strings.HasPrefix(upstream.last().Get("X-Jwt"), "ey"))
	assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"), "the incoming request was modified")
}

func TestGatewayRejections(t *testing.T) {
	env := newTestEnv(t)
	g := env.newGateway(t, func(cfg *GatewayConfig) { cfg.Realm = "api" })
	h := g.Middleware()(&echoUpstream{})

	noToken := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := serve(h, noToken)
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, `Bearer realm="api"`, rec.Header().Get("WWW-Authenticate"))

	malformed := httptest.NewRequest(http.MethodGet, "/", nil)
	malformed.Header.Set("Authorization", "Bearer a b")
	assert.Equal(t, http.StatusBadRequest, serve(h, malformed).Code)

	rec = serve(h, bearerRequest("sess_unknown"))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
}

func TestGatewayAuthServerDown(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	env.http.Close()
	rec := serve(g.Middleware()(&echoUpstream{}), bearerRequest(token))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, uint64(1), g.Stats().Unavailable)
}

func TestGatewayCoalescesConcurrentMisses(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	g := env.newGateway(t)
	h := g.Middleware()(&echoUpstream{})

	const n = 1000
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = serve(h, bearerRequest(token)).Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		require.Equal(t, http.StatusOK, c, "request %d", i)
	}
	assert.Equal(t, int64(1), env.calls.Load())
	st := g.Stats()
	assert.Equal(t, uint64(1), st.Introspections)
	assert.Equal(t, uint64(n), st.Requests)
	assert.Equal(t, uint64(n), st.CacheHits+st.CacheMisses)
}

func TestGatewayRevocationEvictsAtOnce(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	g := env.newGateway(t)
	h := g.Middleware()(&echoUpstream{})

	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	require.Equal(t, uint64(1), g.Stats().CacheHits)

	resp, _ := postForm(t, env.http.URL+revokePath, url.Values{"token": {token}}, gatewayID, gatewaySecret, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	callsBefore := env.calls.Load()
	rec := serve(h, bearerRequest(token))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	st := g.Stats()
	assert.Equal(t, uint64(1), st.Evictions)
	assert.Equal(t, uint64(1), st.NegativeHits)
	assert.Equal(t, callsBefore, env.calls.Load(), "the revoked token was introspected again")
}

func TestGatewayScopeCheckedOnHitAndMiss(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	h := g.Middleware("read", "admin")(&echoUpstream{})

	for i := range 2 {
		rec := serve(h, bearerRequest(token))
		assert.Equal(t, http.StatusForbidden, rec.Code, "request %d", i)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope"`)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `scope="read admin"`)
	}
	st := g.Stats()
	assert.Equal(t, uint64(1), st.Introspections)
	assert.Equal(t, uint64(1), st.CacheHits)
	assert.Equal(t, uint64(2), st.InsufficientScope)
}

func TestGatewayNegativeCache(t *testing.T) {
	env := newTestEnv(t)
	g := env.newGateway(t)
	h := g.Middleware()(&echoUpstream{})

	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, serve(h, bearerRequest("sess_unknown")).Code)
	}
	assert.Equal(t, int64(1), env.calls.Load())
	assert.Equal(t, uint64(2), g.Stats().NegativeHits)

	env.clock.Advance(DefaultCacheNegativeTTL)
	assert.Equal(t, http.StatusUnauthorized, serve(h, bearerRequest("sess_unknown")).Code)
	assert.Equal(t, int64(2), env.calls.Load())
}

func TestGatewayPositiveEntryExpiresBeforeJWT(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	h := g.Middleware()(&echoUpstream{})

	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	env.clock.Advance(DefaultJWTLifetime - DefaultCacheExpiryMargin - time.Second)
	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	assert.Equal(t, int64(1), env.calls.Load())

	env.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	assert.Equal(t, int64(2), env.calls.Load())
}

func TestGatewayExchangeParams(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	// The default minter rejects parameters, so use a server whose minter
	// accepts them.
	env2 := newTestEnv(t, func(cfg *ServerConfig) {
		cfg.Sessions = env.manager
		cfg.Minter = paramMinter{env}
	})
	g := env.newGateway(t, func(cfg *GatewayConfig) {
		cfg.Client = env2.newClient(t, func(c *ClientConfig) { c.Verifier = env.verifier })
		cfg.ExchangeParams = func(r *http.Request) (url.Values, error) {
			op := r.URL.Query().Get("op")
			if op == "" {
				return nil, errors.New("no operation")
			}
			return url.Values{"operation": {op}}, nil
		}
	})
	upstream := &echoUpstream{}
	h := g.Middleware()(upstream)

	req := func(op string) *http.Request {
		r := bearerRequest(token)
		r.URL.RawQuery = url.Values{"op": {op}}.Encode()
		return r
	}
	assert.Equal(t, http.StatusBadRequest, serve(h, req("")).Code)
	require.Equal(t, http.StatusOK, serve(h, req("pay")).Code)
	first := upstream.last().Get("Authorization")
	require.Equal(t, http.StatusOK, serve(h, req("pay")).Code)
	second := upstream.last().Get("Authorization")
	assert.NotEqual(t, first, second, "two transactions shared one JWT")
	assert.Equal(t, int64(2), env2.calls.Load())
	assert.Equal(t, http.StatusBadRequest, serve(h, req("forbidden")).Code)
}

// paramMinter mints a JWT that carries the "operation" parameter and
// rejects the operation "forbidden".
type paramMinter struct{ env *testEnv }

func (m paramMinter) MintJWT(_ context.Context, s *session.Session, _ string, params url.Values) (string, error) {
	op := params.Get("operation")
	if op == "forbidden" {
		return "", &OAuthError{Code: "invalid_request", Description: "operation not allowed"}
	}
	return m.env.signer.Sign(map[string]any{"sub": s.Subject, "op": op, "exp": m.env.clock.Now().Add(time.Minute).Unix()})
}

func TestCacheRevocationDuringIntrospection(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)

	entered := make(chan struct{})
	release := make(chan struct{})
	hook := func() {
		close(entered)
		<-release
	}
	env.hook.Store(&hook)

	done := make(chan error, 1)
	go func() {
		_, err := g.Exchange(context.Background(), token, nil)
		done <- err
	}()
	<-entered
	// The answer in progress predates this revocation.
	require.NoError(t, env.bus.Publish(context.Background(), bearer.Digest(token)))
	close(release)
	err := <-done
	assert.ErrorIs(t, err, ErrInactive)

	in, found := g.cache.lookup(bearer.Digest(token))
	assert.True(t, found)
	assert.Nil(t, in, "a positive entry survived the revocation")
	assert.Equal(t, uint64(1), g.cache.Stats().RevokedInFlight)
}

func TestCacheResetDropsPositiveEntries(t *testing.T) {
	env := newTestEnv(t)
	g := env.newGateway(t)
	h := g.Middleware()(&echoUpstream{})
	token := env.issue(t, "read")
	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	assert.Equal(t, http.StatusUnauthorized, serve(h, bearerRequest("sess_unknown")).Code)
	require.Equal(t, 2, g.cache.Len())

	env.bus.PublishReset()
	assert.Equal(t, 1, g.cache.Len(), "the negative entry should stay")
	require.Equal(t, http.StatusOK, serve(h, bearerRequest(token)).Code)
	assert.Equal(t, int64(3), env.calls.Load())
}

func TestCacheNegativeEntryWins(t *testing.T) {
	c := NewCache(CacheConfig{})
	d := bearer.Digest("tok")
	f := c.beginFlight(d)
	c.putNegative(d)
	in, err := c.endFlight(d, f, &Introspection{Active: true}, nil)
	assert.Nil(t, in)
	assert.ErrorIs(t, err, ErrInactive)
}

func TestCacheBounded(t *testing.T) {
	clock := newFakeClock()
	c := NewCache(CacheConfig{MaxEntries: 3, Now: clock.Now})
	for i := range 5 {
		d := bearer.Digest(fmt.Sprint(i))
		c.endFlight(d, c.beginFlight(d), &Introspection{Active: true}, nil)
	}
	assert.Equal(t, 3, c.Len())
	assert.Equal(t, uint64(2), c.Stats().Evicted)
	_, found := c.lookup(bearer.Digest("0"))
	assert.False(t, found, "least recently used entry kept")
	_, found = c.lookup(bearer.Digest("4"))
	assert.True(t, found)
}

func TestCacheDumpHoldsNoRawToken(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	require.Equal(t, http.StatusOK, serve(g.Middleware()(&echoUpstream{}), bearerRequest(token)).Code)

	g.cache.mu.Lock()
	var dump strings.Builder
	for el := g.cache.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*cacheEntry)
		fmt.Fprintf(&dump, "%#v %#v %#v\n", e, e.result, e.result.Raw)
		for k, v := range e.result.Raw {
			fmt.Fprintf(&dump, "%s=%s\n", k, v)
		}
	}
	for k := range g.cache.items {
		fmt.Fprintf(&dump, "%x\n", k)
	}
	g.cache.mu.Unlock()

	d := bearer.Digest(token)
	assert.Contains(t, dump.String(), fmt.Sprintf("%x", d[:]), "dump does not show the digest key")
	assert.NotContains(t, dump.String(), token)
	assert.NotContains(t, dump.String(), token[len(session.DefaultPrefix):len(session.DefaultPrefix)+20])
}

func TestNewGatewayRequiresVerifier(t *testing.T) {
	env := newTestEnv(t)
	_, err := NewGateway(GatewayConfig{Client: env.newClient(t, func(c *ClientConfig) { c.Verifier = nil })})
	assert.Error(t, err)
	_, err = NewGateway(GatewayConfig{})
	assert.Error(t, err)
}

func TestGatewayCancelledWaiter(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, "read")
	g := env.newGateway(t)
	release := make(chan struct{})
	hook := func() { <-release }
	env.hook.Store(&hook)
	defer close(release)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := g.Exchange(ctx, token, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestGatewayRejectsQueryToken(t *testing.T) {
	env := newTestEnv(t)
	token := env.issue(t, defaultTestScope)
	g := env.newGateway(t)
	var forwarded []string
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded = append(forwarded, r.URL.RawQuery)
	})
	h := g.Middleware()(upstream)

	tests := []struct {
		name   string
		query  string
		status int
	}{
		{"query token only", "access_token=" + url.QueryEscape(token), http.StatusBadRequest},
		{"query token beside header", "page=2&access_token=x", http.StatusBadRequest},
		{"similar parameter name", "access_token_hint=x", http.StatusOK},
		{"no query", "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bearerRequest(token)
			r.URL.RawQuery = tc.query
			rec := serve(h, r)
			assert.Equal(t, tc.status, rec.Code)
			if tc.status == http.StatusBadRequest {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_request"`)
			}
		})
	}
	assert.Equal(t, []string{"access_token_hint=x", ""}, forwarded)
}
