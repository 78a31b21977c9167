package phantom

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// GatewayConfig configures a [Gateway].
type GatewayConfig struct {
	// Client exchanges opaque tokens for JWTs. Required, with a Verifier.
	Client *Client
	// Cache remembers answers. Default: NewCache(CacheConfig{}).
	Cache *Cache
	// Bus delivers revocation events that evict cached tokens at once.
	// Default nil: a revoked token stays usable until its cache entry
	// expires (at most the cache's MaxTTL).
	Bus RevocationBus
	// CookieName is a cookie that may carry the opaque token when the
	// request has no Authorization header. Default empty: only the
	// Authorization header is read.
	CookieName string
	// ForwardHeader is the header that carries the JWT to the upstream
	// service: "Authorization" gets "Bearer <jwt>", any other header the
	// bare JWT (and the Authorization header is removed). Default
	// "Authorization".
	ForwardHeader string
	// ExchangeParams returns extra form fields to send with the
	// introspection request for r, such as a transaction token's
	// "operation". An error answers 400 invalid_request. Requests with
	// parameters bypass the positive cache and are never coalesced, so
	// each gets its own JWT. The Client's Verifier must accept the JWT the
	// auth server mints for these parameters: a transaction token has its
	// own "typ" and "aud", so a route that sends "operation" needs a
	// Client and Gateway of its own, apart from the identity-JWT routes.
	// Otherwise every exchange fails verification and gets 503.
	// Default nil: no parameters.
	ExchangeParams func(r *http.Request) (url.Values, error)
	// Realm is the realm in WWW-Authenticate challenges. Default none.
	Realm string
	// Logger receives cache resets and the causes of 503 responses that
	// arise outside the Client. The Client logs its own failures, such as
	// a JWT that fails verification, to ClientConfig.Logger. Default nil:
	// silent.
	Logger *slog.Logger
}

// Gateway is the gateway side of the phantom-token pattern: middleware
// that exchanges the opaque token of each request for a JWT and forwards
// only the JWT. It is safe for concurrent use.
type Gateway struct {
	client        *Client
	cache         *Cache
	unsubscribe   func()
	cookie        string
	forwardHeader string
	exchange      func(*http.Request) (url.Values, error)
	realm         string
	logger        *slog.Logger

	requests       atomic.Uint64
	introspections atomic.Uint64
	hits           atomic.Uint64
	misses         atomic.Uint64
	negativeHits   atomic.Uint64
	coalesced      atomic.Uint64
	inactive       atomic.Uint64
	unavailable    atomic.Uint64
	forbidden      atomic.Uint64
}

// Stats counts a gateway's work since it was created.
type Stats struct {
	// Requests counts requests that carried a token.
	Requests uint64
	// Introspections counts calls made to the introspection endpoint.
	Introspections uint64
	// CacheHits counts requests served from a positive cache entry.
	CacheHits uint64
	// CacheMisses counts requests that found no cache entry, including
	// those that bypass the positive cache for exchange parameters.
	CacheMisses uint64
	// NegativeHits counts requests rejected from a negative cache entry.
	NegativeHits uint64
	// Coalesced counts misses answered by another request's call.
	Coalesced uint64
	// Evictions counts cached tokens evicted by revocation events.
	Evictions uint64
	// Inactive counts 401 answers for inactive tokens.
	Inactive uint64
	// Unavailable counts 503 answers.
	Unavailable uint64
	// InsufficientScope counts 403 answers.
	InsufficientScope uint64
}

