package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

const (
	// trustDomain is the audience of every transaction token: the services
	// behind the gateway. It is a name, never contacted.
	trustDomain = "https://tour.example"
	// profileAudience is the audience of identity JWTs.
	profileAudience = "profile-service"

	// Client IDs registered at the auth server.
	appClientID     = "tour-app"
	profileClientID = "profile-service"
	gatewayClientID = "gateway"

	// Scopes every login grants.
	loginScopes = "profile payments"
)

// authCounters counts requests per auth-server endpoint.
type authCounters struct {
	login, introspect, exchange, revoke, jwks atomic.Int64
}

// checks returns the calls that services and the gateway make to the auth
// server: introspections, exchanges and JWKS fetches. Logins and
// revocations come from the client and are not counted.
func (c *authCounters) checks() int64 {
	return c.introspect.Load() + c.exchange.Load() + c.jwks.Load()
}

// count wraps h so that every request increments n.
func count(n *atomic.Int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

// topology is the running system: four servers on loopback and the handles
// the tour reads counters from.
type topology struct {
	AuthURL, GatewayURL, ProfileURL, PaymentURL string

	// AppSecret is the client secret of the tour's client application,
	// which revokes its users' tokens at /revoke.
	AppSecret string

	counts          *authCounters
	trace           *tracer
	identityGateway *phantom.Gateway
	paymentGateway  *phantom.Gateway

	remotes []*jwks.Remote
	closers []func()
}

// Close shuts every server down and stops background work. Calling it
// again does nothing.
func (t *topology) Close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
	t.closers = nil
	t.trace.base.CloseIdleConnections()
}

// startTopology starts the auth server, the gateway, the profile service
// and the payment service, each a real http.Server on 127.0.0.1 with an
// ephemeral port, wired through the library's public API.
func startTopology(ctx context.Context) (_ *topology, err error) {
	// The deferred Close uses this variable, not the named result, which
	// every "return nil, err" sets to nil before deferred calls run.
	top := &topology{counts: &authCounters{}, trace: newTracer()}
	defer func() {
		if err != nil {
			top.Close()
		}
	}()

	// Listen first: every component needs the others' addresses.
	var lns [4]net.Listener
	for i := range lns {
		lns[i], err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listening on loopback: %w", err)
		}
		// Until serve takes it over, Close closes the listener for the
		// error returns below. Closing it again after Shutdown does no harm.
		ln := lns[i]
		top.closers = append(top.closers, func() { _ = ln.Close() })
	}
	names := []string{"auth", "gateway", "profile", "payment"}
	urls := []*string{&top.AuthURL, &top.GatewayURL, &top.ProfileURL, &top.PaymentURL}
	for i, ln := range lns {
		*urls[i] = "http://" + ln.Addr().String()
		top.trace.names[ln.Addr().String()] = names[i]
	}

	registry, err := newRegistry()
	if err != nil {
		return nil, err
	}
	secrets := map[string]string{}
	for _, id := range []string{appClientID, profileClientID, gatewayClientID} {
		if secrets[id], err = newSecret(); err != nil {
			return nil, err
		}
	}
	top.AppSecret = secrets[appClientID]
	// The bus carries revocations from the auth server to the gateway's
	// caches. Both run in this process. Separate processes would use
	// phantom/redisbus.
	bus := phantom.NewLocalBus()

	auth, err := top.authServer(registry, secrets, bus)
	if err != nil {
		return nil, err
	}
	profile, err := top.profileService(registry, secrets)
	if err != nil {
		return nil, err
	}
	payment, err := top.paymentService(registry)
	if err != nil {
		return nil, err
	}
	gateway, err := top.gateway(secrets, bus)
	if err != nil {
		return nil, err
	}
	for i, h := range []http.Handler{auth, gateway, profile, payment} {
		top.serve(lns[i], h)
	}
	// Fetch every JWKS now, so that the chapters count only per-request
	// work. A Remote refreshes again only after the JWKS max-age (5 minutes
	// by default).
	for _, keys := range top.remotes {
		if err := keys.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("fetching the JWKS: %w", err)
		}
	}
	return top, nil
}

