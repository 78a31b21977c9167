package phantom

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

// TestRouteMinterThroughHandler runs identity and transaction exchanges
// through one introspection endpoint, with paramMinter standing in for a
// transaction-token issuer.
func TestRouteMinterThroughHandler(t *testing.T) {
	env := newTestEnv(t)
	identity, err := NewJWTMinter(JWTMinterConfig{Signer: env.signer, Now: env.clock.Now})
	require.NoError(t, err)
	env2 := newTestEnv(t, func(cfg *ServerConfig) {
		cfg.Sessions = env.manager
		cfg.Minter = &RouteMinter{Default: identity, ByParam: map[string]Minter{"operation": paramMinter{env}}}
	})
	token := env.issue(t, "read")
	client := env2.newClient(t, func(c *ClientConfig) { c.Verifier = env.verifier })

	in, err := client.Introspect(context.Background(), token, nil)
	require.NoError(t, err)
	assert.Equal(t, "web-app", rawString(t, in, "azp"), "no operation: the identity minter")
	_, hasOp := in.JWTClaims.Raw("op")
	assert.False(t, hasOp)

	in, err = client.Introspect(context.Background(), token, url.Values{"operation": {"pay"}})
	require.NoError(t, err)
	assert.Equal(t, "pay", rawString(t, in, "op"), "operation: the transaction minter")

	_, err = client.Introspect(context.Background(), token, url.Values{"operation": {"forbidden"}})
	assert.ErrorIs(t, err, ErrExchangeRejected, "the routed minter's OAuth error reaches the gateway")

	_, err = client.Introspect(context.Background(), token, url.Values{"audit": {"x"}})
	assert.ErrorIs(t, err, ErrExchangeRejected, "the identity minter rejects unknown parameters")
}

func rawString(t *testing.T, in *Introspection, name string) string {
	t.Helper()
	require.NotNil(t, in.JWTClaims)
	var s string
	if err := in.JWTClaims.Get(name, &s); err != nil {
		return ""
	}
	return s
}

// recordMinter records that it was called and with which parameters.
type recordMinter struct {
	name   string
	called *string
	params *url.Values
}

func (m recordMinter) MintJWT(_ context.Context, _ *session.Session, _ string, params url.Values) (string, error) {
	*m.called = m.name
	*m.params = params
	return m.name, nil
}

func TestRouteMinterRouting(t *testing.T) {
	var called string
	var got url.Values
	rec := func(name string) Minter { return recordMinter{name: name, called: &called, params: &got} }
	m := &RouteMinter{Default: rec("identity"), ByParam: map[string]Minter{"operation": rec("txn"), "delegate": rec("act")}}

	tests := []struct {
		name     string
		params   url.Values
		want     string
		wantCode string
	}{
		{name: "no params", params: nil, want: "identity"},
		{name: "empty operation", params: url.Values{"operation": {""}}, want: "identity"},
		{name: "operation", params: url.Values{"operation": {"pay"}, "amount": {"5"}}, want: "txn"},
		{name: "delegate", params: url.Values{"delegate": {"svc"}}, want: "act"},
		{name: "two routes", params: url.Values{"operation": {"pay"}, "delegate": {"svc"}}, wantCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called, got = "", nil
			jwt, err := m.MintJWT(context.Background(), nil, "gw", tc.params)
			if tc.wantCode != "" {
				var oe *OAuthError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, tc.wantCode, oe.Code)
				assert.Contains(t, oe.Description, "delegate and operation")
				assert.Empty(t, called)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, jwt)
			assert.Equal(t, tc.want, called)
			assert.Equal(t, tc.params, got, "the chosen minter gets every parameter")
		})
	}

	t.Run("no default", func(t *testing.T) {
		m := &RouteMinter{ByParam: map[string]Minter{"operation": rec("txn")}}
		_, err := m.MintJWT(context.Background(), nil, "gw", nil)
		var oe *OAuthError
		require.ErrorAs(t, err, &oe)
		assert.True(t, strings.Contains(oe.Description, "operation"), oe.Description)
	})
	t.Run("nil route", func(t *testing.T) {
		m := &RouteMinter{ByParam: map[string]Minter{"operation": nil}}
		_, err := m.MintJWT(context.Background(), nil, "gw", url.Values{"operation": {"pay"}})
		require.Error(t, err)
		var oe *OAuthError
		assert.False(t, errors.As(err, &oe), "a configuration error must be a 500, not a 400")
	})
}
