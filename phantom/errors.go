package phantom

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInactive reports that the auth server found the token unknown,
	// expired, revoked or not meant for this resource server. It is the
	// user's fault: middleware answers 401 invalid_token.
	ErrInactive = errors.New("phantom: token is not active")

	// ErrUnavailable reports that the exchange failed on the servers' side:
	// the auth server was unreachable, slow, answered 5xx or a malformed
	// response, or rejected this gateway's client credentials. Middleware
	// answers 503 and logs the cause.
	ErrUnavailable = errors.New("phantom: introspection unavailable")

	// ErrExchangeRejected reports that the auth server answered 400 with an
	// OAuth error, or 403 insufficient_scope, to a request that carried
	// exchange parameters, for example a transaction-token minter that found
	// an "operation" invalid. Middleware answers 403 insufficient_scope for
	// the second and 400 invalid_request otherwise, with the auth server's
	// error_description, cleaned, for the codes invalid_request and
	// insufficient_scope.
	ErrExchangeRejected = errors.New("phantom: token exchange rejected")
)

// IntrospectionError describes a failed introspection call. Its outcome,
// one of ErrInactive, ErrUnavailable and ErrExchangeRejected, is matched
// with errors.Is; the other fields carry what the auth server sent.
type IntrospectionError struct {
	// StatusCode is the HTTP status of the auth server's answer, or 0 when
	// no answer arrived.
	StatusCode int
	// ErrorCode is the OAuth "error" member of the answer, if any.
	ErrorCode string
	// ErrorDescription is the OAuth "error_description" member, if any.
	ErrorDescription string
	// ErrorURI is the OAuth "error_uri" member, if any.
	ErrorURI string
	// Scope is the "scope" member that may name the missing scope of an
	// insufficient_scope answer, if any.
	Scope string
	// Reason says in a few words why the exchange failed.
	Reason string

	outcome error
	cause   error
}

// Error returns the outcome, the reason and, when present, the auth
// server's error code and description.
func (e *IntrospectionError) Error() string {
	var b strings.Builder
	b.WriteString(e.outcome.Error())
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.ErrorCode != "" {
		fmt.Fprintf(&b, ": %q", e.ErrorCode)
		if e.ErrorDescription != "" {
			fmt.Fprintf(&b, " (%q)", e.ErrorDescription)
		}
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the outcome sentinel and, when present, the underlying
// transport or verification error, so that errors.Is matches
// context.DeadlineExceeded after a timeout.
func (e *IntrospectionError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.outcome}
	}
	return []error{e.outcome, e.cause}
}

func inactive(reason string) *IntrospectionError {
	return &IntrospectionError{Reason: reason, outcome: ErrInactive}
}

func unavailable(status int, reason string, cause error) *IntrospectionError {
	return &IntrospectionError{StatusCode: status, Reason: reason, outcome: ErrUnavailable, cause: cause}
}

func isInactive(err error) bool {
	return errors.Is(err, ErrInactive)
}
