package txntoken_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

// TestIdentityVerifierRejectsTransactionToken presents a minted
// transaction token to an identity verifier whose issuer and audience both
// match it: only "typ" keeps a leaked token for one payment from passing
// as the user's access token.
func TestIdentityVerifierRejectsTransactionToken(t *testing.T) {
	for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
		t.Run(layout.String(), func(t *testing.T) {
			signing, keys := keyPair(t, "ES256")
			iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{
				Registry: newRegistry(t), Keys: signing, Issuer: issuerURL, TrustDomain: trustDomain, Layout: layout,
			})
			require.NoError(t, err)
			token, err := iss.Mint(context.Background(), txntoken.MintRequest{
				Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": 5}, Requester: "gateway",
			})
			require.NoError(t, err)

			// The same verifier with Type set accepts the token, so issuer,
			// audience and signature all match and "typ" alone decides.
			typed, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: issuerURL, Audience: []string{paymentsAud}, Type: txntoken.JWTType})
			require.NoError(t, err)
			_, err = typed.Verify(context.Background(), token)
			require.NoError(t, err)

			identity, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: issuerURL, Audience: []string{paymentsAud}})
			require.NoError(t, err)
			_, err = identity.Verify(context.Background(), token)
			assert.ErrorIs(t, err, jwtutil.ErrType)

			srv := httptest.NewServer(identity.Middleware(jwtutil.MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
			t.Cleanup(srv.Close)
			resp := call(t, txntoken.LayoutFlat, http.MethodGet, srv.URL, token, nil)
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		})
	}
}

// TestVerifierRejectsIdentityTyp signs tokens that satisfy the schema
// with another "typ". The jwtutil verifier with Type set rejects them
// first; with SkipTypeCheck the txntoken verifier's own check does.
func TestVerifierRejectsIdentityTyp(t *testing.T) {
	for _, skip := range []bool{false, true} {
		for _, typ := range []string{"JWT", "at+jwt", "txntoken+jwt-x"} {
			name := typ
			if skip {
				name += "/SkipTypeCheck"
			}
			t.Run(name, func(t *testing.T) {
				signing, keys := keyPair(t, "ES256")
				e := &env{signing: signing}
				jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: issuerURL, Audience: []string{paymentsAud}, Type: txntoken.JWTType, SkipTypeCheck: skip})
				require.NoError(t, err)
				v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: jv})
				require.NoError(t, err)

				claims := map[string]any{"sub": "a", "txn_tag": "payment_initiate", "amount": 5}
				_, err = v.Verify(context.Background(), signRaw(t, e, txntoken.JWTType, claims), "payment_initiate")
				require.NoError(t, err, "control token with the right typ")

				_, err = v.Verify(context.Background(), signRaw(t, e, typ, claims), "payment_initiate")
				assert.ErrorIs(t, err, jwtutil.ErrType)
				if skip {
					assert.ErrorIs(t, err, txntoken.ErrInvalidToken)
				}
			})
		}
	}
}

func TestNewVerifierRequiresTxnType(t *testing.T) {
	_, keys := keyPair(t, "ES256")
	tests := []struct {
		name string
		cfg  jwtutil.Config
		ok   bool
	}{
		{"default type", jwtutil.Config{}, false},
		{"type JWT", jwtutil.Config{Type: "JWT"}, false},
		{"type at+jwt", jwtutil.Config{Type: "at+jwt"}, false},
		{"type JWTType", jwtutil.Config{Type: txntoken.JWTType}, true},
		{"type with media prefix", jwtutil.Config{Type: "application/txntoken+jwt"}, true},
		{"skip type check", jwtutil.Config{SkipTypeCheck: true}, true},
	}
	for _, tc := range tests {
		for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
			t.Run(tc.name+"/"+layout.String(), func(t *testing.T) {
				cfg := tc.cfg
				cfg.Keys, cfg.Issuer, cfg.Audience = keys, issuerURL, []string{paymentsAud}
				jv, err := jwtutil.NewVerifier(cfg)
				require.NoError(t, err)
				_, err = txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: jv, Layout: layout})
				if tc.ok {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				assert.Contains(t, err.Error(), "set jwtutil.Config.Type to txntoken.JWTType")
			})
		}
	}
}
