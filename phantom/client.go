package phantom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// Client defaults.
const (
	DefaultTimeout         = 2 * time.Second
	DefaultMaxResponseSize = 64 << 10
	DefaultMaxJWTSize      = 16 << 10
)

// Client authentication methods (RFC 7591 names).
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
)

// MediaTypeJWTIntrospection is the RFC 9701 media type of a signed
// introspection answer.
const MediaTypeJWTIntrospection = "application/token-introspection+jwt"

// ClientConfig configures a [Client].
type ClientConfig struct {
	// Endpoint is the introspection endpoint URL. Required. It must be
	// https, or http to a loopback address, unless InsecureAllowHTTP is set.
	Endpoint string
	// ClientID identifies this gateway to the auth server. Required.
	ClientID string
	// ClientSecret authenticates ClientID. Required.
	ClientSecret string
	// AuthMethod is AuthSecretBasic or AuthSecretPost. Default
	// AuthSecretBasic.
	AuthMethod string
	// HTTPClient sends the requests. Default: a client that follows no
	// redirects, because a redirect would resend the token elsewhere.
	HTTPClient *http.Client
	// Timeout bounds each introspection call, connection included, even
	// when the caller's context allows longer. Default DefaultTimeout (2s).
	Timeout time.Duration
	// MaxResponseSize bounds the answer body in bytes; a longer body makes
	// the call fail with ErrUnavailable. Default DefaultMaxResponseSize.
	MaxResponseSize int64
	// MaxJWTSize bounds the "jwt" member in bytes, because the gateway
	// forwards it in a header. Default DefaultMaxJWTSize (16 KiB).
	MaxJWTSize int
	// Verifier verifies the "jwt" member before Introspect returns it.
	// Default nil: the "jwt" member is ignored, which suits plain
	// introspection ([NewValidator]). [NewGateway] requires it.
	Verifier *jwtutil.Verifier
	// Audience, when set, must appear in the answer's "aud"; an answer
	// that lacks it counts as inactive, because the token was not issued
	// for this resource server. Default empty: "aud" is not checked.
	Audience string
	// AllowScopeArray accepts "scope" sent as a JSON array of scope tokens
	// instead of the space-delimited string RFC 7662 specifies. Default
	// false: such answers fail with ErrUnavailable.
	AllowScopeArray bool
	// JWTResponse, when set, asks for RFC 9701 signed answers and accepts
	// only those. Default nil: plain JSON answers.
	JWTResponse *JWTResponseConfig
	// InsecureAllowHTTP allows a plain http Endpoint on a non-loopback
	// host, which sends the client secret and tokens unencrypted. Default
	// false.
	InsecureAllowHTTP bool
	// Now is the clock for expiry checks. Default time.Now.
	Now func() time.Time
	// Logger receives one Warn record per call that fails with
	// ErrUnavailable, which is not the user's fault, and one Debug record
	// per call that fails with ErrExchangeRejected, which usually is (a bad
	// amount) but can come from a misconfigured gateway. Inactive tokens
	// are not logged. Default nil: silent. Tokens and secrets are never
	// logged.
	Logger *slog.Logger
}

// JWTResponseConfig configures RFC 9701 signed introspection answers.
type JWTResponseConfig struct {
	// Keys verifies the answer's signature; a *jwks.Remote pointed at the
	// auth server's JWKS is typical. Required.
	Keys jwks.KeySource
	// Issuer must equal the answer's "iss". Required.
	Issuer string
	// Algorithms limits the accepted signature algorithms. Default: those
	// of the keys Keys returns.
	Algorithms []string
}

// Client calls an RFC 7662 introspection endpoint. It is safe for
// concurrent use. Most code uses it through [NewGateway] or [NewValidator],
// which add caching and HTTP handling.
type Client struct {
	endpoint   string
	clientID   string
	secret     string
	post       bool
	httpClient *http.Client
	timeout    time.Duration
	maxBody    int64
	maxJWT     int
	verifier   *jwtutil.Verifier
	audience   string
	parse      parseOptions
	respVerify *jwtutil.Verifier
	now        func() time.Time
	logger     *slog.Logger
}

