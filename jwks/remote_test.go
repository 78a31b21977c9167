package jwks

import (
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteColdStartSharesOneFetch(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})

	const callers = 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	start := make(chan struct{})
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ks, err := r.Keys(context.Background(), "")
			if err == nil && len(ks) != 2 {
				err = errors.New("want 2 keys")
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(1), is.requests.Load())
	assert.Equal(t, int64(1), r.Stats().Fetches)
}

func TestRemoteRotationPickedUpOnFirstUse(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(context.Background()))

	// The ring publishes its next key ahead, so two rotations are needed
	// for a signing key that the cached set has never seen.
	require.NoError(t, is.ring.Rotate())
	require.NoError(t, is.ring.Rotate())
	kid := is.currentKID(t)

	ks, err := r.Keys(context.Background(), kid)
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, kid, ks[0].ID)
	assert.Equal(t, int64(2), is.requests.Load(), "one fetch for the new kid")
}

func TestRemotePrepublishedKeyNeedsNoFetch(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(context.Background()))

	require.NoError(t, is.ring.Rotate())
	_, err := r.Keys(context.Background(), is.currentKID(t))
	require.NoError(t, err)
	assert.Equal(t, int64(1), is.requests.Load())
}

func TestRemoteRandomKIDsRespectCooldown(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(context.Background()))

	flood := func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 16)
				for range 10000 / 8 {
					_, _ = rand.Read(buf)
					_, err := r.Keys(context.Background(), hex.EncodeToString(buf))
					if !errors.Is(err, ErrKeyNotFound) {
						t.Errorf("Keys(random kid) error = %v, want ErrKeyNotFound", err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}

	flood()
	assert.Equal(t, int64(2), is.requests.Load(), "initial fetch plus one for the first unknown kid")

	clock.Advance(DefaultUnknownKIDCooldown - time.Second)
	flood()
	assert.Equal(t, int64(2), is.requests.Load(), "no fetch within the cooldown")

	clock.Advance(time.Second)
	flood()
	assert.Equal(t, int64(3), is.requests.Load(), "one fetch after the cooldown")
}

// newGatedIssuer returns a testIssuer whose requests, while hold is set,
// stall until release is called.
func newGatedIssuer(t *testing.T, clock *fakeClock) (is *testIssuer, hold *atomic.Bool, release func()) {
	t.Helper()
	ring, err := NewKeyRing(KeyRingConfig{Now: clock.Now, RetireAfter: 10 * time.Minute})
	require.NoError(t, err)
	is = &testIssuer{ring: ring}
	hold = new(atomic.Bool)
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	handler := ring.Handler()
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		is.requests.Add(1)
		if hold.Load() {
			<-gate
		}
		handler.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		release()
		is.srv.Close()
	})
	return is, hold, release
}

func TestRemoteScheduledRefreshLeavesCooldown(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	is, hold, release := newGatedIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(ctx))

	// The unknown kid arrives while the scheduled refresh is in flight, or
	// just after it ended, and uses that refresh's set.
	clock.Advance(DefaultMinRefresh)
	hold.Store(true)
	done := make(chan error, 1)
	go func() {
		_, err := r.Keys(ctx, "unknown")
		done <- err
	}()
	require.Eventually(t, func() bool { return is.requests.Load() == 2 }, 5*time.Second, time.Millisecond)
	hold.Store(false)
	release()
	require.ErrorIs(t, <-done, ErrKeyNotFound)
	assert.Equal(t, int64(2), is.requests.Load(), "the unknown kid shared the scheduled refresh")

	_, err := r.Keys(ctx, "unknown")
	require.ErrorIs(t, err, ErrKeyNotFound)
	assert.Equal(t, int64(2), is.requests.Load(), "the shared refresh put the kid in the negative cache")

	// A key rotated in after that refresh is fetched on its first use,
	// because no unknown-kid refresh has been spent yet.
	require.NoError(t, is.ring.Rotate())
	require.NoError(t, is.ring.Rotate())
	kid := is.currentKID(t)
	clock.Advance(time.Second)
	ks, err := r.Keys(ctx, kid)
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, kid, ks[0].ID)
	assert.Equal(t, int64(3), is.requests.Load(), "one fetch for the rotated kid")
}

func TestRemoteMissedFetchAnswersUnknownKID(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(ctx))

	// Another caller's fetch ends between this caller's lookup and its
	// unknown-kid check.
	looked := r.state.Load()
	require.NoError(t, r.Refresh(ctx))
	_, err := r.unknownKID(ctx, "unknown", looked, clock.Now())
	require.ErrorIs(t, err, ErrKeyNotFound)
	assert.Equal(t, int64(2), is.requests.Load(), "the fetch that ended after the lookup answered")

	require.NoError(t, is.ring.Rotate())
	require.NoError(t, is.ring.Rotate())
	kid := is.currentKID(t)
	ks, err := r.Keys(ctx, kid)
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, int64(3), is.requests.Load(), "the cooldown was left unspent")
}

