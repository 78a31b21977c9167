// Package session implements the session-ID pattern: the client holds an
// opaque random token that carries no user data, the server looks it up in
// a store on every request, and revocation takes effect at once.
//
// Tokens are a prefix ("sess_" by default), 256 random bits in base64url
// and a CRC-32 checksum, so [CheckTokenFormat] rejects a mistyped or
// truncated token before any lookup and secret scanners can find leaked
// ones. Stores key sessions by the SHA-256 of the token and never hold the
// token itself. [Manager.ValidateToken] checks, in order, the format, the
// store record, the idle timeout (30 minutes by default, sliding on use)
// and the absolute lifetime (8 hours by default, never extended).
//
// [Middleware] reads the token from the "__Host-session" cookie or from an
// "Authorization: Bearer" header. If both are present and differ, the
// request is rejected with 400 invalid_request; if they are equal, the
// token is used. Bad tokens get 401 with an RFC 6750 challenge, and a
// failing store gets 503, never 401 and never a pass.
//
// Switches that weaken the defaults: [ManagerConfig.SkipIdleTimeout],
// [CookieConfig.InsecureSkipHostPrefix] (plain-HTTP development),
// [MiddlewareConfig.SkipCookie] and [MiddlewareConfig.SkipHeader] (narrow
// where the token may come from).
//
//	store := session.NewMemoryStore(session.MemoryStoreConfig{})
//	defer store.Close()
//	mgr, err := session.NewManager(session.ManagerConfig{Store: store})
//	// at login:
//	token, s, err := mgr.Issue(ctx, "alice", map[string]string{"scope": "profile"})
//	err = session.SetCookie(w, session.CookieConfig{}, token, s)
//	// on every protected route:
//	mux.Handle("/profile", session.Middleware(mgr, session.MiddlewareConfig{})(profile))
//	// in the handler:
//	s, ok := session.FromContext(r.Context())
package session
