package txntoken

import (
	"context"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// BenchmarkCheck measures the schema checks alone, on claims the JWT
// verifier has already verified. BenchmarkVerify's ratio to jwtutil
// contains this cost plus the noise of the signature check.
func BenchmarkCheck(b *testing.B) {
	k, err := jwk.FromRaw([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(b, err)
	require.NoError(b, k.Set(jwk.AlgorithmKey, jwa.HS256))
	set := jwk.NewSet()
	require.NoError(b, set.AddKey(k))
	keys, err := jwks.NewStatic(set)
	require.NoError(b, err)
	reg := testRegistry(b)
	for _, layout := range []Layout{LayoutFlat, LayoutIETF} {
		b.Run(layout.String(), func(b *testing.B) {
			iss, err := NewIssuer(IssuerConfig{Registry: reg, Keys: jwtutil.StaticSigningKey(k),
				Issuer: "https://txn.example", TrustDomain: "https://bank.example", Layout: layout})
			require.NoError(b, err)
			jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: "https://txn.example",
				Audience: []string{"https://payments.example"}, Type: JWTType})
			require.NoError(b, err)
			v, err := NewVerifier(VerifierConfig{Registry: reg, JWT: jv, Layout: layout})
			require.NoError(b, err)
			ctx := context.Background()
			token, err := iss.Mint(ctx, MintRequest{Subject: "alice", Operation: "payment_initiate",
				Requester: "gateway", Claims: map[string]any{"amount": 500, "currency": "EUR", "channel": "web"}})
			require.NoError(b, err)
			op, claims, err := v.verifyJWT(ctx, token, "payment_initiate")
			require.NoError(b, err)
			var c Context
			b.ReportAllocs()
			for b.Loop() {
				c = Context{}
				if err := v.check(op, claims, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