// serve runs h on ln until Close.
func (t *topology) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.closers = append(t.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
}

// newRegistry declares the transaction-token operations: a payment bound to
// its amount, currency and payee, and a profile update.
func newRegistry() (*txntoken.Registry, error) {
	minAmount, maxAmount := 1.0, 10000.0
	return txntoken.NewRegistry(txntoken.RegistryConfig{},
		txntoken.Operation{
			Name: "payment_initiate", Version: 1, RequiredScopes: []string{"payments"},
			Claims: []txntoken.Claim{
				{Name: "amount", Type: txntoken.TypeInteger, Required: true, Min: &minAmount, Max: &maxAmount},
				{Name: "currency", Type: txntoken.TypeString, Required: true, MaxLength: 3, Enum: []string{"EUR", "USD"}},
				{Name: "payee", Type: txntoken.TypeString, Required: true, MaxLength: 34, Pattern: "[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}"},
			},
		},
		txntoken.Operation{
			Name: "profile_update", Version: 1, RequiredScopes: []string{"profile"},
			Claims: []txntoken.Claim{{Name: "email", Type: txntoken.TypeString, MaxLength: 254}},
		},
	)
}

// paymentBindings tie the payment token's claims to the JSON body, at the
// gateway (which requests a token with them) and at the payment service
// (which checks them).
func paymentBindings() []txntoken.Bind {
	return []txntoken.Bind{
		txntoken.BodyField("amount", "amount"),
		txntoken.BodyField("currency", "currency"),
		txntoken.BodyField("payee", "payee"),
	}
}

// authServer builds the auth server: login, JWKS, introspection (identity
// JWTs at /introspect, transaction tokens at /introspect/txn) and
// revocation. It is the one component that holds sessions and private keys.
func (t *topology) authServer(registry *txntoken.Registry, secrets map[string]string, bus phantom.RevocationBus) (http.Handler, error) {
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	t.closers = append(t.closers, func() { _ = store.Close() })
	sessions, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		return nil, err
	}
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	if err != nil {
		return nil, err
	}
	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: t.AuthURL, Audience: []string{profileAudience}})
	if err != nil {
		return nil, err
	}
	minter, err := phantom.NewJWTMinter(phantom.JWTMinterConfig{Signer: signer})
	if err != nil {
		return nil, err
	}
	issuer, err := txntoken.NewIssuer(txntoken.IssuerConfig{
		Registry: registry, Keys: ring, Issuer: t.AuthURL, TrustDomain: trustDomain, Layout: txntoken.LayoutIETF,
	})
	if err != nil {
		return nil, err
	}

	clients := map[string]phantom.RegisteredClient{}
	for id, secret := range secrets {
		if clients[id], err = phantom.NewRegisteredClient(id, secret); err != nil {
			return nil, err
		}
	}
	gatewayClient := clients[gatewayClientID]
	gatewayClient.AllowJWT = true
	identity, err := phantom.NewServer(phantom.ServerConfig{
		Sessions: sessions,
		Clients:  []phantom.RegisteredClient{clients[appClientID], clients[profileClientID], gatewayClient},
		Minter:   minter,
		Bus:      bus,
	})
	if err != nil {
		return nil, err
	}
	txn, err := phantom.NewServer(phantom.ServerConfig{
		Sessions: sessions,
		Clients:  []phantom.RegisteredClient{gatewayClient},
		Minter:   issuer,
	})
	if err != nil {
		return nil, err
	}

	c := t.counts
	mux := http.NewServeMux()
	mux.Handle("POST /login", count(&c.login, loginHandler(sessions)))
	mux.Handle("POST /login/jwt", count(&c.login, loginJWTHandler(signer)))
	mux.Handle("GET /jwks", count(&c.jwks, ring.Handler()))
	mux.Handle("POST /introspect", count(&c.introspect, identity.IntrospectionHandler()))
	mux.Handle("POST /introspect/txn", count(&c.exchange, txn.IntrospectionHandler()))
	mux.Handle("POST /revoke", count(&c.revoke, identity.RevocationHandler()))
	return mux, nil
}

