package jwks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/clocktest"
)

// fakeClock is the manual test clock shared by every component of a test.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock {
	return clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}

// issuerMode selects how testIssuer responds.
type issuerMode int32

const (
	modeOK issuerMode = iota
	modeServerError
	modeGarbage
	modeHang
	modeEmptySet
)

// testIssuer serves a KeyRing's JWKS over loopback HTTP, counts requests,
// and can be switched into failure modes.
type testIssuer struct {
	ring     *KeyRing
	srv      *httptest.Server
	requests atomic.Int64
	mode     atomic.Int32
	release  chan struct{} // closed when the test ends, unblocking modeHang
}

func newTestIssuer(t *testing.T, clock *fakeClock) *testIssuer {
	t.Helper()
	ring, err := NewKeyRing(KeyRingConfig{Now: clock.Now, RetireAfter: 10 * time.Minute})
	require.NoError(t, err)
	is := &testIssuer{ring: ring, release: make(chan struct{})}
	handler := ring.Handler()
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.requests.Add(1)
		switch issuerMode(is.mode.Load()) {
		case modeServerError:
			http.Error(w, "boom", http.StatusInternalServerError)
		case modeGarbage:
			_, _ = w.Write([]byte("<html>not json</html>"))
		case modeHang:
			select {
			case <-is.release:
			case <-r.Context().Done():
			}
		case modeEmptySet:
			_, _ = w.Write([]byte(`{"keys":[]}`))
		default:
			handler.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		close(is.release)
		is.srv.Close()
	})
	return is
}

func (is *testIssuer) setMode(m issuerMode) { is.mode.Store(int32(m)) }

func (is *testIssuer) currentKID(t *testing.T) string {
	t.Helper()
	k, err := is.ring.SigningKey()
	require.NoError(t, err)
	return k.KeyID()
}

// newTestRemote returns a Remote on the issuer with a fake clock and no
// jitter, closed when the test ends.
func newTestRemote(t *testing.T, is *testIssuer, clock *fakeClock, cfg RemoteConfig) *Remote {
	t.Helper()
	cfg.URL = is.srv.URL + "/jwks"
	cfg.Now = clock.Now
	if cfg.Jitter == nil {
		cfg.Jitter = func(time.Duration) time.Duration { return 0 }
	}
	r, err := NewRemote(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// keyJSON marshals a JWK built from raw with extra members set.
func keyJSON(t *testing.T, raw any, members map[string]any) json.RawMessage {
	t.Helper()
	k, err := jwk.FromRaw(raw)
	require.NoError(t, err)
	for name, v := range members {
		require.NoError(t, k.Set(name, v))
	}
	b, err := json.Marshal(k)
	require.NoError(t, err)
	return b
}

func newECKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return k
}

func setJSON(keys ...json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}
