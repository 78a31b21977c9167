package redisbus_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/phantom/redisbus"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/session/redisstore"
)

const (
	issuer        = "https://auth.test"
	audience      = "api"
	gatewayID     = "gateway"
	gatewaySecret = "gateway-secret-0123456789abcdef"
)

// deployment is one auth server and several gateways that share sessions
// and revocations through one Redis, each with its own connection pool, as
// separate processes would.
type deployment struct {
	redis    *redistest.Server
	manager  *session.Manager
	auth     *httptest.Server
	gateways []*httptest.Server
	buses    []*redisbus.Bus
	logs     *syncBuffer
}

func newDeployment(t *testing.T, gateways int) *deployment {
	t.Helper()
	d := &deployment{redis: redistest.Start(t), logs: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(d.logs, nil))

	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	require.NoError(t, err)
	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: issuer, Audience: []string{audience}})
	require.NoError(t, err)
	minter, err := phantom.NewJWTMinter(phantom.JWTMinterConfig{Signer: signer})
	require.NoError(t, err)
	store, err := redisstore.New(redisstore.Config{Client: d.redis.Client()})
	require.NoError(t, err)
	d.manager, err = session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	publisher := newBus(t, d.redis.Client(), redisbus.Config{})

	client, err := phantom.NewRegisteredClient(gatewayID, gatewaySecret)
	require.NoError(t, err)
	client.AllowJWT, client.RevokeAny = true, true
	server, err := phantom.NewServer(phantom.ServerConfig{
		Sessions: d.manager,
		Clients:  []phantom.RegisteredClient{client},
		Minter:   minter,
		Bus:      publisher,
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/introspect", server.IntrospectionHandler())
	mux.Handle("/revoke", server.RevocationHandler())
	d.auth = httptest.NewServer(mux)
	t.Cleanup(d.auth.Close)

	verifier, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: issuer, Audience: []string{audience}})
	require.NoError(t, err)
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, _ := phantom.FromContext(r.Context())
		_, _ = fmt.Fprint(w, in.Subject)
	})
	for range gateways {
		introspection, err := phantom.NewClient(phantom.ClientConfig{
			Endpoint:     d.auth.URL + "/introspect",
			ClientID:     gatewayID,
			ClientSecret: gatewaySecret,
			Verifier:     verifier,
			Timeout:      time.Second,
		})
		require.NoError(t, err)
		bus := newBus(t, d.redis.Client(), redisbus.Config{
			Logger:              logger,
			HealthCheckInterval: 200 * time.Millisecond,
			MaxReconnectDelay:   100 * time.Millisecond,
		})
		gw, err := phantom.NewGateway(phantom.GatewayConfig{Client: introspection, Bus: bus, Logger: logger})
		require.NoError(t, err)
		t.Cleanup(gw.Close)
		ts := httptest.NewServer(gw.Middleware()(upstream))
		t.Cleanup(ts.Close)
		d.gateways = append(d.gateways, ts)
		d.buses = append(d.buses, bus)
	}
	d.waitSubscribed(t)
	return d
}

func (d *deployment) waitSubscribed(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	for _, bus := range d.buses {
		require.NoError(t, bus.WaitSubscribed(ctx))
	}
}

func (d *deployment) issue(t *testing.T) string {
	t.Helper()
	token, _, err := d.manager.Issue(context.Background(), "alice", map[string]string{"scope": "read"})
	require.NoError(t, err)
	return token
}