// loginHandler starts a session for the form's username and returns its
// opaque token. The tour accepts any name, where a real server checks a
// password or an upstream identity provider first.
func loginHandler(sessions *session.Manager) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("username")
		if user == "" || len(user) > 64 {
			http.Error(w, "username must be 1 to 64 bytes", http.StatusBadRequest)
			return
		}
		token, _, err := sessions.Issue(r.Context(), user, map[string]string{
			"scope": loginScopes, "client_id": appClientID, "name": displayName(user),
		})
		if err != nil {
			slog.Error("tour: issuing a session failed", "subject", user, "error", err)
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		writeToken(w, token)
	})
}

// loginJWTHandler returns a self-contained JWT for the form's username: no
// server-side state, so nothing the auth server could revoke later.
func loginJWTHandler(signer *jwtutil.Signer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("username")
		if user == "" || len(user) > 64 {
			http.Error(w, "username must be 1 to 64 bytes", http.StatusBadRequest)
			return
		}
		token, err := signer.Sign(map[string]any{
			"sub": user, "scope": loginScopes, "client_id": appClientID, "name": displayName(user),
		})
		if err != nil {
			slog.Error("tour: signing a JWT failed", "subject", user, "error", err)
			http.Error(w, "signing failed", http.StatusInternalServerError)
			return
		}
		writeToken(w, token)
	})
}

func writeToken(w http.ResponseWriter, token string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": token, "token_type": "Bearer"})
}

func displayName(user string) string {
	return strings.ToUpper(user[:1]) + user[1:]
}

// remoteKeys returns a key source for the auth server's JWKS, fetched
// through the tracer as the party from.
func (t *topology) remoteKeys(from string) (*jwks.Remote, error) {
	keys, err := jwks.NewRemote(jwks.RemoteConfig{URL: t.AuthURL + "/jwks", HTTPClient: t.trace.client(from)})
	if err != nil {
		return nil, err
	}
	t.remotes = append(t.remotes, keys)
	t.closers = append(t.closers, func() { _ = keys.Close() })
	return keys, nil
}

// identityVerifier verifies identity JWTs, for the profile service and the
// gateway.
func (t *topology) identityVerifier(keys jwks.KeySource) (*jwtutil.Verifier, error) {
	return jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: t.AuthURL, Audience: []string{profileAudience}})
}

// txnVerifier verifies transaction tokens in the IETF layout: their "typ"
// is txntoken+jwt, so an identity verifier never takes one for a JWT.
func (t *topology) txnVerifier(keys jwks.KeySource) (*jwtutil.Verifier, error) {
	return jwtutil.NewVerifier(jwtutil.Config{
		Keys: keys, Issuer: t.AuthURL, Audience: []string{trustDomain}, Type: txntoken.JWTType,
	})
}

// profileService serves one profile three ways: GET /session/profile checks
// an opaque token at the auth server on every call, GET /profile verifies a
// JWT locally, and PATCH /profile takes a profile_update transaction token.
func (t *topology) profileService(registry *txntoken.Registry, secrets map[string]string) (http.Handler, error) {
	keys, err := t.remoteKeys("profile")
	if err != nil {
		return nil, err
	}
	remote, err := phantom.NewValidator(phantom.ClientConfig{
		Endpoint: t.AuthURL + "/introspect", ClientID: profileClientID, ClientSecret: secrets[profileClientID],
		HTTPClient: t.trace.client("profile"),
	})
	if err != nil {
		return nil, err
	}
	identity, err := t.identityVerifier(keys)
	if err != nil {
		return nil, err
	}
	txnJWT, err := t.txnVerifier(keys)
	if err != nil {
		return nil, err
	}
	replay := txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	t.closers = append(t.closers, func() { _ = replay.Close() })
	txn, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: registry, JWT: txnJWT, Layout: txntoken.LayoutIETF, Replay: replay})
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("GET /session/profile", session.Middleware(remote, session.MiddlewareConfig{SkipCookie: true})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := session.FromContext(r.Context())
			fmt.Fprintf(w, "profile of %s\n", s.Subject)
		})))
	mux.Handle("GET /profile", identity.Middleware(jwtutil.MiddlewareConfig{})(jwtutil.RequireScope("profile")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, _ := jwtutil.FromContext(r.Context())
			fmt.Fprintf(w, "profile of %s\n", claims.Subject)
		}))))
	mux.Handle("PATCH /profile", txn.Require("profile_update")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := txntoken.FromContext(r.Context())
			fmt.Fprintf(w, "profile of %s updated\n", c.Subject)
		})))
	return mux, nil
}

