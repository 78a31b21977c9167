package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyRingAlgorithms(t *testing.T) {
	tests := []struct {
		name       string
		cfg        KeyRingConfig
		alg        string
		publicType any
	}{
		{"default", KeyRingConfig{}, "ES256", &ecdsa.PublicKey{}},
		{"EdDSA", KeyRingConfig{Algorithm: "EdDSA"}, "EdDSA", ed25519.PublicKey{}},
		{"RS256", KeyRingConfig{Algorithm: "RS256"}, "RS256", &rsa.PublicKey{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := NewKeyRing(tc.cfg)
			require.NoError(t, err)
			priv, err := ring.SigningKey()
			require.NoError(t, err)
			assert.Equal(t, tc.alg, priv.Algorithm().String())

			// The kid is the RFC 7638 thumbprint of the public key.
			pub, err := priv.PublicKey()
			require.NoError(t, err)
			thumb, err := pub.Thumbprint(crypto.SHA256)
			require.NoError(t, err)
			assert.Equal(t, base64.RawURLEncoding.EncodeToString(thumb), priv.KeyID())

			ks, err := ring.Keys(context.Background(), priv.KeyID())
			require.NoError(t, err)
			require.Len(t, ks, 1)
			assert.Equal(t, tc.alg, ks[0].Algorithm)
			assert.IsType(t, tc.publicType, ks[0].Public)

			// The private key signs what the published raw key verifies.
			msg, err := jws.Sign([]byte("payload"), jws.WithKey(jwa.SignatureAlgorithm(tc.alg), priv))
			require.NoError(t, err)
			_, err = jws.Verify(msg, jws.WithKey(jwa.SignatureAlgorithm(tc.alg), ks[0].Public))
			assert.NoError(t, err)
		})
	}
}

func TestKeyRingRSABits(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{Algorithm: "RS256", RSABits: 3072})
	require.NoError(t, err)
	ks, err := ring.Keys(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, 3072, ks[0].Public.(*rsa.PublicKey).N.BitLen())
}

func TestNewKeyRingRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  KeyRingConfig
		want string
	}{
		{"unknown algorithm", KeyRingConfig{Algorithm: "HS256"}, "unsupported key ring algorithm"},
		{"short RSA", KeyRingConfig{Algorithm: "RS256", RSABits: 1024}, "RSABits 1024 out of range"},
		{"RSA bits without RSA", KeyRingConfig{RSABits: 4096}, "RSABits is set"},
		{"negative", KeyRingConfig{RetireAfter: -time.Second}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKeyRing(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestKeyRingRotateAndRetire(t *testing.T) {
	clock := newFakeClock()
	ring, err := NewKeyRing(KeyRingConfig{Now: clock.Now, RetireAfter: time.Hour})
	require.NoError(t, err)
	first := ringKIDs(t, ring)
	require.Len(t, first, 2, "current and next")

	require.NoError(t, ring.Rotate())
	signing, err := ring.SigningKey()
	require.NoError(t, err)
	assert.Equal(t, first[1], signing.KeyID(), "published next key becomes current")
	second := ringKIDs(t, ring)
	require.Len(t, second, 3)
	assert.Equal(t, first[1], second[0])
	assert.Equal(t, first[0], second[2], "retired key still published")

	clock.Advance(time.Hour - time.Second)
	assert.Len(t, ringKIDs(t, ring), 3)
	clock.Advance(time.Second)
	third := ringKIDs(t, ring)
	assert.Len(t, third, 2)
	assert.NotContains(t, third, first[0])
	_, err = ring.Keys(context.Background(), first[0])
	assert.ErrorIs(t, err, ErrKeyNotFound)
}

func TestKeyRingRotatesOnSchedule(t *testing.T) {
	clock := newFakeClock()
	ring, err := NewKeyRing(KeyRingConfig{Now: clock.Now, RotateEvery: 24 * time.Hour, RetireAfter: time.Hour})
	require.NoError(t, err)
	before, err := ring.SigningKey()
	require.NoError(t, err)

	clock.Advance(24*time.Hour - time.Second)
	same, err := ring.SigningKey()
	require.NoError(t, err)
	assert.Equal(t, before.KeyID(), same.KeyID())

	clock.Advance(time.Second)
	after, err := ring.SigningKey()
	require.NoError(t, err)
	assert.NotEqual(t, before.KeyID(), after.KeyID())
	assert.Contains(t, ringKIDs(t, ring), before.KeyID())

	// The retirement drop must not move the rotation deadline.
	clock.Advance(time.Hour)
	assert.NotContains(t, ringKIDs(t, ring), before.KeyID())
	clock.Advance(23*time.Hour - time.Second)
	still, err := ring.SigningKey()
	require.NoError(t, err)
	assert.Equal(t, after.KeyID(), still.KeyID())
	clock.Advance(time.Second)
	next, err := ring.SigningKey()
	require.NoError(t, err)
	assert.NotEqual(t, after.KeyID(), next.KeyID())
}

func TestKeyRingCacheMaxAge(t *testing.T) {
	tests := []struct {
		name string
		cfg  KeyRingConfig
		want string
	}{
		{"default", KeyRingConfig{}, "public, max-age=300"},
		{"short rotation", KeyRingConfig{RotateEvery: 4 * time.Minute}, "public, max-age=120"},
		{"explicit", KeyRingConfig{CacheMaxAge: time.Hour}, "public, max-age=3600"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := NewKeyRing(tc.cfg)
			require.NoError(t, err)
			rec := serve(ring, http.MethodGet, "")
			assert.Equal(t, tc.want, rec.Header().Get("Cache-Control"))
		})
	}
}

func TestKeyRingHandler(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(t, err)

	rec := serve(ring, http.MethodGet, "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
	etag := rec.Header().Get("ETag")
	assert.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag)
	set, err := jwk.Parse(rec.Body.Bytes())
	require.NoError(t, err)
	assert.Equal(t, 2, set.Len())

	tests := []struct {
		name, method, ifNoneMatch string
		status                    int
		bodyEmpty                 bool
	}{
		{"matching etag", http.MethodGet, etag, http.StatusNotModified, true},
		{"weak etag in list", http.MethodGet, `"other", W/` + etag, http.StatusNotModified, true},
		{"star", http.MethodGet, "*", http.StatusNotModified, true},
		{"other etag", http.MethodGet, `"other"`, http.StatusOK, false},
		{"HEAD", http.MethodHead, "", http.StatusOK, true},
		{"POST", http.MethodPost, "", http.StatusMethodNotAllowed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(ring, tc.method, tc.ifNoneMatch)
			assert.Equal(t, tc.status, rec.Code)
			assert.Equal(t, tc.bodyEmpty, rec.Body.Len() == 0)
		})
	}

	require.NoError(t, ring.Rotate())
	assert.NotEqual(t, etag, serve(ring, http.MethodGet, "").Header().Get("ETag"))
	assert.Equal(t, http.StatusOK, serve(ring, http.MethodGet, etag).Code)
}

func TestKeyRingHandlerNeverServesPrivateMembers(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			ring, err := NewKeyRing(KeyRingConfig{Algorithm: alg})
			require.NoError(t, err)
			require.NoError(t, ring.Rotate())

			rec := serve(ring, http.MethodGet, "")
			var doc struct {
				Keys []map[string]json.RawMessage `json:"keys"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
			require.Len(t, doc.Keys, 3)
			for _, k := range doc.Keys {
				for _, name := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
					assert.NotContains(t, k, name)
				}
			}
		})
	}
}

func TestMarshalPublicSetRejectsPrivateKey(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(t, err)
	priv, err := ring.SigningKey()
	require.NoError(t, err)

	_, err = marshalPublicSet([]Key{{JWK: priv}})
	assert.ErrorContains(t, err, `private member "d"`)
}

func TestKeyRingPublicSetIsACopy(t *testing.T) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(t, err)
	set := ring.PublicSet()
	require.Equal(t, 2, set.Len())
	require.NoError(t, set.Clear())
	assert.Equal(t, 2, ring.PublicSet().Len())
}

func serve(ring *KeyRing, method, ifNoneMatch string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/jwks", nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	rec := httptest.NewRecorder()
	ring.Handler().ServeHTTP(rec, req)
	return rec
}

func ringKIDs(t *testing.T, ring *KeyRing) []string {
	t.Helper()
	ks, err := ring.Keys(context.Background(), "")
	require.NoError(t, err)
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}

func BenchmarkKeyRingSigningKey(b *testing.B) {
	ring, err := NewKeyRing(KeyRingConfig{RotateEvery: time.Hour})
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.SigningKey(); err != nil {
			b.Fatal(err)
		}
	}
}
