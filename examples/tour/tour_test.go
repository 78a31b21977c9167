package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

// longToken matches an unabbreviated token: abbreviations keep at most 10
// characters of one.
var longToken = regexp.MustCompile(`[A-Za-z0-9_-]{40,}`)

func startTest(t *testing.T) *topology {
	t.Helper()
	top, err := startTopology(context.Background())
	require.NoError(t, err)
	t.Cleanup(top.Close)
	return top
}

func TestTourOutcomes(t *testing.T) {
	top := startTest(t)
	var out bytes.Buffer
	res := runTour(context.Background(), &out, top, options{requests: 100})
	text := out.String()
	assert.Empty(t, res.Failures, "tour output:\n%s", text)

	opaque := session.TokenLength(session.DefaultPrefix)

	t.Run("session ID", func(t *testing.T) {
		s := res.Session
		assert.Equal(t, 100, s.Requests)
		assert.Equal(t, 100, s.OK)
		assert.Equal(t, int64(100), s.AuthCalls, "one auth-server call per request")
		assert.Equal(t, http.StatusOK, s.RevokeStatus)
		assert.Equal(t, http.StatusUnauthorized, s.AfterRevokeStatus, "revoked token rejected at once")
		assert.Equal(t, opaque, s.ClientTokenBytes)
		assert.Equal(t, opaque, s.ServiceTokenBytes)
	})

	t.Run("JWT", func(t *testing.T) {
		j := res.JWT
		assert.Equal(t, 100, j.OK)
		assert.Equal(t, int64(0), j.AuthCalls, "verified locally")
		assert.Equal(t, "alice", res.JWTPayload["sub"], "payload readable without a key")
		assert.Equal(t, "Alice", res.JWTPayload["name"])
		assert.Equal(t, loginScopes, res.JWTPayload["scope"])
		assert.Equal(t, http.StatusOK, j.RevokeStatus)
		assert.Equal(t, http.StatusOK, j.AfterRevokeStatus, "a JWT stays valid until exp")
		assert.Greater(t, j.ClientTokenBytes, opaque)
		assert.Equal(t, j.ClientTokenBytes, j.ServiceTokenBytes)
		assert.Contains(t, j.RevocationDelay, "until exp")
	})

	t.Run("phantom token", func(t *testing.T) {
		p := res.Phantom
		assert.Equal(t, []int{200, 200, 200}, res.ProfileStatuses)
		assert.Equal(t, 100, p.OK)
		assert.Equal(t, int64(1), p.AuthCalls, "one introspection for 100 cached requests")
		assert.Equal(t, uint64(1), res.GatewayIntrospections)
		assert.Equal(t, uint64(99), res.GatewayCacheHits)
		assert.Equal(t, http.StatusOK, p.RevokeStatus)
		assert.Equal(t, http.StatusUnauthorized, p.AfterRevokeStatus, "revocation beats the cache")
		assert.Equal(t, opaque, p.ClientTokenBytes, "the client holds the opaque token")
		assert.Equal(t, res.IdentityJWTBytes, p.ServiceTokenBytes, "services see the JWT")
		assert.Greater(t, p.ServiceTokenBytes, opaque)
	})

	t.Run("transaction token", func(t *testing.T) {
		x := res.Txn
		assert.Equal(t, http.StatusOK, res.Payment)
		assert.Equal(t, http.StatusForbidden, res.ReplayOtherOperation, "token for another operation")
		assert.Equal(t, http.StatusUnauthorized, res.ReplayIdentityRoute, "not accepted as an identity JWT")
		assert.Equal(t, http.StatusUnauthorized, res.TamperedAmount, "amount bound to the body")
		assert.Equal(t, http.StatusUnauthorized, res.SecondUse, "replay cache")
		assert.Equal(t, 100, x.OK)
		assert.Equal(t, int64(100), x.AuthCalls, "one exchange per payment")
		assert.Equal(t, http.StatusOK, x.RevokeStatus)
		assert.Equal(t, http.StatusUnauthorized, x.AfterRevokeStatus)
		assert.Equal(t, opaque, x.ClientTokenBytes)
		assert.Equal(t, res.TxnTokenBytes, x.ServiceTokenBytes)
		assert.Greater(t, res.IdentityJWTBytes, 0)
		assert.Greater(t, res.TxnTokenBytes, res.IdentityJWTBytes, "transaction token carries more")
	})

	t.Run("output", func(t *testing.T) {
		for _, want := range []string{
			"== 1. Session ID", "== 2. JWT", "== 3. Phantom token", "== 4. Transaction token", "== Summary",
			"token is for another operation", "does not match claim amount", "token already used",
			"all expected outcomes happened",
		} {
			assert.Contains(t, text, want)
		}
		lines := strings.Count(text, "\n")
		assert.Less(t, lines, 100, "non-verbose output stays short")
		assert.Empty(t, longToken.FindAllString(text, -1), "tokens are abbreviated")
	})
}

func TestTourVerbosePrintsFullTokens(t *testing.T) {
	top := startTest(t)
	var out bytes.Buffer
	res := runTour(context.Background(), &out, top, options{verbose: true, requests: 4})
	require.Empty(t, res.Failures, "tour output:\n%s", out.String())
	assert.NotEmpty(t, longToken.FindAllString(out.String(), -1))
	assert.Contains(t, out.String(), "Authorization: Bearer ")
	assert.Contains(t, out.String(), "Authorization: Basic (client credentials)", "client secrets stay masked")
	assert.NotContains(t, out.String(), top.AppSecret)
}

func TestTourReportsUnexpectedOutcomes(t *testing.T) {
	top := startTest(t)
	// Without the auth server nothing can log in, so every chapter fails.
	top.Close()
	var out bytes.Buffer
	res := runTour(context.Background(), &out, top, options{requests: 4})
	require.NotEmpty(t, res.Failures)
	assert.Contains(t, res.Failures[0], "login at /login")
	assert.Contains(t, out.String(), "unexpected outcomes")
	assert.NotContains(t, out.String(), "all expected outcomes happened")
}

func TestAbbreviate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "-"},
		{"short", "short"},
		{"abcdefghij0123456789", "abcdefghij0123456789"},
		{"abcdefghij-middle-part-uvwxyz", "abcdefghij…uvwxyz"},
	} {
		assert.Equal(t, tc.want, abbreviate(tc.in), "abbreviate(%q)", tc.in)
	}
}

func TestChallengeParam(t *testing.T) {
	c := `Bearer realm="api", error="invalid_token", error_description="token already used"`
	assert.Equal(t, "invalid_token", challengeParam(c, "error"))
	assert.Equal(t, "token already used", challengeParam(c, "error_description"))
	assert.Empty(t, challengeParam(c, "scope"))
}
