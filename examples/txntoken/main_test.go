package main

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/leaktest"
)

// sizeLine matches one row of the token-size table: the algorithm, then the
// actual and worst-case sizes in the flat and the IETF layout.
var sizeLine = regexp.MustCompile(`(?m)^  (\S+) +flat +(\d+) / +(\d+)  ietf +(\d+) / +(\d+)$`)

func TestRunOutcomes(t *testing.T) {
	before := runtime.NumGoroutine()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), &stdout, &stderr)
	out := stdout.String()
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, stderr.String())
	assert.Empty(t, stderr.String())

	assert.Contains(t, out, "gateway obtained a token: sub=alice txn_tag=payment_initiate amount=500\n")

	// Each outcome prints "ok" or "FAIL", what was tried, the status and the
	// expected status.
	for _, tc := range []struct {
		outcome string
		status  int
	}{
		{"body amount 999 at payment service", 401},
		{"token at payment service", 200},
		{"same token at payment service again", 401},
		{"token at profile service", 403},
		{"token as identity JWT", 401},
		{"introspection with amount=lots", 400},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			line := regexp.MustCompile(`(?m)^(ok  |FAIL) ` + regexp.QuoteMeta(tc.outcome) + ` +(\d+) \(want (\d+)\)$`).FindStringSubmatch(out)
			require.NotNil(t, line, "no line for %q in:\n%s", tc.outcome, out)
			assert.Equal(t, "ok  ", line[1])
			assert.Equal(t, strconv.Itoa(tc.status), line[2])
			assert.Equal(t, strconv.Itoa(tc.status), line[3])
		})
	}

	t.Run("token sizes", func(t *testing.T) {
		assert.Contains(t, out, "token sizes in bytes for sub=alice, payment_initiate, amount=500 (actual / worst case):\n")
		rows := sizeLine.FindAllStringSubmatch(out, -1)
		require.Len(t, rows, 4, "one row per algorithm in:\n%s", out)
		flat := map[string]int{}
		for i, alg := range []string{"HS256", "ES256", "EdDSA", "RS256"} {
			row := rows[i]
			require.Equal(t, alg, row[1])
			sizes := make([]int, 4)
			for j := range sizes {
				n, err := strconv.Atoi(row[j+2])
				require.NoError(t, err)
				sizes[j] = n
			}
			assert.Positive(t, sizes[0], "%s flat size", alg)
			assert.LessOrEqual(t, sizes[0], sizes[1], "%s flat token within its worst case", alg)
			assert.Positive(t, sizes[2], "%s ietf size", alg)
			assert.LessOrEqual(t, sizes[2], sizes[3], "%s ietf token within its worst case", alg)
			flat[alg] = sizes[0]
		}
		// The claims are the same, so the signature length orders the sizes.
		assert.Less(t, flat["HS256"], flat["ES256"])
		assert.Equal(t, flat["ES256"], flat["EdDSA"], "both signatures are 64 bytes")
		assert.Less(t, flat["ES256"], flat["RS256"])
	})

	assert.NotContains(t, out, "FAIL")
	assert.Contains(t, out, "all outcomes as expected\n")
	leaktest.Check(t, before)
}

func TestRunFailureExitsNonZero(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	// A canceled context makes the gateway's token exchange fail.
	code := run(ctx, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "FAIL: ")
	assert.Contains(t, stderr.String(), "context canceled")
	assert.NotContains(t, stdout.String(), "all outcomes as expected")
	leaktest.Check(t, before)
}
