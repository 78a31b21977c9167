package txntoken_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

// rawSigner signs payloads given as JSON text, so that tests control the
// order of the claims, which Mint and jwtutil.Signer always sort.
type rawSigner struct {
	secret   []byte
	typ      string
	subject  string // written as "sub" after "aud" when not empty
	verifier *txntoken.Verifier
}

func newRawSigner(t *testing.T, layout txntoken.Layout) *rawSigner {
	t.Helper()
	s := &rawSigner{secret: []byte("another HS256 secret of 32 bytes"), typ: txntoken.JWTType}
	key, err := jwk.FromRaw(s.secret)
	require.NoError(t, err)
	require.NoError(t, key.Set(jwk.KeyIDKey, "k1"))
	require.NoError(t, key.Set(jwk.AlgorithmKey, jwa.HS256))
	set := jwk.NewSet()
	require.NoError(t, set.AddKey(key))
	keys, err := jwks.NewStatic(set)
	require.NoError(t, err)
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: issuerURL, Audience: []string{paymentsAud}, Type: txntoken.JWTType})
	require.NoError(t, err)
	s.verifier, err = txntoken.NewVerifier(txntoken.VerifierConfig{Registry: newRegistry(t), JWT: jv, Layout: layout})
	require.NoError(t, err)
	return s
}

// sign returns a token whose payload is iss, aud, sub (when s.subject is
// set), iat and exp followed by members, JSON text that starts with a comma.
func (s *rawSigner) sign(members string) string {
	now := time.Now().Unix()
	sub := ""
	if s.subject != "" {
		sub = `,"sub":"` + s.subject + `"`
	}
	payload := `{"iss":"` + issuerURL + `","aud":"` + paymentsAud + `"` + sub + `,"iat":` + itoa(int(now)) +
		`,"exp":` + itoa(int(now+60)) + members + `}`
	enc := base64.RawURLEncoding
	signed := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"k1","typ":"`+s.typ+`"}`)) + "." + enc.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// TestVerifyIntoMatchesVerify verifies a sequence of tokens into one
// reused Context and checks each result against Verify: the same claims
// after a token with more values, the same error after a valid token, and
// a zero Context after every failure.
func TestVerifyIntoMatchesVerify(t *testing.T) {
	// Context claims, each list in the envelope of its layout.
	contexts := []struct{ name, claims string }{
		{"five claims", `"account":"DE89","amount":7,"currency":"EUR","express":true,"rate":1.5`},
		{"out of order", `"currency":"USD","amount":9`},
		{"one claim", `"amount":5`},
		{"missing required", `"currency":"EUR"`},
		{"after a valid token", `"account":"AB12","amount":3`},
		{"bad value", `"amount":5,"currency":"eur"`},
		{"undeclared", `"amount":5,"admin":true`},
		{"undeclared first", `"aaa":1,"amount":5`},
		{"out of range", `"amount":0`},
		{"escaped value", `"account":"DE\u00389","amount":4`},
		{"duplicate", `"amount":5,"amount":6`},
		{"last valid", `"amount":100000,"rate":0`},
	}
	envelopes := []struct {
		layout txntoken.Layout
		wrap   func(claims string) string
	}{
		{txntoken.LayoutFlat, func(c string) string {
			return `,"sub":"alice","jti":"j1","txn_tag":"payment_initiate",` + c
		}},
		{txntoken.LayoutIETF, func(c string) string {
			return `,"req_wl":"gateway","scope":"payment_initiate","sub":"alice","tctx":{` + c + `},"txn":"t1"`
		}},
	}
	for _, env := range envelopes {
		t.Run(env.layout.String(), func(t *testing.T) {
			s := newRawSigner(t, env.layout)
			ctx := context.Background()
			var out txntoken.Context
			valid, invalid := 0, 0
			for _, tt := range contexts {
				token := s.sign(env.wrap(tt.claims))
				want, wantErr := s.verifier.Verify(ctx, token, "payment_initiate")
				err := s.verifier.VerifyInto(ctx, token, "payment_initiate", &out)
				if wantErr != nil {
					invalid++
					require.Error(t, err, tt.name)
					assert.Equal(t, wantErr.Error(), err.Error(), tt.name)
					assert.Equal(t, txntoken.Context{}, out, "%s: stale values after an error", tt.name)
					continue
				}
				valid++
				require.NoError(t, err, tt.name)
				assert.Equal(t, want.Values.Map(), out.Values.Map(), tt.name)
				assert.Equal(t, want.Values.Len(), out.Values.Len(), tt.name)
				assert.Equal(t, [...]any{want.Operation, want.Subject, want.ID, want.Issuer, want.Audience,
					want.IssuedAt, want.ExpiresAt, want.Requesters, want.RequestContext, want.Layout},
					[...]any{out.Operation, out.Subject, out.ID, out.Issuer, out.Audience,
						out.IssuedAt, out.ExpiresAt, out.Requesters, out.RequestContext, out.Layout}, tt.name)
			}
			// Both kinds of outcome must have happened for the test to mean
			// anything.
			assert.Equal(t, 6, valid)
			assert.Equal(t, 6, invalid)
		})
	}
}

func TestVerifyIntoRejectsNilContext(t *testing.T) {
	e := newEnv(t, "HS256", txntoken.LayoutFlat)
	err := e.verifier.VerifyInto(context.Background(), mint(t, e, benchClaims), "payment_initiate", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "non-nil")
}

func TestVerifyIntoClearsContextOnSignatureFailure(t *testing.T) {
	e := newEnv(t, "HS256", txntoken.LayoutFlat)
	ctx := context.Background()
	var out txntoken.Context
	require.NoError(t, e.verifier.VerifyInto(ctx, mint(t, e, benchClaims), "payment_initiate", &out))
	require.Equal(t, 3, out.Values.Len())
	token := mint(t, e, benchClaims)
	err := e.verifier.VerifyInto(ctx, token[:len(token)-2]+"AA", "payment_initiate", &out)
	require.Error(t, err)
	assert.Equal(t, txntoken.Context{}, out)
	err = e.verifier.VerifyInto(ctx, token, "no_such_operation", &out)
	require.ErrorIs(t, err, txntoken.ErrUnknownOperation)
	assert.Equal(t, txntoken.Context{}, out)
}

type outerKey struct{}

// TestMiddlewareContextKeepsParentValues checks that the context node the
// middleware adds carries the verified Context and still returns the
// values and deadline of the request's own context.
func TestMiddlewareContextKeepsParentValues(t *testing.T) {
	e := newEnv(t, "HS256", txntoken.LayoutFlat)
	var got []string
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := txntoken.FromContext(r.Context())
		require.True(t, ok)
		outer, _ := r.Context().Value(outerKey{}).(string)
		_, hasDeadline := r.Context().Deadline()
		amount, _ := c.Values.Int("amount")
		got = append(got, fmt.Sprint(outer, " ", hasDeadline, " ", amount))
	})
	h := e.verifier.Require("payment_initiate")(inner)
	for _, amount := range []int{5, 6} {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", "Bearer "+mint(t, e, map[string]any{"amount": amount}))
		ctx, cancel := context.WithTimeout(context.WithValue(req.Context(), outerKey{}, "outer"), time.Minute)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req.WithContext(ctx))
		cancel()
		assert.Equal(t, http.StatusOK, rec.Code)
	}
	assert.Equal(t, []string{"outer true 5", "outer true 6"}, got)
}
