package txntoken_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

const gatewaySecret = "gateway-secret-0123456789"

func newSessions(t testing.TB) *session.Manager {
	t.Helper()
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	t.Cleanup(func() { store.Close() })
	m, err := session.NewManager(session.ManagerConfig{Store: store})
	require.NoError(t, err)
	return m
}

// postForm posts form to url with the gateway's Basic credentials and
// decodes the JSON response.
func postForm(t *testing.T, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("gateway", gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// TestReferenceFlowFlat runs the reference flow through the real phantom
// introspection handler: the gateway posts the opaque token with
// operation=payment_initiate&amount=500 and receives a transaction token.
func TestReferenceFlowFlat(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutFlat)
	sessions := newSessions(t)
	opaque, _, err := sessions.Issue(context.Background(), "alice", map[string]string{"scope": "write"})
	require.NoError(t, err)
	readOnly, _, err := sessions.Issue(context.Background(), "bob", map[string]string{"scope": "read"})
	require.NoError(t, err)

	gw, err := phantom.NewRegisteredClient("gateway", gatewaySecret)
	require.NoError(t, err)
	gw.AllowJWT = true
	auth, err := phantom.NewServer(phantom.ServerConfig{Sessions: sessions, Clients: []phantom.RegisteredClient{gw}, Minter: e.issuer})
	require.NoError(t, err)
	as := httptest.NewServer(auth.IntrospectionHandler())
	defer as.Close()

	status, answer := postForm(t, as.URL, url.Values{"token": {opaque}, "operation": {"payment_initiate"}, "amount": {"500"}})
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	assert.Equal(t, true, answer["active"])
	assert.Equal(t, "write", answer["scope"])
	token, _ := answer["jwt"].(string)
	require.NotEmpty(t, token)

	_, payload, err := jwtutil.InspectUnverified(token)
	require.NoError(t, err)
	assert.Equal(t, "alice", payload["sub"])
	assert.Equal(t, "payment_initiate", payload["txn_tag"])
	assert.Equal(t, json.Number("500"), payload["amount"])
	assert.Equal(t, issuerURL, payload["iss"])
	assert.Equal(t, paymentsAud, payload["aud"])
	for _, name := range []string{"iat", "exp", "jti"} {
		assert.Contains(t, payload, name)
	}

	// Bad requests get 400 invalid_request naming the problem.
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"unknown operation", url.Values{"operation": {"wire_transfer"}}, `unknown operation "wire_transfer"`},
		{"invalid amount", url.Values{"operation": {"payment_initiate"}, "amount": {"lots"}}, `claim "amount" must be an integer`},
		{"missing amount", url.Values{"operation": {"payment_initiate"}}, `claim "amount" is required`},
		{"unknown claim", url.Values{"operation": {"payment_initiate"}, "amount": {"5"}, "admin": {"1"}}, `claim "admin" is not declared`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("token", opaque)
			status, answer := postForm(t, as.URL, tc.form)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "invalid_request", answer["error"])
			assert.Contains(t, answer["error_description"], tc.want)
		})
	}
	t.Run("scope not granted", func(t *testing.T) {
		status, answer := postForm(t, as.URL, url.Values{"token": {readOnly}, "operation": {"payment_initiate"}, "amount": {"5"}})
		assert.Equal(t, http.StatusForbidden, status)
		assert.Equal(t, "insufficient_scope", answer["error"])
		assert.Equal(t, "write", answer["scope"])
		assert.Contains(t, answer["error_description"], `requires scope "write"`)
	})

	runServices(t, e, txntoken.LayoutFlat, token)
}