// NewGateway returns a Gateway for cfg, subscribed to cfg.Bus. Call Close
// to unsubscribe.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	if cfg.Client == nil {
		return nil, errors.New("phantom: GatewayConfig.Client is required")
	}
	if cfg.Client.verifier == nil {
		return nil, errors.New("phantom: GatewayConfig.Client has no Verifier; set ClientConfig.Verifier so the gateway verifies each JWT before forwarding it")
	}
	g := &Gateway{
		client:        cfg.Client,
		cache:         cfg.Cache,
		cookie:        cfg.CookieName,
		forwardHeader: cfg.ForwardHeader,
		exchange:      cfg.ExchangeParams,
		realm:         cfg.Realm,
		logger:        cfg.Logger,
	}
	if g.cache == nil {
		g.cache = NewCache(CacheConfig{Now: cfg.Client.now, Logger: cfg.Logger})
	}
	if g.forwardHeader == "" {
		g.forwardHeader = "Authorization"
	}
	g.forwardHeader = textproto.CanonicalMIMEHeaderKey(g.forwardHeader)
	if err := g.cache.bind(cfg.Client); err != nil {
		return nil, err
	}
	if cfg.Bus != nil {
		g.unsubscribe = g.cache.Subscribe(cfg.Bus)
	}
	return g, nil
}

// Close unsubscribes the gateway's cache from the bus.
func (g *Gateway) Close() {
	if g.unsubscribe != nil {
		g.unsubscribe()
	}
}

// Cache returns the gateway's cache.
func (g *Gateway) Cache() *Cache {
	return g.cache
}

// Stats returns the gateway's counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Requests:          g.requests.Load(),
		Introspections:    g.introspections.Load(),
		CacheHits:         g.hits.Load(),
		CacheMisses:       g.misses.Load(),
		NegativeHits:      g.negativeHits.Load(),
		Coalesced:         g.coalesced.Load(),
		Evictions:         g.cache.revoked.Load(),
		Inactive:          g.inactive.Load(),
		Unavailable:       g.unavailable.Load(),
		InsufficientScope: g.forbidden.Load(),
	}
}

// Middleware returns middleware that exchanges the request's opaque token
// and requires every scope in scopes, on cache hits and misses alike.
//
// The opaque token comes from "Authorization: Bearer" (parsed strictly) or,
// when the request has no Authorization header, from the configured cookie.
// The forwarded request carries "Authorization: Bearer <jwt>" (or the
// configured header) and neither the opaque token nor the cookie, and its
// context holds the [Introspection] for [FromContext].
//
// Answers: 401 without a token or with an inactive one, 400 for a
// malformed Authorization header or rejected exchange parameters, 403
// insufficient_scope for a missing scope (checked here or by the auth
// server's minter), and 503 when the auth server fails. For a rejected
// exchange the challenge carries the auth server's error_description when
// its code is invalid_request or insufficient_scope, cleaned of characters
// RFC 6750 forbids and cut to MaxForwardedDescription bytes.
func (g *Gateway) Middleware(scopes ...string) func(http.Handler) http.Handler {
	scopes = append([]string(nil), scopes...)
	scopeList := strings.Join(scopes, " ")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hasQueryToken(r) {
				// RFC 6750 section 2.3 sends the token in the URI query, where
				// proxies and services log it. The gateway would forward it
				// to every service, so it rejects the request instead.
				bearer.WriteChallenge(w, bearer.Challenge{Realm: g.realm, Error: bearer.CodeInvalidRequest, Description: "access_token in the URI query is not accepted; send it in the Authorization header"})
				return
			}
			token, err := g.token(r)
			if err != nil {
				c := bearer.ChallengeFor(err)
				c.Realm = g.realm
				bearer.WriteChallenge(w, c)
				return
			}
			g.requests.Add(1)

			var params url.Values
			if g.exchange != nil {
				if params, err = g.exchange(r); err != nil {
					bearer.WriteChallenge(w, bearer.Challenge{Realm: g.realm, Error: bearer.CodeInvalidRequest, Description: "invalid exchange parameters"})
					return
				}
			}
			in, err := g.Exchange(r.Context(), token, params)
			if err != nil {
				g.writeError(w, err)
				return
			}
			if !in.HasScope(scopes...) {
				g.forbidden.Add(1)
				bearer.WriteChallenge(w, bearer.Challenge{Realm: g.realm, Error: bearer.CodeInsufficientScope, Description: "token lacks a required scope", Scope: scopeList})
				return
			}
			next.ServeHTTP(w, g.forwardRequest(r, in))
		})
	}
}