// NewClient returns a Client for cfg, or an error naming the invalid field.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := checkEndpoint(cfg.Endpoint, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("phantom: ClientConfig.ClientID and ClientSecret are required")
	}
	c := &Client{
		endpoint:   cfg.Endpoint,
		clientID:   cfg.ClientID,
		secret:     cfg.ClientSecret,
		httpClient: cfg.HTTPClient,
		timeout:    cfg.Timeout,
		maxBody:    cfg.MaxResponseSize,
		maxJWT:     cfg.MaxJWTSize,
		verifier:   cfg.Verifier,
		audience:   cfg.Audience,
		parse:      parseOptions{allowScopeArray: cfg.AllowScopeArray},
		now:        cfg.Now,
		logger:     cfg.Logger,
	}
	switch cfg.AuthMethod {
	case "", AuthSecretBasic:
	case AuthSecretPost:
		c.post = true
	default:
		return nil, fmt.Errorf("phantom: unknown ClientConfig.AuthMethod %q; use %q or %q", cfg.AuthMethod, AuthSecretBasic, AuthSecretPost)
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseSize
	}
	if c.maxJWT <= 0 {
		c.maxJWT = DefaultMaxJWTSize
	}
	if c.now == nil {
		c.now = time.Now
	}
	if jr := cfg.JWTResponse; jr != nil {
		if jr.Keys == nil || jr.Issuer == "" {
			return nil, errors.New("phantom: JWTResponseConfig.Keys and Issuer are required")
		}
		v, err := jwtutil.NewVerifier(jwtutil.Config{
			Keys:       jr.Keys,
			Issuer:     jr.Issuer,
			Audience:   []string{cfg.ClientID},
			Algorithms: jr.Algorithms,
			Type:       "token-introspection+jwt",
			Now:        c.now,
		})
		if err != nil {
			return nil, fmt.Errorf("phantom: JWT response verifier: %v", err)
		}
		c.respVerify = v
	}
	return c, nil
}

