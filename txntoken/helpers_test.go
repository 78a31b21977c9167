package txntoken_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

const (
	trustDomain = "https://bank.example"
	issuerURL   = "https://txn.bank.example"
	paymentsAud = "https://payments.example"
)

func ptr(f float64) *float64 { return &f }

// newRegistry is the reference schema: payment_initiate binds an amount
// and a currency, user_profile a user id.
func newRegistry(t testing.TB) *txntoken.Registry {
	t.Helper()
	r, err := txntoken.NewRegistry(txntoken.RegistryConfig{},
		txntoken.Operation{
			Name: "payment_initiate", Version: 1, Audience: paymentsAud, MaxSize: 1024,
			RequiredScopes: []string{"write"},
			Claims: []txntoken.Claim{
				{Name: "amount", Type: txntoken.TypeInteger, Required: true, Min: ptr(1), Max: ptr(100000)},
				{Name: "currency", Type: txntoken.TypeString, MaxLength: 3, Pattern: "[A-Z]{3}"},
				{Name: "account", Type: txntoken.TypeString, MaxLength: 34, Pattern: "[A-Z0-9]+"},
				{Name: "rate", Type: txntoken.TypeNumber, Min: ptr(0), Max: ptr(10)},
				{Name: "express", Type: txntoken.TypeBoolean},
			},
		},
		txntoken.Operation{
			Name: "user_profile", Version: 1,
			Claims: []txntoken.Claim{{Name: "user_id", Type: txntoken.TypeString, MaxLength: 36}},
		},
	)
	require.NoError(t, err)
	return r
}

// keyPair returns a signing key source and the matching verification keys
// for alg: HS256 uses a random 32-byte secret, the others a jwks.KeyRing.
func keyPair(t testing.TB, alg string) (jwtutil.SigningKeySource, jwks.KeySource) {
	t.Helper()
	if alg == "HS256" {
		secret := make([]byte, 32)
		_, err := rand.Read(secret)
		require.NoError(t, err)
		k, err := jwk.FromRaw(secret)
		require.NoError(t, err)
		require.NoError(t, k.Set(jwk.KeyIDKey, "hmac-1"))
		require.NoError(t, k.Set(jwk.AlgorithmKey, jwa.HS256))
		set := jwk.NewSet()
		require.NoError(t, set.AddKey(k))
		static, err := jwks.NewStatic(set)
		require.NoError(t, err)
		return jwtutil.StaticSigningKey(k), static
	}
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: alg})
	require.NoError(t, err)
	return ring, ring
}

type env struct {
	issuer   *txntoken.Issuer
	verifier *txntoken.Verifier
	jwt      *jwtutil.Verifier
	replay   *txntoken.MemoryReplayCache
	signing  jwtutil.SigningKeySource
	now      time.Time
}

func newEnv(t testing.TB, alg string, layout txntoken.Layout) *env {
	t.Helper()
	reg := newRegistry(t)
	signing, keys := keyPair(t, alg)
	e := &env{now: time.Now(), signing: signing}
	iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{
		Registry: reg, Keys: signing, Issuer: issuerURL, TrustDomain: trustDomain, Layout: layout,
	})
	require.NoError(t, err)
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: issuerURL, Audience: []string{trustDomain, paymentsAud}, Type: txntoken.JWTType})
	require.NoError(t, err)
	e.replay = txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	t.Cleanup(func() { e.replay.Close() })
	v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: reg, JWT: jv, Layout: layout, Replay: e.replay})
	require.NoError(t, err)
	e.issuer, e.verifier, e.jwt = iss, v, jv
	return e
}

// service returns a test server whose handler responds 200 with the verified
// amount, behind the middleware of operation with the given bindings.
func (e *env) service(t testing.TB, operation string, binds ...txntoken.Bind) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h := e.verifier.Require(operation, binds...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := txntoken.FromContext(r.Context())
		if !ok {
			http.Error(w, "no context", http.StatusInternalServerError)
			return
		}
		// The body must still be readable after a body binding.
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Body-Length", itoa(len(body)))
		_, _ = w.Write([]byte(c.Operation + " " + c.Subject))
	}))
	mux.Handle("/pay/{account}", h)
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// call sends a request carrying token in the layout's header.
func call(t testing.TB, layout txntoken.Layout, method, url, token string, body []byte) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		if layout == txntoken.LayoutIETF {
			req.Header.Set(txntoken.HeaderName, token)
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}
