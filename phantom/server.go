package phantom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
)

// DefaultMaxBodySize bounds the form body of introspection and revocation
// requests: room for a MaxTokenLength token plus exchange parameters.
const DefaultMaxBodySize = 64 << 10

// Minter mints the JWT the introspection handler returns for an active
// token. [JWTMinter] mints an identity JWT; a transaction-token issuer
// implements the same method.
type Minter interface {
	// MintJWT mints a JWT for session s on behalf of the introspecting
	// client clientID. params holds the form's fields other than token,
	// token_type_hint, client_id and client_secret.
	//
	// If the error has a method OAuthError() (code, description string),
	// the handler responds with that code and description: 403 for
	// insufficient_scope, 400 for any other code. RFC 7662 defines no 403
	// answer; RFC 6750 section 3.1 pairs the code with 403, and the
	// gateway passes it on to the user as such. With insufficient_scope, a
	// method OAuthScope() string on the error names the missing scope in
	// a "scope" member. Any other error becomes a 500 server_error with
	// no detail.
	MintJWT(ctx context.Context, s *session.Session, clientID string, params url.Values) (string, error)
}

// SessionStore is the part of the session layer the handlers use.
// *session.Manager implements it.
type SessionStore interface {
	ValidateToken(ctx context.Context, token string) (*session.Session, error)
	Revoke(ctx context.Context, token string) error
}

// ServerConfig configures the auth-server side: the introspection and
// revocation handlers.
type ServerConfig struct {
	// Sessions validates and revokes opaque tokens. Required.
	Sessions SessionStore
	// Clients lists the clients allowed to call the endpoints. Required.
	Clients []RegisteredClient
	// Minter mints the "jwt" member for clients with AllowJWT. Default
	// nil, which is only valid when no client has AllowJWT.
	Minter Minter
	// ResponseSigner signs RFC 9701 responses for requests with "Accept:
	// application/token-introspection+jwt"; its Issuer becomes "iss".
	// Default nil: every request gets plain JSON.
	ResponseSigner *jwtutil.Signer
	// Bus receives a revocation event for every revoked token. Default
	// nil: gateway caches learn of revocations only when entries expire.
	Bus RevocationBus
	// MaxBodySize bounds the request body in bytes; a longer body gets
	// 413. Default DefaultMaxBodySize.
	MaxBodySize int64
	// Realm is the realm of the Basic challenge sent to unauthenticated
	// clients. Default "phantom".
	Realm string
	// Now is the clock for "iat" of RFC 9701 responses. Default time.Now.
	Now func() time.Time
	// Logger receives store, minter and bus failures. Default nil: silent.
	Logger *slog.Logger
}

// Server holds the auth-server side of the phantom-token pattern.
type Server struct {
	sessions SessionStore
	clients  *clientRegistry
	minter   Minter
	signer   *jwtutil.Signer
	bus      RevocationBus
	maxBody  int64
	realm    string
	now      func() time.Time
	logger   *slog.Logger
}

