package txntoken

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them where a
// caller may want to branch on the outcome.
var (
	// ErrUnknownOperation reports an operation name the registry does not hold.
	ErrUnknownOperation = errors.New("txntoken: unknown operation")
	// ErrInvalidClaim reports a context claim that is missing, unknown to the
	// schema, of the wrong type, or outside its declared bounds.
	ErrInvalidClaim = errors.New("txntoken: invalid claim")
	// ErrTooLarge reports a token that would exceed its operation's size budget.
	ErrTooLarge = errors.New("txntoken: token exceeds size budget")
	// ErrWrongOperation reports a valid token minted for another operation
	// than the one the route requires.
	ErrWrongOperation = errors.New("txntoken: token is for another operation")
	// ErrReplayed reports a token id that was already accepted once.
	ErrReplayed = errors.New("txntoken: token already used")
	// ErrMismatch reports a request whose content differs from a bound claim.
	ErrMismatch = errors.New("txntoken: request does not match token")
	// ErrInvalidToken reports a token that failed verification or does not
	// have the shape of a transaction token.
	ErrInvalidToken = errors.New("txntoken: invalid token")
)

// ValidationError describes why operation parameters or token claims do not
// satisfy the schema. Its description names the operation and claim but never
// repeats the offending value, so it is safe to send back to a client.
type ValidationError struct {
	// Operation is the operation name, empty when the operation itself is missing.
	Operation string
	// Claim is the context claim at fault, empty when the fault is not tied to one.
	Claim string
	// Reason says what is wrong, such as "is required" or "must be an integer".
	Reason string
	// Scope is the scope the subject lacks, empty unless that is the fault.
	Scope string

	err error // ErrInvalidClaim or ErrUnknownOperation
}

func (e *ValidationError) Error() string {
	return "txntoken: " + e.description()
}

// Unwrap returns ErrInvalidClaim or ErrUnknownOperation.
func (e *ValidationError) Unwrap() error { return e.err }

// OAuthError returns the OAuth 2.0 error code and description for e:
// insufficient_scope when the subject lacks a scope the operation requires
// (RFC 6750 section 3.1), invalid_request otherwise. The phantom
// introspection handler answers 403 for the first and 400 for the second.
func (e *ValidationError) OAuthError() (code, description string) {
	if e.Scope != "" {
		return "insufficient_scope", e.description()
	}
	return "invalid_request", e.description()
}

// OAuthScope returns the scope the subject lacks, or "" when the fault is
// another one. The phantom introspection handler sends it as "scope" beside
// an insufficient_scope error.
func (e *ValidationError) OAuthScope() string { return e.Scope }

func (e *ValidationError) description() string {
	switch {
	case e.Operation == "":
		return e.Reason
	case e.Claim == "":
		return fmt.Sprintf("operation %q: %s", e.Operation, e.Reason)
	default:
		return fmt.Sprintf("operation %q: claim %q %s", e.Operation, e.Claim, e.Reason)
	}
}

func claimError(op, claim, format string, args ...any) *ValidationError {
	return &ValidationError{Operation: op, Claim: clip(claim), Reason: fmt.Sprintf(format, args...), err: ErrInvalidClaim}
}

func unknownOperation(op string) *ValidationError {
	return &ValidationError{Reason: fmt.Sprintf("unknown operation %q", clip(op)), err: ErrUnknownOperation}
}

// SchemaError reports a malformed schema: an operation or claim definition
// that cannot be used, or a schema document that does not parse.
type SchemaError struct {
	// Operation is the operation at fault, empty for document-level errors.
	Operation string
	// Claim is the claim at fault, empty for operation-level errors.
	Claim string
	// Reason says what is wrong and, where it helps, how to fix it.
	Reason string
}

func (e *SchemaError) Error() string {
	switch {
	case e.Operation == "":
		return "txntoken: schema: " + e.Reason
	case e.Claim == "":
		return fmt.Sprintf("txntoken: schema: operation %q: %s", e.Operation, e.Reason)
	default:
		return fmt.Sprintf("txntoken: schema: operation %q: claim %q: %s", e.Operation, e.Claim, e.Reason)
	}
}

// clip shortens a name taken from a request before it goes into an error
// description, so a client cannot make the response echo megabytes.
func clip(s string) string {
	if len(s) <= MaxNameLength {
		return s
	}
	return s[:MaxNameLength] + "..."
}
