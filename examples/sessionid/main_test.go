package main

import (
	"bytes"
	"context"
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

	for _, want := range []string{
		`logged in as alice; token has prefix "sess_"`,
		"profile call 1: 200 profile of Alice (alice)\n",
		"profile call 2: 200 profile of Alice (alice)\n",
		"profile call 3: 200 profile of Alice (alice)\n",
		"logout: 204 (session revoked on the auth server)\n",
		`profile call after logout: 401 Bearer error="invalid_token"`,
		"profile service made 4 validation calls to the auth server for 4 requests\n",
	} {
		assert.Contains(t, out, want)
	}
	leaktest.Check(t, before)
}

func TestRunFailureExitsNonZero(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	// A canceled context makes the login request fail.
	code := run(ctx, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "sessionid: ")
	assert.Contains(t, stderr.String(), "context canceled")
	assert.NotContains(t, stdout.String(), "validation calls")
	leaktest.Check(t, before)
}
