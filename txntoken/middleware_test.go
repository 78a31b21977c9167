package txntoken_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

func mint(t testing.TB, e *env, claims map[string]any) string {
	t.Helper()
	token, err := e.issuer.Mint(context.Background(), txntoken.MintRequest{
		Subject: "alice", Operation: "payment_initiate", Claims: claims, Requester: "gateway",
	})
	require.NoError(t, err)
	return token
}

// signRaw signs arbitrary claims with the environment's key, bypassing the
// schema, to test what the verifier does with tokens Mint would not write.
func signRaw(t testing.TB, e *env, typ string, claims map[string]any) string {
	t.Helper()
	s, err := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: e.signing, Issuer: issuerURL, Audience: []string{paymentsAud}})
	require.NoError(t, err)
	token, err := s.SignWithType(typ, claims)
	require.NoError(t, err)
	return token
}

func TestMiddlewareRejectsInvalidTokens(t *testing.T) {
	flat := newEnv(t, "ES256", txntoken.LayoutFlat)
	ietf := newEnv(t, "ES256", txntoken.LayoutIETF)
	tests := []struct {
		name   string
		env    *env
		layout txntoken.Layout
		token  func() string
		status int
	}{
		{"no token", flat, txntoken.LayoutFlat, func() string { return "" }, 401},
		{"garbage", flat, txntoken.LayoutFlat, func() string { return "a.b.c" }, 401},
		{"unknown claim", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5, "admin": true})
		}, 401},
		{"missing required claim", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "txn_tag": "payment_initiate"})
		}, 401},
		{"claim out of range", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 100001})
		}, 401},
		{"missing sub", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"txn_tag": "payment_initiate", "amount": 5})
		}, 401},
		{"missing txn_tag", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "amount": 5})
		}, 401},
		{"other operation", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "txn_tag": "user_profile"})
		}, 403},
		{"flat control", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, txntoken.JWTType, map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5})
		}, 200},
		{"flat typ JWT", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, "JWT", map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5})
		}, 401},
		{"flat typ at+jwt", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, "at+jwt", map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5})
		}, 401},
		{"flat typ with media prefix", flat, txntoken.LayoutFlat, func() string {
			return signRaw(t, flat, "application/TxnToken+JWT", map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5})
		}, 200},
		{"ietf token in flat service", flat, txntoken.LayoutFlat, func() string { return mint(t, ietf, map[string]any{"amount": 5}) }, 401},
		{"flat token in ietf service", ietf, txntoken.LayoutIETF, func() string { return mint(t, flat, map[string]any{"amount": 5}) }, 401},
		{"ietf wrong typ", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, "JWT", map[string]any{"sub": "a", "scope": "payment_initiate", "txn": "x", "req_wl": "g", "tctx": map[string]any{"amount": 5}})
		}, 401},
		{"ietf missing txn", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "payment_initiate", "req_wl": "g", "tctx": map[string]any{"amount": 5}})
		}, 401},
		{"ietf missing req_wl", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "payment_initiate", "txn": "x", "tctx": map[string]any{"amount": 5}})
		}, 401},
		{"ietf missing tctx", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "payment_initiate", "txn": "x", "req_wl": "g"})
		}, 401},
		{"ietf unknown tctx member", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "payment_initiate", "txn": "x", "req_wl": "g", "tctx": map[string]any{"amount": 5, "x": 1}})
		}, 401},
		{"ietf other operation", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "user_profile", "txn": "x", "req_wl": "g", "tctx": map[string]any{}})
		}, 403},
		{"ietf extra top-level claim ignored", ietf, txntoken.LayoutIETF, func() string {
			return signRaw(t, ietf, txntoken.JWTType, map[string]any{"sub": "a", "scope": "payment_initiate", "txn": "y", "req_wl": []string{"g", "w2"}, "tctx": map[string]any{"amount": 5}, "purpose": "x"})
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.env.service(t, "payment_initiate")
			resp := call(t, tt.layout, http.MethodPost, srv.URL, tt.token(), nil)
			assert.Equal(t, tt.status, resp.StatusCode)
		})
	}
}

func TestMiddlewareHeaders(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutIETF)
	srv := e.service(t, "payment_initiate")
	token := mint(t, e, map[string]any{"amount": 5})

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Add(txntoken.HeaderName, token)
	req.Header.Add(txntoken.HeaderName, token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "two Txn-Token headers")

	resp = call(t, txntoken.LayoutFlat, http.MethodGet, srv.URL, token, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "Authorization is not read in the IETF layout")
}

type failingCache struct{}

func (failingCache) First(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis down")
}

func TestMiddlewareFailsClosedOnReplayCacheError(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: e.jwt, Replay: failingCache{}})
	require.NoError(t, err)
	called := false
	srv := httptest.NewServer(v.Require("payment_initiate")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })))
	defer srv.Close()
	resp := call(t, txntoken.LayoutFlat, http.MethodGet, srv.URL, mint(t, e, map[string]any{"amount": 5}), nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.False(t, called)
}

