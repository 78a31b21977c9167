package redisreplay_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
	"github.com/tokenpattern/tokenpattern/txntoken/redisreplay"
)

const schema = `{"operations": {"payment_initiate": {
  "version": 1,
  "audience": "https://payments.example",
  "claims": {"amount": {"type": "integer", "required": true, "min": 1, "max": 100000}}
}}}`

// payments is an issuer and several replicas of a payment service, each
// with its own verifier and its own connection pool to one Redis.
type payments struct {
	issuer   *txntoken.Issuer
	replicas []*httptest.Server
}

func newPayments(t *testing.T, srv *redistest.Server, replicas int) *payments {
	t.Helper()
	reg, err := txntoken.ParseRegistry([]byte(schema))
	require.NoError(t, err)
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	require.NoError(t, err)
	p := &payments{}
	p.issuer, err = txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: ring, Issuer: "https://txn.example", TrustDomain: "https://bank.example"})
	require.NoError(t, err)

	pay := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	for range replicas {
		jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://txn.example", Audience: []string{"https://payments.example"}, Type: txntoken.JWTType})
		require.NoError(t, err)
		v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: reg, JWT: jv, Replay: newCache(t, srv.Client(), redisreplay.Config{})})
		require.NoError(t, err)
		ts := httptest.NewServer(v.Require("payment_initiate", txntoken.BodyField("amount", "amount"))(pay))
		t.Cleanup(ts.Close)
		p.replicas = append(p.replicas, ts)
	}
	return p
}

func (p *payments) mint(t *testing.T) string {
	t.Helper()
	token, err := p.issuer.Mint(context.Background(), txntoken.MintRequest{
		Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": "500"},
	})
	require.NoError(t, err)
	return token
}

// pay sends one payment with token to replica i and returns the status.
func (p *payments) pay(i int, token string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, p.replicas[i].URL, strings.NewReader(`{"amount":500}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestTokenAcceptedOnceAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	p := newPayments(t, srv, 3)
	token := p.mint(t)

	const uses = 50
	statuses := make([]int, uses)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range uses {
		wg.Go(func() {
			<-start
			status, err := p.pay(i%len(p.replicas), token)
			assert.NoError(t, err)
			statuses[i] = status
		})
	}
	close(start)
	wg.Wait()

	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: uses - 1}, counts,
		"50 concurrent uses over 3 replicas: exactly one accepted, the rest rejected as replays")
}

func TestReplicasFailClosedWhileRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	p := newPayments(t, srv, 3)

	srv.Kill()
	token := p.mint(t)
	for i := range p.replicas {
		status, err := p.pay(i, token)
		require.NoError(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, status, "replica %d must not accept a token it cannot record", i)
	}

	srv.Restart()
	for i := range p.replicas {
		status, err := p.pay(i, token)
		require.NoError(t, err)
		want := http.StatusUnauthorized
		if i == 0 {
			want = http.StatusOK
		}
		assert.Equal(t, want, status, "replica %d after the restart: the first use wins, with no replica restarted", i)
	}
}
