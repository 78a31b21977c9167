package jwtutil

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/jwks"
)

func TestVerifyClaims(t *testing.T) {
	const hdr = `{"alg":"ES256","kid":"kid-ES256"}`
	tests := []struct {
		name    string
		header  string
		payload string
		mod     func(*Config)
		want    error // nil means accepted
	}{
		{name: "valid", payload: goodClaims},
		{name: "exp missing", payload: `{"iss":"https://issuer.example","aud":"api"}`, want: ErrMissingClaim},
		{name: "exp zero is expired", payload: `{"iss":"https://issuer.example","aud":"api","exp":0}`, want: ErrExpired},
		{name: "exp past beyond leeway", payload: `{"iss":"https://issuer.example","aud":"api","exp":1699999969}`, want: ErrExpired},
		{name: "exp past within leeway", payload: `{"iss":"https://issuer.example","aud":"api","exp":1699999971}`},
		{name: "exp equal to now minus leeway", payload: `{"iss":"https://issuer.example","aud":"api","exp":1699999970}`, want: ErrExpired},
		{name: "exp past without leeway", payload: `{"iss":"https://issuer.example","aud":"api","exp":1699999999}`, mod: func(c *Config) { c.Leeway = -1 }, want: ErrExpired},
		{name: "exp decimal", payload: `{"iss":"https://issuer.example","aud":"api","exp":1.7000003e9}`},
		{name: "exp string", payload: `{"iss":"https://issuer.example","aud":"api","exp":"1700000300"}`, want: ErrMalformed},
		{name: "exp null", payload: `{"iss":"https://issuer.example","aud":"api","exp":null}`, want: ErrMalformed},
		{name: "exp out of range", payload: `{"iss":"https://issuer.example","aud":"api","exp":1e300}`, want: ErrMalformed},
		{name: "nbf future", payload: `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"nbf":1700000031}`, want: ErrNotYetValid},
		{name: "nbf within leeway", payload: `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"nbf":1700000030}`},
		{name: "iat future", payload: `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"iat":1700000100}`, want: ErrNotYetValid},
		{name: "issuer wrong", payload: `{"iss":"https://evil.example","aud":"api","exp":1700000300}`, want: ErrIssuer},
		{name: "issuer missing", payload: `{"aud":"api","exp":1700000300}`, want: ErrIssuer},
		{name: "issuer number", payload: `{"iss":1,"aud":"api","exp":1700000300}`, want: ErrMalformed},
		{name: "issuer skipped", payload: `{"aud":"api","exp":1700000300}`, mod: func(c *Config) { c.Issuer = ""; c.SkipIssuerCheck = true }},
		{name: "audience array any-of", payload: `{"iss":"https://issuer.example","aud":["other","api"],"exp":1700000300}`},
		{name: "audience wrong", payload: `{"iss":"https://issuer.example","aud":["other"],"exp":1700000300}`, want: ErrAudience},
		{name: "audience missing", payload: `{"iss":"https://issuer.example","exp":1700000300}`, want: ErrAudience},
		{name: "audience number", payload: `{"iss":"https://issuer.example","aud":1,"exp":1700000300}`, want: ErrMalformed},
		{name: "audience array of numbers", payload: `{"iss":"https://issuer.example","aud":["api",2],"exp":1700000300}`, want: ErrMalformed},
		{name: "audience skipped", payload: `{"iss":"https://issuer.example","exp":1700000300}`, mod: func(c *Config) { c.Audience = nil; c.SkipAudienceCheck = true }},
		{name: "required claim missing", payload: goodClaims, mod: func(c *Config) { c.RequiredClaims = []string{"sub", "client_id"} }, want: ErrMissingClaim},
		{name: "required claim present", payload: goodClaims, mod: func(c *Config) { c.RequiredClaims = []string{"sub"} }},
		{name: "duplicate claim", payload: `{"iss":"https://issuer.example","aud":"api","exp":1700000300,"exp":9999999999}`, want: ErrMalformed},
		{name: "duplicate claim by escape", payload: `{"iss":"https://issuer.example","aud":"api","exp":1,"\u0065xp":9999999999}`, want: ErrMalformed},
		{name: "claims not an object", payload: `["iss"]`, want: ErrMalformed},
		{name: "claims trailing data", payload: goodClaims + `{}`, want: ErrMalformed},
		{name: "typ JWT accepted", header: `{"alg":"ES256","kid":"kid-ES256","typ":"jwt"}`, payload: goodClaims},
		{name: "typ at+jwt rejected by default", header: `{"alg":"ES256","kid":"kid-ES256","typ":"at+jwt"}`, payload: goodClaims, want: ErrType},
		{name: "typ at+jwt required", header: `{"alg":"ES256","kid":"kid-ES256","typ":"application/AT+JWT"}`, payload: goodClaims, mod: func(c *Config) { c.Type = "at+jwt" }},
		{name: "typ absent when required", payload: goodClaims, mod: func(c *Config) { c.Type = "at+jwt" }, want: ErrType},
		{name: "typ skipped", header: `{"alg":"ES256","kid":"kid-ES256","typ":"txn+jwt"}`, payload: goodClaims, mod: func(c *Config) { c.SkipTypeCheck = true }},
		{name: "typ number", header: `{"alg":"ES256","kid":"kid-ES256","typ":1}`, payload: goodClaims, want: ErrMalformed},
		{name: "alg outside allow-list", payload: goodClaims, mod: func(c *Config) { c.Algorithms = []string{"EdDSA"} }, want: ErrAlgorithm},
		{name: "alg in allow-list", payload: goodClaims, mod: func(c *Config) { c.Algorithms = []string{"ES256"} }},
		{name: "unknown kid", header: `{"alg":"ES256","kid":"nope"}`, payload: goodClaims, want: ErrUnknownKey},
		{name: "no kid tries every key", header: `{"alg":"ES256"}`, payload: goodClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			header := tc.header
			if header == "" {
				header = hdr
			}
			v := testVerifier(t, tc.mod, "EdDSA", "ES256")
			c, err := v.Verify(context.Background(), signCompact(t, "ES256", header, tc.payload))
			if tc.want == nil {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			assert.ErrorIs(t, err, tc.want)
			assert.Nil(t, c)
		})
	}
}

