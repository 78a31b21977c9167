package jwtutil

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
)

// Examples from RFC 7515 Appendix A and RFC 8037 Appendix A.4. Each token's
// payload is {"iss":"joe",\r\n "exp":1300819380,\r\n
// "http://example.com/is_root":true}, except the Ed25519 one, whose payload
// is the text "Example of Ed25519 signing".
const (
	rfc7515A1Key   = `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`
	rfc7515A1Token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

	rfc7515A2Key   = `{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}`
	rfc7515A2Token = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

	rfc7515A3Key   = `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	rfc7515A3Token = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

	// RFC 7515 A.5: an unsecured JWS ("alg":"none") with the same payload.
	rfc7515A5Token = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."

	rfc8037Key   = `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	rfc8037Token = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

// rfcNow is just before the RFC 7515 examples' "exp" of 1300819380.
var rfcNow = time.Unix(1300819000, 0)

// keyFromJWK parses a public JWK into the jwks.Key a key source returns.
func keyFromJWK(t *testing.T, text, kid string) jwks.Key {
	t.Helper()
	k, err := jwk.ParseKey([]byte(text))
	require.NoError(t, err)
	var raw any
	require.NoError(t, k.Raw(&raw))
	return jwks.Key{ID: kid, Public: raw, JWK: k}
}

func TestRFC7515Examples(t *testing.T) {
	tests := []struct {
		name, key, token string
	}{
		{"A.1 HS256", rfc7515A1Key, rfc7515A1Token},
		{"A.2 RS256", rfc7515A2Key, rfc7515A2Token},
		{"A.3 ES256", rfc7515A3Key, rfc7515A3Token},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(Config{
				Keys:              &testKeySource{keys: []jwks.Key{keyFromJWK(t, tc.key, "")}},
				Issuer:            "joe",
				SkipAudienceCheck: true,
				Now:               func() time.Time { return rfcNow },
			})
			require.NoError(t, err)
			c, err := v.Verify(context.Background(), tc.token)
			require.NoError(t, err)
			assert.Equal(t, "joe", c.Issuer)
			assert.Equal(t, int64(1300819380), c.ExpiresAt.Unix())
			var root bool
			require.NoError(t, c.Get("http://example.com/is_root", &root))
			assert.True(t, root)

			// One flipped signature bit must fail as a signature error.
			forged := []byte(tc.token)
			last := len(forged) - 3
			if forged[last] == 'A' {
				forged[last] = 'B'
			} else {
				forged[last] = 'A'
			}
			_, err = v.Verify(context.Background(), string(forged))
			assert.ErrorIs(t, err, ErrSignature)
		})
	}
}

func TestRFC7515UnsecuredRejected(t *testing.T) {
	v, err := NewVerifier(Config{
		Keys:              &testKeySource{keys: []jwks.Key{keyFromJWK(t, rfc7515A1Key, "")}},
		Issuer:            "joe",
		SkipAudienceCheck: true,
		Now:               func() time.Time { return rfcNow },
	})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), rfc7515A5Token)
	assert.ErrorIs(t, err, ErrAlgorithm)
}

func TestRFC8037Ed25519Example(t *testing.T) {
	key := keyFromJWK(t, rfc8037Key, "")
	dot := strings.LastIndexByte(rfc8037Token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(rfc8037Token[dot+1:])
	require.NoError(t, err)
	assert.True(t, verifyAsymmetric(algEdDSA, key.Public, []byte(rfc8037Token[:dot]), sig))

	// Through Verify, the signature passes and only the payload, which is
	// text rather than a claims set, is rejected.
	v, err := NewVerifier(Config{Keys: &testKeySource{keys: []jwks.Key{key}}, SkipIssuerCheck: true, SkipAudienceCheck: true})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), rfc8037Token)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.NotErrorIs(t, err, ErrSignature)
}

// wycheproofDir is where the Wycheproof vectors sit beside the clone.
const wycheproofDir = "../../shared/testdata/wycheproof"

type wycheproofFile struct {
	TestGroups []struct {
		PublicKeyDer string `json:"publicKeyDer"`
		Tests        []struct {
			TcID    int    `json:"tcId"`
			Comment string `json:"comment"`
			Msg     string `json:"msg"`
			Sig     string `json:"sig"`
			Result  string `json:"result"`
		} `json:"tests"`
	} `json:"testGroups"`
}

// TestWycheproof checks that the signature layer gives Wycheproof's verdict
// for every "valid" and "invalid" case. "acceptable" cases may go either way.
func TestWycheproof(t *testing.T) {
	if _, err := os.Stat(wycheproofDir); err != nil {
		t.Skipf("Wycheproof vectors not found at %s (expected beside the clone): %v", wycheproofDir, err)
	}
	files := map[string]algorithm{
		"ecdsa_secp256r1_sha256_p1363_test.json": algES256,
		"ecdsa_secp384r1_sha384_p1363_test.json": algES384,
		"ed25519_test.json":                      algEdDSA,
		"rsa_signature_2048_sha256_test.json":    algRS256,
		"rsa_pss_2048_sha256_mgf1_32_test.json":  algPS256,
	}
	for name, alg := range files {
		t.Run(alg.String(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(wycheproofDir, name))
			require.NoError(t, err)
			var f wycheproofFile
			require.NoError(t, json.Unmarshal(data, &f))
			cases := 0
			for _, g := range f.TestGroups {
				der, err := hex.DecodeString(g.PublicKeyDer)
				require.NoError(t, err)
				pub, err := x509.ParsePKIXPublicKey(der)
				require.NoError(t, err)
				for _, tc := range g.Tests {
					if tc.Result == "acceptable" {
						continue
					}
					msg, err := hex.DecodeString(tc.Msg)
					require.NoError(t, err)
					sig, err := hex.DecodeString(tc.Sig)
					require.NoError(t, err)
					got := verifyAsymmetric(alg, pub, msg, sig)
					assert.Equal(t, tc.Result == "valid", got, "tcId %d: %s", tc.TcID, tc.Comment)
					cases++
				}
			}
			assert.Positive(t, cases)
		})
	}
}

func TestES256RejectsDERSignature(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	input := b64(`{"alg":"ES256"}`) + "." + b64(`{"exp":9999999999}`)
	digest := sha256.Sum256([]byte(input))
	der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	require.NoError(t, err)
	require.True(t, ecdsa.VerifyASN1(&priv.PublicKey, digest[:], der), "precondition: DER signature is genuine")

	assert.False(t, verifyAsymmetric(algES256, &priv.PublicKey, []byte(input), der))

	v, err := NewVerifier(Config{Keys: &testKeySource{keys: []jwks.Key{{Public: &priv.PublicKey}}}, SkipIssuerCheck: true, SkipAudienceCheck: true})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), input+"."+base64.RawURLEncoding.EncodeToString(der))
	assert.ErrorIs(t, err, ErrSignature)
}
