package txntoken_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

// TestMintPayloadIsPinned pins the payload Mint encodes for fixed inputs,
// so that a change in how values are held cannot change the tokens.
func TestMintPayloadIsPinned(t *testing.T) {
	key, err := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	require.NoError(t, key.Set(jwk.AlgorithmKey, jwa.HS256))
	now := time.Unix(1700000000, 0)
	claims := map[string]any{"amount": 500, "currency": "EUR", "account": "DE89", "rate": 0.25, "express": true}
	for _, tt := range []struct {
		layout txntoken.Layout
		want   string
	}{
		{txntoken.LayoutFlat, `{"account":"DE89","amount":500,"aud":"https://payments.example","currency":"EUR","exp":1700000060,"express":true,"iat":1700000000,"iss":"https://txn.bank.example","jti":"ID","rate":0.25,"sub":"alice","txn_tag":"payment_initiate"}`},
		{txntoken.LayoutIETF, `{"aud":"https://payments.example","exp":1700000060,"iat":1700000000,"iss":"https://txn.bank.example","rctx":{"req_ip":"192.0.2.1"},"req_wl":"gateway","scope":"payment_initiate","sub":"alice","tctx":{"account":"DE89","amount":500,"currency":"EUR","express":true,"rate":0.25},"txn":"ID"}`},
	} {
		t.Run(tt.layout.String(), func(t *testing.T) {
			iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{
				Registry: newRegistry(t), Keys: jwtutil.StaticSigningKey(key), Issuer: issuerURL,
				TrustDomain: trustDomain, Layout: tt.layout, Now: func() time.Time { return now },
			})
			require.NoError(t, err)
			token, err := iss.Mint(context.Background(), txntoken.MintRequest{
				Subject: "alice", Operation: "payment_initiate", Claims: claims,
				Requester: "gateway", RequestContext: map[string]string{"req_ip": "192.0.2.1"},
			})
			require.NoError(t, err)
			parts := strings.Split(token, ".")
			require.Len(t, parts, 3)
			payload, err := base64.RawURLEncoding.DecodeString(parts[1])
			require.NoError(t, err)
			_, c, err := jwtutil.InspectUnverified(token)
			require.NoError(t, err)
			id, _ := c["jti"].(string)
			if tt.layout == txntoken.LayoutIETF {
				id, _ = c["txn"].(string)
			}
			require.Len(t, id, 22)
			assert.Equal(t, tt.want, strings.Replace(string(payload), id, "ID", 1))
		})
	}
}

