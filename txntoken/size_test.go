package txntoken_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/txntoken"
)

var algorithms = []string{"HS256", "ES256", "EdDSA", "RS256"}

// TestWorstCaseSizeBoundsRealTokens mints tokens with every claim at its
// longest, the subject made of characters JSON encoders escape, and checks
// that the estimate is an upper bound within 10% of the real size.
func TestWorstCaseSizeBoundsRealTokens(t *testing.T) {
	reg, err := txntoken.NewRegistry(txntoken.RegistryConfig{MaxSubjectLength: 64}, txntoken.Operation{
		Name: "payment_initiate", Version: 1, MaxSize: 8192,
		Claims: []txntoken.Claim{
			{Name: "amount", Type: txntoken.TypeInteger, Required: true, Min: ptr(-100000), Max: ptr(100000)},
			{Name: "account", Type: txntoken.TypeString, MaxLength: 34, Pattern: "[A-Z0-9]+"},
			{Name: "memo", Type: txntoken.TypeString, MaxLength: 20},
			{Name: "rate", Type: txntoken.TypeNumber},
			{Name: "express", Type: txntoken.TypeBoolean},
		},
	})
	require.NoError(t, err)
	for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
		for _, alg := range algorithms {
			t.Run(layout.String()+"/"+alg, func(t *testing.T) {
				signing, _ := keyPair(t, alg)
				iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: signing, Issuer: issuerURL, TrustDomain: trustDomain, Layout: layout})
				require.NoError(t, err)
				bound, err := iss.WorstCaseSize("payment_initiate")
				require.NoError(t, err)
				token, err := iss.Mint(context.Background(), txntoken.MintRequest{
					Subject:   strings.Repeat("<", 64),
					Operation: "payment_initiate",
					Claims: map[string]any{"amount": -100000, "account": strings.Repeat("A", 34), "memo": strings.Repeat("\x01", 20),
						"rate": -2.2250738585072014e-308, "express": false},
					Requester:      strings.Repeat("w", txntoken.MaxRequesterLength),
					RequestContext: map[string]string{"req_ip": strings.Repeat("1", 400)},
				})
				require.NoError(t, err)
				assert.LessOrEqual(t, len(token), bound)
				assert.Greater(t, float64(len(token)), 0.9*float64(bound), "actual %d, worst case %d", len(token), bound)
			})
		}
	}
}

func TestWorstCaseSizeReferenceClaims(t *testing.T) {
	reg, err := txntoken.NewRegistry(txntoken.RegistryConfig{MaxSubjectLength: 16}, txntoken.Operation{
		Name: "payment_initiate", Version: 1, MaxSize: 2048,
		Claims: []txntoken.Claim{{Name: "amount", Type: txntoken.TypeInteger, Required: true, Min: ptr(1), Max: ptr(100000)}},
	})
	require.NoError(t, err)
	sizes := map[string]int{}
	for _, alg := range algorithms {
		n, err := reg.WorstCaseSize("payment_initiate", txntoken.SizeParams{Algorithm: alg, Audience: trustDomain})
		require.NoError(t, err)
		sizes[alg] = n
	}
	assert.Less(t, sizes["HS256"], sizes["ES256"])
	assert.Equal(t, sizes["ES256"], sizes["EdDSA"])
	assert.Less(t, sizes["ES256"], sizes["RS256"])

	_, err = reg.WorstCaseSize("payment_initiate", txntoken.SizeParams{Algorithm: "none"})
	assert.ErrorContains(t, err, "unsupported signing algorithm")
	_, err = reg.WorstCaseSize("nope", txntoken.SizeParams{Algorithm: "ES256"})
	assert.ErrorIs(t, err, txntoken.ErrUnknownOperation)
}

func TestMintEnforcesBudget(t *testing.T) {
	reg, err := txntoken.NewRegistry(txntoken.RegistryConfig{}, txntoken.Operation{
		Name: "note", Version: 1, MaxSize: 400,
		Claims: []txntoken.Claim{{Name: "text", Type: txntoken.TypeString, MaxLength: 1000}},
	})
	require.NoError(t, err)
	signing, _ := keyPair(t, "ES256")
	iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: signing, TrustDomain: trustDomain})
	require.NoError(t, err)

	_, err = iss.Mint(context.Background(), txntoken.MintRequest{Subject: "a", Operation: "note", Claims: map[string]any{"text": "hi"}})
	require.NoError(t, err)
	_, err = iss.Mint(context.Background(), txntoken.MintRequest{Subject: "a", Operation: "note", Claims: map[string]any{"text": strings.Repeat("x", 500)}})
	assert.ErrorIs(t, err, txntoken.ErrTooLarge)
}
