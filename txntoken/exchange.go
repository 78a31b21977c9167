package txntoken

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/tokenpattern/tokenpattern/session"
)

// DefaultExchangeMaxBodySize bounds a token-exchange request body, in bytes.
const DefaultExchangeMaxBodySize = 64 << 10

// MinClientSecretLength is the shortest client secret NewExchangeClient accepts.
const MinClientSecretLength = 16

// ExchangeClient is a workload allowed to request transaction tokens, such
// as an API gateway. Its ID becomes "req_wl".
type ExchangeClient struct {
	// ID is the client_id.
	ID string
	// SecretHash is the SHA-256 of the client secret.
	SecretHash [32]byte
}

// NewExchangeClient returns a client from a plaintext secret of at least
// MinClientSecretLength bytes; only its SHA-256 is kept.
func NewExchangeClient(id, secret string) (ExchangeClient, error) {
	if !validRequester(id) {
		return ExchangeClient{}, fmt.Errorf("txntoken: client ID %q must be 1 to %d bytes of printable ASCII without \", \\, <, > or &", clip(id), MaxRequesterLength)
	}
	if len(secret) < MinClientSecretLength {
		return ExchangeClient{}, fmt.Errorf("txntoken: client secret of %q is shorter than %d bytes", id, MinClientSecretLength)
	}
	return ExchangeClient{ID: id, SecretHash: sha256.Sum256([]byte(secret))}, nil
}

// ExchangeConfig configures NewExchangeHandler.
type ExchangeConfig struct {
	// Issuer mints the tokens. Required, with LayoutIETF.
	Issuer *Issuer
	// Subjects validates the subject_token, an opaque access token, such as
	// a *session.Manager or a phantom introspection validator. Required.
	Subjects session.Validator
	// Clients lists the workloads allowed to call the endpoint, which
	// authenticate with HTTP Basic or client_id and client_secret form
	// fields (not both). Exactly one of Clients and Authenticate is required.
	Clients []ExchangeClient
	// Authenticate, when set, authenticates the requesting workload instead
	// of Clients, for example from a verified mTLS certificate, and returns
	// its identifier ("req_wl"). An error gets the response 401 invalid_client.
	Authenticate func(r *http.Request) (workload string, err error)
	// MaxBodySize bounds the request body; a longer body gets 413. Default
	// DefaultExchangeMaxBodySize.
	MaxBodySize int64
	// Realm is the realm of the Basic challenge. Default "txntoken".
	Realm string
	// Logger receives validator and minting failures. Default nil: silent.
	Logger *slog.Logger
}

// ExchangeHandler is the RFC 8693 token-exchange endpoint of a transaction
// token service, as profiled by draft-ietf-oauth-transaction-tokens-10.
type ExchangeHandler struct {
	issuer       *Issuer
	subjects     session.Validator
	clients      map[string][32]byte
	authenticate func(*http.Request) (string, error)
	maxBody      int64
	realm        string
	logger       *slog.Logger
}

// NewExchangeHandler returns the handler for cfg.
func NewExchangeHandler(cfg ExchangeConfig) (*ExchangeHandler, error) {
	switch {
	case cfg.Issuer == nil:
		return nil, errors.New("txntoken: ExchangeConfig.Issuer is nil")
	case cfg.Issuer.layout != LayoutIETF:
		return nil, errors.New("txntoken: ExchangeConfig.Issuer must use LayoutIETF")
	case cfg.Subjects == nil:
		return nil, errors.New("txntoken: ExchangeConfig.Subjects is nil: use a session.Validator")
	case (len(cfg.Clients) == 0) == (cfg.Authenticate == nil):
		return nil, errors.New("txntoken: set exactly one of ExchangeConfig.Clients and ExchangeConfig.Authenticate")
	case cfg.MaxBodySize < 0:
		return nil, errors.New("txntoken: ExchangeConfig.MaxBodySize is negative")
	}
	h := &ExchangeHandler{
		issuer:       cfg.Issuer,
		subjects:     cfg.Subjects,
		authenticate: cfg.Authenticate,
		maxBody:      cfg.MaxBodySize,
		realm:        cfg.Realm,
		logger:       cfg.Logger,
	}
	if h.maxBody == 0 {
		h.maxBody = DefaultExchangeMaxBodySize
	}
	if h.realm == "" {
		h.realm = "txntoken"
	}
	if len(cfg.Clients) > 0 {
		h.clients = make(map[string][32]byte, len(cfg.Clients))
		for _, c := range cfg.Clients {
			if !validRequester(c.ID) {
				return nil, fmt.Errorf("txntoken: client ID %q is not valid as \"req_wl\"", clip(c.ID))
			}
			if _, dup := h.clients[c.ID]; dup {
				return nil, fmt.Errorf("txntoken: client %q is listed twice", c.ID)
			}
			h.clients[c.ID] = c.SecretHash
		}
	}
	return h, nil
}

// exchangeResponse is the RFC 8693 section 2.2.1 response.
type exchangeResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
}

