package jwtutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttackAlgNone(t *testing.T) {
	v := testVerifier(t, nil, "ES256", "HS256")
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		for _, sig := range []string{"", "AAAA"} {
			tok := b64(`{"alg":"`+alg+`","kid":"kid-ES256"}`) + "." + b64(goodClaims) + "." + sig
			_, err := v.Verify(context.Background(), tok)
			assert.ErrorIs(t, err, ErrAlgorithm, "alg %q, signature %q", alg, sig)
		}
	}
}

func TestAttackHMACWithRSAPublicKeyPEM(t *testing.T) {
	k := keyFor(t, "RS256")
	der, err := x509.MarshalPKIXPublicKey(k.public.Public)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	input := b64(`{"alg":"HS256","kid":"kid-RS256"}`) + "." + b64(goodClaims)
	mac := hmac.New(sha256.New, pemKey)
	mac.Write([]byte(input))
	tok := input + "." + b64(string(mac.Sum(nil)))

	v := testVerifier(t, nil, "RS256")
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrAlgorithm)

	// Even with HS256 explicitly allowed, an RSA key is never an HMAC secret.
	v = testVerifier(t, func(c *Config) { c.Algorithms = []string{"HS256", "RS256"} }, "RS256")
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrAlgorithm)
}

func TestAttackECDSAZeroSignature(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	input := b64(`{"alg":"ES256","kid":"kid-ES256"}`) + "." + b64(goodClaims)
	zero := make([]byte, 64)
	_, err := v.Verify(context.Background(), input+"."+b64(string(zero)))
	assert.ErrorIs(t, err, ErrSignature)

	// r = s = n, which reduces to zero modulo the order.
	order := append(append([]byte{}, p256Order...), p256Order...)
	_, err = v.Verify(context.Background(), input+"."+b64(string(order)))
	assert.ErrorIs(t, err, ErrSignature)
}

func TestAttackEmbeddedJWK(t *testing.T) {
	attacker, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := jwk.FromRaw(&attacker.PublicKey)
	require.NoError(t, err)
	pubJSON, err := json.Marshal(pub)
	require.NoError(t, err)

	v := testVerifier(t, nil, "ES256")
	for _, kid := range []string{"", `,"kid":"kid-ES256"`, `,"kid":"attacker"`} {
		header := `{"alg":"ES256","jwk":` + string(pubJSON) + `,"jku":"http://127.0.0.1:1/jwks","x5u":"http://127.0.0.1:1/x5u"` + kid + `}`
		input := b64(header) + "." + b64(goodClaims)
		tok := input + "." + b64(string(rawSign(t, algES256, attacker, []byte(input))))
		_, err := v.Verify(context.Background(), tok)
		require.Error(t, err, "header %s", header)
		assert.True(t, errIsAny(err, ErrSignature, ErrUnknownKey), "got %v", err)
	}
}

