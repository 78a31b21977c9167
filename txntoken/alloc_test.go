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