func TestValuesAccessors(t *testing.T) {
	op, ok := newRegistry(t).Operation("payment_initiate")
	require.True(t, ok)
	// Five claims: more than a Context holds inline.
	v, err := op.CheckValues(map[string]any{"amount": 500, "currency": "EUR", "account": "DE89", "rate": -0.0, "express": false})
	require.NoError(t, err)

	assert.Equal(t, 5, v.Len())
	amount, ok := v.Int("amount")
	assert.True(t, ok)
	assert.Equal(t, int64(500), amount)
	currency, ok := v.String("currency")
	assert.True(t, ok)
	assert.Equal(t, "EUR", currency)
	rate, ok := v.Float("rate")
	assert.True(t, ok)
	assert.Zero(t, rate)
	express, ok := v.Bool("express")
	assert.True(t, ok)
	assert.False(t, express)

	// The wrong type or an absent claim reports false.
	_, ok = v.String("amount")
	assert.False(t, ok)
	_, ok = v.Int("rate")
	assert.False(t, ok)
	_, ok = v.Float("amount")
	assert.False(t, ok)
	_, ok = v.Bool("currency")
	assert.False(t, ok)
	_, ok = v.Int("missing")
	assert.False(t, ok)
	assert.True(t, v.Has("express"))
	assert.False(t, v.Has("Express"))

	var names []string
	for name, value := range v.All() {
		names = append(names, name)
		assert.Equal(t, v.Map()[name], value)
	}
	assert.Equal(t, []string{"account", "amount", "currency", "express", "rate"}, names)

	m := v.Map()
	assert.Equal(t, map[string]any{"amount": int64(500), "currency": "EUR", "account": "DE89", "rate": 0.0, "express": false}, m)
	m["amount"] = "changed"
	amount, _ = v.Int("amount")
	assert.Equal(t, int64(500), amount, "Map returns a copy")

	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"account":"DE89","amount":500,"currency":"EUR","express":false,"rate":0}`, string(b))

	var zero txntoken.Values
	assert.Zero(t, zero.Len())
	assert.False(t, zero.Has("amount"))
	_, ok = zero.String("currency")
	assert.False(t, ok)
	assert.Empty(t, zero.Map())
	b, err = json.Marshal(zero)
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(b))
}

// newIETFEnv returns a signer of IETF-layout tokens whose envelope names
// the subject alice, so that a test can send payloads Mint would never
// write.
func newIETFEnv(t *testing.T) *rawSigner {
	t.Helper()
	s := newRawSigner(t, txntoken.LayoutIETF)
	s.subject = "alice"
	return s
}

func TestVerifyIETFReadsRawPayload(t *testing.T) {
	e := newIETFEnv(t)
	const envelope = `,"scope":"payment_initiate","txn":"t1","req_wl":"gateway"`
	ok := []struct {
		name, extra string
		want        map[string]any
	}{
		{"plain", envelope + `,"tctx":{"amount":5,"currency":"EUR"}`, map[string]any{"amount": int64(5), "currency": "EUR"}},
		{"whitespace", envelope + `,"tctx": { "amount" : 5 ,` + "\n\t" + `"currency":"EUR" } `, map[string]any{"amount": int64(5), "currency": "EUR"}},
		{"escaped name", envelope + `,"tctx":{"\u0061mount":5}`, map[string]any{"amount": int64(5)}},
		{"escaped value", envelope + `,"tctx":{"amount":5,"account":"DE\u00389"}`, map[string]any{"amount": int64(5), "account": "DE89"}},
		{"more claims than inline", envelope + `,"tctx":{"rate":1.5,"express":true,"account":"DE89","currency":"EUR","amount":7}`,
			map[string]any{"amount": int64(7), "currency": "EUR", "account": "DE89", "rate": 1.5, "express": true}},
		{"extra top-level claims", envelope + `,"purpose":{"a":[1,{"b":null}]},"tctx":{"amount":5}`, map[string]any{"amount": int64(5)}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			c, err := e.verifier.Verify(context.Background(), e.sign(tt.extra), "payment_initiate")
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.Values.Map())
			assert.Equal(t, "t1", c.ID)
			assert.Equal(t, []string{"gateway"}, c.Requesters)
		})
	}

	bad := []struct {
		name, extra string
		err         error
		text        string
	}{
		{"duplicate member", envelope + `,"tctx":{"amount":5,"amount":6}`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"duplicate escaped member", envelope + `,"tctx":{"amount":5,"\u0061mount":6}`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"duplicate undeclared member", envelope + `,"tctx":{"amount":5,"x":1,"x":2}`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"nested duplicate", envelope + `,"tctx":{"amount":5,"x":{"a":1,"a":2}}`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"tctx null", envelope + `,"tctx":null`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"tctx array", envelope + `,"tctx":[]`, txntoken.ErrInvalidToken, `"tctx" is not a JSON object`},
		{"tctx missing", envelope, txntoken.ErrInvalidToken, `"tctx" is missing`},
		{"undeclared member", envelope + `,"tctx":{"amount":5,"x":1}`, txntoken.ErrInvalidClaim, `"x" is not declared`},
		{"required member missing", envelope + `,"tctx":{}`, txntoken.ErrInvalidClaim, `"amount" is required`},
		{"wrong type", envelope + `,"tctx":{"amount":"5"}`, txntoken.ErrInvalidClaim, `"amount" must be an integer`},
		{"scope not a string", `,"scope":1,"txn":"t1","req_wl":"g","tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"scope" is missing or not a string`},
		{"scope null", `,"scope":null,"txn":"t1","req_wl":"g","tctx":{"amount":5}`, txntoken.ErrWrongOperation, ``},
		{"txn empty", `,"scope":"payment_initiate","txn":"","req_wl":"g","tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"txn" is missing or not a string`},
		{"txn not a string", `,"scope":"payment_initiate","txn":5,"req_wl":"g","tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"txn" is missing or not a string`},
		{"req_wl empty", `,"scope":"payment_initiate","txn":"t1","req_wl":"","tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"req_wl" is not a string or an array of strings`},
		{"req_wl empty array", `,"scope":"payment_initiate","txn":"t1","req_wl":[],"tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"req_wl" is not a string or an array of strings`},
		{"rctx not an object", envelope + `,"rctx":"x","tctx":{"amount":5}`, txntoken.ErrInvalidToken, `"rctx" is not a JSON object`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.verifier.Verify(context.Background(), e.sign(tt.extra), "payment_initiate")
			require.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.text)
		})
	}

	t.Run("request context and requester list", func(t *testing.T) {
		c, err := e.verifier.Verify(context.Background(), e.sign(`,"scope":"payment_initiate","txn":"a\u0062c","req_wl":["gw","w2"],"rctx":{"req_ip":"192.0.2.1"},"tctx":{"amount":5}`), "payment_initiate")
		require.NoError(t, err)
		assert.Equal(t, "abc", c.ID)
		assert.Equal(t, []string{"gw", "w2"}, c.Requesters)
		assert.JSONEq(t, `{"req_ip":"192.0.2.1"}`, string(c.RequestContext))
	})
}

func TestVerifyFlatHoldsMoreClaimsThanInline(t *testing.T) {
	e := newEnv(t, "HS256", txntoken.LayoutFlat)
	claims := map[string]any{"amount": 7, "currency": "EUR", "account": "DE89", "rate": 1.5, "express": true}
	c, err := e.verifier.Verify(context.Background(), mint(t, e, claims), "payment_initiate")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"amount": int64(7), "currency": "EUR", "account": "DE89", "rate": 1.5, "express": true}, c.Values.Map())
}