// call sends one request through gateway i and returns the status.
func (d *deployment) call(t *testing.T, i int, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.gateways[i].URL, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (d *deployment) revoke(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.auth.URL+"/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(gatewayID, gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestRevocationReachesAllGateways revokes a token that three gateways have
// cached and measures, over real HTTP, the time from sending the revocation
// to the auth server until every gateway rejects the token.
func TestRevocationReachesAllGateways(t *testing.T) {
	trials := 200
	if testing.Short() {
		trials = 20
	}
	d := newDeployment(t, 3)

	latencies := make([]time.Duration, 0, trials)
	for trial := range trials {
		token := d.issue(t)
		for i := range d.gateways {
			require.Equal(t, http.StatusOK, d.call(t, i, token), "trial %d: gateway %d before revocation", trial, i)
		}

		start := time.Now()
		var wg sync.WaitGroup
		rejectedAt := make([]time.Duration, len(d.gateways))
		for i := range d.gateways {
			wg.Go(func() {
				rejectedAt[i] = d.pollUntilRejected(t, i, token, start)
			})
		}
		require.Equal(t, http.StatusOK, d.revoke(t, token), "trial %d: revocation", trial)
		wg.Wait()
		latencies = append(latencies, slices.Max(rejectedAt))
	}

	slices.Sort(latencies)
	p50 := latencies[len(latencies)*50/100]
	p99 := latencies[min(len(latencies)*99/100, len(latencies)-1)]
	t.Logf("revocation to rejection at all %d gateways over %d trials: p50 %v, p99 %v, max %v",
		len(d.gateways), trials, p50, p99, latencies[len(latencies)-1])
}

// pollUntilRejected calls gateway i until it rejects token with 401 and
// returns the time since start. Any status other than 200 or 401 fails the
// test. So does a gateway that still accepts the token after 5 seconds: the
// bound is far above the expected milliseconds and only catches a lost event.
func (d *deployment) pollUntilRejected(t *testing.T, i int, token string, start time.Time) time.Duration {
	deadline := start.Add(5 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, d.gateways[i].URL, nil)
		if !assert.NoError(t, err) {
			return 0
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if !assert.NoError(t, err) {
			return 0
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			return time.Since(start)
		case http.StatusOK:
			time.Sleep(100 * time.Microsecond)
		default:
			assert.Failf(t, "unexpected status", "gateway %d answered %d while the token was being revoked", i, resp.StatusCode)
			return 0
		}
	}
	assert.Failf(t, "revocation not applied", "gateway %d still accepts the token 5 s after revocation", i)
	return 0
}

// TestGatewaysFailClosedWhileRedisDown kills redis-server under a running
// deployment: requests fail with 503, then work
// again once Redis is back, with no gateway or auth server restarted.
func TestGatewaysFailClosedWhileRedisDown(t *testing.T) {
	d := newDeployment(t, 3)
	cached := d.issue(t)
	for i := range d.gateways {
		require.Equal(t, http.StatusOK, d.call(t, i, cached), "gateway %d caches the token", i)
	}

	d.redis.Kill()
	// The gateways' buses notice the closed connection and drop their
	// caches, so even the cached token goes back to the auth server, whose
	// session store is down.
	for i := range d.gateways {
		assert.Eventually(t, func() bool { return d.call(t, i, cached) == http.StatusServiceUnavailable },
			waitEvent, 10*time.Millisecond, "gateway %d must fail closed for a cached token", i)
	}
	_, _, err := d.manager.Issue(context.Background(), "alice", nil)
	assert.Error(t, err, "no session can be issued while Redis is down")
	assert.Equal(t, http.StatusServiceUnavailable, d.revoke(t, cached), "revocation reports the failure")

	d.redis.Restart()
	d.waitSubscribed(t)
	fresh := d.issue(t)
	for i := range d.gateways {
		assert.Equal(t, http.StatusOK, d.call(t, i, fresh), "gateway %d serves again", i)
		// The restarted Redis kept nothing, so the old session is unknown.
		assert.Equal(t, http.StatusUnauthorized, d.call(t, i, cached), "gateway %d", i)
	}

	// Revocation is shared again after the resubscription.
	require.Equal(t, http.StatusOK, d.revoke(t, fresh))
	for i := range d.gateways {
		assert.Eventually(t, func() bool { return d.call(t, i, fresh) == http.StatusUnauthorized },
			waitEvent, 5*time.Millisecond, "gateway %d rejects the revoked token", i)
	}
	out := d.logs.String()
	assert.Contains(t, out, "subscription lost")
	assert.Contains(t, out, "resubscribed")
	assert.NotContains(t, out, fresh, "logs never contain a token")
	assert.NotContains(t, out, cached, "logs never contain a token")
}
