package phantom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/clocktest"
	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
)

const (
	testIssuer       = "https://auth.test"
	testAudience     = "api"
	gatewayID        = "gateway"
	gatewaySecret    = "gateway-secret-0123456789"
	plainID          = "plain"
	plainSecret      = "plain-secret-0123456789"
	introspectPath   = "/introspect"
	revokePath       = "/revoke"
	defaultTestScope = "read write"
)

// fakeClock is the manual test clock shared by every component of a test.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock {
	return clocktest.New(time.Unix(1_700_000_000, 0))
}

// testEnv is a real auth server (session manager, key ring, signer,
// introspection and revocation endpoints) on a loopback httptest server.
type testEnv struct {
	clock    *fakeClock
	ring     *jwks.KeyRing
	signer   *jwtutil.Signer
	verifier *jwtutil.Verifier
	store    *session.MemoryStore
	manager  *session.Manager
	bus      *LocalBus
	server   *Server
	http     *httptest.Server
	// calls counts requests to the introspection endpoint.
	calls atomic.Int64
	// hook, when set, runs before each introspection request is served.
	hook atomic.Pointer[func()]
}

type envOption func(*ServerConfig)

func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	env := &testEnv{clock: newFakeClock(), bus: NewLocalBus()}
	var err error
	env.ring, err = jwks.NewKeyRing(jwks.KeyRingConfig{Now: env.clock.Now})
	require.NoError(t, err)
	env.signer, err = jwtutil.NewSigner(jwtutil.SignerConfig{Keys: env.ring, Issuer: testIssuer, Audience: []string{testAudience}, Now: env.clock.Now})
	require.NoError(t, err)
	env.verifier, err = jwtutil.NewVerifier(jwtutil.Config{Keys: env.ring, Issuer: testIssuer, Audience: []string{testAudience}, Now: env.clock.Now})
	require.NoError(t, err)
	env.store = session.NewMemoryStore(session.MemoryStoreConfig{Now: env.clock.Now})
	t.Cleanup(func() { _ = env.store.Close() })
	env.manager, err = session.NewManager(session.ManagerConfig{Store: env.store, Now: env.clock.Now})
	require.NoError(t, err)
	minter, err := NewJWTMinter(JWTMinterConfig{Signer: env.signer, Now: env.clock.Now})
	require.NoError(t, err)

	gw, err := NewRegisteredClient(gatewayID, gatewaySecret)
	require.NoError(t, err)
	gw.AllowJWT = true
	gw.RevokeAny = true
	plain, err := NewRegisteredClient(plainID, plainSecret)
	require.NoError(t, err)
	cfg := ServerConfig{
		Sessions:       env.manager,
		Clients:        []RegisteredClient{gw, plain},
		Minter:         minter,
		ResponseSigner: env.signer,
		Bus:            env.bus,
		Now:            env.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	env.server, err = NewServer(cfg)
	require.NoError(t, err)

	mux := http.NewServeMux()
	introspect := env.server.IntrospectionHandler()
	mux.Handle(introspectPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.calls.Add(1)
		if h := env.hook.Load(); h != nil {
			(*h)()
		}
		introspect.ServeHTTP(w, r)
	}))
	mux.Handle(revokePath, env.server.RevocationHandler())
	env.http = httptest.NewServer(mux)
	t.Cleanup(env.http.Close)
	return env
}

// issue starts a session and returns its opaque token.
func (env *testEnv) issue(t testing.TB, scope string) string {
	t.Helper()
	token, _, err := env.manager.Issue(context.Background(), "alice", map[string]string{
		"scope": scope, "client_id": "web-app", "name": "Alice",
	})
	require.NoError(t, err)
	return token
}

func (env *testEnv) clientConfig() ClientConfig {
	return ClientConfig{
		Endpoint:     env.http.URL + introspectPath,
		ClientID:     gatewayID,
		ClientSecret: gatewaySecret,
		Verifier:     env.verifier,
		Now:          env.clock.Now,
	}
}

func (env *testEnv) newClient(t testing.TB, mod ...func(*ClientConfig)) *Client {
	t.Helper()
	cfg := env.clientConfig()
	for _, m := range mod {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	require.NoError(t, err)
	return c
}

func (env *testEnv) newGateway(t testing.TB, mod ...func(*GatewayConfig)) *Gateway {
	t.Helper()
	cfg := GatewayConfig{
		Client: env.newClient(t),
		Cache:  NewCache(CacheConfig{Now: env.clock.Now}),
		Bus:    env.bus,
	}
	for _, m := range mod {
		m(&cfg)
	}
	g, err := NewGateway(cfg)
	require.NoError(t, err)
	t.Cleanup(g.Close)
	return g
}

// echoUpstream records the Authorization, X-Jwt and Cookie headers it
// receives.
type echoUpstream struct {
	mu      sync.Mutex
	headers http.Header
}

func (u *echoUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.headers = r.Header.Clone()
	u.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (u *echoUpstream) last() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.headers
}

func bearerRequest(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}
