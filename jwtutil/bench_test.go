package jwtutil

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// The benchmarks compare each operation with the bare crypto verification
// of the same signing input, measured in the same run:
//
//	go test -run '^$' -bench . -benchmem ./jwtutil
//
// Compare ratios within one run; absolute figures vary with the machine.

var benchAlgorithms = []string{"HS256", "RS256", "ES256", "EdDSA"}

// benchToken signs a typical access token with alg's test key.
func benchToken(b *testing.B, alg string) (string, *Verifier, *Verifier) {
	k := keyFor(b, alg)
	s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(k.private), Issuer: "https://issuer.example", Audience: []string{"orders-api"}})
	if err != nil {
		b.Fatal(err)
	}
	token, err := s.Sign(map[string]any{"sub": "user-12345", "scope": "orders:read orders:write", "client_id": "web-app"})
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Keys: &testKeySource{keys: []jwks.Key{k.public}}, Issuer: "https://issuer.example", Audience: []string{"orders-api"}}
	plain, err := NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.CacheSize = 1024
	cached, err := NewVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return token, plain, cached
}

func BenchmarkRawCrypto(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			token, _, _ := benchToken(b, alg)
			dot := strings.LastIndexByte(token, '.')
			input := []byte(token[:dot])
			sig, _ := base64.RawURLEncoding.DecodeString(token[dot+1:])
			pub := keyFor(b, alg).public.Public
			verify := rawVerifier(alg, pub)
			b.ReportAllocs()
			for b.Loop() {
				if !verify(input, sig) {
					b.Fatal("raw verification failed")
				}
			}
		})
	}
}

// rawVerifier returns the plain standard-library verification for alg,
// as an application that parses the token itself would call it.
func rawVerifier(alg string, pub any) func(input, sig []byte) bool {
	switch alg {
	case "HS256":
		return func(input, sig []byte) bool {
			mac := hmac.New(sha256.New, pub.([]byte))
			mac.Write(input)
			return hmac.Equal(mac.Sum(nil), sig)
		}
	case "RS256":
		return func(input, sig []byte) bool {
			d := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig) == nil
		}
	case "ES256":
		return func(input, sig []byte) bool {
			d := sha256.Sum256(input)
			r := new(big.Int).SetBytes(sig[:32])
			s := new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(pub.(*ecdsa.PublicKey), d[:], r, s)
		}
	default:
		return func(input, sig []byte) bool {
			return ed25519.Verify(pub.(ed25519.PublicKey), input, sig)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			token, v, _ := benchToken(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyCacheHit(b *testing.B) {
	ctx := context.Background()
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			token, _, v := benchToken(b, alg)
			if _, err := v.Verify(ctx, token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(keyFor(b, alg).private), Issuer: "https://issuer.example", Audience: []string{"orders-api"}})
			if err != nil {
				b.Fatal(err)
			}
			claims := map[string]any{"sub": "user-12345", "scope": "orders:read orders:write"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(claims); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMiddleware measures one request through Middleware into a
// handler that reads the claims, without a network round trip.
func BenchmarkMiddleware(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			token, v, _ := benchToken(b, alg)
			h := v.Middleware(MiddlewareConfig{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, ok := FromContext(r.Context()); !ok {
					b.Fatal("no claims in context")
				}
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkRejectDots measures rejecting 1 MiB of dots; allocs/op must be
// zero whatever the size.
func BenchmarkRejectDots(b *testing.B) {
	_, v, _ := benchToken(b, "ES256")
	junk := strings.Repeat(".", 1<<20)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, junk); err == nil {
			b.Fatal("accepted junk")
		}
	}
}