func TestMiddlewareBodyLimits(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: e.jwt, MaxBodySize: 64})
	require.NoError(t, err)
	srv := httptest.NewServer(v.Require("payment_initiate", txntoken.BodyField("amount", "amount"))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	defer srv.Close()
	token := mint(t, e, map[string]any{"amount": 500})

	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"ok", `{"amount":500}`, 200},
		{"too large", `{"amount":500,"pad":"` + strings.Repeat("x", 64) + `"}`, 413},
		{"not json", `amount=500`, 400},
		{"duplicate member", `{"amount":500,"amount":999}`, 400},
		{"trailing data", `{"amount":500} {}`, 400},
		{"float spelling", `{"amount":500.0}`, 401},
		{"exponent spelling", `{"amount":5e2}`, 401},
		{"string spelling", `{"amount":"500"}`, 401},
		{"missing", `{}`, 401},
		{"null", `{"amount":null}`, 401},
		{"not an object", `[500]`, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, txntoken.LayoutFlat, http.MethodPost, srv.URL, token, []byte(tt.body))
			assert.Equal(t, tt.status, resp.StatusCode)
		})
	}
}

func TestRouteRejectsBadBindings(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	_, err := e.verifier.Route("wire_transfer")
	assert.ErrorIs(t, err, txntoken.ErrUnknownOperation)
	_, err = e.verifier.Route("payment_initiate", txntoken.QueryParam("nope", "x"))
	assert.ErrorContains(t, err, "declares no claim")
	_, err = e.verifier.Route("payment_initiate", txntoken.QueryParam("amount", "a"), txntoken.HeaderValue("amount", "b"))
	assert.ErrorContains(t, err, "bound twice")
	_, err = e.verifier.Route("payment_initiate", txntoken.BodyField("amount", "a..b"))
	assert.ErrorContains(t, err, "empty member name")
	assert.Panics(t, func() { e.verifier.Require("wire_transfer") })
}