func TestVerifyErrorsAreExclusive(t *testing.T) {
	sentinels := []error{ErrMalformed, ErrSignature, ErrAlgorithm, ErrUnknownKey, ErrKeysUnavailable,
		ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrType, ErrMissingClaim}
	v := testVerifier(t, nil, "ES256")
	tokens := []string{
		"", "a.b", signCompact(t, "ES256", `{"alg":"ES256"}`, `{"exp":1}`),
		signCompact(t, "ES256", `{"alg":"ES256","crit":["exp"]}`, goodClaims),
	}
	for _, tok := range tokens {
		_, err := v.Verify(context.Background(), tok)
		require.Error(t, err)
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		assert.Equal(t, 1, n, "error %q matches %d sentinels", err, n)
	}
}

func TestVerifyForgedAndExpiredReportsSignature(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	expired := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","exp":1}`)
	_, err := v.Verify(context.Background(), expired)
	require.ErrorIs(t, err, ErrExpired, "precondition: the genuine token is expired")

	// Same header and claims, signed by another key of the same type.
	other := newTestKey("ES256", mustECDSA(t))
	var raw any
	require.NoError(t, other.private.Raw(&raw))
	dot := len(expired) - len(expired[lastDot(expired):])
	input := expired[:dot]
	forged := input + "." + b64(string(rawSign(t, algES256, raw, []byte(input))))
	_, err = v.Verify(context.Background(), forged)
	assert.ErrorIs(t, err, ErrSignature)
	assert.NotErrorIs(t, err, ErrExpired)
}

func TestVerifyKeySourceUnavailable(t *testing.T) {
	down := errors.New("jwks endpoint unreachable")
	v, err := NewVerifier(Config{Keys: &testKeySource{err: down}, SkipIssuerCheck: true, SkipAudienceCheck: true})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), signCompact(t, "ES256", `{"alg":"ES256","kid":"k"}`, goodClaims))
	assert.ErrorIs(t, err, ErrKeysUnavailable)
	assert.ErrorIs(t, err, down)
	assert.NotErrorIs(t, err, ErrUnknownKey)
}

