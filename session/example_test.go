package session_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tokenpattern/tokenpattern/session"
)

func ExampleManager() {
	ctx := context.Background()
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	mgr, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		panic(err)
	}

	token, _, err := mgr.Issue(ctx, "alice", map[string]string{"scope": "profile orders"})
	if err != nil {
		panic(err)
	}
	s, err := mgr.ValidateToken(ctx, token)
	fmt.Println(s.Subject, s.Scopes(), err)

	// Rotate after login or a privilege change: the old token dies at once.
	newToken, _, err := mgr.Rotate(ctx, token)
	if err != nil {
		panic(err)
	}
	_, err = mgr.ValidateToken(ctx, token)
	fmt.Println(err)

	_ = mgr.Revoke(ctx, newToken)
	_, err = mgr.ValidateToken(ctx, newToken)
	fmt.Println(err)
	// Output:
	// alice [profile orders] <nil>
	// session: session revoked
	// session: session revoked
}

func ExampleMiddleware() {
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	mgr, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		panic(err)
	}
	profile := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", s.Attributes["name"])
	})
	srv := httptest.NewServer(session.Middleware(mgr, session.MiddlewareConfig{})(profile))
	defer srv.Close()

	token, _, err := mgr.Issue(context.Background(), "u-123", map[string]string{"name": "Alice"})
	if err != nil {
		panic(err)
	}
	call := func(token string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusOK {
			fmt.Println(resp.StatusCode, string(body))
			return
		}
		fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	call(token)
	call("")
	call(token[:len(token)-1])
	// Output:
	// 200 hello Alice
	// 401 Bearer
	// 401 Bearer error="invalid_token", error_description="the session token is invalid, expired or revoked"
}

func ExampleSetCookie() {
	// A fixed clock keeps Max-Age stable in this example.
	now := func() time.Time { return time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC) }
	store := session.NewMemoryStore(session.MemoryStoreConfig{Now: now})
	defer store.Close()
	mgr, err := session.NewManager(session.ManagerConfig{Store: store, Now: now})
	if err != nil {
		panic(err)
	}
	token, s, err := mgr.Issue(context.Background(), "alice", nil)
	if err != nil {
		panic(err)
	}

	rec := httptest.NewRecorder()
	if err := session.SetCookie(rec, session.CookieConfig{Now: now}, token, s); err != nil {
		panic(err)
	}
	c := rec.Result().Cookies()[0]
	fmt.Println(c.Name, c.Path, c.Secure, c.HttpOnly, c.SameSite == http.SameSiteLaxMode, c.MaxAge)
	// Output:
	// __Host-session / true true true 28800
}

func ExampleCheckTokenFormat() {
	token, err := session.NewToken("sess_")
	if err != nil {
		panic(err)
	}
	fmt.Println(session.CheckTokenFormat(token, "sess_"))
	fmt.Println(session.CheckTokenFormat(token[:len(token)-1], "sess_"))
	mistyped := token[:10] + string(token[10]^0x01) + token[11:]
	fmt.Println(session.CheckTokenFormat(mistyped, "sess_") != nil)
	// Output:
	// <nil>
	// session: malformed token: wrong length
	// true
}