// ServeHTTP handles one token-exchange request.
func (h *ExchangeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "content type must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxBody)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeOAuthError(w, http.StatusRequestEntityTooLarge, "invalid_request", "request body too large")
			return
		}
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	form := r.PostForm
	// RFC 6749 section 3.2: request parameters must not be repeated.
	for name, vs := range form {
		if len(vs) > 1 {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %q appears more than once", clip(name)))
			return
		}
	}

	workload, ok := h.authenticateClient(r, form)
	if !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q`, h.realm))
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if form.Get("grant_type") != GrantTypeTokenExchange {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be "+GrantTypeTokenExchange)
		return
	}
	if form.Get("requested_token_type") != TokenType {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "requested_token_type must be "+TokenType)
		return
	}
	if form.Get("audience") != h.issuer.trustDomain {
		writeOAuthError(w, http.StatusBadRequest, "invalid_target", "audience is not this trust domain")
		return
	}
	op, err := h.issuer.reg.lookup(form.Get("scope"))
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", "scope must name one known operation")
		return
	}
	subjectToken := form.Get("subject_token")
	if subjectToken == "" || form.Get("subject_token_type") != AccessTokenType {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "subject_token and subject_token_type "+AccessTokenType+" are required")
		return
	}

	claims, rctx, err := parseRequestJSON(op, form)
	if err != nil {
		h.writeError(w, err)
		return
	}
	s, err := h.subjects.ValidateToken(r.Context(), subjectToken)
	if err != nil {
		if errors.Is(err, session.ErrInvalidToken) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "subject_token is not active")
			return
		}
		h.logError(r, "subject token validation failed", err)
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again later")
		return
	}
	if err := checkScopes(op, s.Scopes()); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_scope", err.(*ValidationError).description())
		return
	}
	token, exp, err := h.issuer.mint(r.Context(), op, s.Subject, claims, workload, rctx, s.Deadline())
	if err != nil {
		h.writeError(w, err)
		if !errors.As(err, new(*ValidationError)) {
			h.logError(r, "minting failed", err)
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(exchangeResponse{
		AccessToken:     token,
		IssuedTokenType: TokenType,
		TokenType:       "N_A",
		ExpiresIn:       int64(exp.Sub(h.issuer.now()) / time.Second),
	})
}

// parseRequestJSON reads request_details (the context claims, as a JSON
// object whose members have their declared JSON types) and request_context
// (a JSON object of strings, which becomes "rctx").
func parseRequestJSON(op *Operation, form url.Values) (Values, map[string]string, error) {
	details := map[string]json.RawMessage{}
	if s := form.Get("request_details"); s != "" {
		m, err := jsonObject([]byte(s))
		if err != nil {
			return Values{}, nil, &ValidationError{Operation: op.Name, Reason: "request_details is not a JSON object", err: ErrInvalidClaim}
		}
		details = m
	}
	values, err := op.ParseClaims(details)
	if err != nil {
		return Values{}, nil, err
	}
	var rctx map[string]string
	if s := form.Get("request_context"); s != "" {
		if len(s) > MaxRequestContextSize {
			return Values{}, nil, &ValidationError{Operation: op.Name, Reason: fmt.Sprintf("request_context exceeds %d bytes", MaxRequestContextSize), err: ErrInvalidClaim}
		}
		if _, err := jsonObject([]byte(s)); err != nil || json.Unmarshal([]byte(s), &rctx) != nil {
			return Values{}, nil, &ValidationError{Operation: op.Name, Reason: "request_context must be a JSON object of strings", err: ErrInvalidClaim}
		}
	}
	return values, rctx, nil
}

// authenticateClient returns the workload identifier of the caller. Secrets
// are compared as SHA-256 digests in constant time, and an unknown client
// costs the same comparison, so timing reveals nothing about which IDs exist.
func (h *ExchangeHandler) authenticateClient(r *http.Request, form url.Values) (string, bool) {
	if h.authenticate != nil {
		id, err := h.authenticate(r)
		if err != nil || !validRequester(id) {
			return "", false
		}
		return id, true
	}
	id, secret, basic := r.BasicAuth()
	_, inForm := form["client_secret"]
	switch {
	case basic && inForm:
		return "", false
	case basic:
		// RFC 6749 section 2.3.1: Basic credentials are form-encoded.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", false
		}
	default:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	want, known := h.clients[id]
	got := sha256.Sum256([]byte(secret))
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	return id, known && match && secret != ""
}

func (h *ExchangeHandler) writeError(w http.ResponseWriter, err error) {
	var oe interface{ OAuthError() (string, string) }
	if errors.As(err, &oe) {
		code, desc := oe.OAuthError()
		writeOAuthError(w, http.StatusBadRequest, code, desc)
		return
	}
	writeOAuthError(w, http.StatusInternalServerError, "server_error", "")
}

func (h *ExchangeHandler) logError(r *http.Request, msg string, err error) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "txntoken: "+msg, slog.String("error", err.Error()))
	}
}

// writeOAuthError writes an RFC 6749 section 5.2 error response.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
