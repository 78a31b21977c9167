package phantom

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rejectingAuthServer answers every introspection with status and body;
// status 0 drops the connection.
func rejectingAuthServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status == 0 {
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestGatewayRejectedExchange(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name      string
		status    int
		body      string
		want      int
		challenge string // whole WWW-Authenticate value; empty for 503
	}{
		{"invalid_request passes the description", 400,
			`{"error":"invalid_request","error_description":"operation \"pay\": claim \"amount\" must be at most 1000"}`,
			400, `Bearer error="invalid_request", error_description="operation pay: claim amount must be at most 1000"`},
		{"quotes backslashes and control characters dropped", 400,
			`{"error":"invalid_request","error_description":"bad \\\"x\\\"\r\nSet-Cookie: a=b\u0000\t\u00e9 end"}`,
			400, `Bearer error="invalid_request", error_description="bad xSet-Cookie: a=b end"`},
		{"description cut to the cap", 400,
			`{"error":"invalid_request","error_description":"` + long + `"}`,
			400, `Bearer error="invalid_request", error_description="` + long[:MaxForwardedDescription] + `"`},
		{"empty description keeps the fixed one", 400,
			`{"error":"invalid_request","error_description":"\"\\\n"}`,
			400, `Bearer error="invalid_request", error_description="token exchange rejected"`},
		{"other 400 code hides the description", 400,
			`{"error":"invalid_scope","error_description":"ldap at 10.0.0.5 refused"}`,
			400, `Bearer error="invalid_request", error_description="token exchange rejected"`},
		{"insufficient_scope names the scope", 403,
			`{"error":"insufficient_scope","error_description":"operation \"pay\" requires scope \"payments\", which the subject was not granted","scope":"payments"}`,
			403, `Bearer error="insufficient_scope", error_description="operation pay requires scope payments, which the subject was not granted", scope="payments"`},
		{"insufficient_scope drops malformed scope tokens", 403,
			`{"error":"insufficient_scope","scope":"pay\"ments write\\ read"}`,
			403, `Bearer error="insufficient_scope", error_description="token lacks a scope the exchange requires", scope="read"`},
		{"insufficient_scope without scope", 403,
			`{"error":"insufficient_scope","error_description":"no"}`,
			403, `Bearer error="insufficient_scope", error_description="no"`},
		{"insufficient_scope scope list cut to the cap", 403,
			`{"error":"insufficient_scope","scope":"` + strings.Repeat("s", 150) + ` ` + strings.Repeat("t", 100) + ` u"}`,
			403, `Bearer error="insufficient_scope", error_description="token lacks a scope the exchange requires", scope="` + strings.Repeat("s", 150) + ` u"`},
		{"insufficient_scope on 400 is not a 403", 400,
			`{"error":"insufficient_scope","error_description":"internal"}`,
			400, `Bearer error="invalid_request", error_description="token exchange rejected"`},
		{"5xx description never forwarded", 500,
			`{"error":"invalid_request","error_description":"db password hunter2 rejected"}`, 503, ""},
		{"401 description never forwarded", 401,
			`{"error":"invalid_client","error_description":"client secret hunter2 wrong"}`, 503, ""},
		{"other 403 code is our fault", 403,
			`{"error":"access_denied","error_description":"gateway not allowed"}`, 503, ""},
		{"transport error", 0, "", 503, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			srv := rejectingAuthServer(t, tc.status, tc.body)
			g := env.newGateway(t, func(cfg *GatewayConfig) {
				cfg.Client = env.newClient(t, func(c *ClientConfig) { c.Endpoint = srv.URL })
				cfg.ExchangeParams = func(*http.Request) (url.Values, error) {
					return url.Values{"operation": {"pay"}}, nil
				}
			})
			rec := serve(g.Middleware()(&echoUpstream{}), bearerRequest("opaque-token"))
			assert.Equal(t, tc.want, rec.Code)
			got := rec.Header().Get("WWW-Authenticate")
			assert.Equal(t, tc.challenge, got)
			assert.NotContains(t, got+rec.Body.String(), "hunter2")
			assert.NotContains(t, got, "\r")
			assert.NotContains(t, got, "\n")
			var forbidden uint64
			if tc.want == http.StatusForbidden {
				forbidden = 1
			}
			assert.Equal(t, forbidden, g.Stats().InsufficientScope)
		})
	}
}

func TestCleanDescription(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{`a"b\c`, "abc"},
		{"tab\there\x7fdel\x00nul", "tabheredelnul"},
		{"caf\u00e9", "caf"},
		{"  padded  ", "padded"},
		{strings.Repeat("x", MaxForwardedDescription+1), strings.Repeat("x", MaxForwardedDescription)},
		{strings.Repeat(`"`, 500) + "ok", "ok"},
	} {
		assert.Equal(t, tc.want, cleanDescription(tc.in), "cleanDescription(%q)", tc.in)
	}
}

func TestClientLogLevels(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string // level of the one record, empty for none
	}{
		{"rejected exchange is debug", 400, `{"error":"invalid_request","error_description":"amount too high"}`, "DEBUG"},
		{"missing scope is debug", 403, `{"error":"insufficient_scope"}`, "DEBUG"},
		{"server error is warn", 500, `{"error":"server_error"}`, "WARN"},
		{"bad client credentials is warn", 401, `{"error":"invalid_client"}`, "WARN"},
		{"inactive is silent", 200, `{"active":false}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := rejectingAuthServer(t, tc.status, tc.body)
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := NewClient(ClientConfig{Endpoint: srv.URL, ClientID: "gw", ClientSecret: "s", Logger: logger})
			require.NoError(t, err)
			_, err = c.Introspect(context.Background(), "opaque-token", url.Values{"operation": {"pay"}})
			require.Error(t, err)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if tc.want == "" {
				assert.Empty(t, buf.String())
				return
			}
			require.Len(t, lines, 1)
			assert.Contains(t, lines[0], "level="+tc.want)
			assert.NotContains(t, lines[0], "opaque-token")
		})
	}
}
