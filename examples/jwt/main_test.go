package main

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/leaktest"
)

func TestRunOutcomes(t *testing.T) {
	before := runtime.NumGoroutine()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), &stdout, &stderr)
	out := stdout.String()
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, stderr.String())
	assert.Empty(t, stderr.String())

	t.Run("readable payload", func(t *testing.T) {
		assert.Contains(t, out, "header: alg=ES256 typ=at+jwt\n")
		assert.Contains(t, out, "claims: sub=alice email=alice@example.com scope=orders:read aud=orders-api\n")
	})

	// Each request prints its name, the status, the body or challenge and "ok".
	for _, tc := range []struct {
		name   string
		status string
		body   string
	}{
		{"valid token", "200", "orders of alice"},
		{"no token", "401", `Bearer realm="orders"`},
		{"missing scope orders:write", "403", `error="insufficient_scope"`},
		{"payload edited (scope added)", "401", `error="invalid`},
		{"typ JWT where at+jwt is required", "401", `error="invalid`},
		{"token from the new key", "200", "order created"},
		{"token from the retired key", "200", "orders of alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(tc.name) + ` +(\d{3}) (.*) (\S+)$`).FindStringSubmatch(out)
			require.NotNil(t, line, "no line for %q in:\n%s", tc.name, out)
			assert.Equal(t, tc.status, line[1])
			assert.Contains(t, line[2], tc.body)
			assert.Equal(t, "ok", line[3])
		})
	}

	t.Run("rotation", func(t *testing.T) {
		assert.Contains(t, out, "== rotating the issuer's signing key\n")
		kidPattern := regexp.MustCompile(`(?m)^(token from the new key|token from the retired key|valid token) .*\(kid (\S+)\.\.\.\)`)
		kids := map[string]string{}
		for _, m := range kidPattern.FindAllStringSubmatch(out, -1) {
			kids[m[1]] = m[2]
		}
		require.Len(t, kids, 3)
		assert.Equal(t, kids["valid token"], kids["token from the retired key"], "the old token still names the old key")
		assert.NotEqual(t, kids["valid token"], kids["token from the new key"], "new tokens use the new key")
	})

	assert.NotContains(t, out, "UNEXPECTED")
	assert.Contains(t, out, "all outcomes as expected\n")
	leaktest.Check(t, before)
}

func TestRunFailureExitsNonZero(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	// A canceled context makes every request to the API fail.
	code := run(ctx, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "jwt example failed: unexpected outcomes: valid token: ")
	assert.Contains(t, stderr.String(), "context canceled")
	assert.NotContains(t, stdout.String(), "all outcomes as expected")
	leaktest.Check(t, before)
}
