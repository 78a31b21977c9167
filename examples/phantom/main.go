// Command phantom runs the phantom-token pattern on loopback: an auth
// server, a gateway built on httputil.ReverseProxy and two services. The
// client holds only an opaque token, the services see only a JWT. The
// program revokes the token and shows the next request rejected at once,
// then counts the introspection calls that N requests cost with and
// without the gateway's cache. It exits non-zero if any outcome differs
// from the expected one.
//
// With -redis ADDR, revocations travel over Redis pub/sub at ADDR instead
// of an in-process bus, and a second gateway shows that one revocation
// reaches every gateway subscribed to the channel.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/session"
)

const (
	issuer        = "https://auth.example"
	audience      = "internal-api"
	gatewayID     = "gateway"
	gatewaySecret = "gateway-secret-0123456789abcdef"
	requests      = 200
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run parses the flags in args, whose first element is the program name,
// and runs the example with its steps printed to stdout. It returns the exit
// status: 2 for invalid flags, and 1 if a step failed or an outcome differed
// from the expected one, naming the cause on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := "phantom"
	if len(args) > 0 {
		name, args = args[0], args[1:]
	}
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	redisAddr := flags.String("redis", "", "host:port of a Redis server; when set, revocations travel over Redis pub/sub to two gateways")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := demo(ctx, *redisAddr, stdout); err != nil {
		fmt.Fprintln(stderr, "phantom example:", err)
		return 1
	}
	fmt.Fprintln(stdout, "all outcomes as expected")
	return 0
}

