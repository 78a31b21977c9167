package jwtutil_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// This example runs an issuer that publishes its JWKS and a service that
// verifies tokens locally with keys fetched from it.
func Example() {
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	if err != nil {
		panic(err)
	}
	issuer := httptest.NewServer(ring.Handler())
	defer issuer.Close()

	signer, err := jwtutil.NewSigner(jwtutil.SignerConfig{
		Keys:     ring,
		Issuer:   "https://issuer.example",
		Audience: []string{"orders-api"},
	})
	if err != nil {
		panic(err)
	}

	keys, err := jwks.NewRemote(jwks.RemoteConfig{URL: issuer.URL})
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	verifier, err := jwtutil.NewVerifier(jwtutil.Config{
		Keys:     keys,
		Issuer:   "https://issuer.example",
		Audience: []string{"orders-api"},
	})
	if err != nil {
		panic(err)
	}
	api := verifier.Middleware(jwtutil.MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := jwtutil.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s", claims.Subject)
	}))

	token, err := signer.Sign(map[string]any{"sub": "alice"})
	if err != nil {
		panic(err)
	}
	for _, auth := range []string{"Bearer " + token, "", "Bearer " + token[:len(token)-4] + "AAAA"} {
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 hello alice
	// 401 Unauthorized
	// 401 Unauthorized
}

func ExampleVerifier_Verify() {
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "EdDSA"})
	if err != nil {
		panic(err)
	}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	signer, _ := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: "https://issuer.example", Audience: []string{"api"}, Now: clock})
	verifier, _ := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://issuer.example", Audience: []string{"api"}, Now: clock})

	token, _ := signer.Sign(map[string]any{"sub": "alice", "scope": "orders:read"})
	claims, err := verifier.Verify(context.Background(), token)
	fmt.Println(claims.Subject, claims.Scopes(), claims.ExpiresAt, err)

	now = now.Add(time.Hour)
	_, err = verifier.Verify(context.Background(), token)
	fmt.Println(err)
	// Output:
	// alice [orders:read] 2030-01-01 12:05:00 +0000 UTC <nil>
	// jwtutil: token expired
}

// InspectUnverified shows that anyone holding a JWT can read its claims:
// a JWS is signed, not encrypted.
func ExampleInspectUnverified() {
	ring, _ := jwks.NewKeyRing(jwks.KeyRingConfig{})
	signer, _ := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: "https://issuer.example"})
	token, _ := signer.Sign(map[string]any{"sub": "alice", "email": "alice@example.com"})

	header, claims, err := jwtutil.InspectUnverified(token)
	fmt.Println(header["alg"], header["typ"], claims["sub"], claims["email"], err)
	// Output:
	// ES256 JWT alice alice@example.com <nil>
}

func ExampleRequireScope() {
	ring, _ := jwks.NewKeyRing(jwks.KeyRingConfig{})
	signer, _ := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: "https://issuer.example", Audience: []string{"api"}})
	verifier, _ := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://issuer.example", Audience: []string{"api"}})

	protect := verifier.Middleware(jwtutil.MiddlewareConfig{})
	handler := protect(jwtutil.RequireScope("orders:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "written")
	})))

	token, _ := signer.Sign(map[string]any{"sub": "alice", "scope": "orders:read"})
	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output:
	// 403 Bearer error="insufficient_scope", error_description="the access token lacks a required scope", scope="orders:write"
}