func (g *Gateway) writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrInactive):
		g.inactive.Add(1)
		bearer.WriteChallenge(w, bearer.Challenge{Realm: g.realm, Error: bearer.CodeInvalidToken, Description: "token is not active"})
	case errors.Is(err, ErrExchangeRejected):
		c := rejectedChallenge(err)
		c.Realm = g.realm
		if c.Error == bearer.CodeInsufficientScope {
			g.forbidden.Add(1)
		}
		bearer.WriteChallenge(w, c)
	default:
		g.unavailable.Add(1)
		if g.logger != nil && !errors.Is(err, ErrUnavailable) {
			// The client logs ErrUnavailable itself; this is a cancelled
			// wait or another failure outside the client.
			g.logger.Warn("phantom: token exchange failed", "error", err.Error())
		}
		bearer.WriteUnavailable(w)
	}
}

// MaxForwardedDescription bounds the auth server's error_description that
// a gateway passes on to the user, in bytes.
const MaxForwardedDescription = 200

// rejectedChallenge returns the challenge for an ErrExchangeRejected error.
// The auth server's description reaches the user only for the codes whose
// descriptions are written for clients (a transaction-token minter names
// the claim at fault but never its value), and only after cleaning: other
// codes could carry text about the auth server itself.
func rejectedChallenge(err error) bearer.Challenge {
	c := bearer.Challenge{Error: bearer.CodeInvalidRequest, Description: "token exchange rejected"}
	var ie *IntrospectionError
	if !errors.As(err, &ie) {
		return c
	}
	switch {
	case ie.StatusCode == http.StatusForbidden && ie.ErrorCode == bearer.CodeInsufficientScope:
		c.Error = bearer.CodeInsufficientScope
		c.Description = "token lacks a scope the exchange requires"
		c.Scope = cleanScope(ie.Scope)
	case ie.StatusCode == http.StatusBadRequest && ie.ErrorCode == bearer.CodeInvalidRequest:
	default:
		return c
	}
	if d := cleanDescription(ie.ErrorDescription); d != "" {
		c.Description = d
	}
	return c
}

// cleanDescription keeps the characters RFC 6750 section 3 allows in
// error_description, at most MaxForwardedDescription bytes of them.
func cleanDescription(s string) string {
	b := make([]byte, 0, min(len(s), MaxForwardedDescription))
	for i := 0; i < len(s) && len(b) < MaxForwardedDescription; i++ {
		if c := s[i]; c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b = append(b, c)
		}
	}
	return strings.TrimSpace(string(b))
}

