package phantom_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/session"
)

// Example runs both ends on loopback: an auth server with introspection
// and revocation endpoints, and a gateway that forwards only the JWT.
func Example() {
	ctx := context.Background()

	// Auth server: sessions, a key ring and a JWT minter.
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	sessions, _ := session.NewManager(session.ManagerConfig{Store: store})
	ring, _ := jwks.NewKeyRing(jwks.KeyRingConfig{})
	signer, _ := jwtutil.NewSigner(jwtutil.SignerConfig{Keys: ring, Issuer: "https://auth.example", Audience: []string{"api"}})
	minter, _ := phantom.NewJWTMinter(phantom.JWTMinterConfig{Signer: signer})
	gwClient, _ := phantom.NewRegisteredClient("gateway", "gateway-secret-0123456789")
	gwClient.AllowJWT = true
	gwClient.RevokeAny = true
	bus := phantom.NewLocalBus()
	server, _ := phantom.NewServer(phantom.ServerConfig{
		Sessions: sessions, Clients: []phantom.RegisteredClient{gwClient}, Minter: minter, Bus: bus,
	})
	mux := http.NewServeMux()
	mux.Handle("/introspect", server.IntrospectionHandler())
	mux.Handle("/revoke", server.RevocationHandler())
	auth := httptest.NewServer(mux)
	defer auth.Close()

	// Gateway: verifies each JWT before forwarding it.
	verifier, _ := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://auth.example", Audience: []string{"api"}})
	client, _ := phantom.NewClient(phantom.ClientConfig{
		Endpoint: auth.URL + "/introspect", ClientID: "gateway", ClientSecret: "gateway-secret-0123456789", Verifier: verifier,
	})
	gw, _ := phantom.NewGateway(phantom.GatewayConfig{Client: client, Bus: bus})
	defer gw.Close()

	// Service: sees only the JWT.
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwt := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims, err := verifier.Verify(r.Context(), jwt)
		if err != nil {
			http.Error(w, "bad jwt", http.StatusUnauthorized)
			return
		}
		fmt.Println("service sees subject:", claims.Subject, "scopes:", claims.Scopes())
	})
	front := gw.Middleware("read")(service)

	token, _, _ := sessions.Issue(ctx, "alice", map[string]string{"scope": "read write"})
	call := func() int {
		r := httptest.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		front.ServeHTTP(rec, r)
		return rec.Code
	}
	fmt.Println("first:", call())
	fmt.Println("second:", call())

	revoke, _ := http.NewRequest(http.MethodPost, auth.URL+"/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
	revoke.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	revoke.SetBasicAuth("gateway", "gateway-secret-0123456789")
	resp, _ := http.DefaultClient.Do(revoke)
	resp.Body.Close()
	fmt.Println("revoke:", resp.StatusCode)
	fmt.Println("after revocation:", call())

	st := gw.Stats()
	fmt.Println("introspections:", st.Introspections, "cache hits:", st.CacheHits, "evictions:", st.Evictions)
	// Output:
	// service sees subject: alice scopes: [read write]
	// first: 200
	// service sees subject: alice scopes: [read write]
	// second: 200
	// revoke: 200
	// after revocation: 401
	// introspections: 1 cache hits: 1 evictions: 1
}
