package txntoken

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/session"
)

// IssuerConfig configures NewIssuer.
type IssuerConfig struct {
	// Registry holds the operations. Required.
	Registry *Registry
	// Keys supplies the signing key, such as a *jwks.KeyRing. Required.
	Keys jwtutil.SigningKeySource
	// Issuer is the "iss" of every token. Default empty: no "iss", which
	// the IETF layout permits; verifiers then need SkipIssuerCheck.
	Issuer string
	// TrustDomain is the "aud" of operations that declare no Audience; in
	// the IETF layout it names the trust domain. Required.
	TrustDomain string
	// Layout selects the token layout. Default LayoutFlat.
	Layout Layout
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives one record per token that exceeds its size budget.
	// Default nil: silent.
	Logger *slog.Logger
}

// Issuer mints transaction tokens. It is safe for concurrent use.
//
// Its MintJWT method makes it a phantom.Minter, so the phantom
// introspection handler can respond to "operation=..." requests with a
// transaction token.
type Issuer struct {
	reg         *Registry
	signer      *jwtutil.Signer
	issuer      string
	trustDomain string
	layout      Layout
	now         func() time.Time
	logger      *slog.Logger
}

// NewIssuer returns an Issuer for cfg.
func NewIssuer(cfg IssuerConfig) (*Issuer, error) {
	switch {
	case cfg.Registry == nil:
		return nil, errors.New("txntoken: IssuerConfig.Registry is nil: use NewRegistry or LoadRegistry")
	case cfg.Keys == nil:
		return nil, errors.New("txntoken: IssuerConfig.Keys is nil: use a jwks.KeyRing or jwtutil.StaticSigningKey")
	case cfg.TrustDomain == "" || !validText(cfg.TrustDomain, 1024):
		return nil, errors.New("txntoken: IssuerConfig.TrustDomain must be set to the audience of the trust domain, such as \"https://bank.example\"")
	case cfg.Layout != LayoutFlat && cfg.Layout != LayoutIETF:
		return nil, fmt.Errorf("txntoken: IssuerConfig.Layout %d is not LayoutFlat or LayoutIETF", cfg.Layout)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: cfg.Keys, Issuer: cfg.Issuer, Now: now})
	if err != nil {
		return nil, fmt.Errorf("txntoken: %w", err)
	}
	return &Issuer{
		reg:         cfg.Registry,
		signer:      signer,
		issuer:      cfg.Issuer,
		trustDomain: cfg.TrustDomain,
		layout:      cfg.Layout,
		now:         now,
		logger:      cfg.Logger,
	}, nil
}

// Layout returns the layout of the tokens i mints.
func (i *Issuer) Layout() Layout { return i.layout }

// Registry returns the registry i mints from.
func (i *Issuer) Registry() *Registry { return i.reg }

// MintRequest describes one token to mint.
type MintRequest struct {
	// Subject is "sub". Required, at most the registry's MaxSubjectLength.
	Subject string
	// Operation names the operation. Required.
	Operation string
	// Claims are the context claims as Go values (string, bool, int, int64,
	// float64, json.Number) or as form text such as "500", which is
	// converted to the declared type.
	Claims map[string]any
	// Requester is "req_wl", the workload that requested the token, such
	// as the gateway's client ID. Required in the IETF layout, unused in
	// the flat layout.
	Requester string
	// RequestContext becomes "rctx" in the IETF layout, such as
	// {"req_ip": "192.0.2.1"}. Names must be valid claim names, values
	// printable ASCII without ", \, <, > or &, and the encoded object at
	// most MaxRequestContextSize bytes. Unused in the flat layout.
	RequestContext map[string]string
}

// Mint validates req against the schema and returns a signed token. It
// returns a *ValidationError (wrapping ErrUnknownOperation or
// ErrInvalidClaim) for an invalid request and an error wrapping ErrTooLarge
// when the token exceeds the operation's MaxSize. Mint does not check the
// operation's RequiredScopes; MintJWT and the exchange handler do, because
// they know the subject's session.
func (i *Issuer) Mint(ctx context.Context, req MintRequest) (string, error) {
	op, err := i.reg.lookup(req.Operation)
	if err != nil {
		return "", err
	}
	values, err := op.CheckValues(req.Claims)
	if err != nil {
		return "", err
	}
	token, _, err := i.mint(ctx, op, req.Subject, values, req.Requester, req.RequestContext, time.Time{})
	return token, err
}

// MintJWT implements phantom.Minter: params carries "operation" and the
// context claims as form fields. The session must hold every scope the
// operation requires. Errors for bad parameters have an OAuthError method,
// so the introspection handler responds with 400 invalid_request naming the
// claim, or with 403 insufficient_scope naming a scope the session lacks.
func (i *Issuer) MintJWT(ctx context.Context, s *session.Session, clientID string, params url.Values) (string, error) {
	if s == nil {
		return "", errors.New("txntoken: MintJWT called without a session")
	}
	names := params["operation"]
	if len(names) != 1 || names[0] == "" {
		return "", &ValidationError{Reason: `exactly one "operation" parameter is required`, err: ErrUnknownOperation}
	}
	op, err := i.reg.lookup(names[0])
	if err != nil {
		return "", err
	}
	if err := checkScopes(op, s.Scopes()); err != nil {
		return "", err
	}
	claims := make(url.Values, len(params))
	for k, v := range params {
		if k != "operation" {
			claims[k] = v
		}
	}
	values, err := op.ParseParams(claims)
	if err != nil {
		return "", err
	}
	token, _, err := i.mint(ctx, op, s.Subject, values, clientID, nil, s.Deadline())
	return token, err
}

