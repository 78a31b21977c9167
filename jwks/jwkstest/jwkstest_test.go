package jwkstest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwks/jwkstest"
)

func TestIssuerServesRing(t *testing.T) {
	is := jwkstest.NewIssuer(t, jwks.KeyRingConfig{Algorithm: "EdDSA"})
	r := is.Remote(t, jwks.RemoteConfig{})

	signing, err := is.Ring.SigningKey()
	require.NoError(t, err)
	ks, err := r.Keys(context.Background(), signing.KeyID())
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, "EdDSA", ks[0].Algorithm)
	assert.Equal(t, int64(1), is.Requests())
}
