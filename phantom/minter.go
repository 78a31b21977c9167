package phantom

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
)

// DefaultJWTLifetime is the lifetime of a minted JWT unless the session
// ends sooner.
const DefaultJWTLifetime = 5 * time.Minute

// DefaultJWTAttributes are the session attributes a JWTMinter copies into
// claims of the same name unless configured otherwise.
var DefaultJWTAttributes = []string{"name", "email", "preferred_username", "given_name", "family_name", "locale"}

// reservedClaims are claims the minter sets itself, which a session
// attribute must never override.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"scope": true, "client_id": true, "azp": true, "sid": true, "cnf": true, "act": true,
}

// JWTMinterConfig configures a [JWTMinter].
type JWTMinterConfig struct {
	// Signer signs the JWTs; its Issuer and Audience become "iss" and
	// "aud". Required.
	Signer *jwtutil.Signer
	// Lifetime is how long a JWT lives, cut short to the session's end.
	// Default DefaultJWTLifetime (5 minutes).
	Lifetime time.Duration
	// Attributes names the session attributes copied into claims of the
	// same name. Registered and reserved claim names are never copied.
	// Default DefaultJWTAttributes.
	Attributes []string
	// Now is the clock for "iat" and "exp". Default time.Now.
	Now func() time.Time
}

// JWTMinter is the default [Minter]: it mints an identity JWT with "sub",
// "scope", "client_id" and "azp" (the session's client), "sid" (the
// session ID) and the configured attributes, valid for the earlier of
// Lifetime and the session's remaining life.
type JWTMinter struct {
	signer   *jwtutil.Signer
	lifetime time.Duration
	attrs    []string
	now      func() time.Time
}

// NewJWTMinter returns a JWTMinter for cfg.
func NewJWTMinter(cfg JWTMinterConfig) (*JWTMinter, error) {
	if cfg.Signer == nil {
		return nil, errors.New("phantom: JWTMinterConfig.Signer is required")
	}
	if cfg.Lifetime < 0 {
		return nil, fmt.Errorf("phantom: JWTMinterConfig.Lifetime is %v; use a positive duration or zero for the default", cfg.Lifetime)
	}
	m := &JWTMinter{signer: cfg.Signer, lifetime: cfg.Lifetime, attrs: cfg.Attributes, now: cfg.Now}
	if m.lifetime == 0 {
		m.lifetime = DefaultJWTLifetime
	}
	if m.attrs == nil {
		m.attrs = DefaultJWTAttributes
	}
	for _, a := range m.attrs {
		if reservedClaims[a] {
			return nil, fmt.Errorf("phantom: JWTMinterConfig.Attributes names reserved claim %q", a)
		}
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// MintJWT implements [Minter]. It rejects any params, because an identity
// JWT has no use for them: a request that carries exchange parameters
// expects a minter that understands them.
func (m *JWTMinter) MintJWT(ctx context.Context, s *session.Session, clientID string, params url.Values) (string, error) {
	if len(params) > 0 {
		names := make([]string, 0, len(params))
		for k := range params {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", &OAuthError{Code: "invalid_request", Description: "unsupported parameter " + strings.Join(names, ", ")}
	}
	now := m.now()
	exp := now.Add(m.lifetime)
	if d := s.Deadline(); d.Before(exp) {
		exp = d
	}
	if !exp.After(now) {
		return "", errors.New("phantom: session ends before the JWT could be used")
	}
	claims := map[string]any{
		"sub": s.Subject,
		"sid": s.ID,
		"iat": now.Unix(),
		"exp": exp.Unix(),
	}
	if scope := s.Attributes["scope"]; scope != "" {
		claims["scope"] = scope
	}
	if cid := s.Attributes["client_id"]; cid != "" {
		claims["client_id"] = cid
		claims["azp"] = cid
	}
	for _, a := range m.attrs {
		if v, ok := s.Attributes[a]; ok && !reservedClaims[a] {
			claims[a] = v
		}
	}
	return m.signer.Sign(claims)
}

// OAuthError is an error a [Minter] returns to have the introspection
// handler answer with this code and description: 403 for
// insufficient_scope, 400 for any other code.
type OAuthError struct {
	Code        string
	Description string
	// Scope names the missing scope of an insufficient_scope error. Default
	// empty: the answer has no "scope" member.
	Scope string
}

func (e *OAuthError) Error() string {
	return "phantom: " + e.Code + ": " + e.Description
}

// OAuthError returns the code and description of the answer.
func (e *OAuthError) OAuthError() (code, description string) {
	return e.Code, e.Description
}

// OAuthScope returns Scope.
func (e *OAuthError) OAuthScope() string { return e.Scope }

// unverifiedExpiry reads "exp" from a JWT the server itself just minted,
// without verifying its signature.
func unverifiedExpiry(jwt string) (int64, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return 0, errors.New("phantom: minted JWT is not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, errors.New("phantom: minted JWT payload is not base64url")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return 0, errors.New(`phantom: minted JWT has no numeric "exp"`)
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return 0, errors.New(`phantom: minted JWT has no numeric "exp"`)
	}
	return int64(f), nil
}

// RouteMinter lets one introspection endpoint mint several kinds of JWT:
// a request whose form carries a parameter named in ByParam goes to that
// parameter's Minter, any other request to Default. A transaction-token
// issuer under "operation" next to a JWTMinter as Default is the usual
// pair:
//
//	minter := &phantom.RouteMinter{
//		Default: identityMinter,
//		ByParam: map[string]phantom.Minter{"operation": txnIssuer},
//	}
//
// The chosen Minter receives every parameter, including the one that
// chose it. A request that carries two routing parameters gets 400
// invalid_request rather than a guess.
type RouteMinter struct {
	// Default mints for requests that carry no routing parameter. Default
	// nil: such requests get 400 invalid_request naming the parameters.
	Default Minter
	// ByParam maps a form parameter name to the Minter for requests that
	// carry it with a non-empty value. Default nil: every request goes to
	// Default.
	ByParam map[string]Minter
}

// MintJWT implements [Minter] by handing the request to the Minter its
// parameters select.
func (m *RouteMinter) MintJWT(ctx context.Context, s *session.Session, clientID string, params url.Values) (string, error) {
	var chosen Minter
	var names []string
	for name, mm := range m.ByParam {
		if params.Get(name) == "" {
			continue
		}
		names = append(names, name)
		chosen = mm
	}
	sort.Strings(names)
	switch {
	case len(names) > 1:
		return "", &OAuthError{Code: "invalid_request", Description: "parameters " + strings.Join(names, " and ") + " cannot be combined"}
	case len(names) == 1 && chosen == nil:
		return "", fmt.Errorf("phantom: RouteMinter.ByParam[%q] is nil", names[0])
	case len(names) == 1:
		return chosen.MintJWT(ctx, s, clientID, params)
	case m.Default == nil:
		routes := make([]string, 0, len(m.ByParam))
		for name := range m.ByParam {
			routes = append(routes, name)
		}
		sort.Strings(routes)
		return "", &OAuthError{Code: "invalid_request", Description: "missing parameter; send one of " + strings.Join(routes, ", ")}
	default:
		return m.Default.MintJWT(ctx, s, clientID, params)
	}
}
