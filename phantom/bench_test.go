package phantom

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
})

// BenchmarkBareHandler is the baseline for the gateway benchmarks: the
// same request and recorder without the middleware.
func BenchmarkBareHandler(b *testing.B) {
	r := bearerRequest("sess_x")
	for b.Loop() {
		okHandler.ServeHTTP(httptest.NewRecorder(), r)
	}
}

// BenchmarkGatewayHit measures a request served from the positive cache.
func BenchmarkGatewayHit(b *testing.B) {
	env := newTestEnv(b)
	token := env.issue(b, "read")
	g := env.newGateway(b)
	h := g.Middleware("read")(okHandler)
	r := bearerRequest(token)
	if rec := serve(h, r); rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}

// BenchmarkGatewayMiss measures a request that introspects against an
// in-process auth server over loopback HTTP: a one-entry cache and two
// alternating tokens make every request miss.
func BenchmarkGatewayMiss(b *testing.B) {
	env := newTestEnv(b)
	tokens := []*http.Request{bearerRequest(env.issue(b, "read")), bearerRequest(env.issue(b, "read"))}
	g := env.newGateway(b, func(cfg *GatewayConfig) {
		cfg.Cache = NewCache(CacheConfig{MaxEntries: 1, Now: env.clock.Now})
	})
	h := g.Middleware("read")(okHandler)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, tokens[i%2])
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		i++
	}
	if g.Stats().CacheHits != 0 {
		b.Fatalf("%d cache hits in a miss benchmark", g.Stats().CacheHits)
	}
}
