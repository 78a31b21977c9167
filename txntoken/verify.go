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
	// JWT verifies signature, issuer, audience and expiry. Required, with
	// jwtutil.Config.Type set to JWTType in either layout. NewVerifier
	// rejects a JWT verifier that would reject "typ" txntoken+jwt, such as
	// one with the default type ("JWT" or absent), because identity tokens
	// and transaction tokens must never pass for each other. Verify also
	// checks "typ" itself, so a JWT verifier with SkipTypeCheck is safe.
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
	case !cfg.JWT.AcceptsType(JWTType):
		return nil, fmt.Errorf("txntoken: VerifierConfig.JWT rejects \"typ\" %q, which every transaction token carries: set jwtutil.Config.Type to txntoken.JWTType", JWTType)
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
	op, claims, err := v.verifyJWT(ctx, token, operation)
	if err != nil {
		return nil, err
	}
	// Allocated only once the signature holds, so that a flood of forged
	// tokens leaves no garbage behind.
	c := new(Context)
	if err := v.check(op, claims, c); err != nil {
		return nil, err
	}
	return c, nil
}

// VerifyInto is Verify writing into out, a Context the caller owns and may
// reuse, so that a typical token costs no allocation beyond the JWT
// verifier's. It clears out first, and clears it again on error, so no
// value of an earlier token survives in it.
//
// The strings in out view the verified token's claims, which never change,
// so they stay valid after out is reused. Values and Requesters, however,
// may live in out itself: verifying another token into out changes what
// earlier copies of those two fields hold. Reuse out only once nothing
// reads them any more, and never while another goroutine reads out.
func (v *Verifier) VerifyInto(ctx context.Context, token, operation string, out *Context) error {
	if out == nil {
		return errors.New("txntoken: VerifyInto needs a non-nil *Context")
	}
	*out = Context{}
	op, claims, err := v.verifyJWT(ctx, token, operation)
	if err == nil {
		err = v.check(op, claims, out)
	}
	if err != nil {
		*out = Context{}
	}
	return err
}

