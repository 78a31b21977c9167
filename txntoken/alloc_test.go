//go:build !race

package txntoken_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/txntoken"
)

// TestVerifyAllocatesOneContext checks that verifying the reference token
// allocates only the Context beyond what the JWT verifier allocates. The
// race detector allocates on its own, hence the build constraint.
func TestVerifyAllocatesOneContext(t *testing.T) {
	for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
		t.Run(layout.String(), func(t *testing.T) {
			e := newEnv(t, "HS256", layout)
			ctx := context.Background()
			token := mint(t, e, benchClaims)
			_, err := e.verifier.Verify(ctx, token, "payment_initiate")
			require.NoError(t, err)
			jwt := testing.AllocsPerRun(50, func() { _, _ = e.jwt.Verify(ctx, token) })
			txn := testing.AllocsPerRun(50, func() { _, _ = e.verifier.Verify(ctx, token, "payment_initiate") })
			assert.Equal(t, jwt+1, txn)
		})
	}
}

// TestVerifyIntoAllocatesNoMoreThanJWT checks that verifying the reference
// token into a reused Context allocates no more than the JWT verifier does
// on its own: the schema check allocates nothing.
func TestVerifyIntoAllocatesNoMoreThanJWT(t *testing.T) {
	for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
		t.Run(layout.String(), func(t *testing.T) {
			e := newEnv(t, "HS256", layout)
			ctx := context.Background()
			token := mint(t, e, benchClaims)
			var out txntoken.Context
			require.NoError(t, e.verifier.VerifyInto(ctx, token, "payment_initiate", &out))
			jwt := testing.AllocsPerRun(50, func() { _, _ = e.jwt.Verify(ctx, token) })
			txn := testing.AllocsPerRun(50, func() { _ = e.verifier.VerifyInto(ctx, token, "payment_initiate", &out) })
			assert.LessOrEqual(t, txn, jwt)
			assert.Equal(t, 3, out.Values.Len())
		})
	}
}