func TestRemoteConcurrentMissesShareFetch(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	is, hold, release := newGatedIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	require.NoError(t, r.Refresh(ctx))
	require.NoError(t, is.ring.Rotate())
	require.NoError(t, is.ring.Rotate())
	kid := is.currentKID(t)

	// Callers of the rotated kid and of random kids miss together. Every
	// one of them shares the single fetch that the first miss started.
	hold.Store(true)
	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 1 {
				_, err := r.Keys(ctx, fmt.Sprintf("random-%d", i))
				if errors.Is(err, ErrKeyNotFound) {
					err = nil
				} else {
					err = fmt.Errorf("Keys(random kid) error = %v, want ErrKeyNotFound", err)
				}
				errs <- err
				return
			}
			ks, err := r.Keys(ctx, kid)
			if err == nil && (len(ks) != 1 || ks[0].ID != kid) {
				err = fmt.Errorf("Keys(rotated kid) = %d keys, want the one with kid %s", len(ks), kid)
			}
			errs <- err
		}()
	}
	require.Eventually(t, func() bool { return is.requests.Load() == 2 }, 5*time.Second, time.Millisecond)
	hold.Store(false)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int64(2), is.requests.Load(), "initial fetch plus one shared by every miss")
}

func TestRemoteNegativeCache(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{UnknownKIDCooldown: time.Second, NegativeCacheTTL: time.Minute})
	require.NoError(t, r.Refresh(context.Background()))

	_, err := r.Keys(context.Background(), "stale-kid")
	require.ErrorIs(t, err, ErrKeyNotFound)
	require.Equal(t, int64(2), is.requests.Load())

	clock.Advance(2 * time.Second)
	_, err = r.Keys(context.Background(), "stale-kid")
	require.ErrorIs(t, err, ErrKeyNotFound)
	assert.Equal(t, int64(2), is.requests.Load(), "kid cached as unknown")

	_, err = r.Keys(context.Background(), "other-kid")
	require.ErrorIs(t, err, ErrKeyNotFound)
	assert.Equal(t, int64(3), is.requests.Load(), "a different kid may refresh")

	clock.Advance(time.Minute)
	_, err = r.Keys(context.Background(), "stale-kid")
	require.ErrorIs(t, err, ErrKeyNotFound)
	assert.Equal(t, int64(4), is.requests.Load(), "negative entry expired")
}

func TestRemoteNegativeCacheBounded(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{NegativeCacheSize: 3})
	for i := range 10 {
		r.rememberUnknown([32]byte{byte(i)}, clock.Now())
	}
	assert.Len(t, r.negative, 3)
}

func TestRemoteFailedRefreshKeepsKeys(t *testing.T) {
	tests := []struct {
		name string
		mode issuerMode
		want string
	}{
		{"server error", modeServerError, "500"},
		{"garbage body", modeGarbage, "invalid JWK Set document"},
		{"empty set", modeEmptySet, "no keys"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			is := newTestIssuer(t, clock)
			r := newTestRemote(t, is, clock, RemoteConfig{})
			kid := is.currentKID(t)
			require.NoError(t, r.Refresh(context.Background()))

			is.setMode(tc.mode)
			clock.Advance(DefaultMinRefresh)
			err := r.Refresh(context.Background())
			require.ErrorIs(t, err, ErrUnavailable)
			assert.Contains(t, err.Error(), tc.want)

			ks, err := r.Keys(context.Background(), kid)
			require.NoError(t, err)
			assert.Len(t, ks, 1)
			st := r.Stats()
			assert.Equal(t, int64(1), st.Failures)
			assert.Error(t, st.LastError)
			assert.Equal(t, 2, st.Keys)
		})
	}
}

func TestRemoteBodyTooLarge(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{MaxBodySize: 100})
	_, err := r.Keys(context.Background(), "")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "exceeds 100 bytes")
}

func TestRemoteColdStartErrorNamesURLAndCause(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	is.setMode(modeServerError)
	r := newTestRemote(t, is, clock, RemoteConfig{})

	_, err := r.Keys(context.Background(), "kid")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.NotErrorIs(t, err, ErrKeyNotFound)
	assert.Contains(t, err.Error(), is.srv.URL+"/jwks")
	assert.Contains(t, err.Error(), "500 Internal Server Error")

	// Until the retry time, callers get the same error without a fetch.
	_, err = r.Keys(context.Background(), "kid")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, int64(1), is.requests.Load())

	is.setMode(modeOK)
	clock.Advance(time.Second)
	_, err = r.Keys(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, int64(2), is.requests.Load())
}

