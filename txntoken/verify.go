package txntoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// Context is a verified transaction token: the operation, the subject and
// the typed context claims.
type Context struct {
	// Operation is "txn_tag" (flat layout) or "scope" (IETF layout).
	Operation string
	// Subject is "sub".
	Subject string
	// ID is "jti" (flat layout) or "txn" (IETF layout).
	ID string
	// Issuer is "iss", empty when absent.
	Issuer string
	// Audience is "aud".
	Audience []string
	// IssuedAt and ExpiresAt are "iat" and "exp".
	IssuedAt, ExpiresAt time.Time
	// Requesters is "req_wl" in the IETF layout, as a list; nil in the flat
	// layout.
	Requesters []string
	// RequestContext is the raw "rctx" object of the IETF layout, nil when
	// absent.
	RequestContext json.RawMessage
	// Values are the context claims, typed by the schema.
	Values Values
	// Layout is the layout the token was verified in.
	Layout Layout

	// values and requester back Values and Requesters, so that verifying
	// a typical token allocates one Context and nothing else.
	values    [inlineValues]entry
	requester [1]string
}

type contextKey struct{}

// FromContext returns the transaction-token context that the middleware
// stored in ctx.
func FromContext(ctx context.Context) (*Context, bool) {
	c, ok := ctx.Value(contextKey{}).(*Context)
	return c, ok
}

// NewContext returns a copy of ctx carrying c, for tests and for callers
// that verify tokens outside the middleware.
func NewContext(ctx context.Context, c *Context) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// DefaultMaxBodySize bounds the request body read for body bindings, in bytes.
const DefaultMaxBodySize = 1 << 20

// VerifierConfig configures NewVerifier.
type VerifierConfig struct {
	// Registry holds the operations. Required.
	Registry *Registry
	// JWT verifies signature, issuer, audience and expiry. Required. In
	// the IETF layout configure it with Type: JWTType; the flat layout
	// uses the default "JWT" type.
	JWT *jwtutil.Verifier
	// Layout selects where the token is read and how its claims are laid
	// out: the Authorization header for LayoutFlat (the default), the
	// Txn-Token header for LayoutIETF.
	Layout Layout
	// Replay, when set, accepts each token id once. A cache error gets the response
	// 503. Default nil: no replay protection.
	Replay ReplayCache
	// MaxBodySize bounds the request body read for body bindings; a longer
	// body gets 413. Default DefaultMaxBodySize.
	MaxBodySize int64
	// Realm is the realm of WWW-Authenticate challenges. Default none.
	Realm string
	// Logger receives one debug record per rejected request, naming the
	// cause and a short SHA-256 prefix of the token, and every replay cache
	// or key source failure. Default nil: silent.
	Logger *slog.Logger
}

// Verifier verifies transaction tokens against the registry. It is safe for
// concurrent use.
type Verifier struct {
	reg     *Registry
	jwt     *jwtutil.Verifier
	layout  Layout
	replay  ReplayCache
	maxBody int64
	realm   string
	logger  *slog.Logger
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	switch {
	case cfg.Registry == nil:
		return nil, errors.New("txntoken: VerifierConfig.Registry is nil: use NewRegistry or LoadRegistry")
	case cfg.JWT == nil:
		return nil, errors.New("txntoken: VerifierConfig.JWT is nil: use jwtutil.NewVerifier")
	case cfg.Layout != LayoutFlat && cfg.Layout != LayoutIETF:
		return nil, fmt.Errorf("txntoken: VerifierConfig.Layout %d is not LayoutFlat or LayoutIETF", cfg.Layout)
	case cfg.MaxBodySize < 0:
		return nil, errors.New("txntoken: VerifierConfig.MaxBodySize is negative")
	}
	v := &Verifier{reg: cfg.Registry, jwt: cfg.JWT, layout: cfg.Layout, replay: cfg.Replay,
		maxBody: cfg.MaxBodySize, realm: cfg.Realm, logger: cfg.Logger}
	if v.maxBody == 0 {
		v.maxBody = DefaultMaxBodySize
	}
	return v, nil
}

