package jwtutil

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// MiddlewareConfig configures [Verifier.Middleware]. The zero value reads
// only the Authorization header and responds to failures with RFC 6750
// challenges.
type MiddlewareConfig struct {
	// CookieName, when set, also accepts the token from this cookie. A
	// request that carries both a bearer header and the cookie with
	// different tokens, or two cookies of this name with different tokens,
	// is rejected as invalid_request. Empty means the header only.
	CookieName string
	// Realm is the realm of WWW-Authenticate challenges. Empty means none.
	Realm string
	// Logger receives one debug record per rejected token, naming the
	// error and a short SHA-256 prefix of the token, never the token. Nil
	// means silent.
	Logger *slog.Logger
	// ErrorHandler, when set, writes the response for a rejected request
	// instead of the default RFC 6750 challenge. err satisfies errors.Is
	// for a package Err value or a bearer extraction error. Nil means the
	// default.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

type contextKey struct{}

// FromContext returns the claims that [Verifier.Middleware] stored in ctx.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(contextKey{}).(*Claims)
	return c, ok && c != nil
}

// NewContext returns a copy of ctx carrying claims, for tests and for
// callers that verify tokens outside the middleware.
func NewContext(ctx context.Context, claims *Claims) context.Context {
	return context.WithValue(ctx, contextKey{}, claims)
}

// errCredentialsConflict reports a header token and a cookie token that
// differ. A request must not be able to present two identities.
var errCredentialsConflict = errors.New("jwtutil: Authorization header and cookies carry different tokens")

// errMalformedCookie reports a token cookie that is not a bearer token. It
// wraps bearer.ErrMalformed so ErrorHandler receives the same class of error as
// for a malformed header, while the challenge names the cookie.
var errMalformedCookie = fmt.Errorf("%w: token cookie", bearer.ErrMalformed)

// Middleware returns middleware that verifies the request's bearer token
// and stores its claims in the request context, where [FromContext] finds
// them. A request without credentials gets 401 with a bare challenge, a
// malformed or conflicting Authorization header 400 invalid_request, a
// rejected token 401 invalid_token, and a key source failure 503. Responses
// never contain the internal error text.
func (v *Verifier) Middleware(cfg MiddlewareConfig) func(http.Handler) http.Handler {
	fail := func(w http.ResponseWriter, r *http.Request, err error, token string) {
		if cfg.Logger != nil {
			attrs := []any{"error", err.Error()}
			if token != "" {
				attrs = append(attrs, "token_sha256", tokenID(token))
			}
			cfg.Logger.DebugContext(r.Context(), "jwtutil: request rejected", attrs...)
		}
		if cfg.ErrorHandler != nil {
			cfg.ErrorHandler(w, r, err)
			return
		}
		writeError(w, cfg.Realm, err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, err := tokenFromRequest(r, cfg.CookieName)
			if err != nil {
				fail(w, r, err, "")
				return
			}
			claims, err := v.Verify(r.Context(), token)
			if err != nil {
				fail(w, r, err, token)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), claims)))
		})
	}
}

// tokenFromRequest returns the bearer token from the Authorization header
// or, when cookieName is set, from that cookie.
func tokenFromRequest(r *http.Request, cookieName string) (string, error) {
	token, err := bearer.FromHeader(r.Header)
	if cookieName == "" {
		return token, err
	}
	fromHeader := err == nil
	if err != nil && !errors.Is(err, bearer.ErrNoCredentials) && !errors.Is(err, bearer.ErrNotBearer) {
		return "", err
	}

	// Every cookie of that name is read, not just the first: a sibling
	// subdomain can plant a second cookie with the same name, and which one
	// the browser sends first is not a choice the server should inherit.
	value := ""
	for _, c := range r.CookiesNamed(cookieName) {
		switch {
		case c.Value == "":
		case value == "":
			value = c.Value
		case value != c.Value:
			return "", errCredentialsConflict
		}
	}

	if value == "" {
		if fromHeader {
			return token, nil
		}
		return "", bearer.ErrNoCredentials
	}
	if !bearer.ValidToken(value) {
		return "", errMalformedCookie
	}
	if fromHeader && token != value {
		return "", errCredentialsConflict
	}
	return value, nil
}

// writeError writes the RFC 6750 response that err calls for.
func writeError(w http.ResponseWriter, realm string, err error) {
	var c bearer.Challenge
	switch {
	case errors.Is(err, ErrKeysUnavailable):
		bearer.WriteUnavailable(w)
		return
	case errors.Is(err, errCredentialsConflict):
		c = bearer.Challenge{Error: bearer.CodeInvalidRequest, Description: "the request carries conflicting bearer tokens"}
	case errors.Is(err, errMalformedCookie):
		c = bearer.Challenge{Error: bearer.CodeInvalidRequest, Description: "malformed token cookie"}
	case errors.Is(err, bearer.ErrNoCredentials), errors.Is(err, bearer.ErrNotBearer),
		errors.Is(err, bearer.ErrMultipleHeaders), errors.Is(err, bearer.ErrMalformed):
		c = bearer.ChallengeFor(err)
	case errors.Is(err, ErrExpired):
		c = bearer.Challenge{Error: bearer.CodeInvalidToken, Description: "the access token expired"}
	default:
		c = bearer.Challenge{Error: bearer.CodeInvalidToken, Description: "the access token is invalid"}
	}
	c.Realm = realm
	bearer.WriteChallenge(w, c)
}

// RequireScope returns middleware that lets a request through only when
// the verified claims' "scope" contains every one of scopes. It must run
// inside [Verifier.Middleware]. A request without verified claims gets 401
// invalid_token; one lacking a scope gets 403 insufficient_scope with the
// required scopes named in the challenge.
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	required := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, ok := FromContext(r.Context())
			if !ok {
				bearer.WriteChallenge(w, bearer.Challenge{Error: bearer.CodeInvalidToken, Description: "the access token is invalid"})
				return
			}
			have := claims.Scopes()
			for _, want := range scopes {
				if !contains(have, want) {
					bearer.WriteChallenge(w, bearer.Challenge{
						Error:       bearer.CodeInsufficientScope,
						Description: "the access token lacks a required scope",
						Scope:       required,
					})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// tokenID returns a short SHA-256 prefix that identifies a token in logs
// without revealing it.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:6])
}