// TestBindingMutation changes one bound field of a valid request at random,
// many times, and expects a rejection every time.
func TestBindingMutation(t *testing.T) {
	e := newEnv(t, "EdDSA", txntoken.LayoutFlat)
	v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: e.jwt})
	require.NoError(t, err)
	binds := []txntoken.Bind{
		txntoken.BodyField("amount", "payment.amount"),
		txntoken.QueryParam("currency", "cur"),
		txntoken.PathValue("account", "account"),
		txntoken.HeaderValue("rate", "X-Rate"),
		txntoken.BodyField("express", "express"),
	}
	mux := http.NewServeMux()
	mux.Handle("/pay/{account}", v.Require("payment_initiate", binds...)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	token := mint(t, e, map[string]any{"amount": 500, "currency": "EUR", "account": "DE89370400440532013000", "rate": 1.25, "express": true})
	type request struct {
		amount, express string // JSON text, "" = absent
		currency        []string
		account         string
		rate            []string
	}
	valid := request{amount: "500", express: "true", currency: []string{"EUR"}, account: "DE89370400440532013000", rate: []string{"1.25"}}
	send := func(rq request) int {
		var members []string
		if rq.amount != "" {
			members = append(members, `"payment":{"amount":`+rq.amount+`}`)
		}
		if rq.express != "" {
			members = append(members, `"express":`+rq.express)
		}
		target := srv.URL + "/pay/" + rq.account
		for i, c := range rq.currency {
			sep := "?"
			if i > 0 {
				sep = "&"
			}
			target += sep + "cur=" + c
		}
		req, err := http.NewRequest(http.MethodPost, target, strings.NewReader("{"+strings.Join(members, ",")+"}"))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		for _, r := range rq.rate {
			req.Header.Add("X-Rate", r)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, send(valid), "the unmodified request passes")

	mutations := []func(*request, *rand.Rand) string{
		func(r *request, g *rand.Rand) string {
			r.amount = fmt.Sprint(g.IntN(100000) + 501)
			return "amount changed"
		},
		func(r *request, g *rand.Rand) string { r.amount = fmt.Sprint(g.IntN(499) + 1); return "amount lowered" },
		func(r *request, _ *rand.Rand) string { r.amount = "500.0"; return "amount as float" },
		func(r *request, _ *rand.Rand) string { r.amount = `"500"`; return "amount as string" },
		func(r *request, _ *rand.Rand) string { r.amount = ""; return "amount removed" },
		func(r *request, _ *rand.Rand) string { r.express = "false"; return "express flipped" },
		func(r *request, _ *rand.Rand) string { r.express = ""; return "express removed" },
		func(r *request, _ *rand.Rand) string { r.currency = []string{"USD"}; return "currency changed" },
		func(r *request, _ *rand.Rand) string { r.currency = nil; return "currency removed" },
		func(r *request, _ *rand.Rand) string { r.currency = []string{"EUR", "USD"}; return "currency repeated" },
		func(r *request, _ *rand.Rand) string {
			r.currency = []string{"EUR", "EUR"}
			return "currency repeated equal"
		},
		func(r *request, g *rand.Rand) string {
			r.account = fmt.Sprintf("DE%020d", g.Int64N(1e18))
			return "account changed"
		},
		func(r *request, _ *rand.Rand) string { r.rate = []string{"1.5"}; return "rate changed" },
		func(r *request, _ *rand.Rand) string { r.rate = nil; return "rate removed" },
		func(r *request, _ *rand.Rand) string { r.rate = []string{"1.25", "1.25"}; return "rate repeated" },
	}
	g := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for range 300 {
		rq := valid
		rq.currency = append([]string(nil), valid.currency...)
		rq.rate = append([]string(nil), valid.rate...)
		what := mutations[g.IntN(len(mutations))](&rq, g)
		assert.NotEqual(t, http.StatusOK, send(rq), what)
	}
}

func TestGatewayParams(t *testing.T) {
	params := txntoken.GatewayParams("payment_initiate",
		txntoken.BodyField("amount", "amount"), txntoken.QueryParam("currency", "cur"), txntoken.HeaderValue("express", "X-Express"))
	req := httptest.NewRequest(http.MethodPost, "/pay?cur=EUR", strings.NewReader(`{"amount":500}`))
	req.Header.Set("X-Express", "true")
	got, err := params(req)
	require.NoError(t, err)
	assert.Equal(t, url.Values{"operation": {"payment_initiate"}, "amount": {"500"}, "currency": {"EUR"}, "express": {"true"}}, got)

	req = httptest.NewRequest(http.MethodPost, "/pay?cur=EUR&cur=USD", strings.NewReader(`{"amount":500}`))
	_, err = params(req)
	assert.Error(t, err, "repeated parameter")

	req = httptest.NewRequest(http.MethodPost, "/pay", strings.NewReader(`{"amount":{"v":1}}`))
	_, err = params(req)
	assert.Error(t, err, "non-scalar body value")
}

// TestBodyBindingRejectsCaseVariants checks that a handler decoding the body
// with encoding/json, which matches member names without regard to case and
// keeps the last match, never gets a value other than the token's.
func TestBodyBindingRejectsCaseVariants(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	var seen struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
		Express  bool   `json:"express"`
	}
	h := e.verifier.Require("payment_initiate",
		txntoken.BodyField("amount", "payment.amount"), txntoken.BodyField("currency", "payment.currency"),
		txntoken.BodyField("express", "payment.express"),
	)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Payment struct {
				Amount   int64  `json:"amount"`
				Currency string `json:"currency"`
				Express  bool   `json:"express"`
			} `json:"payment"`
		}
		require.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		seen.Amount, seen.Currency, seen.Express = body.Payment.Amount, body.Payment.Currency, body.Payment.Express
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"exact", `{"payment":{"amount":500}}`, 200},
		{"upper-case duplicate", `{"payment":{"amount":500,"AMOUNT":999}}`, 400},
		{"upper-case duplicate first", `{"payment":{"Amount":999,"amount":500}}`, 400},
		{"case variant alone", `{"payment":{"Amount":500}}`, 400},
		{"long s folds to s", `{"payment":{"amount":500,"expre\u017fs":true}}`, 400},
		{"unrelated member", `{"payment":{"amount":500,"currency_note":"x"},"other":{"Amount":1}}`, 200},
		{"optional claim by another case", `{"payment":{"amount":500,"Currency":"USD"}}`, 400},
		{"outer member by another case", `{"payment":{"amount":500},"Payment":{"amount":999}}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen.Amount, seen.Currency, seen.Express = 0, "", false
			token := mint(t, e, map[string]any{"amount": 500})
			resp := call(t, txntoken.LayoutFlat, http.MethodPost, srv.URL, token, []byte(tt.body))
			assert.Equal(t, tt.status, resp.StatusCode)
			if resp.StatusCode == http.StatusOK {
				assert.Equal(t, int64(500), seen.Amount)
				assert.Empty(t, seen.Currency)
				assert.False(t, seen.Express)
			}
		})
	}
}

// TestReplayConcurrentUses sends one token 50 times at once over HTTP:
// exactly one request may pass.
func TestReplayConcurrentUses(t *testing.T) {
	for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
		t.Run(layout.String(), func(t *testing.T) {
			e := newEnv(t, "ES256", layout)
			srv := e.service(t, "payment_initiate", txntoken.BodyField("amount", "amount"))
			token := mint(t, e, map[string]any{"amount": 500})
			statuses := make(chan int, 50)
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					statuses <- call(t, layout, http.MethodPost, srv.URL, token, []byte(`{"amount":500}`)).StatusCode
				})
			}
			wg.Wait()
			close(statuses)
			counts := map[int]int{}
			for s := range statuses {
				counts[s]++
			}
			assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusUnauthorized: 49}, counts)
		})
	}
}

// TestTokenFromUntrustedKey presents a token with the right "txn_tag",
// signed by a key the verifier does not hold.
func TestTokenFromUntrustedKey(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	other := newEnv(t, "ES256", txntoken.LayoutFlat)
	srv := e.service(t, "payment_initiate")
	resp := call(t, txntoken.LayoutFlat, http.MethodPost, srv.URL, mint(t, other, map[string]any{"amount": 500}), nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "invalid_token")
}
