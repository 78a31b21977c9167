package txntoken

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPatternEscapeFactor(t *testing.T) {
	tests := map[string]int{
		"[A-Z]{3}":         1,
		"[a-z0-9_-]+":      1,
		`[a-z"]+`:          2,
		"[a-z<]+":          6,
		".*":               6,
		"[^a]":             6,
		"é+":               3,
		"(?i)k":            2, // k folds to the Kelvin sign U+212A, 6 escaped bytes for 3
		"[\u4e00-\u9fff]+": 2,
	}
	for pattern, want := range tests {
		assert.Equal(t, want, patternEscapeFactor(pattern), pattern)
	}
}