func TestVerifyClaimsAccessors(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	c, err := v.Verify(context.Background(), signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256","typ":"JWT"}`,
		`{"iss":"https://issuer.example","aud":["api","web"],"sub":"alice","jti":"id-1","exp":1700000300,"nbf":1699999000,"iat":1699999999.5,"scope":"read write","n\u00e4me":"J\u00fcrgen","roles":{"a":[1,2]}}`))
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Subject)
	assert.Equal(t, "id-1", c.ID)
	assert.Equal(t, []string{"api", "web"}, c.Audience)
	assert.Equal(t, time.Unix(1699999000, 0), c.NotBefore)
	assert.Equal(t, time.Unix(1699999999, 5e8), c.IssuedAt)
	assert.Equal(t, Header{Algorithm: "ES256", KeyID: "kid-ES256", Type: "JWT"}, c.Header)
	assert.Equal(t, []string{"read", "write"}, c.Scopes())
	assert.True(t, c.HasScope("write"))
	assert.Equal(t, []string{"iss", "aud", "sub", "jti", "exp", "nbf", "iat", "scope", "näme", "roles"}, c.Names())
	var name string
	require.NoError(t, c.Get("näme", &name))
	assert.Equal(t, "Jürgen", name)
	raw, ok := c.Raw("roles")
	require.True(t, ok)
	assert.JSONEq(t, `{"a":[1,2]}`, string(raw))
	raw[0] = 'X' // the copy is the caller's to change
	again, _ := c.Raw("roles")
	assert.Equal(t, byte('{'), again[0])
	assert.ErrorIs(t, c.Get("missing", &name), ErrMissingClaim)
}

func TestScopesArray(t *testing.T) {
	c := &Claims{}
	require.NoError(t, decodeClaims(`{"scope":["a","b"]}`, c))
	assert.Equal(t, []string{"a", "b"}, c.Scopes())
	require.NoError(t, decodeClaims(`{"scope":7}`, c))
	assert.Nil(t, c.Scopes())
}