// Verify checks token with the JWT verifier, then checks that it was minted
// for operation and that every context claim satisfies the schema. It does
// not consult the replay cache; the middleware does. Errors wrap
// ErrInvalidToken, ErrWrongOperation, ErrInvalidClaim, ErrUnknownOperation
// or a jwtutil error (jwtutil.ErrKeysUnavailable is the server's fault).
func (v *Verifier) Verify(ctx context.Context, token, operation string) (*Context, error) {
	op, err := v.reg.lookup(operation)
	if err != nil {
		return nil, err
	}
	claims, err := v.jwt.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	if v.layout == LayoutIETF {
		return v.checkIETF(op, claims)
	}
	return v.checkFlat(op, claims)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

func (v *Verifier) checkFlat(op *Operation, claims *jwtutil.Claims) (*Context, error) {
	// One pass sorts the claims into the operation's table. The claims
	// are immutable and All does not copy them, so the table and the
	// string values in the result view the token's payload.
	var rawTag string
	var set claimSet
	for name, raw := range claims.All() {
		switch name {
		case claimTxnTag:
			rawTag = sharedText(raw)
		case claimSub, claimIss, claimAud, claimIat, claimExp, claimNbf, claimJti:
		default:
			set.add(op, name, sharedText(raw))
		}
	}

	tag, ok := jsonStringText(rawTag)
	if !ok {
		return nil, invalid(`"txn_tag" is missing or not a string`)
	}
	if tag != op.Name {
		return nil, ErrWrongOperation
	}
	c, err := v.common(op, claims)
	if err != nil {
		return nil, err
	}
	c.ID = claims.ID
	if c.ID == "" {
		return nil, invalid(`"jti" is missing`)
	}
	if c.Values, err = set.values(op, c.values[:0]); err != nil {
		return nil, err
	}
	return c, nil
}

// sharedText views raw as a string without copying. Only use it on JSON
// text from jwtutil.Claims.All, which no one writes after verification.
func sharedText(raw json.RawMessage) string {
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

func (v *Verifier) checkIETF(op *Operation, claims *jwtutil.Claims) (*Context, error) {
	if t := strings.TrimPrefix(strings.ToLower(claims.Header.Type), "application/"); t != JWTType {
		return nil, invalid(`"typ" is not %q`, JWTType)
	}
	// One pass finds the members this layout reads. As in checkFlat, the
	// text views the token's payload.
	var rawScope, rawTxn, rawWL, rawRctx, rawTctx string
	var hasScope, hasTxn, hasWL, hasRctx, hasTctx bool
	for name, raw := range claims.All() {
		switch name {
		case claimScope:
			rawScope, hasScope = sharedText(raw), true
		case claimTxn:
			rawTxn, hasTxn = sharedText(raw), true
		case claimReqWL:
			rawWL, hasWL = sharedText(raw), true
		case claimRctx:
			rawRctx, hasRctx = sharedText(raw), true
		case claimTctx:
			rawTctx, hasTctx = sharedText(raw), true
		}
	}

	scope, ok := stringClaim(rawScope)
	if !hasScope || !ok {
		return nil, invalid(`"scope" is missing or not a string`)
	}
	if scope != op.Name {
		return nil, ErrWrongOperation
	}
	c, err := v.common(op, claims)
	if err != nil {
		return nil, err
	}
	if c.ID, ok = stringClaim(rawTxn); !hasTxn || !ok || c.ID == "" {
		return nil, invalid(`"txn" is missing or not a string`)
	}
	if !hasWL {
		return nil, invalid(`"req_wl" is missing`)
	}
	// The draft lets "req_wl" grow into an array when a token is replaced.
	if single, ok := stringClaim(rawWL); ok && single != "" {
		c.requester[0] = single
		c.Requesters = c.requester[:]
	} else if json.Unmarshal([]byte(rawWL), &c.Requesters) != nil || len(c.Requesters) == 0 {
		return nil, invalid(`"req_wl" is not a string or an array of strings`)
	}
	if hasRctx {
		// A copy, because the caller may write to a json.RawMessage.
		rctx := json.RawMessage(rawRctx)
		if _, err := jsonObject(rctx); err != nil {
			return nil, invalid(`"rctx" is not a JSON object`)
		}
		c.RequestContext = rctx
	}
	if !hasTctx {
		return nil, invalid(`"tctx" is missing`)
	}
	var set claimSet
	if set.addObject(op, rawTctx) {
		if c.Values, err = set.values(op, c.values[:0]); err == nil {
			return c, nil
		}
	}
	// The one-pass reader rejected the object or a claim, so decode it
	// into a map, whose checks name the fault.
	tctx, err := jsonObject([]byte(rawTctx))
	if err != nil {
		return nil, invalid(`"tctx" is not a JSON object`)
	}
	if c.Values, err = op.ParseClaims(tctx); err != nil {
		return nil, err
	}
	return c, nil
}

// stringClaim decodes the JSON text of a string claim as encoding/json
// decodes it into a string: null gives "", and invalid UTF-8 becomes
// U+FFFD. Unlike json.Unmarshal it allocates only for escapes and invalid
// UTF-8.
func stringClaim(raw string) (string, bool) {
	if raw == "null" {
		return "", true
	}
	s, ok := jsonStringText(raw)
	if ok && !utf8.ValidString(s) {
		return decodeString(raw)
	}
	return s, ok
}

// decodeString is the slow path of stringClaim. It is a function of its
// own so that its result variable escapes to the heap on that path only.
func decodeString(raw string) (string, bool) {
	var s string
	err := json.Unmarshal([]byte(raw), &s)
	return s, err == nil
}

// common checks the claims both layouts share: "sub", "iat" and the
// operation's audience.
func (v *Verifier) common(op *Operation, claims *jwtutil.Claims) (*Context, error) {
	if claims.Subject == "" {
		return nil, invalid(`"sub" is missing`)
	}
	if claims.IssuedAt.IsZero() {
		return nil, invalid(`"iat" is missing`)
	}
	if op.Audience != "" && !containsString(claims.Audience, op.Audience) {
		return nil, invalid(`"aud" does not name the operation's audience`)
	}
	return &Context{
		Operation: op.Name,
		Subject:   claims.Subject,
		Issuer:    claims.Issuer,
		Audience:  claims.Audience,
		IssuedAt:  claims.IssuedAt,
		ExpiresAt: claims.ExpiresAt,
		Layout:    v.layout,
	}, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Route returns middleware for a route that serves operation. It verifies
// the token (from Authorization in the flat layout, Txn-Token in the IETF
// layout), checks the operation and every claim against the schema, checks
// each binding against the request, consults the replay cache when one is
// configured, and stores the *Context in the request context.
//
// Answers: no token 401 (bare challenge); malformed header or request 400
// invalid_request; a token for another operation 403 insufficient_scope;
// any other invalid token, a request that differs from a bound claim, or a
// replayed token 401 invalid_token; a body over MaxBodySize 413; a key
// source or replay cache failure 503.
//
// Route returns an error for an unknown operation or a binding that names
// an undeclared claim.
func (v *Verifier) Route(operation string, binds ...Bind) (func(http.Handler) http.Handler, error) {
	op, err := v.reg.lookup(operation)
	if err != nil {
		return nil, err
	}
	binding, err := compileBinding(op, binds)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v.serve(w, r, next, op, binding)
		})
	}, nil
}

