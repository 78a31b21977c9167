// Command jwt runs the self-contained JWT pattern on loopback: an issuer
// that signs tokens and serves its JWKS, and an API that verifies tokens
// locally with keys fetched from that JWKS. It rotates the signing key
// mid-run and prints a token's payload to show that anyone who intercepts
// a JWT can read it. It exits non-zero if any outcome differs from the
// expected one.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

const (
	issuerName = "https://issuer.example"
	audience   = "orders-api"
)

func main() {
	os.Exit(run(context.Background(), os.Stdout, os.Stderr))
}

// run runs the example with its steps printed to stdout and returns the exit
// status. It returns 1, naming the cause on stderr, if a step failed or an
// outcome differed from the expected one.
func run(ctx context.Context, stdout, stderr io.Writer) int {
	if err := demo(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "jwt example failed:", err)
		return 1
	}
	fmt.Fprintln(stdout, "all outcomes as expected")
	return 0
}

// demo signs tokens, calls the API with them before and after a key
// rotation, and checks each status.
func demo(ctx context.Context, stdout io.Writer) error {
	// Issuer: a key ring whose public half is served as a JWKS.
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "ES256", RetireAfter: time.Hour})
	if err != nil {
		return err
	}
	issuerMux := http.NewServeMux()
	issuerMux.Handle("GET /.well-known/jwks.json", ring.Handler())
	issuerURL, stopIssuer, err := serve(issuerMux)
	if err != nil {
		return err
	}
	defer stopIssuer()
	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{
		Keys:     ring,
		Issuer:   issuerName,
		Audience: []string{audience},
		Lifetime: 5 * time.Minute,
	})
	if err != nil {
		return err
	}

	// Service: fetches the JWKS over HTTP and verifies every token locally.
	keys, err := jwks.NewRemote(jwks.RemoteConfig{URL: issuerURL + "/.well-known/jwks.json"})
	if err != nil {
		return err
	}
	defer keys.Close()
	verifier, err := jwtutil.NewVerifier(jwtutil.Config{
		Keys:     keys,
		Issuer:   issuerName,
		Audience: []string{audience},
		Type:     "at+jwt",
	})
	if err != nil {
		return err
	}
	protect := verifier.Middleware(jwtutil.MiddlewareConfig{Realm: "orders"})
	apiMux := http.NewServeMux()
	apiMux.Handle("GET /orders", protect(jwtutil.RequireScope("orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := jwtutil.FromContext(r.Context())
		fmt.Fprintf(w, "orders of %s (kid %.8s...)", claims.Subject, claims.Header.KeyID)
	}))))
	apiMux.Handle("POST /orders", protect(jwtutil.RequireScope("orders:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := jwtutil.FromContext(r.Context())
		fmt.Fprintf(w, "order created (kid %.8s...)", claims.Header.KeyID)
	}))))
	apiURL, stopAPI, err := serve(apiMux)
	if err != nil {
		return err
	}
	defer stopAPI()

	sign := func(scope string) (string, error) {
		return signer.SignWithType("at+jwt", map[string]any{"sub": "alice", "scope": scope, "email": "alice@example.com"})
	}
	reader, err := sign("orders:read")
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "== what anyone holding the token can read (no key needed)")
	header, claims, err := jwtutil.InspectUnverified(reader)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "header: alg=%v typ=%v\n", header["alg"], header["typ"])
	fmt.Fprintf(stdout, "claims: sub=%v email=%v scope=%v aud=%v\n", claims["sub"], claims["email"], claims["scope"], claims["aud"])

	fmt.Fprintln(stdout, "== requests to the API")
	var failures []string
	check := func(name, method, token string, want int) {
		status, body, err := call(ctx, method, apiURL+"/orders", token)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", name, err))
			return
		}
		mark := "ok"
		if status != want {
			mark = fmt.Sprintf("UNEXPECTED (want %d)", want)
			failures = append(failures, name)
		}
		fmt.Fprintf(stdout, "%-34s %d %-40s %s\n", name, status, body, mark)
	}
	check("valid token", http.MethodGet, reader, http.StatusOK)
	check("no token", http.MethodGet, "", http.StatusUnauthorized)
	check("missing scope orders:write", http.MethodPost, reader, http.StatusForbidden)
	tampered := tamper(reader)
	check("payload edited (scope added)", http.MethodPost, tampered, http.StatusUnauthorized)
	plain, err := signer.Sign(map[string]any{"sub": "alice", "scope": "orders:read"})
	if err != nil {
		return err
	}
	check("typ JWT where at+jwt is required", http.MethodGet, plain, http.StatusUnauthorized)

	fmt.Fprintln(stdout, "== rotating the issuer's signing key")
	if err := ring.Rotate(); err != nil {
		return err
	}
	rotated, err := sign("orders:read orders:write")
	if err != nil {
		return err
	}
	check("token from the new key", http.MethodPost, rotated, http.StatusOK)
	check("token from the retired key", http.MethodGet, reader, http.StatusOK)

	if len(failures) > 0 {
		return fmt.Errorf("unexpected outcomes: %s", strings.Join(failures, "; "))
	}
	return nil
}

// tamper rewrites the token's payload to grant orders:write while keeping
// the original signature, as an interceptor might try.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	_, claims, err := jwtutil.InspectUnverified(token)
	if err != nil || len(parts) != 3 {
		return token
	}
	claims["scope"] = "orders:read orders:write"
	return parts[0] + "." + encodeJSON(claims) + "." + parts[2]
}

// serve starts h on an ephemeral loopback port and returns its base URL
// and a function that stops it.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

func call(ctx context.Context, method, url, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, "", err
	}
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		text = resp.Header.Get("WWW-Authenticate")
		if text == "" {
			text = strings.TrimSpace(string(body))
		}
		if len(text) > 40 {
			text = text[:37] + "..."
		}
	}
	return resp.StatusCode, text, nil
}