func TestRemoteHangingServerTimesOut(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	is.setMode(modeHang)
	r := newTestRemote(t, is, clock, RemoteConfig{Timeout: 100 * time.Millisecond})

	began := time.Now()
	_, err := r.Keys(context.Background(), "")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "timed out after 100ms")
	assert.Less(t, time.Since(began), 5*time.Second)
}

func TestRemoteWaitHonoursContext(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	is.setMode(modeHang)
	r := newTestRemote(t, is, clock, RemoteConfig{Timeout: time.Minute})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.Keys(ctx, "")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "waiting for fetch")
}

func TestRemoteCloseCancelsFetch(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	is.setMode(modeHang)
	r := newTestRemote(t, is, clock, RemoteConfig{Timeout: time.Minute})

	done := make(chan error, 1)
	go func() {
		_, err := r.Keys(context.Background(), "")
		done <- err
	}()
	require.Eventually(t, func() bool { return is.requests.Load() == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, r.Close())
	err := <-done
	require.ErrorIs(t, err, ErrUnavailable)

	_, err = r.Keys(context.Background(), "")
	require.ErrorIs(t, err, ErrUnavailable)
}

func TestRemoteRemovedKeyStopsVerifying(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	oldKID := is.currentKID(t)
	require.NoError(t, r.Refresh(context.Background()))

	require.NoError(t, is.ring.Rotate())
	clock.Advance(11 * time.Minute) // past the ring's RetireAfter

	_, err := r.Keys(context.Background(), oldKID)
	require.NoError(t, err, "cached until the next refresh")

	require.NoError(t, r.Refresh(context.Background()))
	_, err = r.Keys(context.Background(), oldKID)
	assert.ErrorIs(t, err, ErrKeyNotFound)
}

func TestRemoteScheduledRefreshRunsInBackground(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{})
	kid := is.currentKID(t)
	require.NoError(t, r.Refresh(context.Background()))

	clock.Advance(DefaultMinRefresh)
	_, err := r.Keys(context.Background(), kid)
	require.NoError(t, err, "due refresh does not block the cached answer")
	require.Eventually(t, func() bool { return r.Stats().Fetches == 2 && r.inflightDone() }, 5*time.Second, time.Millisecond)

	st := r.Stats()
	assert.Equal(t, int64(1), st.NotModified, "unchanged set answered 304 to If-None-Match")
	assert.Equal(t, clock.Now().Add(DefaultMinRefresh), st.NextRefresh)
}

func (r *Remote) inflightDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight == nil
}

func TestRemoteSchedulesFromCacheControl(t *testing.T) {
	tests := []struct {
		name   string
		header string
		age    string
		jitter time.Duration
		want   time.Duration
	}{
		{"no header", "", "", 0, DefaultMinRefresh},
		{"below floor", "max-age=60", "", 0, DefaultMinRefresh},
		{"in range", "public, max-age=3600", "", 0, time.Hour},
		{"age subtracted", "max-age=3600", "600", 0, 50 * time.Minute},
		{"above ceiling", "max-age=100000000", "", 0, DefaultMaxRefresh},
		{"no-cache", "no-cache, max-age=3600", "", 0, DefaultMinRefresh},
		{"invalid", "max-age=soon", "", 0, DefaultMinRefresh},
		{"jitter", "max-age=3600", "", time.Minute, 59 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			is := newTestIssuer(t, clock)
			body, err := publicSetBody(is.ring)
			require.NoError(t, err)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.header != "" {
					w.Header().Set("Cache-Control", tc.header)
				}
				if tc.age != "" {
					w.Header().Set("Age", tc.age)
				}
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			r, err := NewRemote(RemoteConfig{
				URL:    srv.URL,
				Now:    clock.Now,
				Jitter: func(time.Duration) time.Duration { return tc.jitter },
			})
			require.NoError(t, err)
			defer r.Close()

			require.NoError(t, r.Refresh(context.Background()))
			assert.Equal(t, tc.want, r.Stats().NextRefresh.Sub(clock.Now()))
		})
	}
}

func publicSetBody(ring *KeyRing) ([]byte, error) {
	return marshalPublicSet(ring.state.Load().index.all)
}