// NewServer returns a Server for cfg, or an error naming the invalid field.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Sessions == nil {
		return nil, errors.New("phantom: ServerConfig.Sessions is required")
	}
	clients, err := newClientRegistry(cfg.Clients)
	if err != nil {
		return nil, err
	}
	if cfg.Minter == nil {
		for _, c := range cfg.Clients {
			if c.AllowJWT {
				return nil, fmt.Errorf("phantom: client %q has AllowJWT but ServerConfig.Minter is nil", c.ID)
			}
		}
	}
	s := &Server{
		sessions: cfg.Sessions,
		clients:  clients,
		minter:   cfg.Minter,
		signer:   cfg.ResponseSigner,
		bus:      cfg.Bus,
		maxBody:  cfg.MaxBodySize,
		realm:    cfg.Realm,
		now:      cfg.Now,
		logger:   cfg.Logger,
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodySize
	}
	if s.realm == "" {
		s.realm = "phantom"
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// IntrospectionHandler returns the RFC 7662 introspection endpoint.
//
// It responds 405 to methods other than POST and 400 invalid_request to a
// body that is not a form or lacks "token". A body over MaxBodySize gets
// 413, a failed client authentication 401 invalid_client with a Basic
// challenge, and a session store failure 503. A Minter error with an
// OAuthError method gets 400, or 403 for insufficient_scope. An unknown, expired,
// revoked or malformed token gets 200 {"active":false}. An active token
// gets its sub, scope, client_id, token_type, exp and iat, plus "jwt" for
// clients with AllowJWT. Every answer carries Cache-Control: no-store.
func (s *Server) IntrospectionHandler() http.Handler {
	return http.HandlerFunc(s.serveIntrospection)
}

// RevocationHandler returns the RFC 7009 revocation endpoint. It revokes
// the token, publishes its digest on the Bus and answers 200, also for
// unknown tokens. A token whose session names another "client_id" gets
// 400 unauthorized_client unless the caller has RevokeAny, and a store or
// bus failure gets 503.
func (s *Server) RevocationHandler() http.Handler {
	return http.HandlerFunc(s.serveRevocation)
}

// protocolParams are the form fields the endpoints consume themselves;
// every other field goes to the Minter.
var protocolParams = []string{"token", "token_type_hint", "client_id", "client_secret"}

// readRequest applies the checks both endpoints share and returns the
// authenticated client, the token and the form. On failure it has already
// answered.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request) (RegisteredClient, string, url.Values, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return RegisteredClient{}, "", nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "body must be application/x-www-form-urlencoded")
		return RegisteredClient{}, "", nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request body too large")
		} else {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "request body could not be read")
		}
		return RegisteredClient{}, "", nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "body is not a valid form")
		return RegisteredClient{}, "", nil, false
	}
	// RFC 6749 section 3.2: a parameter must not appear more than once.
	for _, p := range protocolParams {
		if len(form[p]) > 1 {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "parameter "+p+" repeated")
			return RegisteredClient{}, "", nil, false
		}
	}
	client, err := s.clients.authenticate(r, form)
	if err != nil {
		if errors.Is(err, errAuthMethods) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "use one client authentication method")
			return RegisteredClient{}, "", nil, false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+strings.ReplaceAll(s.realm, `"`, "")+`"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return RegisteredClient{}, "", nil, false
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "missing token parameter")
		return RegisteredClient{}, "", nil, false
	}
	return client, token, form, true
}

func (s *Server) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	client, token, form, ok := s.readRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	wantJWT := s.signer != nil && acceptsJWTResponse(r.Header.Get("Accept"))
	sess, err := s.lookup(ctx, token)
	if err != nil {
		s.logError("phantom: session store failed during introspection", err, token)
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	if sess == nil {
		s.writeAnswer(w, client, map[string]any{"active": false}, wantJWT)
		return
	}

	answer := map[string]any{
		"active":     true,
		"sub":        sess.Subject,
		"token_type": "Bearer",
		"exp":        sess.Deadline().Unix(),
		"iat":        sess.CreatedAt.Unix(),
	}
	if scope := sess.Attributes["scope"]; scope != "" {
		answer["scope"] = scope
	}
	if cid := sess.Attributes["client_id"]; cid != "" {
		answer["client_id"] = cid
	}
	if client.AllowJWT {
		jwt, err := s.mint(ctx, sess, client.ID, form)
		if err != nil {
			s.writeMintError(w, err, token)
			return
		}
		answer["jwt"] = jwt
	}
	s.writeAnswer(w, client, answer, wantJWT)
}

// lookup returns the live session of token, nil for a token that is the
// client's fault (unknown, expired, revoked, malformed), or an error when
// the store failed.
func (s *Server) lookup(ctx context.Context, token string) (*session.Session, error) {
	sess, err := s.sessions.ValidateToken(ctx, token)
	if errors.Is(err, session.ErrInvalidToken) {
		return nil, nil
	}
	return sess, err
}

func (s *Server) mint(ctx context.Context, sess *session.Session, clientID string, form url.Values) (string, error) {
	params := url.Values{}
	for k, v := range form {
		params[k] = v
	}
	for _, p := range protocolParams {
		delete(params, p)
	}
	jwt, err := s.minter.MintJWT(ctx, sess, clientID, params)
	if err != nil {
		return "", err
	}
	// A custom Minter must not hand out a JWT that outlives the opaque
	// token, or revoking the session would leave it usable.
	exp, err := unverifiedExpiry(jwt)
	if err != nil {
		return "", err
	}
	if exp > sess.Deadline().Unix() {
		return "", errors.New("minted JWT outlives the session")
	}
	return jwt, nil
}

func (s *Server) writeMintError(w http.ResponseWriter, err error, token string) {
	var oe interface{ OAuthError() (string, string) }
	if errors.As(err, &oe) {
		code, desc := oe.OAuthError()
		if code != bearer.CodeInsufficientScope {
			writeOAuthError(w, http.StatusBadRequest, code, desc)
			return
		}
		var scope string
		var se interface{ OAuthScope() string }
		if errors.As(err, &se) {
			scope = se.OAuthScope()
		}
		writeOAuthErrorScope(w, http.StatusForbidden, code, desc, scope)
		return
	}
	s.logError("phantom: minting the JWT failed", err, token)
	writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
}

// writeAnswer sends answer as plain JSON, or as an RFC 9701 signed JWT
// addressed to client when wantJWT is set.
func (s *Server) writeAnswer(w http.ResponseWriter, client RegisteredClient, answer map[string]any, wantJWT bool) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if !wantJWT {
		h.Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
		return
	}
	signed, err := s.signer.SignWithType("token-introspection+jwt", map[string]any{
		"aud":                 client.ID,
		"iat":                 s.now().Unix(),
		"token_introspection": answer,
	})
	if err != nil {
		s.logError("phantom: signing the introspection response failed", err, "")
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
		return
	}
	h.Set("Content-Type", MediaTypeJWTIntrospection)
	_, _ = io.WriteString(w, signed)
}

// acceptsJWTResponse reports whether an Accept header lists the RFC 9701
// media type with a non-zero quality.
func acceptsJWTResponse(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != MediaTypeJWTIntrospection {
			continue
		}
		if q := params["q"]; q == "0" || q == "0.0" || q == "0.00" || q == "0.000" {
			continue
		}
		return true
	}
	return false
}

func (s *Server) serveRevocation(w http.ResponseWriter, r *http.Request) {
	client, token, _, ok := s.readRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	// RFC 7009 section 2.1: a client may revoke only tokens issued to it,
	// unless it is registered with RevokeAny. Sessions that name no
	// client_id may be revoked by any registered client.
	sess, err := s.lookup(ctx, token)
	if err != nil {
		s.logError("phantom: session store failed during revocation", err, token)
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	if sess != nil && !client.RevokeAny {
		if owner := sess.Attributes["client_id"]; owner != "" && owner != client.ID {
			writeOAuthError(w, http.StatusBadRequest, "unauthorized_client", "token was issued to another client")
			return
		}
	}
	if err := s.sessions.Revoke(ctx, token); err != nil && !errors.Is(err, session.ErrInvalidToken) {
		s.logError("phantom: session store failed to revoke", err, token)
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
		return
	}
	// Publish even for a token the store did not know: another node may
	// have revoked it first while gateways still cache it.
	if s.bus != nil {
		if err := s.bus.Publish(ctx, bearer.Digest(token)); err != nil {
			// The token is revoked, but gateway caches keep it until their
			// entries expire; 503 makes the caller retry, and a retry
			// publishes again.
			s.logError("phantom: publishing the revocation failed", err, token)
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "")
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func (s *Server) logError(msg string, err error, token string) {
	if s.logger == nil {
		return
	}
	attrs := []any{"error", err.Error()}
	if token != "" {
		attrs = append(attrs, "token_sha256", digestID(bearer.Digest(token)))
	}
	s.logger.Error(msg, attrs...)
}

// writeOAuthError sends an RFC 6749 section 5.2 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeOAuthErrorScope(w, status, code, description, "")
}

// writeOAuthErrorScope sends an RFC 6749 section 5.2 error body with a
// "scope" member when scope is not empty.
func writeOAuthErrorScope(w http.ResponseWriter, status int, code, description, scope string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	if scope != "" {
		body["scope"] = scope
	}
	_ = json.NewEncoder(w).Encode(body)
}
