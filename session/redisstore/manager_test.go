package redisstore_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/session"
)

// newReplica returns a Manager and a server that, like one replica of an
// application, validate sessions against the shared Redis.
func newReplica(t *testing.T, srv *redistest.Server) (*session.Manager, *httptest.Server) {
	t.Helper()
	manager, err := session.NewManager(session.ManagerConfig{Store: newStore(t, srv.Client(), nil)})
	require.NoError(t, err)
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		_, _ = w.Write([]byte(s.Subject))
	})
	ts := httptest.NewServer(session.Middleware(manager, session.MiddlewareConfig{SkipCookie: true})(hello))
	t.Cleanup(ts.Close)
	return manager, ts
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestReplicasShareSessions(t *testing.T) {
	srv := redistest.Start(t)
	managerA, serverA := newReplica(t, srv)
	managerB, serverB := newReplica(t, srv)
	ctx := context.Background()

	token, _, err := managerA.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, get(t, serverA.URL, token), "replica A")
	assert.Equal(t, http.StatusOK, get(t, serverB.URL, token), "replica B accepts a session issued by A")

	newToken, _, err := managerB.Rotate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, get(t, serverA.URL, token), "the rotated-away token fails on A")
	assert.Equal(t, http.StatusOK, get(t, serverA.URL, newToken))

	require.NoError(t, managerB.Revoke(ctx, newToken))
	assert.Equal(t, http.StatusUnauthorized, get(t, serverA.URL, newToken), "a revoke on B holds on A")

	other, _, err := managerA.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	n, err := managerB.RevokeSubject(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, http.StatusUnauthorized, get(t, serverA.URL, other))
}

func TestMiddlewareFailsClosedWhileRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	manager, server := newReplica(t, srv)
	ctx := context.Background()
	token, _, err := manager.Issue(ctx, "alice", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get(t, server.URL, token))

	srv.Kill()
	assert.Equal(t, http.StatusServiceUnavailable, get(t, server.URL, token), "never 401, never let through")
	_, _, err = manager.Issue(ctx, "alice", nil)
	assert.Error(t, err, "Issue while Redis is down")

	srv.Restart()
	// The restarted server has no persistence, so the old session is gone:
	// the response is 401, from a store that works again.
	assert.Equal(t, http.StatusUnauthorized, get(t, server.URL, token))
	fresh, _, err := manager.Issue(ctx, "alice", nil)
	require.NoError(t, err, "no restart of the application is needed")
	assert.Equal(t, http.StatusOK, get(t, server.URL, fresh))
}