// runServices checks the service side of the reference flow: the payment
// service accepts the token once, the profile service rejects it, and a
// body amount of 999 is rejected.
func runServices(t *testing.T, e *env, layout txntoken.Layout, token string) {
	payments := e.service(t, "payment_initiate", txntoken.BodyField("amount", "amount"))
	profile := e.service(t, "user_profile")

	resp := call(t, layout, http.MethodPost, profile.URL, token, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "token for another operation")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`)

	resp = call(t, layout, http.MethodPost, payments.URL, token, []byte(`{"amount":999}`))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "body amount differs")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `does not match claim`)

	body := []byte(`{"amount":500,"memo":"rent"}`)
	resp = call(t, layout, http.MethodPost, payments.URL, token, body)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, itoa(len(body)), resp.Header.Get("X-Body-Length"), "handler reads the whole body")

	resp = call(t, layout, http.MethodPost, payments.URL, token, []byte(`{"amount":500}`))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "second use")
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "already used")
}

// TestReferenceFlowIETF exchanges the opaque token for an IETF-layout token
// at the RFC 8693 endpoint and sends it in the Txn-Token header.
func TestReferenceFlowIETF(t *testing.T) {
	e := newEnv(t, "ES256", txntoken.LayoutIETF)
	sessions := newSessions(t)
	opaque, _, err := sessions.Issue(context.Background(), "alice", map[string]string{"scope": "write"})
	require.NoError(t, err)

	client, err := txntoken.NewExchangeClient("gateway", gatewaySecret)
	require.NoError(t, err)
	h, err := txntoken.NewExchangeHandler(txntoken.ExchangeConfig{Issuer: e.issuer, Subjects: sessions, Clients: []txntoken.ExchangeClient{client}})
	require.NoError(t, err)
	tts := httptest.NewServer(h)
	defer tts.Close()

	form := func() url.Values {
		return url.Values{
			"grant_type":           {txntoken.GrantTypeTokenExchange},
			"requested_token_type": {txntoken.TokenType},
			"audience":             {trustDomain},
			"scope":                {"payment_initiate"},
			"subject_token":        {opaque},
			"subject_token_type":   {txntoken.AccessTokenType},
			"request_context":      {`{"req_ip":"192.0.2.7"}`},
			"request_details":      {`{"amount":500,"currency":"EUR"}`},
		}
	}
	status, answer := postForm(t, tts.URL, form())
	require.Equal(t, http.StatusOK, status, "answer %v", answer)
	assert.Equal(t, "N_A", answer["token_type"])
	assert.Equal(t, txntoken.TokenType, answer["issued_token_type"])
	assert.InDelta(t, 60, answer["expires_in"], 1)
	token, _ := answer["access_token"].(string)
	require.NotEmpty(t, token)

	header, payload, err := jwtutil.InspectUnverified(token)
	require.NoError(t, err)
	assert.Equal(t, txntoken.JWTType, header["typ"])
	assert.Equal(t, "alice", payload["sub"])
	assert.Equal(t, "payment_initiate", payload["scope"])
	assert.Equal(t, "gateway", payload["req_wl"])
	assert.Equal(t, map[string]any{"amount": json.Number("500"), "currency": "EUR"}, payload["tctx"])
	assert.Equal(t, map[string]any{"req_ip": "192.0.2.7"}, payload["rctx"])
	assert.NotEmpty(t, payload["txn"])
	assert.NotContains(t, payload, "jti")
	assert.NotContains(t, payload, "amount", "context claims live in tctx")

	for _, tc := range []struct {
		name   string
		edit   func(url.Values)
		status int
		code   string
	}{
		{"wrong grant", func(f url.Values) { f.Set("grant_type", "client_credentials") }, 400, "unsupported_grant_type"},
		{"wrong token type", func(f url.Values) { f.Set("requested_token_type", txntoken.AccessTokenType) }, 400, "invalid_request"},
		{"wrong audience", func(f url.Values) { f.Set("audience", "https://evil.example") }, 400, "invalid_target"},
		{"unknown operation", func(f url.Values) { f.Set("scope", "wire") }, 400, "invalid_scope"},
		{"inactive subject", func(f url.Values) { f.Set("subject_token", "sess_nope") }, 400, "invalid_grant"},
		{"wrong subject type", func(f url.Values) { f.Set("subject_token_type", "urn:x") }, 400, "invalid_request"},
		{"bad details", func(f url.Values) { f.Set("request_details", `{"amount":"500"}`) }, 400, "invalid_request"},
		{"duplicate details member", func(f url.Values) { f.Set("request_details", `{"amount":5,"amount":500}`) }, 400, "invalid_request"},
		{"bad context", func(f url.Values) { f.Set("request_context", `{"req_ip":1}`) }, 400, "invalid_request"},
		{"repeated parameter", func(f url.Values) { f.Add("scope", "user_profile") }, 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := form()
			tc.edit(f)
			status, answer := postForm(t, tts.URL, f)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.code, answer["error"])
		})
	}
	t.Run("bad client secret", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, tts.URL, strings.NewReader(form().Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("gateway", "wrong-secret-0123456789")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
	})

	runServices(t, e, txntoken.LayoutIETF, token)
}
