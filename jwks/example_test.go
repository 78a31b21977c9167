package jwks_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// An issuer publishes its key ring; a verifying service reads it through a
// Remote key source, which picks up a rotation with one fetch.
func Example() {
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{Algorithm: "EdDSA"})
	if err != nil {
		panic(err)
	}
	issuer := httptest.NewServer(ring.Handler())
	defer issuer.Close()

	keys, err := jwks.NewRemote(jwks.RemoteConfig{URL: issuer.URL + "/.well-known/jwks.json"})
	if err != nil {
		panic(err)
	}
	defer keys.Close()

	signing, _ := ring.SigningKey()
	ks, err := keys.Keys(context.Background(), signing.KeyID())
	if err != nil {
		panic(err)
	}
	fmt.Println("algorithm:", ks[0].Algorithm)
	fmt.Println("published keys:", keys.Stats().Keys)

	// Rotating twice makes a signing key the cached set has never seen.
	_ = ring.Rotate()
	_ = ring.Rotate()
	signing, _ = ring.SigningKey()
	_, err = keys.Keys(context.Background(), signing.KeyID())
	fmt.Println("rotated key found:", err == nil)
	fmt.Println("fetches:", keys.Stats().Fetches)

	_, err = keys.Keys(context.Background(), "made-up-kid")
	fmt.Println("unknown kid:", errors.Is(err, jwks.ErrKeyNotFound))
	// Output:
	// algorithm: EdDSA
	// published keys: 2
	// rotated key found: true
	// fetches: 2
	// unknown kid: true
}

func ExampleKeyRing_Handler() {
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(ring.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))

	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 200 application/jwk-set+json public, max-age=300
	// 304
}

func ExampleParseStatic() {
	// An HMAC secret shared between two services, as a JWK Set.
	keys, err := jwks.ParseStatic([]byte(`{"keys":[{"kty":"oct","kid":"svc","alg":"HS256",` +
		`"k":"c2hhcmVkLXNlY3JldC1vZi1hdC1sZWFzdC0zMi1ieXRlcw"}]}`))
	if err != nil {
		panic(err)
	}
	ks, _ := keys.Keys(context.Background(), "svc")
	fmt.Println(ks[0].ID, ks[0].Algorithm, len(ks[0].Public.([]byte)))
	// Output:
	// svc HS256 34
}
