// Package bearer holds the HTTP plumbing that every tokenpattern middleware
// shares: strict extraction of an RFC 6750 bearer token from the
// Authorization header, RFC 6750 WWW-Authenticate challenges, and the
// SHA-256 digest under which tokens are stored and cached.
package bearer

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
)

// MaxTokenLength bounds the bearer token accepted from a header, so a client
// cannot make a middleware hash or copy megabytes per request.
const MaxTokenLength = 16 << 10

var (
	// ErrNoCredentials reports that the request carried no Authorization header.
	// RFC 6750 section 3.1 asks for a challenge without an error code then.
	ErrNoCredentials = errors.New("no credentials in request")
	// ErrMultipleHeaders reports more than one Authorization header.
	ErrMultipleHeaders = errors.New("more than one Authorization header")
	// ErrMalformed reports an Authorization header that is not "Bearer <token>"
	// with a token of RFC 6750 b64token characters.
	ErrMalformed = errors.New("malformed bearer Authorization header")
	// ErrNotBearer reports an Authorization header with another scheme, such as Basic.
	ErrNotBearer = errors.New("authorization scheme is not Bearer")
)

// FromHeader returns the bearer token in h's Authorization header. The
// scheme is matched case-insensitively and must be followed by exactly one
// space; the token must be a non-empty RFC 6750 b64token no longer than
// MaxTokenLength.
func FromHeader(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", ErrNoCredentials
	case 1:
	default:
		return "", ErrMultipleHeaders
	}
	v := values[0]
	if v == "" {
		return "", ErrNoCredentials
	}
	const scheme = "Bearer "
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		if len(v) >= len("Bearer") && strings.EqualFold(v[:len("Bearer")], "Bearer") {
			return "", ErrMalformed
		}
		return "", ErrNotBearer
	}
	token := v[len(scheme):]
	if !ValidToken(token) {
		return "", ErrMalformed
	}
	return token, nil
}

// ValidToken reports whether token is a non-empty RFC 6750 b64token
// (ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then optional "=")
// of at most MaxTokenLength bytes.
func ValidToken(token string) bool {
	if token == "" || len(token) > MaxTokenLength {
		return false
	}
	i := 0
	for ; i < len(token); i++ {
		c := token[i]
		if !isTokenChar(c) {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(token); i++ {
		if token[i] != '=' {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		return true
	}
	return false
}

// Digest returns the SHA-256 of token. Stores and caches key tokens by this
// value so that a dump of their memory holds no usable token.
func Digest(token string) [32]byte {
	// Copying a short token into a stack buffer avoids the heap allocation
	// that converting the string to a slice would cost on every request.
	var buf [128]byte
	if len(token) > len(buf) {
		return sha256.Sum256([]byte(token))
	}
	n := copy(buf[:], token)
	return sha256.Sum256(buf[:n])
}

// RFC 6750 section 3.1 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Challenge is the content of one RFC 6750 WWW-Authenticate challenge.
type Challenge struct {
	// Scheme is the auth scheme; empty means "Bearer".
	Scheme string
	// Realm is the optional protection realm.
	Realm string
	// Error is the RFC 6750 error code; empty when the request carried no credentials.
	Error string
	// Description is a short human-readable text. It must never hold internal
	// error text, tokens or secrets.
	Description string
	// Scope lists the scopes the resource requires, space-delimited.
	Scope string
}

// String formats c as a WWW-Authenticate header value.
func (c Challenge) String() string {
	var b strings.Builder
	scheme := c.Scheme
	if scheme == "" {
		scheme = "Bearer"
	}
	b.WriteString(scheme)
	sep := " "
	param := func(name, value string) {
		if value == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quote(value))
		b.WriteString(`"`)
		sep = ", "
	}
	param("realm", c.Realm)
	param("error", c.Error)
	param("error_description", c.Description)
	param("scope", c.Scope)
	return b.String()
}

// quote drops characters that RFC 6750 forbids in error_description and
// scope (outside %x20-21 / %x23-5B / %x5D-7E), so a value can never break
// out of its quoted-string.
func quote(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !allowedInQuoted(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if allowedInQuoted(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

func allowedInQuoted(c byte) bool {
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'
}

// StatusFor returns the HTTP status RFC 6750 section 3.1 pairs with code.
func StatusFor(code string) int {
	switch code {
	case CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeInsufficientScope:
		return http.StatusForbidden
	default:
		return http.StatusUnauthorized
	}
}

// WriteChallenge answers with c: the WWW-Authenticate header, the status that
// RFC 6750 pairs with c.Error (401 when c.Error is empty), Cache-Control:
// no-store, and a short plain-text body naming the status.
func WriteChallenge(w http.ResponseWriter, c Challenge) {
	status := StatusFor(c.Error)
	h := w.Header()
	h.Set("WWW-Authenticate", c.String())
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status) + "\n"))
}

// ChallengeFor maps an error from FromHeader to the challenge RFC 6750
// asks for: no error code when credentials were absent (or used another
// scheme), invalid_request for a malformed or repeated header.
func ChallengeFor(err error) Challenge {
	switch {
	case errors.Is(err, ErrNoCredentials), errors.Is(err, ErrNotBearer):
		return Challenge{}
	case errors.Is(err, ErrMultipleHeaders):
		return Challenge{Error: CodeInvalidRequest, Description: "more than one Authorization header"}
	default:
		return Challenge{Error: CodeInvalidRequest, Description: "malformed Authorization header"}
	}
}

// WriteUnavailable answers 503 for a failure on the server's side, such as a
// store or auth server that cannot be reached. The body never names the cause.
func WriteUnavailable(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte("Service Unavailable\n"))
}