// serve starts h on an ephemeral loopback port and returns its base URL.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// demo revokes a token behind the gateway, counts introspection calls with
// and without the cache, and checks each outcome.
func demo(ctx context.Context, redisAddr string, stdout io.Writer) error {

	// Auth server.
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	sessions, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		return err
	}
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	if err != nil {
		return err
	}
	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: issuer, Audience: []string{audience}})
	if err != nil {
		return err
	}
	minter, err := phantom.NewJWTMinter(phantom.JWTMinterConfig{Signer: signer})
	if err != nil {
		return err
	}
	gw, err := phantom.NewRegisteredClient(gatewayID, gatewaySecret)
	if err != nil {
		return err
	}
	gw.AllowJWT = true
	gw.RevokeAny = true
	var bus phantom.RevocationBus = phantom.NewLocalBus()
	var shared *sharedRevocation
	if redisAddr != "" {
		if shared, err = newSharedRevocation(ctx, redisAddr, stdout); err != nil {
			return err
		}
		defer shared.Close()
		bus = shared.publisher
	}
	server, err := phantom.NewServer(phantom.ServerConfig{
		Sessions: sessions, Clients: []phantom.RegisteredClient{gw}, Minter: minter, Bus: bus,
	})
	if err != nil {
		return err
	}
	var introspections atomic.Int64
	authMux := http.NewServeMux()
	introspect := server.IntrospectionHandler()
	authMux.Handle("/introspect", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		introspections.Add(1)
		introspect.ServeHTTP(w, r)
	}))
	authMux.Handle("/revoke", server.RevocationHandler())
	authURL, stopAuth, err := serve(authMux)
	if err != nil {
		return err
	}
	defer stopAuth()

	// Two services that verify the JWT and report what they received.
	verifier, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: issuer, Audience: []string{audience}})
	if err != nil {
		return err
	}
	service := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			claims, err := verifier.Verify(r.Context(), strings.TrimPrefix(auth, "Bearer "))
			if err != nil {
				http.Error(w, "invalid jwt", http.StatusUnauthorized)
				return
			}
			fmt.Fprintf(w, "%s: JWT for %s, scopes %v, %d-byte header", name, claims.Subject, claims.Scopes(), len(auth))
		})
	}
	ordersURL, stopOrders, err := serve(service("orders"))
	if err != nil {
		return err
	}
	defer stopOrders()
	profileURL, stopProfile, err := serve(service("profile"))
	if err != nil {
		return err
	}
	defer stopProfile()

	// Gateway in front of both services.
	client, err := phantom.NewClient(phantom.ClientConfig{
		Endpoint: authURL + "/introspect", ClientID: gatewayID, ClientSecret: gatewaySecret, Verifier: verifier,
	})
	if err != nil {
		return err
	}
	gatewayBus := bus
	if shared != nil {
		if gatewayBus, err = shared.gatewayBus(); err != nil {
			return err
		}
	}
	gateway, err := phantom.NewGateway(phantom.GatewayConfig{Client: client, Bus: gatewayBus})
	if err != nil {
		return err
	}
	defer gateway.Close()
	proxyTo := func(raw string) http.Handler {
		target, _ := url.Parse(raw)
		return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	}
	gwMux := http.NewServeMux()
	gwMux.Handle("/orders", gateway.Middleware("orders")(proxyTo(ordersURL)))
	gwMux.Handle("/profile", gateway.Middleware("profile")(proxyTo(profileURL)))
	gwMux.Handle("/admin", gateway.Middleware("admin")(proxyTo(ordersURL)))
	gatewayURL, stopGateway, err := serve(gwMux)
	if err != nil {
		return err
	}
	defer stopGateway()

	// With -redis, a second gateway subscribes to the same channel.
	var gateway2 *phantom.Gateway
	var gateway2URL string
	if shared != nil {
		bus2, err := shared.gatewayBus()
		if err != nil {
			return err
		}
		if gateway2, err = phantom.NewGateway(phantom.GatewayConfig{Client: client, Bus: bus2}); err != nil {
			return err
		}
		defer gateway2.Close()
		var stopGateway2 func()
		if gateway2URL, stopGateway2, err = serve(gateway2.Middleware("orders")(proxyTo(ordersURL))); err != nil {
			return err
		}
		defer stopGateway2()
		if err := shared.waitSubscribed(ctx); err != nil {
			return err
		}
	}

	// The client logs in and receives only the opaque token.
	token, _, err := sessions.Issue(ctx, "alice", map[string]string{"scope": "orders profile", "name": "Alice"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "client holds an opaque token of %d bytes (prefix %q)\n", len(token), sessions.Prefix())

	get := func(path string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gatewayURL+path, nil)
		if err != nil {
			return 0, "", err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body)), err
	}
	expect := func(path string, want int) error {
		status, body, err := get(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "GET %-8s -> %d %s\n", path, status, body)
		if status != want {
			return fmt.Errorf("GET %s returned status %d, expected %d", path, status, want)
		}
		return nil
	}
	for _, step := range []struct {
		path string
		want int
	}{{"/orders", 200}, {"/profile", 200}, {"/admin", 403}} {
		if err := expect(step.path, step.want); err != nil {
			return err
		}
	}

	// Cost of N requests with the cache: the calls above already filled it.
	before := introspections.Load()
	for range requests {
		if status, _, err := get("/orders"); err != nil || status != http.StatusOK {
			return fmt.Errorf("cached request failed: %d %v", status, err)
		}
	}
	withCache := introspections.Load() - before
	// And without: one introspection per request.
	before = introspections.Load()
	for range requests {
		if _, err := client.Introspect(ctx, token, nil); err != nil {
			return fmt.Errorf("uncached introspection failed: %v", err)
		}
	}
	withoutCache := introspections.Load() - before
	fmt.Fprintf(stdout, "%d more requests cost %d introspection calls with the cache (the first request made the only one), %d without\n", requests, withCache, withoutCache)
	if withCache != 0 || withoutCache != requests {
		return fmt.Errorf("unexpected introspection counts %d and %d", withCache, withoutCache)
	}

	if gateway2 != nil {
		if err := expectStatus(ctx, stdout, 2, gateway2URL, "/orders", token, http.StatusOK); err != nil {
			return err
		}
	}

	// Revoke at the auth server; the gateway's cache hears of it at once.
	revokeStart := time.Now()
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(gatewayID, gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintln(stdout, "revocation endpoint answered", resp.StatusCode)
	if gateway2 != nil {
		if err := shared.waitEvicted(revokeStart, gateway, gateway2); err != nil {
			return err
		}
		if err := expectStatus(ctx, stdout, 2, gateway2URL, "/orders", token, http.StatusUnauthorized); err != nil {
			return err
		}
	}
	if err := expect("/orders", http.StatusUnauthorized); err != nil {
		return err
	}

	st := gateway.Stats()
	fmt.Fprintf(stdout, "gateway stats: requests=%d introspections=%d hits=%d misses=%d negative_hits=%d evictions=%d forbidden=%d\n",
		st.Requests, st.Introspections, st.CacheHits, st.CacheMisses, st.NegativeHits, st.Evictions, st.InsufficientScope)
	if st.Evictions != 1 {
		return fmt.Errorf("revocation evicted %d cached tokens, expected 1", st.Evictions)
	}
	return nil
}
