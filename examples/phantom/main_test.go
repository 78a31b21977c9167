package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/leaktest"
	"github.com/tokenpattern/tokenpattern/internal/redistest"
)

// runExample runs the program with args and requires exit status 0.
func runExample(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"phantom"}, args...), &stdout, &stderr)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Empty(t, stderr.String())
	return stdout.String()
}

// gatewayStats returns the fields of the gateway stats line.
func gatewayStats(t *testing.T, out string) map[string]string {
	t.Helper()
	line := regexp.MustCompile(`(?m)^gateway stats: (.*)$`).FindStringSubmatch(out)
	require.NotNil(t, line, "no gateway stats in:\n%s", out)
	stats := map[string]string{}
	for field := range strings.FieldsSeq(line[1]) {
		name, value, _ := strings.Cut(field, "=")
		stats[name] = value
	}
	return stats
}

// assertSharedOutcomes checks what both modes print: the requests before
// revocation, the introspection counts, and the rejection right after the
// revocation.
func assertSharedOutcomes(t *testing.T, out string) {
	t.Helper()
	assert.Contains(t, out, `client holds an opaque token of 54 bytes (prefix "sess_")`)
	assert.Contains(t, out, "GET /orders  -> 200 orders: JWT for alice, scopes [orders profile]")
	assert.Contains(t, out, "GET /profile -> 200 profile: JWT for alice, scopes [orders profile]")
	assert.Contains(t, out, "GET /admin   -> 403 Forbidden\n")
	assert.Contains(t, out, "200 more requests cost 0 introspection calls with the cache (the first request made the only one), 200 without\n")

	_, afterRevoke, found := strings.Cut(out, "revocation endpoint answered 200\n")
	require.True(t, found, "no successful revocation in:\n%s", out)
	assert.Contains(t, afterRevoke, "GET /orders  -> 401 Unauthorized\n", "the revoked token is rejected at once")

	stats := gatewayStats(t, out)
	assert.Equal(t, "1", stats["introspections"], "one introspection for all 204 gateway requests")
	assert.Equal(t, "202", stats["hits"])
	assert.Equal(t, "1", stats["evictions"])
	assert.Equal(t, "1", stats["negative_hits"], "the request after revocation")
	assert.Equal(t, "1", stats["forbidden"])

	assert.True(t, strings.HasSuffix(out, "all outcomes as expected\n"))
}

func TestRunLocalBus(t *testing.T) {
	before := runtime.NumGoroutine()
	out := runExample(t)
	assertSharedOutcomes(t, out)
	assert.NotContains(t, out, "gateway 2", "one gateway without -redis")
	leaktest.Check(t, before)
}

func TestRunRedisBus(t *testing.T) {
	srv := redistest.Start(t)
	before := runtime.NumGoroutine()
	out := runExample(t, "-redis", srv.Addr())
	assertSharedOutcomes(t, out)

	assert.Contains(t, out, "revocations travel over Redis pub/sub at "+srv.Addr())
	_, afterRevoke, found := strings.Cut(out, "revocation endpoint answered 200\n")
	require.True(t, found)
	beforeRevoke := strings.TrimSuffix(out, afterRevoke)
	assert.Contains(t, beforeRevoke, "gateway 2: GET /orders  -> 200\n")
	assert.Regexp(t, `(?m)^2 gateways evicted the token \S+ after the revocation request$`, afterRevoke)
	assert.Contains(t, afterRevoke, "gateway 2: GET /orders  -> 401\n", "the second gateway rejects the revoked token")
	leaktest.Check(t, before)
}

func TestRunRedisUnreachable(t *testing.T) {
	// Nothing listens on a port just released, unless another process
	// takes it in the meantime.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"phantom", "-redis", addr}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "phantom example: cannot reach Redis at "+addr)
	assert.NotContains(t, stdout.String(), "all outcomes as expected")
}

func TestRunInvalidFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"phantom", "-nope"}, &stdout, &stderr)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr.String(), "flag provided but not defined: -nope")
	assert.Contains(t, stderr.String(), "Usage of phantom:")
	assert.Empty(t, stdout.String())
}