func checkScopes(op *Operation, granted []string) error {
	for _, want := range op.RequiredScopes {
		if !slices.Contains(granted, want) {
			return &ValidationError{Operation: op.Name, Reason: fmt.Sprintf("requires scope %q, which the subject was not granted", want), Scope: want, err: ErrInvalidClaim}
		}
	}
	return nil
}

// mint signs a token; a non-zero notAfter caps "exp", so that a token never
// outlives the session it was minted from.
func (i *Issuer) mint(_ context.Context, op *Operation, subject string, values Values, requester string, rctx map[string]string, notAfter time.Time) (string, time.Time, error) {
	if subject == "" || !validText(subject, i.reg.maxSubjectLength) {
		return "", time.Time{}, &ValidationError{Operation: op.Name, Reason: fmt.Sprintf("subject must be 1 to %d bytes of printable UTF-8", i.reg.maxSubjectLength), err: ErrInvalidClaim}
	}
	id, err := newID()
	if err != nil {
		return "", time.Time{}, err
	}
	now := i.now()
	audience := op.Audience
	if audience == "" {
		audience = i.trustDomain
	}
	exp := now.Add(op.Lifetime)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter
	}
	if !exp.After(now) {
		return "", time.Time{}, &ValidationError{Operation: op.Name, Reason: "the subject's session has ended", err: ErrInvalidClaim}
	}
	claims := map[string]any{
		claimSub: subject,
		claimAud: audience,
		claimIat: now.Unix(),
		claimExp: exp.Unix(),
	}
	switch i.layout {
	case LayoutFlat:
		claims[claimTxnTag] = op.Name
		claims[claimJti] = id
		for i := range values.entries {
			claims[values.name(i)] = values.entries[i].encode()
		}
	case LayoutIETF:
		if !validRequester(requester) {
			return "", time.Time{}, &ValidationError{Operation: op.Name, Reason: fmt.Sprintf("requesting workload must be 1 to %d bytes of printable ASCII without \", \\, <, > or &", MaxRequesterLength), err: ErrInvalidClaim}
		}
		claims[claimJti] = nil
		claims[claimTxn] = id
		claims[claimScope] = op.Name
		claims[claimReqWL] = requester
		tctx := make(map[string]any, values.Len())
		for i := range values.entries {
			tctx[values.name(i)] = values.entries[i].encode()
		}
		claims[claimTctx] = tctx
		if len(rctx) > 0 {
			if err := checkRequestContext(rctx); err != nil {
				return "", time.Time{}, &ValidationError{Operation: op.Name, Reason: err.Error(), err: ErrInvalidClaim}
			}
			claims[claimRctx] = rctx
		}
	}
	token, err := i.signer.SignWithType(JWTType, claims)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("txntoken: %w", err)
	}
	if len(token) > op.MaxSize {
		if i.logger != nil {
			i.logger.Warn("txntoken: token exceeds size budget", "operation", op.Name, "size", len(token), "max_size", op.MaxSize)
		}
		return "", time.Time{}, fmt.Errorf("txntoken: operation %q: token of %d bytes exceeds its budget of %d: %w", op.Name, len(token), op.MaxSize, ErrTooLarge)
	}
	return token, exp, nil
}

// newID returns 128 random bits, base64url-encoded: idLength characters.
func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("txntoken: generate token id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// safeASCII reports whether s is printable ASCII that JSON encoders never
// escape, so its encoded length is len(s)+2.
func safeASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func validRequester(s string) bool {
	return s != "" && len(s) <= MaxRequesterLength && safeASCII(s)
}

func checkRequestContext(rctx map[string]string) error {
	size := 2
	for k, v := range rctx {
		if !validName(k) {
			return fmt.Errorf("request context member %q is not a valid name", clip(k))
		}
		if !safeASCII(v) {
			return fmt.Errorf("request context member %q must be printable ASCII without \", \\, <, > or &", k)
		}
		size += len(k) + len(v) + 6 // quotes, colon and comma
	}
	if size > MaxRequestContextSize {
		return fmt.Errorf("request context exceeds %d bytes", MaxRequestContextSize)
	}
	return nil
}

// WorstCaseSize returns Registry.WorstCaseSize for the operation with the
// envelope i writes: its algorithm, key ID, issuer and layout. It signs a
// probe token to learn the algorithm, key ID and signature length of the
// current key. In the IETF layout the estimate assumes a "req_wl" of
// MaxRequesterLength bytes and an "rctx" of MaxRequestContextSize bytes.
func (i *Issuer) WorstCaseSize(operation string) (int, error) {
	probe, err := i.signer.Sign(map[string]any{})
	if err != nil {
		return 0, fmt.Errorf("txntoken: %w", err)
	}
	header, _, err := jwtutil.InspectUnverified(probe)
	if err != nil {
		return 0, fmt.Errorf("txntoken: %w", err)
	}
	alg, _ := header["alg"].(string)
	kid, _ := header["kid"].(string)
	p := SizeParams{
		Algorithm:      alg,
		Layout:         i.layout,
		KeyID:          kid,
		Issuer:         i.issuer,
		Audience:       i.trustDomain,
		RequestContext: i.layout == LayoutIETF,
	}
	if kid == "" {
		p.OmitKeyID = true
	}
	if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
		sig := probe[strings.LastIndexByte(probe, '.')+1:]
		p.RSABits = base64.RawURLEncoding.DecodedLen(len(sig)) * 8
	}
	return i.reg.WorstCaseSize(operation, p)
}

// jsonObject decodes data as one JSON object of raw members, rejecting
// duplicate keys at any depth.
func jsonObject(data []byte) (map[string]json.RawMessage, error) {
	if err := checkDuplicateKeys(data); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}