// cleanScope keeps the well-formed RFC 6749 scope tokens of s, as long as
// the list stays within MaxForwardedDescription bytes.
func cleanScope(s string) string {
	var b strings.Builder
	for _, tok := range strings.Split(s, " ") {
		if !validScopeToken(tok) || b.Len()+1+len(tok) > MaxForwardedDescription {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// hasQueryToken reports whether the request URI carries an access_token
// query parameter. The substring test keeps the common case free of query
// parsing.
func hasQueryToken(r *http.Request) bool {
	if !strings.Contains(r.URL.RawQuery, "access_token") {
		return false
	}
	return r.URL.Query().Has("access_token")
}

// token returns the opaque token from the Authorization header or, when
// the request has none, from the configured cookie.
func (g *Gateway) token(r *http.Request) (string, error) {
	token, err := bearer.FromHeader(r.Header)
	if !errors.Is(err, bearer.ErrNoCredentials) || g.cookie == "" {
		return token, err
	}
	var value string
	for _, c := range r.CookiesNamed(g.cookie) {
		if value != "" && c.Value != value {
			// Two different session cookies: guessing one could act on the
			// wrong account.
			return "", bearer.ErrMalformed
		}
		value = c.Value
	}
	if value == "" {
		return "", bearer.ErrNoCredentials
	}
	if !bearer.ValidToken(value) {
		return "", bearer.ErrMalformed
	}
	return value, nil
}

// Exchange returns the introspection answer for token, from the cache
// when possible. It is what Middleware calls; use it directly to protect
// something other than an http.Handler. Errors are those of
// [Client.Introspect], plus ErrUnavailable for an active answer without a
// JWT, and the context's error when ctx ends while waiting for another
// request's call.
func (g *Gateway) Exchange(ctx context.Context, token string, params url.Values) (*Introspection, error) {
	if len(params) > 0 {
		return g.exchangeWithParams(ctx, token, params)
	}
	in, src, err := g.cache.exchange(ctx, token, g.fetch)
	g.count(src)
	return in, err
}

// fetch is the gateway's introspection call: an active answer must carry
// a verified JWT, because the upstream expects one in place of the opaque
// token.
func (g *Gateway) fetch(ctx context.Context, token string, params url.Values) (*Introspection, error) {
	g.introspections.Add(1)
	in, err := g.client.Introspect(ctx, token, params)
	if err == nil && in.JWT == "" {
		err = unavailable(http.StatusOK, `active answer without a "jwt" member; register the gateway with AllowJWT`, nil)
		if g.logger != nil {
			g.logger.Warn("phantom: token exchange failed", "error", err.Error())
		}
		return nil, err
	}
	return in, err
}

// exchangeWithParams serves a request with exchange parameters. Each
// transaction needs its own JWT, so the call is neither cached nor shared;
// only an inactive answer is remembered.
func (g *Gateway) exchangeWithParams(ctx context.Context, token string, params url.Values) (*Introspection, error) {
	digest := bearer.Digest(token)
	if in, found := g.cache.lookup(digest); found && in == nil {
		g.negativeHits.Add(1)
		return nil, inactive("token recently reported inactive")
	}
	g.misses.Add(1)
	in, err := g.fetch(ctx, token, params)
	if isInactive(err) {
		g.cache.putNegative(digest)
	}
	return in, err
}

func (g *Gateway) count(src lookupSource) {
	switch src {
	case fromPositive:
		g.hits.Add(1)
	case fromNegative:
		g.negativeHits.Add(1)
	case fromCall, fromAbandoned:
		g.misses.Add(1)
	case fromShared:
		g.misses.Add(1)
		g.coalesced.Add(1)
	}
}

// forwardRequest returns a shallow copy of r that carries the JWT instead
// of the opaque token and the Introspection in its context.
func (g *Gateway) forwardRequest(r *http.Request, in *Introspection) *http.Request {
	out := r.WithContext(NewContext(r.Context(), in))
	h := r.Header.Clone()
	dropLookalikes(h, g.forwardHeader)
	if g.forwardHeader != "Authorization" {
		dropLookalikes(h, "Authorization")
	}
	if g.forwardHeader == "Authorization" {
		h.Set("Authorization", "Bearer "+in.JWT)
	} else {
		h.Del("Authorization")
		h.Set(g.forwardHeader, in.JWT)
	}
	if g.cookie != "" {
		stripCookie(h, g.cookie)
	}
	out.Header = h
	return out
}

// dropLookalikes removes every header that an upstream could read as
// name: a client must not be able to send its own JWT. Besides name itself
// that covers keys in another case (set on the map directly) and
// underscore spellings, which CGI-style stacks fold into the same
// variable as the hyphenated name.
func dropLookalikes(h http.Header, name string) {
	want := headerFold(name)
	for k := range h {
		if headerFold(k) == want {
			delete(h, k)
		}
	}
}

func headerFold(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// stripCookie removes every cookie called name from h's Cookie headers and
// keeps the others as they were.
func stripCookie(h http.Header, name string) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n, _, _ := strings.Cut(part, "=")
			if strings.TrimSpace(n) == name {
				continue
			}
			kept = append(kept, part)
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries in, as the gateway
// middleware does.
func NewContext(ctx context.Context, in *Introspection) context.Context {
	return context.WithValue(ctx, contextKey{}, in)
}

// FromContext returns the Introspection the gateway middleware stored in
// ctx. Treat it as read-only: cached answers are shared between requests.
func FromContext(ctx context.Context) (*Introspection, bool) {
	in, ok := ctx.Value(contextKey{}).(*Introspection)
	return in, ok
}
