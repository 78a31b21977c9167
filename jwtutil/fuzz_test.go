package jwtutil

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzVerify feeds arbitrary strings to Verify: it must never panic, must
// return claims only with a nil error, and every error must match one of
// the package's sentinels.
func FuzzVerify(f *testing.F) {
	for _, seed := range []string{
		"", ".", "..", "...", "a.b.c", "e30.e30.", "e30.e30.e30",
		b64(`{"alg":"HS256"}`) + "." + b64(goodClaims) + ".AAAA",
		b64(`{"alg":"none"}`) + "." + b64(goodClaims) + ".",
		b64(`{"alg":"ES256","alg":"ES256"}`) + ".e30.AAAA",
		b64(`{"alg":"ES256","crit":["x"]}`) + ".e30.AAAA",
		rfc7515A1Token, rfc7515A3Token,
	} {
		f.Add(seed)
	}
	v := testVerifier(f, func(c *Config) { c.SkipIssuerCheck, c.SkipAudienceCheck, c.Issuer, c.Audience = true, true, "", nil },
		"HS256", "ES256", "EdDSA")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err == nil {
			require.NotNil(t, c)
			return
		}
		assert.Nil(t, c)
		assert.True(t, errIsAny(err, ErrMalformed, ErrSignature, ErrAlgorithm, ErrUnknownKey, ErrType, ErrMissingClaim, ErrExpired, ErrNotYetValid),
			"unexpected error %v", err)
	})
}

// FuzzParseHeader checks the header reader against encoding/json: whatever
// it accepts must be a JSON object that encoding/json decodes too, with the
// same "alg", "kid" and "typ".
func FuzzParseHeader(f *testing.F) {
	for _, seed := range []string{
		`{"alg":"ES256"}`, `{"alg":"ES256","kid":"k","typ":"JWT"}`, `{"alg":"HS256","alg":"none"}`,
		`{"alg":"\u0045S256"}`, `{"alg":"ES256","crit":["b64"],"b64":false}`, ` {"alg" : "EdDSA" } `,
		`{"alg":"RS256","jwk":{"kty":"RSA"},"x5c":["AAAA"]}`, `{"alg":1}`, `{}`, `[]`, `{"alg":"ES256"}x`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		h, err := parseHeader(text)
		if err != nil {
			return
		}
		var ref struct {
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			Typ string `json:"typ"`
		}
		require.NoError(t, json.Unmarshal([]byte(text), &ref), "accepted %q", text)
		assert.Equal(t, ref.Alg, h.alg.String())
		assert.Equal(t, ref.Kid, h.kid)
		assert.Equal(t, ref.Typ, h.typ)
	})
}

// FuzzDecodeClaims compares the claims decoder with encoding/json as the
// reference. The decoder is stricter in documented ways: duplicate member
// names, registered claims of the wrong type and out-of-range dates are
// rejected. Otherwise both must agree on validity and on every value.
func FuzzDecodeClaims(f *testing.F) {
	for _, seed := range []string{
		goodClaims, `{}`, `{"aud":["a","b"]}`, `{"exp":1.5e9,"nbf":-1,"iat":0}`, `{"exp":"1"}`,
		`{"a":{"b":[1,2,{"c":null}]},"d":true,"e":false}`, `{"s":"\ud83d\ude00 \u00e9 \\ \" \/"}`,
		`{"a":1,"a":2}`, `{"a":1,}`, `{"a":01}`, `{"a":1e}`, `{"a":"\x01"}`, "{\"a\":\"\xff\"}",
		`  {"iss" : "x" }  `, `null`, `[1]`, `{"aud":[]}`, `{"exp":1e400}`, `{"sub":"\udc00"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		var c Claims
		err := decodeClaims(payload, &c)

		var ref map[string]json.RawMessage
		refErr := json.Unmarshal([]byte(payload), &ref)
		if refErr == nil && ref == nil {
			refErr = assert.AnError // "null" is not an object
		}
		if err != nil {
			if refErr == nil {
				// Allowed only for the documented extra rules.
				assert.True(t, errorsIs(err, ErrMalformed), "rejected valid JSON %q: %v", payload, err)
				assert.NotEqual(t, errClaimsJSON, err, "syntax verdict differs from encoding/json for %q", payload)
			}
			return
		}
		require.NoError(t, refErr, "accepted %q that encoding/json rejects", payload)
		require.Len(t, c.Names(), len(ref))
		for name, want := range ref {
			got, ok := c.Raw(name)
			require.True(t, ok, "claim %q missing", name)
			assert.True(t, jsonEqual(t, want, got), "claim %q: got %s, want %s", name, got, want)
		}
		// Registered claims are compared through the map, because
		// encoding/json matches struct fields case-insensitively ("suB"
		// would fill Subject) while claim names are case-sensitive.
		for name, field := range map[string]string{"iss": c.Issuer, "sub": c.Subject, "jti": c.ID} {
			var want string
			if raw, ok := ref[name]; ok {
				require.NoError(t, json.Unmarshal(raw, &want))
			}
			assert.Equal(t, want, field, "claim %q", name)
		}
		if raw, ok := ref["exp"]; ok {
			var exp float64
			require.NoError(t, json.Unmarshal(raw, &exp))
			got := float64(c.ExpiresAt.Unix()) + float64(c.ExpiresAt.Nanosecond())/1e9
			assert.InDelta(t, exp, got, 1e-6+abs(exp)*1e-15)
		}
	})
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// jsonEqual compares two JSON texts by their decoded values.
func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if da.Decode(&x) != nil || db.Decode(&y) != nil {
		return false
	}
	return assert.ObjectsAreEqual(x, y)
}