func checkEndpoint(endpoint string, allowHTTP bool) error {
	if endpoint == "" {
		return errors.New("phantom: ClientConfig.Endpoint is required")
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return fmt.Errorf("phantom: ClientConfig.Endpoint %q is not an absolute URL", endpoint)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("phantom: ClientConfig.Endpoint %q is plain http to a non-loopback host; use https or set InsecureAllowHTTP", endpoint)
	default:
		return fmt.Errorf("phantom: ClientConfig.Endpoint %q must be an http or https URL", endpoint)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Introspect asks the auth server about token. params are extra form
// fields for the auth server's JWT minter, such as a transaction token's
// "operation"; nil sends none.
//
// An error matches exactly one of ErrInactive (the token is unknown,
// expired, revoked or not for this Audience), ErrUnavailable (the auth
// server failed or rejected this client) and ErrExchangeRejected (the auth
// server rejected params with 400, or with 403 insufficient_scope), and is
// an *IntrospectionError. An active answer
// whose "jwt" member is present is returned only after Verifier accepted
// the JWT.
func (c *Client) Introspect(ctx context.Context, token string, params url.Values) (*Introspection, error) {
	in, err := c.introspect(ctx, token, params)
	if err == nil || c.logger == nil || isInactive(err) {
		return in, err
	}
	level := slog.LevelWarn
	if errors.Is(err, ErrExchangeRejected) {
		level = slog.LevelDebug
	}
	c.logger.Log(ctx, level, "phantom: introspection failed", "error", err.Error(), "token_sha256", digestID(digestOf(token)))
	return in, err
}

func (c *Client) introspect(ctx context.Context, token string, params url.Values) (*Introspection, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	req, err := c.newRequest(ctx, token, params)
	if err != nil {
		return nil, unavailable(0, "building request", err)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, unavailable(0, "auth server unreachable or slow", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, unavailable(resp.StatusCode, "reading response", unwrapURLError(err))
	}
	if int64(len(body)) > c.maxBody {
		return nil, unavailable(resp.StatusCode, fmt.Sprintf("response larger than %d bytes", c.maxBody), nil)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusError(resp.StatusCode, body, len(params) > 0)
	}

	in, err := c.parseAnswer(ctx, resp.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	if err := c.checkActive(in); err != nil {
		return nil, err
	}
	if err := c.verifyJWT(ctx, in); err != nil {
		return nil, err
	}
	return in, nil
}

func (c *Client) newRequest(ctx context.Context, token string, params url.Values) (*http.Request, error) {
	form := url.Values{}
	for k, v := range params {
		switch k {
		case "token", "token_type_hint", "client_id", "client_secret":
			// The exchange parameters must not override the protocol's own.
			continue
		}
		form[k] = v
	}
	form.Set("token", token)
	form.Set("token_type_hint", "access_token")
	if c.post {
		form.Set("client_id", c.clientID)
		form.Set("client_secret", c.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.respVerify != nil {
		req.Header.Set("Accept", MediaTypeJWTIntrospection)
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if !c.post {
		// RFC 6749 section 2.3.1 form-encodes both parts before Basic
		// encoding, so a secret with ':' or '%' survives.
		req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	}
	return req, nil
}

// oauthErrorBody is an RFC 6749 section 5.2 error answer.
type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
	Scope            string `json:"scope"`
}

func (c *Client) statusError(status int, body []byte, withParams bool) error {
	var ob oauthErrorBody
	_ = json.Unmarshal(body, &ob)
	e := unavailable(status, fmt.Sprintf("auth server answered %d", status), nil)
	if status == http.StatusUnauthorized {
		e.Reason = "auth server rejected this client's credentials"
	}
	if status == http.StatusBadRequest && withParams && ob.Error != "" && ob.Error != "invalid_client" {
		e.outcome = ErrExchangeRejected
		e.Reason = "auth server rejected the exchange parameters"
	}
	if status == http.StatusForbidden && withParams && ob.Error == "insufficient_scope" {
		e.outcome = ErrExchangeRejected
		e.Reason = "session lacks a scope the exchange requires"
	}
	e.ErrorCode = truncate(ob.Error, 64)
	e.ErrorDescription = truncate(ob.ErrorDescription, 256)
	e.ErrorURI = truncate(ob.ErrorURI, 256)
	e.Scope = truncate(ob.Scope, 256)
	return e
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// parseAnswer parses a 200 answer: RFC 9701 signed JWT when configured,
// plain RFC 7662 JSON otherwise.
func (c *Client) parseAnswer(ctx context.Context, contentType string, body []byte) (*Introspection, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if c.respVerify == nil {
		if mediaType != "application/json" {
			return nil, unavailable(http.StatusOK, fmt.Sprintf("response has Content-Type %q, expected application/json", truncate(contentType, 64)), nil)
		}
		in, err := parseIntrospection(body, c.parse)
		if err != nil {
			return nil, unavailable(http.StatusOK, "malformed answer", err)
		}
		return in, nil
	}
	if mediaType != MediaTypeJWTIntrospection {
		return nil, unavailable(http.StatusOK, fmt.Sprintf("response has Content-Type %q, expected %s", truncate(contentType, 64), MediaTypeJWTIntrospection), nil)
	}
	claims, err := c.respVerify.Verify(ctx, strings.TrimSpace(string(body)))
	if err != nil {
		return nil, unavailable(http.StatusOK, "signed answer failed verification", err)
	}
	inner, ok := claims.Raw("token_introspection")
	if !ok {
		return nil, unavailable(http.StatusOK, `signed answer has no "token_introspection" claim`, nil)
	}
	in, err := parseIntrospection(inner, c.parse)
	if err != nil {
		return nil, unavailable(http.StatusOK, "malformed token_introspection claim", err)
	}
	return in, nil
}

// checkActive turns an active answer that cannot be used into an inactive
// one.
func (c *Client) checkActive(in *Introspection) error {
	if !in.Active {
		return inactive("auth server reports the token inactive")
	}
	now := c.now()
	// An active answer whose own "exp" has passed contradicts itself;
	// failing closed makes the user sign in again. "exp": 0 lands here.
	if !in.ExpiresAt.IsZero() && !now.Before(in.ExpiresAt) {
		if c.logger != nil {
			c.logger.Warn("phantom: auth server reported an active token with a past exp", "exp", in.ExpiresAt.Unix())
		}
		return inactive("active answer with an exp in the past")
	}
	if !in.NotBefore.IsZero() && now.Before(in.NotBefore) {
		return inactive("token not yet valid")
	}
	if c.audience != "" && !contains(in.Audience, c.audience) {
		return inactive("token not issued for this audience")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verifyJWT verifies the "jwt" member with Verifier, or drops it when no
// Verifier is configured.
func (c *Client) verifyJWT(ctx context.Context, in *Introspection) error {
	if in.JWT == "" {
		return nil
	}
	if c.verifier == nil {
		in.JWT = ""
		return nil
	}
	if len(in.JWT) > c.maxJWT {
		in.JWT = ""
		return unavailable(http.StatusOK, fmt.Sprintf("jwt member longer than %d bytes", c.maxJWT), nil)
	}
	claims, err := c.verifier.Verify(ctx, in.JWT)
	if err != nil {
		in.JWT = ""
		return unavailable(http.StatusOK, "jwt member failed verification", err)
	}
	// The JWT speaks for the token the answer describes: a different
	// subject, or a lifetime past the token's, means the auth server mixed
	// up sessions or its minter ignored the session's end.
	if in.Subject != "" && claims.Subject != in.Subject {
		in.JWT = ""
		return unavailable(http.StatusOK, `jwt "sub" differs from the answer's "sub"`, nil)
	}
	if !in.ExpiresAt.IsZero() && (claims.ExpiresAt.IsZero() || claims.ExpiresAt.After(in.ExpiresAt)) {
		in.JWT = ""
		return unavailable(http.StatusOK, `jwt "exp" is later than the answer's "exp"`, nil)
	}
	in.JWTClaims = claims
	in.jwtExpiresAt = claims.ExpiresAt
	return nil
}

// unwrapURLError drops the *url.Error layer, whose text repeats the
// endpoint URL, and keeps its cause.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
