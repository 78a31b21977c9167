package phantom

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokenDigestIsSHA256(t *testing.T) {
	token := "sess_example-token"
	assert.Equal(t, sha256.Sum256([]byte(token)), TokenDigest(token))
}