func TestRemoteMaxStale(t *testing.T) {
	clock := newFakeClock()
	is := newTestIssuer(t, clock)
	r := newTestRemote(t, is, clock, RemoteConfig{MaxStale: time.Hour})
	kid := is.currentKID(t)
	require.NoError(t, r.Refresh(context.Background()))

	is.setMode(modeServerError)
	clock.Advance(59 * time.Minute)
	require.Error(t, r.Refresh(context.Background()))
	_, err := r.Keys(context.Background(), kid)
	require.NoError(t, err, "stale keys still served within MaxStale")

	clock.Advance(time.Minute)
	_, err = r.Keys(context.Background(), kid)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Contains(t, err.Error(), "500")

	is.setMode(modeOK)
	clock.Advance(DefaultUnknownKIDCooldown)
	_, err = r.Keys(context.Background(), kid)
	assert.NoError(t, err, "recovers once the issuer answers")
}

func TestRemoteSkipsUnusableKeys(t *testing.T) {
	good := newECKey(t, elliptic.P256())
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	body := setJSON(
		keyJSON(t, &good.PublicKey, map[string]any{"kid": "good", "alg": "ES256"}),
		keyJSON(t, good, map[string]any{"kid": "private"}),
		keyJSON(t, []byte(strings.Repeat("s", 32)), map[string]any{"kid": "oct"}),
		keyJSON(t, &good.PublicKey, map[string]any{"kid": "enc", "use": "enc"}),
		keyJSON(t, &good.PublicKey, map[string]any{"kid": "mismatch", "alg": "ES384"}),
		keyJSON(t, &weakRSA.PublicKey, map[string]any{"kid": "weak"}),
		[]byte(`{"kty":"EC","crv":"secp256k1","kid":"curve","x":"AA","y":"AA"}`),
		[]byte(`{"kty":"OKP","crv":"X25519","kid":"x25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"}`),
		[]byte(`{"kty":"RSA","kid":"stray-p","n":"AQAB","e":"AQAB","p":"AQAB"}`),
		[]byte(`"not an object"`),
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	r, err := NewRemote(RemoteConfig{URL: srv.URL})
	require.NoError(t, err)
	defer r.Close()

	ks, err := r.Keys(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, "good", ks[0].ID)
	assert.Equal(t, "ES256", ks[0].Algorithm)
	assert.Equal(t, 9, r.Stats().SkippedKeys)
}

func TestRemoteOverTLS(t *testing.T) {
	clock := newFakeClock()
	ring, err := NewKeyRing(KeyRingConfig{Now: clock.Now})
	require.NoError(t, err)
	srv := httptest.NewTLSServer(ring.Handler())
	defer srv.Close()

	r, err := NewRemote(RemoteConfig{URL: srv.URL, HTTPClient: srv.Client()})
	require.NoError(t, err)
	defer r.Close()
	ks, err := r.Keys(context.Background(), "")
	require.NoError(t, err)
	assert.Len(t, ks, 2)
}

func TestNewRemoteRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  RemoteConfig
		want string
	}{
		{"empty URL", RemoteConfig{}, "invalid JWKS URL"},
		{"relative URL", RemoteConfig{URL: "/jwks"}, "invalid JWKS URL"},
		{"plain http", RemoteConfig{URL: "http://issuer.example/jwks"}, "must use https"},
		{"other scheme", RemoteConfig{URL: "ftp://issuer.example/jwks", InsecureAllowHTTP: true}, "must use https"},
		{"negative", RemoteConfig{URL: "https://issuer.example/jwks", Timeout: -1}, "negative"},
		{"refresh order", RemoteConfig{URL: "https://issuer.example/jwks", MinRefresh: time.Hour, MaxRefresh: time.Minute}, "exceeds MaxRefresh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRemote(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
		ok        bool
	}{
		{"https://issuer.example/jwks", false, true},
		{"http://127.0.0.1:8080/jwks", false, true},
		{"http://[::1]:8080/jwks", false, true},
		{"http://localhost/jwks", false, true},
		{"http://issuer.example/jwks", false, false},
		{"http://issuer.example/jwks", true, true},
		{"http://127.0.0.1.issuer.example/jwks", false, false},
	}
	for _, tc := range tests {
		err := checkURL(tc.url, tc.allowHTTP)
		assert.Equal(t, tc.ok, err == nil, "checkURL(%q, %v) = %v", tc.url, tc.allowHTTP, err)
	}
}