// Require is Route for use at setup time: it panics where Route returns an
// error, which is a programming error such as a misspelled operation.
func (v *Verifier) Require(operation string, binds ...Bind) func(http.Handler) http.Handler {
	mw, err := v.Route(operation, binds...)
	if err != nil {
		panic(err)
	}
	return mw
}

func (v *Verifier) serve(w http.ResponseWriter, r *http.Request, next http.Handler, op *Operation, binding []Bind) {
	token, err := v.extract(r.Header)
	if err != nil {
		c := bearer.ChallengeFor(err)
		c.Realm = v.realm
		bearer.WriteChallenge(w, c)
		return
	}
	c, err := v.Verify(r.Context(), token, op.Name)
	if err != nil {
		v.reject(w, r, token, err, op)
		return
	}
	if err := checkBinding(r, op, binding, c.Values, v.maxBody); err != nil {
		v.reject(w, r, token, err, op)
		return
	}
	if v.replay != nil {
		// The JWT verifier accepts the token until exp plus its leeway,
		// so the id must stay recorded that long.
		first, err := v.replay.First(r.Context(), c.ID, c.ExpiresAt.Add(v.jwt.Leeway()))
		if err != nil {
			v.log(r, slog.LevelError, token, "replay cache failed", err)
			bearer.WriteUnavailable(w)
			return
		}
		if !first {
			v.reject(w, r, token, ErrReplayed, op)
			return
		}
	}
	next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), c)))
}

// extract reads the token from Authorization (flat layout) or Txn-Token
// (IETF layout), with the errors of bearer.FromHeader.
func (v *Verifier) extract(h http.Header) (string, error) {
	if v.layout == LayoutFlat {
		return bearer.FromHeader(h)
	}
	values := h.Values(HeaderName)
	switch {
	case len(values) == 0 || values[0] == "":
		return "", bearer.ErrNoCredentials
	case len(values) > 1:
		return "", bearer.ErrMultipleHeaders
	case !bearer.ValidToken(values[0]):
		return "", bearer.ErrMalformed
	}
	return values[0], nil
}

func (v *Verifier) reject(w http.ResponseWriter, r *http.Request, token string, err error, op *Operation) {
	level := slog.LevelDebug
	if errors.Is(err, jwtutil.ErrKeysUnavailable) {
		level = slog.LevelError
	}
	v.log(r, level, token, "rejected transaction token", err)
	c := bearer.Challenge{Realm: v.realm, Error: bearer.CodeInvalidToken}
	var ve *ValidationError
	var be *bindingError
	switch {
	case errors.Is(err, jwtutil.ErrKeysUnavailable):
		bearer.WriteUnavailable(w)
		return
	case errors.Is(err, errBodyTooLarge):
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return
	case errors.Is(err, ErrWrongOperation):
		c.Error = bearer.CodeInsufficientScope
		c.Description = "token is for another operation"
		c.Scope = op.Name
	case errors.As(err, &be) && be.malformed:
		c.Error = bearer.CodeInvalidRequest
		c.Description = be.description
	case errors.As(err, &be):
		c.Description = be.description
	case errors.As(err, &ve):
		_, c.Description = ve.OAuthError()
	case errors.Is(err, ErrReplayed):
		c.Description = "token already used"
	default:
		c.Description = "invalid transaction token"
	}
	bearer.WriteChallenge(w, c)
}

func (v *Verifier) log(r *http.Request, level slog.Level, token, msg string, err error) {
	if v.logger == nil {
		return
	}
	d := bearerDigestPrefix(token)
	v.logger.LogAttrs(r.Context(), level, "txntoken: "+msg,
		slog.String("token_sha256", d), slog.String("error", err.Error()))
}
