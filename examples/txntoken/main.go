// Command txntoken runs the transaction-token reference flow on loopback:
// an auth server whose phantom introspection handler mints transaction
// tokens, a payment service and a profile service. It prints each outcome
// and the token sizes per signing algorithm, and exits 1 if any outcome
// differs from the expected one.
//
//	go run ./examples/txntoken
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

const (
	schema = `{
  "operations": {
    "payment_initiate": {
      "version": 1,
      "audience": "https://payments.bank.example",
      "max_size": 1024,
      "required_scopes": ["write"],
      "claims": {
        "amount":   {"type": "integer", "required": true, "min": 1, "max": 100000},
        "currency": {"type": "string", "max_length": 3, "pattern": "[A-Z]{3}"}
      }
    },
    "user_profile": {"version": 1, "claims": {}}
  }
}`
	issuerURL     = "https://txn.bank.example"
	trustDomain   = "https://bank.example"
	gatewaySecret = "gateway-secret-0123456789"
)

func main() {
	os.Exit(run(context.Background(), os.Stdout, os.Stderr))
}

// run runs the example with its steps printed to stdout and returns the exit
// status. It returns 1, naming the cause on stderr, if a step failed or an
// outcome differed from the expected one.
func run(ctx context.Context, stdout, stderr io.Writer) int {
	if err := demo(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "FAIL:", err)
		return 1
	}
	return 0
}

// serve starts h on an ephemeral loopback port and returns its URL.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// demo exchanges an opaque token for a transaction token, presents it to
// both services, checks each status and prints the token sizes.
func demo(ctx context.Context, stdout io.Writer) error {
	reg, err := txntoken.ParseRegistry([]byte(schema))
	if err != nil {
		return err
	}
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "ES256"})
	if err != nil {
		return err
	}
	issuer, err := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: ring, Issuer: issuerURL, TrustDomain: trustDomain})
	if err != nil {
		return err
	}

	// Auth server: sessions plus the phantom introspection handler, which
	// mints a transaction token when the gateway sends "operation=...".
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	sessions, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		return err
	}
	gw, err := phantom.NewRegisteredClient("gateway", gatewaySecret)
	if err != nil {
		return err
	}
	gw.AllowJWT = true
	auth, err := phantom.NewServer(phantom.ServerConfig{Sessions: sessions, Clients: []phantom.RegisteredClient{gw}, Minter: issuer})
	if err != nil {
		return err
	}
	authURL, stopAuth, err := serve(auth.IntrospectionHandler())
	if err != nil {
		return err
	}
	defer stopAuth()

	// Services: each verifies with the key ring's public keys and its own
	// operation; the payment service binds the body amount and refuses
	// replays. Type accepts "typ" txntoken+jwt only, which every
	// transaction token carries and no identity JWT does.
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: issuerURL, Audience: []string{trustDomain, "https://payments.bank.example"}, Type: txntoken.JWTType})
	if err != nil {
		return err
	}
	replay := txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	defer replay.Close()
	verifier, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: reg, JWT: jv, Replay: replay})
	if err != nil {
		return err
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc, _ := txntoken.FromContext(r.Context())
		fmt.Fprintf(w, "%s for %s", tc.Operation, tc.Subject)
	})
	paymentsURL, stopPayments, err := serve(verifier.Require("payment_initiate", txntoken.BodyField("amount", "amount"))(ok))
	if err != nil {
		return err
	}
	defer stopPayments()
	profileURL, stopProfile, err := serve(verifier.Require("user_profile")(ok))
	if err != nil {
		return err
	}
	defer stopProfile()
	// An identity route of the payment service accepts identity JWTs from
	// the same issuer for the same audience, so only "typ" distinguishes a
	// transaction token there.
	identity, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: issuerURL, Audience: []string{"https://payments.bank.example"}})
	if err != nil {
		return err
	}
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := jwtutil.FromContext(r.Context())
		fmt.Fprintf(w, "signed in as %s", claims.Subject)
	})
	identityURL, stopIdentity, err := serve(identity.Middleware(jwtutil.MiddlewareConfig{})(whoami))
	if err != nil {
		return err
	}
	defer stopIdentity()

	// The user logs in and gets an opaque token; the gateway exchanges it.
	opaque, _, err := sessions.Issue(ctx, "alice", map[string]string{"scope": "write"})
	if err != nil {
		return err
	}
	token, err := introspect(ctx, authURL, url.Values{"token": {opaque}, "operation": {"payment_initiate"}, "amount": {"500"}})
	if err != nil {
		return err
	}
	_, payload, err := jwtutil.InspectUnverified(token)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gateway obtained a token: sub=%v txn_tag=%v amount=%v\n", payload["sub"], payload["txn_tag"], payload["amount"])

	var failed []string
	expect := func(what string, got, want int) {
		mark := "ok  "
		if got != want {
			mark = "FAIL"
			failed = append(failed, what)
		}
		fmt.Fprintf(stdout, "%s %-40s %d (want %d)\n", mark, what, got, want)
	}
	expect("body amount 999 at payment service", post(ctx, paymentsURL, token, `{"amount":999}`), 401)
	expect("token at payment service", post(ctx, paymentsURL, token, `{"amount":500}`), 200)
	expect("same token at payment service again", post(ctx, paymentsURL, token, `{"amount":500}`), 401)
	expect("token at profile service", post(ctx, profileURL, token, `{}`), 403)
	expect("token as identity JWT", post(ctx, identityURL, token, `{}`), 401)

	status, err := introspectStatus(ctx, authURL, url.Values{"token": {opaque}, "operation": {"payment_initiate"}, "amount": {"lots"}})
	if err != nil {
		return err
	}
	expect("introspection with amount=lots", status, 400)

	if err := printSizes(stdout, reg); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("unexpected outcome: %s", strings.Join(failed, "; "))
	}
	fmt.Fprintln(stdout, "all outcomes as expected")
	return nil
}