func TestRedactURLHidesCredentials(t *testing.T) {
	_, err := NewRemote(RemoteConfig{URL: "http://user:secret@issuer.example/jwks?token=abc"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.NotContains(t, err.Error(), "abc")
}

func BenchmarkRemoteKeysHit(b *testing.B) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(b, err)
	srv := httptest.NewServer(ring.Handler())
	defer srv.Close()
	r, err := NewRemote(RemoteConfig{URL: srv.URL})
	require.NoError(b, err)
	defer r.Close()
	k, _ := ring.SigningKey()
	kid := k.KeyID()
	require.NoError(b, r.Refresh(context.Background()))

	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Keys(ctx, kid); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRemoteKeyWithoutKIDAllowsRefresh(t *testing.T) {
	anonymous := newECKey(t, elliptic.P256())
	rotated := newECKey(t, elliptic.P256())
	var mu sync.Mutex
	body := setJSON(keyJSON(t, &anonymous.PublicKey, nil))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	r, err := NewRemote(RemoteConfig{URL: srv.URL})
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.Refresh(context.Background()))

	mu.Lock()
	body = setJSON(keyJSON(t, &anonymous.PublicKey, nil), keyJSON(t, &rotated.PublicKey, map[string]any{"kid": "new"}))
	mu.Unlock()

	// A key without kid matches any kid, but must not stop the refresh
	// that picks up a rotated key on its first use.
	ks, err := r.Keys(context.Background(), "new")
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, "new", ks[0].ID)
	assert.Equal(t, int64(2), r.Stats().Fetches)

	ks, err = r.Keys(context.Background(), "other")
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Empty(t, ks[0].ID, "an unknown kid still falls back to the key without kid")
	assert.Equal(t, int64(2), r.Stats().Fetches, "within the cooldown")
}

func TestRemoteDefaultClientRedirects(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(t, err)
	target := httptest.NewServer(ring.Handler())
	defer target.Close()
	var targetRequests atomic.Int64
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targetRequests.Add(1)
		ring.Handler().ServeHTTP(w, r)
	}))
	defer plain.Close()

	// hops redirects /n to /n-1 and /0 to the URL in the "to" parameter.
	hops := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscanf(r.URL.Path, "/%d", &n)
		if n == 0 {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/%d?%s", n-1, r.URL.RawQuery), http.StatusFound)
	})
	loop := httptest.NewServer(hops)
	defer loop.Close()
	tlsLoop := httptest.NewTLSServer(hops)
	defer tlsLoop.Close()

	tests := []struct {
		name string
		base string
		path string // "/n?to=u": n+1 redirects, the last one to u
		want string // error substring, "" for success
	}{
		{"three redirects", loop.URL, "/2?to=" + url.QueryEscape(target.URL), ""},
		{"four redirects", loop.URL, "/3?to=" + url.QueryEscape(target.URL), "stopped after 3 redirects"},
		// Refused before any connection is made: 192.0.2.1 is never dialled.
		{"to plain http elsewhere", loop.URL, "/0?to=" + url.QueryEscape("http://192.0.2.1/jwks"), "redirect to http://192.0.2.1/jwks rejected"},
		{"https to loopback http", tlsLoop.URL, "/0?to=" + url.QueryEscape(plain.URL), "redirect from https to http://127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRemote(RemoteConfig{URL: tc.base + tc.path})
			require.NoError(t, err)
			defer r.Close()
			// Trust the test certificate while keeping the default
			// redirect policy under test.
			r.client.Transport = tlsLoop.Client().Transport

			_, err = r.Keys(context.Background(), "")
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnavailable)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Zero(t, targetRequests.Load(), "an https issuer redirected a verifier to plain http")
}

func TestRemoteCloseDropsIdleConnections(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(ring.Handler())
	var closed atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	r, err := NewRemote(RemoteConfig{URL: srv.URL})
	require.NoError(t, err)
	_, err = r.Keys(context.Background(), "")
	require.NoError(t, err)
	require.Zero(t, closed.Load(), "connection kept alive after the fetch")

	require.NoError(t, r.Close())
	assert.Eventually(t, func() bool { return closed.Load() == 1 }, 5*time.Second, time.Millisecond,
		"Close left the keep-alive connection and its goroutines open")
}

func TestParseRemoteSetStrayPrivateMembers(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pub := keyJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "pub"})

	// jwx treats a key as private only when "d" is present, so a public
	// key carrying any other private member must be caught on the raw JSON.
	for _, name := range []string{"p", "q", "dp", "dq", "qi", "oth", "k"} {
		t.Run(name, func(t *testing.T) {
			key := strings.Replace(string(pub), `{`, `{"`+name+`":"AQAB",`, 1)
			keys, skipped, err := parseRemoteSet(setJSON(pub, json.RawMessage(key)))
			require.NoError(t, err)
			assert.Len(t, keys, 1)
			require.Len(t, skipped, 1)
			assert.Contains(t, skipped[0], `private member "`+name+`"`)
		})
	}
}
