package jwks

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStaticAcceptsUsableKeys(t *testing.T) {
	ec := newECKey(t, elliptic.P384())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	secret := []byte(strings.Repeat("k", 32))

	s, err := ParseStatic(setJSON(
		keyJSON(t, &ec.PublicKey, map[string]any{"kid": "ec", "alg": "ES384"}),
		keyJSON(t, &rsaKey.PublicKey, map[string]any{"kid": "rsa", "alg": "PS256"}),
		keyJSON(t, edPub, map[string]any{"kid": "ed", "use": "sig"}),
		keyJSON(t, secret, map[string]any{"kid": "hmac", "alg": "HS256"}),
	))
	require.NoError(t, err)
	assert.Equal(t, 4, s.Len())

	tests := []struct {
		kid, alg string
		public   any
	}{
		{"ec", "ES384", &ec.PublicKey},
		{"rsa", "PS256", &rsaKey.PublicKey},
		{"ed", "", edPub},
		{"hmac", "HS256", secret},
	}
	for _, tc := range tests {
		ks, err := s.Keys(context.Background(), tc.kid)
		require.NoError(t, err, tc.kid)
		require.Len(t, ks, 1, tc.kid)
		assert.Equal(t, tc.kid, ks[0].ID)
		assert.Equal(t, tc.alg, ks[0].Algorithm, tc.kid)
		assert.Equal(t, tc.public, ks[0].Public, tc.kid)
	}

	all, err := s.Keys(context.Background(), "")
	require.NoError(t, err)
	assert.Len(t, all, 4)
	_, err = s.Keys(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrKeyNotFound)
}

func TestParseStaticRejectsUnusableKeys(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	tests := []struct {
		name string
		key  json.RawMessage
		want string
	}{
		{"use enc", keyJSON(t, &ec.PublicKey, map[string]any{"use": "enc"}), `"use" is "enc"`},
		{"key_ops encrypt", keyJSON(t, &ec.PublicKey, map[string]any{"key_ops": []string{"encrypt"}}), "key_ops"},
		{"alg mismatch", keyJSON(t, &ec.PublicKey, map[string]any{"alg": "RS256"}), "does not match curve"},
		{"short RSA", keyJSON(t, &weakRSA.PublicKey, nil), "1024 bits"},
		{"short HMAC", keyJSON(t, []byte("short"), nil), "5 bytes"},
		{"HS512 needs 64 bytes", keyJSON(t, []byte(strings.Repeat("k", 32)), map[string]any{"alg": "HS512"}), "at least 64"},
		{"unknown curve", []byte(`{"kty":"EC","crv":"P-192","x":"AA","y":"AA"}`), "P-192"},
		{"short Ed25519", []byte(`{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`), "3 bytes"},
		{"point off curve", []byte(`{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}`), "invalid EC public key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStatic(setJSON(tc.key))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "jwks: static key 0")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseStaticKeepsPublicHalfOfPrivateKey(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	s, err := ParseStatic(keyJSON(t, ec, map[string]any{"kid": "k1"}))
	require.NoError(t, err)

	ks, err := s.Keys(context.Background(), "k1")
	require.NoError(t, err)
	require.Len(t, ks, 1)
	assert.Equal(t, &ec.PublicKey, ks[0].Public)
	b, err := json.Marshal(ks[0].JWK)
	require.NoError(t, err)
	assert.NotContains(t, string(b), `"d"`)
}

func TestNewStaticRejectsEmptySet(t *testing.T) {
	_, err := NewStatic(jwk.NewSet())
	assert.ErrorContains(t, err, "empty")
	_, err = NewStatic(nil)
	assert.ErrorContains(t, err, "empty")
	_, err = ParseStatic([]byte("{"))
	assert.ErrorContains(t, err, "jwks: parse static JWKS")
}

func TestParseStaticPEM(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkix, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	require.NoError(t, err)
	cert := selfSignedCert(t, ec)

	data := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)})...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})...)

	s, err := ParseStaticPEM(data)
	require.NoError(t, err)
	require.Equal(t, 3, s.Len())

	// PEM keys carry no kid, so each matches any kid.
	ks, err := s.Keys(context.Background(), "whatever-the-token-says")
	require.NoError(t, err)
	require.Len(t, ks, 3)
	assert.Equal(t, &ec.PublicKey, ks[0].Public)
	assert.Equal(t, &rsaKey.PublicKey, ks[1].Public)
	assert.True(t, ec.PublicKey.Equal(ks[2].Public))
}

func TestParseStaticPEMRejects(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)

	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"private key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "private key rejected"},
		{"unknown block", pem.EncodeToMemory(&pem.Block{Type: "FOO", Bytes: []byte{1}}), "unsupported block type"},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}}), "PEM block 0"},
		{"not PEM", []byte("hello"), "no valid PEM data"},
		{"empty", nil, "no PEM blocks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStaticPEM(tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestKeysSliceIsNotAppendable(t *testing.T) {
	ec := newECKey(t, elliptic.P256())
	s, err := ParseStatic(setJSON(
		keyJSON(t, &ec.PublicKey, map[string]any{"kid": "a"}),
		keyJSON(t, &ec.PublicKey, map[string]any{"kid": "b"}),
	))
	require.NoError(t, err)
	a, err := s.Keys(context.Background(), "a")
	require.NoError(t, err)
	_ = append(a, Key{ID: "injected"})

	all, err := s.Keys(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, "b", all[1].ID)
}

func BenchmarkStaticKeysHit(b *testing.B) {
	ring, err := NewKeyRing(KeyRingConfig{})
	require.NoError(b, err)
	s, err := NewStatic(ring.PublicSet())
	require.NoError(b, err)
	k, _ := ring.SigningKey()
	kid := k.KeyID()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Keys(ctx, kid); err != nil {
			b.Fatal(err)
		}
	}
}

func selfSignedCert(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "issuer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return der
}

// BenchmarkES256VerifyBaseline is the raw crypto operation a key lookup
// precedes, so lookup cost can be read as a fraction of it.
func BenchmarkES256VerifyBaseline(b *testing.B) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(b, err)
	digest := make([]byte, 32)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest)
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if !ecdsa.VerifyASN1(&key.PublicKey, digest, sig) {
			b.Fatal("verify failed")
		}
	}
}

func TestParseStaticRejectsBadRSAExponent(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	good := keyJSON(t, &rsaKey.PublicKey, nil)
	require.Contains(t, string(good), `"e":"AQAB"`)

	tests := []struct {
		name, e, want string
	}{
		{"e=1", "AQ", "exponent 1"},
		{"even e", "AQA", "exponent 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.Replace(string(good), `"e":"AQAB"`, `"e":"`+tc.e+`"`, 1)
			_, err := ParseStatic(setJSON(json.RawMessage(key)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