func introspectStatus(ctx context.Context, endpoint string, form url.Values) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("gateway", gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func introspect(ctx context.Context, endpoint string, form url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("gateway", gatewaySecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var answer struct {
		Active bool   `json:"active"`
		JWT    string `json:"jwt"`
		Error  string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || !answer.Active || answer.JWT == "" {
		return "", fmt.Errorf("introspection failed with status %d: %s", resp.StatusCode, answer.Error)
	}
	return answer.JWT, nil
}

func post(ctx context.Context, endpoint, token, body string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// printSizes mints the reference token (sub, txn_tag or scope, amount) with
// each algorithm in both layouts and prints its size and the worst case to
// stdout.
func printSizes(stdout io.Writer, reg *txntoken.Registry) error {
	fmt.Fprintln(stdout, "token sizes in bytes for sub=alice, payment_initiate, amount=500 (actual / worst case):")
	for _, alg := range []string{"HS256", "ES256", "EdDSA", "RS256"} {
		keys, err := signingKeys(alg)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("  %-6s", alg)
		for _, layout := range []txntoken.Layout{txntoken.LayoutFlat, txntoken.LayoutIETF} {
			iss, err := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: keys, Issuer: issuerURL, TrustDomain: trustDomain, Layout: layout})
			if err != nil {
				return err
			}
			token, err := iss.Mint(context.Background(), txntoken.MintRequest{
				Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": 500}, Requester: "gateway",
			})
			if err != nil {
				return err
			}
			worst, err := iss.WorstCaseSize("payment_initiate")
			if err != nil {
				return err
			}
			line += fmt.Sprintf("  %s %4d / %4d", layout, len(token), worst)
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

func signingKeys(alg string) (jwtutil.SigningKeySource, error) {
	if alg != "HS256" {
		return jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: alg})
	}
	k, err := jwk.FromRaw([]byte("an example HMAC secret of 32+ bytes!"))
	if err != nil {
		return nil, err
	}
	if err := k.Set(jwk.KeyIDKey, "hmac-1"); err != nil {
		return nil, err
	}
	return jwtutil.StaticSigningKey(k), nil
}