func TestNewVerifierConfigErrors(t *testing.T) {
	keys := &testKeySource{}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no keys", Config{Issuer: "i", Audience: []string{"a"}}, "Config.Keys"},
		{"no issuer", Config{Keys: keys, Audience: []string{"a"}}, "SkipIssuerCheck"},
		{"no audience", Config{Keys: keys, Issuer: "i"}, "SkipAudienceCheck"},
		{"empty audience", Config{Keys: keys, Issuer: "i", Audience: []string{""}}, "empty string"},
		{"alg none", Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, Algorithms: []string{"none"}}, `"none"`},
		{"alg unknown", Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, Algorithms: []string{"HS1"}}, `"HS1"`},
		{"negative size", Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, MaxTokenSize: -1}, "MaxTokenSize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVerifier(tc.cfg)
			assert.Nil(t, v)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVerifyKeyAlgorithmRestrictsKey(t *testing.T) {
	// The JWK names RS256, so a PS256 token with the same RSA key is rejected.
	k := keyFor(t, "RS256").public
	v, err := NewVerifier(Config{Keys: &testKeySource{keys: []jwks.Key{k}}, SkipIssuerCheck: true, SkipAudienceCheck: true, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	_, err = v.Verify(context.Background(), signCompact(t, "PS256", `{"alg":"PS256","kid":"kid-RS256"}`, goodClaims))
	assert.ErrorIs(t, err, ErrAlgorithm)
	_, err = v.Verify(context.Background(), signCompact(t, "RS256", `{"alg":"RS256","kid":"kid-RS256"}`, goodClaims))
	assert.NoError(t, err)
}

func TestVerifyEveryAlgorithm(t *testing.T) {
	for _, alg := range algorithmNames[1:] {
		t.Run(alg, func(t *testing.T) {
			v := testVerifier(t, nil, alg)
			c, err := v.Verify(context.Background(), signCompact(t, alg, `{"alg":"`+alg+`","kid":"kid-`+alg+`"}`, goodClaims))
			require.NoError(t, err)
			assert.Equal(t, alg, c.Header.Algorithm)
		})
	}
}

// TestVerifyPolicyAfterSignature checks that a forged token reports
// ErrSignature whatever its "typ" and claims contain, so that a forger cannot
// probe the verifier's policy, while a genuine token reports the policy
// error.
func TestVerifyPolicyAfterSignature(t *testing.T) {
	const (
		wrongTyp = `"typ":"at+jwt"`
		expired  = `{"iss":"https://issuer.example","aud":"api","exp":1699990000}`
		allWrong = `{"iss":"https://evil.example","aud":"other","exp":1699990000,"nbf":1800000000}`
	)
	for _, alg := range []string{"HS256", "ES256", "EdDSA", "RS256"} {
		v := testVerifier(t, nil, alg)
		hdr := `{"alg":"` + alg + `","kid":"kid-` + alg + `"`
		// A signature that is valid, but over other content.
		other := signCompact(t, alg, hdr+"}", `{"sub":"mallory"}`)
		forge := func(header, payload string) string {
			tok := b64(header) + "." + b64(payload)
			return tok + other[lastDot(other):]
		}
		tests := []struct {
			name  string
			token string
			want  error
		}{
			{"forged wrong typ", forge(hdr+","+wrongTyp+"}", goodClaims), ErrSignature},
			{"forged expired", forge(hdr+"}", expired), ErrSignature},
			{"forged every policy wrong", forge(hdr+","+wrongTyp+"}", allWrong), ErrSignature},
			{"signed wrong typ", signCompact(t, alg, hdr+","+wrongTyp+"}", goodClaims), ErrType},
			{"signed expired", signCompact(t, alg, hdr+"}", expired), ErrExpired},
			{"signed valid", signCompact(t, alg, hdr+"}", goodClaims), nil},
		}
		for _, tc := range tests {
			t.Run(alg+"/"+tc.name, func(t *testing.T) {
				_, err := v.Verify(context.Background(), tc.token)
				if tc.want == nil {
					assert.NoError(t, err)
					return
				}
				assert.ErrorIs(t, err, tc.want)
				for _, other := range []error{ErrType, ErrExpired, ErrIssuer, ErrAudience, ErrNotYetValid, ErrSignature} {
					if other != tc.want {
						assert.NotErrorIs(t, err, other)
					}
				}
			})
		}
	}
}

func TestVerifierLeeway(t *testing.T) {
	tests := []struct {
		set  time.Duration
		want time.Duration
	}{
		{0, DefaultLeeway},
		{-1, 0},
		{2 * time.Minute, 2 * time.Minute},
	}
	for _, tc := range tests {
		v := testVerifier(t, func(c *Config) { c.Leeway = tc.set }, "ES256")
		assert.Equal(t, tc.want, v.Leeway(), "Config.Leeway %v", tc.set)
	}
}

func TestVerifierAcceptsType(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		typ  string
		want bool
	}{
		{"default JWT", nil, "JWT", true},
		{"default jwt lower case", nil, "jwt", true},
		{"default absent", nil, "", true},
		{"default application/JWT", nil, "application/JWT", true},
		{"default other type", nil, "txntoken+jwt", false},
		{"explicit same", func(c *Config) { c.Type = "txntoken+jwt" }, "txntoken+jwt", true},
		{"explicit prefixed", func(c *Config) { c.Type = "txntoken+jwt" }, "application/TXNTOKEN+JWT", true},
		{"explicit rejects JWT", func(c *Config) { c.Type = "txntoken+jwt" }, "JWT", false},
		{"explicit rejects absent", func(c *Config) { c.Type = "txntoken+jwt" }, "", false},
		{"skip accepts any", func(c *Config) { c.SkipTypeCheck = true }, "anything", true},
		{"skip accepts absent", func(c *Config) { c.SkipTypeCheck = true }, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := testVerifier(t, tc.mod, "ES256")
			assert.Equal(t, tc.want, v.AcceptsType(tc.typ))
		})
	}
}

func TestTypeErrorNamesBothTypes(t *testing.T) {
	tests := []struct {
		name     string
		h        header
		expected string
		want     string
	}{
		{"wrong typ", header{hasTyp: true, typ: "txntoken+jwt"}, "", `token has typ "txntoken+jwt", expected "JWT"`},
		{"missing typ", header{}, "at+jwt", `token has no typ, expected "at+jwt"`},
		{"long typ truncated", header{hasTyp: true, typ: strings.Repeat("x", 100)}, "JWT", strings.Repeat("x", 64) + `..."`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := typeError(tc.h, tc.expected)
			assert.ErrorIs(t, err, ErrType)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
