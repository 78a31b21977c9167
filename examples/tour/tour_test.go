package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/txntoken"
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
		require.Len(t, s.ServiceTokens, 1, "the profile service receives the opaque token")
		assert.True(t, strings.HasPrefix(s.ServiceTokens[0], session.DefaultPrefix))
		assert.Equal(t, opaque, s.ServiceTokenBytes)
		assert.Equal(t, "next request", s.RevocationDelay)
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
		require.Len(t, j.ServiceTokens, 1)
		assert.Equal(t, j.ClientTokenBytes, j.ServiceTokenBytes)
		require.Greater(t, res.JWTLifetime, time.Duration(0))
		assert.Equal(t, "until exp ("+short(res.JWTLifetime)+")", j.RevocationDelay)
		assert.Equal(t, "every call until exp ("+short(res.JWTLifetime)+")", j.Leak)
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
		require.Len(t, p.ServiceTokens, 1, "services see only the JWT, not the opaque token too")
		header, claims, err := jwtutil.InspectUnverified(p.ServiceTokens[0])
		require.NoError(t, err, "services see a JWT")
		assert.Equal(t, "JWT", header["typ"])
		assert.Equal(t, "alice", claims["sub"])
		assert.Equal(t, len(p.ServiceTokens[0]), p.ServiceTokenBytes)
		assert.Equal(t, p.ServiceTokenBytes, res.IdentityJWTBytes)
		assert.Equal(t, "next request", p.RevocationDelay)
		assert.Equal(t, lifetime(p.ServiceTokens[0]), res.InnerJWTLifetime)
		assert.Greater(t, res.InnerJWTLifetime, time.Duration(0))
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
		require.Len(t, x.ServiceTokens, 1, "the payment service sees only the transaction token")
		header, claims, err := jwtutil.InspectUnverified(x.ServiceTokens[0])
		require.NoError(t, err)
		assert.Equal(t, txntoken.JWTType, header["typ"])
		assert.Equal(t, "alice", claims["sub"])
		assert.Equal(t, map[string]any{"amount": json.Number("500"), "currency": "EUR", "payee": "DE89370400440532013000"}, claims["tctx"])
		assert.Equal(t, len(x.ServiceTokens[0]), x.ServiceTokenBytes)
		assert.Equal(t, x.ServiceTokenBytes, res.TxnTokenBytes)
		assert.Greater(t, res.IdentityJWTBytes, 0)
		assert.Greater(t, res.TxnTokenBytes, res.IdentityJWTBytes, "transaction token carries more")
		assert.Equal(t, "next request", x.RevocationDelay)
		assert.Greater(t, res.TxnLifetime, time.Duration(0))
		assert.Less(t, res.TxnLifetime, res.InnerJWTLifetime, "transaction tokens are short-lived")
	})

	t.Run("auth calls", func(t *testing.T) {
		assert.Equal(t, int64(3), top.counts.jwks.Load(), "JWKS fetched once per party, at startup")
		assert.Equal(t, int64(4), top.counts.login.Load())
		assert.Equal(t, int64(4), top.counts.revoke.Load())
	})

	t.Run("output", func(t *testing.T) {
		for _, want := range []string{
			"== 1. Session ID", "== 2. JWT", "== 3. Phantom token", "== 4. Transaction token", "== Summary",
			"token is for another operation", "does not match claim amount", "token already used",
			"(1) a leaked inner JWT: every call at the services until exp (" + short(res.InnerJWTLifetime) + ")",
			"(2) a leaked transaction token: its one payment, once, until exp (" + short(res.TxnLifetime) + ")",
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

func TestTourInterruptedReportsOnce(t *testing.T) {
	top := startTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	res := runTour(ctx, &out, top, options{requests: 100})
	assert.Equal(t, []string{errInterrupted}, res.Failures)
	assert.NotContains(t, out.String(), "== 2. JWT", "no chapter starts after the interruption")
}

func TestTourFailAfterCancelReportsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &tour{ctx: ctx}
	tr.fail("login at %s: got %d", "/login", 0)
	cancel()
	tr.fail("profile call: context canceled")
	tr.fail("profile call: got 0, expected 200")
	assert.Equal(t, []string{"login at /login: got 0", errInterrupted}, tr.res.Failures)
}

func TestStartTopologyFailureStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// The servers start, then the first JWKS fetch fails.
	top, err := startTopology(ctx)
	require.Error(t, err)
	assert.Nil(t, top)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "servers and background work stopped")
}

func TestTokensIn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		want   []string
	}{
		{"none", http.Header{}, nil},
		{"bearer", http.Header{"Authorization": {"Bearer abc"}}, []string{"abc"}},
		{"scheme case", http.Header{"Authorization": {"bearer abc"}}, []string{"abc"}},
		{"basic ignored", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, nil},
		{"txn token", http.Header{"Txn-Token": {"xyz"}}, []string{"xyz"}},
		{"both", http.Header{"Authorization": {"Bearer abc"}, "Txn-Token": {"xyz"}}, []string{"abc", "xyz"}},
	} {
		assert.Equal(t, tc.want, tokensIn(tc.header), tc.name)
	}
}

func TestLifetimeAndShort(t *testing.T) {
	// {"alg":"none"}.{"exp":1300,"iat":1000}.
	token := "eyJhbGciOiJub25lIn0.eyJleHAiOjEzMDAsImlhdCI6MTAwMH0."
	assert.Equal(t, 300*time.Second, lifetime(token))
	assert.Equal(t, time.Duration(0), lifetime("not a jwt"))
	assert.Equal(t, "5m", short(5*time.Minute))
	assert.Equal(t, "1m30s", short(90*time.Second))
	assert.Equal(t, "45s", short(45*time.Second))
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
