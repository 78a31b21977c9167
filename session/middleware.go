package session

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// MiddlewareConfig configures Middleware. The zero value reads the token
// from the "__Host-session" cookie and from the Authorization header.
type MiddlewareConfig struct {
	// CookieName is the session cookie to read. Default DefaultCookieName.
	CookieName string
	// SkipCookie ignores cookies and reads only the Authorization header,
	// as an API that browsers never call should. Default false.
	SkipCookie bool
	// SkipHeader ignores the Authorization header and reads only the
	// cookie. Default false.
	SkipHeader bool
	// Realm is the realm in WWW-Authenticate challenges. Default none.
	Realm string
	// Logger receives one record for each validator failure that gets a
	// 503 response. Default nil: no logging. Tokens are never logged.
	Logger *slog.Logger
}

// Middleware returns middleware that authenticates each request with v and
// puts the session in the request context, where FromContext finds it.
//
// The token comes from the session cookie or from an "Authorization:
// Bearer" header. When a request carries both with the same token, that
// token is used. When they differ, the request is rejected with 400
// invalid_request, because picking one could act on the wrong account.
// More than one Authorization header, or several session cookies with
// different values, are rejected the same way.
//
// A request with no token gets 401 with a bare Bearer challenge. A token
// that v rejects (malformed, unknown, expired, revoked) gets 401 with
// error="invalid_token". A validator failure that is not ErrInvalidToken,
// such as an unreachable store, gets 503: the request is never let through
// and never told its token is bad. A validator that returns a nil session
// with a nil error is treated as failing, so it also gets 503.
//
// Middleware panics if v is nil, which is a programming error.
func Middleware(v Validator, cfg MiddlewareConfig) func(http.Handler) http.Handler {
	if v == nil {
		panic("session: Middleware called with a nil Validator")
	}
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, challenge, ok := cfg.token(r)
			if !ok {
				challenge.Realm = cfg.Realm
				bearer.WriteChallenge(w, challenge)
				return
			}
			s, err := v.ValidateToken(r.Context(), token)
			if err == nil && s == nil {
				// A validator that returns neither a session nor an error is
				// broken, so the request must not reach the handler unchecked.
				err = errNoSession
			}
			if err != nil {
				if errors.Is(err, ErrInvalidToken) {
					bearer.WriteChallenge(w, bearer.Challenge{
						Realm:       cfg.Realm,
						Error:       bearer.CodeInvalidToken,
						Description: "the session token is invalid, expired or revoked",
					})
					return
				}
				if cfg.Logger != nil {
					cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "session validation failed",
						slog.String("error", err.Error()))
				}
				bearer.WriteUnavailable(w)
				return
			}
			w.Header().Add("Vary", "Cookie, Authorization")
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), s)))
		})
	}
}

var (
	errNoSession              = errors.New("session: validator returned neither a session nor an error")
	errConflictingCredentials = errors.New("session cookie and Authorization header hold different tokens")
	errConflictingCookies     = errors.New("more than one session cookie")
)

// token extracts the request's token. When it finds none it returns the
// challenge to send instead.
func (cfg *MiddlewareConfig) token(r *http.Request) (string, bearer.Challenge, bool) {
	var fromHeader, fromCookie string
	if !cfg.SkipHeader {
		t, err := bearer.FromHeader(r.Header)
		switch {
		case err == nil:
			fromHeader = t
		case errors.Is(err, bearer.ErrNoCredentials):
		case errors.Is(err, bearer.ErrNotBearer) && !cfg.SkipCookie:
			// Another scheme, such as Basic for a proxy, does not stop a
			// browser's cookie from authenticating the request.
		default:
			return "", bearer.ChallengeFor(err), false
		}
	}
	if !cfg.SkipCookie {
		for _, c := range r.CookiesNamed(cfg.CookieName) {
			switch {
			case c.Value == "":
			case fromCookie == "":
				fromCookie = c.Value
			case fromCookie != c.Value:
				return "", invalidRequest(errConflictingCookies), false
			}
		}
	}
	switch {
	case fromHeader != "" && fromCookie != "" && fromHeader != fromCookie:
		return "", invalidRequest(errConflictingCredentials), false
	case fromHeader != "":
		return fromHeader, bearer.Challenge{}, true
	case fromCookie != "":
		return fromCookie, bearer.Challenge{}, true
	}
	return "", bearer.Challenge{}, false
}

func invalidRequest(err error) bearer.Challenge {
	return bearer.Challenge{Error: bearer.CodeInvalidRequest, Description: err.Error()}
}
