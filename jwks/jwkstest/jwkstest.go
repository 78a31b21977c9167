// Package jwkstest runs a JWKS issuer on a loopback httptest server, for
// tests of code that verifies tokens. It is for tests only: keys live in
// memory and the server speaks plain HTTP.
package jwkstest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// Issuer serves Ring's public JWK Set at URL and counts the requests.
type Issuer struct {
	// Ring holds the signing keys; sign test tokens with Ring.SigningKey
	// and rotate with Ring.Rotate.
	Ring *jwks.KeyRing
	// Server is the loopback server, closed when the test ends.
	Server *httptest.Server
	// URL is the JWKS endpoint.
	URL string

	requests atomic.Int64
}

// NewIssuer starts an issuer with a ring built from cfg and stops it when
// the test ends. It fails the test if the ring cannot be built.
func NewIssuer(tb testing.TB, cfg jwks.KeyRingConfig) *Issuer {
	tb.Helper()
	ring, err := jwks.NewKeyRing(cfg)
	if err != nil {
		tb.Fatalf("jwkstest: %v", err)
	}
	is := &Issuer{Ring: ring}
	handler := ring.Handler()
	is.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.requests.Add(1)
		handler.ServeHTTP(w, r)
	}))
	is.URL = is.Server.URL + "/.well-known/jwks.json"
	tb.Cleanup(is.Server.Close)
	return is
}

// Requests returns the number of requests the server has received.
func (is *Issuer) Requests() int64 { return is.requests.Load() }

// Remote returns a jwks.Remote for the issuer's URL, with cfg's other
// fields, closed when the test ends.
func (is *Issuer) Remote(tb testing.TB, cfg jwks.RemoteConfig) *jwks.Remote {
	tb.Helper()
	cfg.URL = is.URL
	r, err := jwks.NewRemote(cfg)
	if err != nil {
		tb.Fatalf("jwkstest: %v", err)
	}
	tb.Cleanup(func() { _ = r.Close() })
	return r
}