func TestAttackKIDInjection(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	for _, kid := range []string{"../../../../dev/null", "/etc/passwd", "' OR '1'='1", "kid-ES256\x00", "kid-ES256'; DROP TABLE keys;--"} {
		header, err := json.Marshal(map[string]string{"alg": "ES256", "kid": kid})
		require.NoError(t, err)
		tok := signCompact(t, "ES256", string(header), goodClaims)
		_, err = v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, ErrUnknownKey, "kid %q", kid)
	}
	long := `{"alg":"ES256","kid":"` + strings.Repeat("a", maxKIDLength+1) + `"}`
	_, err := v.Verify(context.Background(), signCompact(t, "ES256", long, goodClaims))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestAttackSegments(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	good := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, goodClaims)
	_, err := v.Verify(context.Background(), good)
	require.NoError(t, err, "precondition: the unmodified token verifies")
	parts := strings.Split(good, ".")
	for name, tok := range map[string]string{
		"empty":            "",
		"one segment":      parts[0],
		"two segments":     parts[0] + "." + parts[1],
		"four segments":    good + ".",
		"JWE-like five":    good + ".AAAA.BBBB",
		"extra in middle":  parts[0] + "." + parts[1] + "." + parts[1] + "." + parts[2],
		"empty signature":  parts[0] + "." + parts[1] + ".",
		"empty header":     "." + parts[1] + "." + parts[2],
		"padding header":   parts[0] + "=." + parts[1] + "." + parts[2],
		"padding sig":      parts[0] + "." + parts[1] + "." + parts[2] + "==",
		"newline in claim": parts[0] + "." + parts[1][:10] + "\n" + parts[1][10:] + "." + parts[2],
		"space in header":  parts[0][:5] + " " + parts[0][5:] + "." + parts[1] + "." + parts[2],
		"std alphabet":     parts[0] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[1]) + "+/." + parts[2],
	} {
		_, err := v.Verify(context.Background(), tok)
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func TestAttackNonCanonicalBase64(t *testing.T) {
	// "e30" decodes to "{}"; "e31" has non-zero unused bits and must not
	// decode to the same bytes.
	var dst [2]byte
	assert.True(t, decodeSegment(dst[:], "e30"))
	assert.False(t, decodeSegment(dst[:], "e31"))
}

func TestAttackManyDotsDoNotAllocate(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	for _, n := range []int{DefaultMaxTokenSize, 1 << 20} {
		junk := strings.Repeat(".", n)
		allocs := testing.AllocsPerRun(20, func() {
			_, _ = v.Verify(context.Background(), junk)
		})
		assert.Zero(t, allocs, "%d dots", n)
		_, err := v.Verify(context.Background(), junk)
		assert.ErrorIs(t, err, ErrMalformed)
	}
	// Nearly max-size garbage with three segments is rejected without
	// allocating either: the header fails to decode on the stack.
	junk := strings.Repeat("!", DefaultMaxTokenSize-4) + ".a.b"
	allocs := testing.AllocsPerRun(20, func() {
		_, _ = v.Verify(context.Background(), junk)
	})
	assert.Zero(t, allocs)
}

func TestAttackDuplicateHeaderKeys(t *testing.T) {
	v := testVerifier(t, nil, "ES256", "HS256")
	for _, header := range []string{
		`{"alg":"ES256","alg":"none","kid":"kid-ES256"}`,
		`{"alg":"ES256","kid":"kid-HS256","kid":"kid-ES256"}`,
		`{"alg":"ES256","\u0061lg":"HS256","kid":"kid-ES256"}`,
	} {
		_, err := v.Verify(context.Background(), signCompact(t, "ES256", header, goodClaims))
		assert.ErrorIs(t, err, ErrMalformed, header)
	}
}

func TestAttackCritAndB64(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	for _, header := range []string{
		`{"alg":"ES256","kid":"kid-ES256","crit":["exp"],"exp":1}`,
		`{"alg":"ES256","kid":"kid-ES256","crit":[]}`,
		`{"alg":"ES256","kid":"kid-ES256","b64":false,"crit":["b64"]}`,
		`{"alg":"ES256","kid":"kid-ES256","b64":true}`,
	} {
		_, err := v.Verify(context.Background(), signCompact(t, "ES256", header, goodClaims))
		assert.ErrorIs(t, err, ErrMalformed, header)
	}
}

func TestAttackClaimTypes(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	for _, payload := range []string{
		`{"iss":"https://issuer.example","aud":"api","exp":"9999999999"}`,
		`{"iss":"https://issuer.example","aud":12345,"exp":9999999999}`,
		`{"iss":"https://issuer.example","aud":{"api":true},"exp":9999999999}`,
		`{"iss":"https://issuer.example","aud":"api","exp":9999999999,"nbf":"0"}`,
		`{"iss":"https://issuer.example","aud":"api","exp":true}`,
	} {
		_, err := v.Verify(context.Background(), signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, payload))
		assert.ErrorIs(t, err, ErrMalformed, payload)
	}
}

func TestAttackOversizedToken(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	pad := strings.Repeat("x", DefaultMaxTokenSize)
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"pad":"`+pad+`"}`)
	_, err := v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestAttackShortHMACKeyRejected(t *testing.T) {
	secret := []byte("short")
	src := &testKeySource{}
	src.keys = append(src.keys, keyFor(t, "HS256").public)
	src.keys[0].Public = secret
	v, err := NewVerifier(Config{Keys: src, SkipIssuerCheck: true, SkipAudienceCheck: true})
	require.NoError(t, err)
	input := b64(`{"alg":"HS256","kid":"kid-HS256"}`) + "." + b64(goodClaims)
	tok := input + "." + base64.RawURLEncoding.EncodeToString(rawSign(t, algHS256, secret, []byte(input)))
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrAlgorithm)
}

func TestAttackSmallRSAKeyRejected(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	src := &testKeySource{}
	src.keys = append(src.keys, keyFor(t, "RS256").public)
	src.keys[0].Public = &small.PublicKey
	v, err := NewVerifier(Config{Keys: src, SkipIssuerCheck: true, SkipAudienceCheck: true})
	require.NoError(t, err)
	input := b64(`{"alg":"RS256","kid":"kid-RS256"}`) + "." + b64(goodClaims)
	tok := input + "." + base64.RawURLEncoding.EncodeToString(rawSign(t, algRS256, small, []byte(input)))
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, ErrAlgorithm)
}

func errIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if assert.ObjectsAreEqual(nil, t) {
			continue
		}
		if errorsIs(err, t) {
			return true
		}
	}
	return false
}