// paymentService accepts POST /payments only with a payment_initiate
// transaction token whose amount, currency and payee equal the body's, and
// only once.
func (t *topology) paymentService(registry *txntoken.Registry) (http.Handler, error) {
	keys, err := t.remoteKeys("payment")
	if err != nil {
		return nil, err
	}
	txnJWT, err := t.txnVerifier(keys)
	if err != nil {
		return nil, err
	}
	replay := txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	t.closers = append(t.closers, func() { _ = replay.Close() })
	txn, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: registry, JWT: txnJWT, Layout: txntoken.LayoutIETF, Replay: replay})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /payments", txn.Require("payment_initiate", paymentBindings()...)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := txntoken.FromContext(r.Context())
			amount, _ := c.Values.Int("amount")
			currency, _ := c.Values.String("currency")
			fmt.Fprintf(w, "payment of %d %s for %s accepted\n", amount, currency, c.Subject)
		})))
	return mux, nil
}

// gateway builds the API gateway: a reverse proxy that exchanges the
// client's opaque token at the auth server and forwards only the result,
// an identity JWT for GET /profile and a payment_initiate transaction token
// for POST /payments.
func (t *topology) gateway(secrets map[string]string, bus phantom.RevocationBus) (http.Handler, error) {
	keys, err := t.remoteKeys("gateway")
	if err != nil {
		return nil, err
	}
	identity, err := t.identityVerifier(keys)
	if err != nil {
		return nil, err
	}
	txnJWT, err := t.txnVerifier(keys)
	if err != nil {
		return nil, err
	}
	identityClient, err := phantom.NewClient(phantom.ClientConfig{
		Endpoint: t.AuthURL + "/introspect", ClientID: gatewayClientID, ClientSecret: secrets[gatewayClientID],
		HTTPClient: t.trace.client("gateway"), Verifier: identity,
	})
	if err != nil {
		return nil, err
	}
	txnClient, err := phantom.NewClient(phantom.ClientConfig{
		Endpoint: t.AuthURL + "/introspect/txn", ClientID: gatewayClientID, ClientSecret: secrets[gatewayClientID],
		HTTPClient: t.trace.client("gateway"), Verifier: txnJWT,
	})
	if err != nil {
		return nil, err
	}
	t.identityGateway, err = phantom.NewGateway(phantom.GatewayConfig{Client: identityClient, Bus: bus})
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, t.identityGateway.Close)
	t.paymentGateway, err = phantom.NewGateway(phantom.GatewayConfig{
		Client: txnClient, Bus: bus, ForwardHeader: txntoken.HeaderName,
		ExchangeParams: txntoken.GatewayParams("payment_initiate", paymentBindings()...),
	})
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, t.paymentGateway.Close)

	profile, err := t.proxy(t.ProfileURL)
	if err != nil {
		return nil, err
	}
	payment, err := t.proxy(t.PaymentURL)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /profile", t.identityGateway.Middleware("profile")(profile))
	mux.Handle("POST /payments", t.paymentGateway.Middleware("payments")(payment))
	return mux, nil
}

func (t *topology) proxy(target string) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport: t.trace.client("gateway").Transport,
	}, nil
}

// newSecret returns 256 random bits in base64url, a client secret.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