// verifyJWT looks up operation and verifies token's signature and
// registered claims.
func (v *Verifier) verifyJWT(ctx context.Context, token, operation string) (*Operation, *jwtutil.Claims, error) {
	op, err := v.reg.lookup(operation)
	if err != nil {
		return nil, nil, err
	}
	claims, err := v.jwt.Verify(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	return op, claims, nil
}

// check checks verified claims against op in the verifier's layout and
// fills c, which must be zero. On error c contains a partial result.
func (v *Verifier) check(op *Operation, claims *jwtutil.Claims, c *Context) error {
	// The jwtutil verifier checked "typ" unless it skips the check.
	// Checking again costs one comparison and keeps an identity JWT out
	// whatever that verifier's settings.
	if !isTxnType(claims.Header.Type) {
		return fmt.Errorf("%w: %w: \"typ\" is not %q", ErrInvalidToken, jwtutil.ErrType, JWTType)
	}
	if v.layout == LayoutIETF {
		return v.checkIETF(op, claims, c)
	}
	return v.checkFlat(op, claims, c)
}

// isTxnType reports whether typ is JWTType, compared as RFC 7515 section
// 4.1.9 requires: case-insensitively, with an optional "application/" prefix.
func isTxnType(typ string) bool {
	const prefix = "application/"
	if len(typ) > len(prefix) && strings.EqualFold(typ[:len(prefix)], prefix) {
		typ = typ[len(prefix):]
	}
	return strings.EqualFold(typ, JWTType)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

func (v *Verifier) checkFlat(op *Operation, claims *jwtutil.Claims, c *Context) error {
	// One pass over the claims checks the context claims when they come in
	// schema order, as Mint writes them. The claims are immutable and All
	// does not copy them, so the string values in the result view the
	// token's payload.
	var rawTag string
	fast := orderedClaims{op: op, dst: c.values[:0], ok: true}
	for name, raw := range claims.All() {
		switch name {
		case claimTxnTag:
			rawTag = sharedText(raw)
		case claimSub, claimIss, claimAud, claimIat, claimExp, claimNbf, claimJti:
		default:
			fast.take(name, sharedText(raw))
		}
	}

	tag, ok := jsonStringText(rawTag)
	if !ok {
		return invalid(`"txn_tag" is missing or not a string`)
	}
	if tag != op.Name {
		return ErrWrongOperation
	}
	if err := v.common(op, claims, c); err != nil {
		return err
	}
	c.ID = claims.ID
	if c.ID == "" {
		return invalid(`"jti" is missing`)
	}
	var okValues bool
	if c.Values, okValues = fast.values(); okValues {
		return nil
	}
	// The fast path gave up: sort the claims into the operation's table,
	// whose checks report the first fault in name order.
	var set claimSet
	for name, raw := range claims.All() {
		switch name {
		case claimTxnTag, claimSub, claimIss, claimAud, claimIat, claimExp, claimNbf, claimJti:
		default:
			set.add(op, name, sharedText(raw))
		}
	}
	var err error
	c.Values, err = set.values(op, c.values[:0])
	return err
}

// sharedText views raw as a string without copying. Only use it on JSON
// text from jwtutil.Claims.All, which no one writes after verification.
func sharedText(raw json.RawMessage) string {
	return unsafe.String(unsafe.SliceData(raw), len(raw))
}

func (v *Verifier) checkIETF(op *Operation, claims *jwtutil.Claims, c *Context) error {
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
		return invalid(`"scope" is missing or not a string`)
	}
	if scope != op.Name {
		return ErrWrongOperation
	}
	if err := v.common(op, claims, c); err != nil {
		return err
	}
	if c.ID, ok = stringClaim(rawTxn); !hasTxn || !ok || c.ID == "" {
		return invalid(`"txn" is missing or not a string`)
	}
	if !hasWL {
		return invalid(`"req_wl" is missing`)
	}
	// The draft lets "req_wl" grow into an array when a token is replaced.
	if single, ok := stringClaim(rawWL); ok && single != "" {
		c.requester[0] = single
		c.Requesters = c.requester[:]
	} else if json.Unmarshal([]byte(rawWL), &c.Requesters) != nil || len(c.Requesters) == 0 {
		return invalid(`"req_wl" is not a string or an array of strings`)
	}
	if hasRctx {
		// A copy, because the caller may write to a json.RawMessage.
		rctx := json.RawMessage(rawRctx)
		if _, err := jsonObject(rctx); err != nil {
			return invalid(`"rctx" is not a JSON object`)
		}
		c.RequestContext = rctx
	}
	if !hasTctx {
		return invalid(`"tctx" is missing`)
	}
	fast := orderedClaims{op: op, dst: c.values[:0], ok: true}
	if fast.takeObject(rawTctx) {
		if c.Values, ok = fast.values(); ok {
			return nil
		}
	}
	var err error
	var set claimSet
	if set.addObject(op, rawTctx) {
		if c.Values, err = set.values(op, c.values[:0]); err == nil {
			return nil
		}
	}
	// The one-pass reader rejected the object or a claim, so decode it
	// into a map, whose checks name the fault.
	tctx, err := jsonObject([]byte(rawTctx))
	if err != nil {
		return invalid(`"tctx" is not a JSON object`)
	}
	c.Values, err = op.ParseClaims(tctx)
	return err
}

// stringClaim decodes the JSON text of a string claim as encoding/json
// decodes it into a string: null gives "", and invalid UTF-8 becomes
// U+FFFD. Unlike json.Unmarshal it allocates only for escapes and invalid
// UTF-8.
func stringClaim(raw string) (string, bool) {
	if s, ok := plainASCII(raw); ok {
		return s, true
	}
	if raw == "null" {
		return "", true
	}
	s, ok := jsonStringText(raw)
	if ok && !utf8.ValidString(s) {
		return decodeString(raw)
	}
	return s, ok
}

// plainASCII returns the text of raw when raw is a string literal of
// printable ASCII without escapes, which is how every issuer writes
// "scope", "txn" and "req_wl". One pass over such a literal both decodes
// it and proves it valid UTF-8.
func plainASCII(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for i := 0; i < len(inner); i++ {
		if c := inner[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return "", false
		}
	}
	return inner, true
}

// decodeString is the slow path of stringClaim. It is a function of its
// own so that its result variable escapes to the heap on that path only.
func decodeString(raw string) (string, bool) {
	var s string
	err := json.Unmarshal([]byte(raw), &s)
	return s, err == nil
}

// common checks the claims both layouts share, "sub", "iat" and the
// operation's audience, and copies them into c.
func (v *Verifier) common(op *Operation, claims *jwtutil.Claims, c *Context) error {
	if claims.Subject == "" {
		return invalid(`"sub" is missing`)
	}
	if claims.IssuedAt.IsZero() {
		return invalid(`"iat" is missing`)
	}
	if op.Audience != "" && !containsString(claims.Audience, op.Audience) {
		return invalid(`"aud" does not name the operation's audience`)
	}
	c.Operation = op.Name
	c.Subject = claims.Subject
	c.Issuer = claims.Issuer
	c.Audience = claims.Audience
	c.IssuedAt = claims.IssuedAt
	c.ExpiresAt = claims.ExpiresAt
	c.Layout = v.layout
	return nil
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

	claims, err := v.jwt.Verify(r.Context(), token)
	if err != nil {
		v.reject(w, r, token, err, op)
		return
	}
	// The request's Context lives in the context node that carries it, so
	// each request owns its own Context at the cost of one allocation.
	rc := &requestContext{Context: r.Context()}
	c := &rc.txn
	if err := v.check(op, claims, c); err != nil {
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
	next.ServeHTTP(w, r.WithContext(rc))
}

// requestContext is a context.Context carrying a *Context under
// contextKey, as NewContext makes, in one allocation instead of two.
type requestContext struct {
	context.Context
	txn Context
}

func (c *requestContext) Value(key any) any {
	if key == (contextKey{}) {
		return &c.txn
	}
	return c.Context.Value(key)
}

func (c *requestContext) String() string {
	return fmt.Sprint(c.Context) + ".WithValue(txntoken.Context)"
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
