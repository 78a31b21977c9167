package bearer

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFromHeader(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLength)
	tests := []struct {
		name    string
		values  []string
		want    string
		wantErr error
	}{
		{"absent", nil, "", ErrNoCredentials},
		{"empty value", []string{""}, "", ErrNoCredentials},
		{"canonical", []string{"Bearer abc.def-ghi_jkl~"}, "abc.def-ghi_jkl~", nil},
		{"lowercase scheme", []string{"bearer abc"}, "abc", nil},
		{"uppercase scheme", []string{"BEARER abc"}, "abc", nil},
		{"trailing padding", []string{"Bearer YWJj=="}, "YWJj==", nil},
		{"maximum length", []string{"Bearer " + long}, long, nil},
		{"over maximum length", []string{"Bearer " + long + "a"}, "", ErrMalformed},
		{"no space", []string{"Bearerabc"}, "", ErrMalformed},
		{"two spaces", []string{"Bearer  abc"}, "", ErrMalformed},
		{"tab separator", []string{"Bearer\tabc"}, "", ErrMalformed},
		{"scheme only", []string{"Bearer"}, "", ErrMalformed},
		{"scheme and space", []string{"Bearer "}, "", ErrMalformed},
		{"trailing space", []string{"Bearer abc "}, "", ErrMalformed},
		{"padding inside", []string{"Bearer ab=c"}, "", ErrMalformed},
		{"only padding", []string{"Bearer =="}, "", ErrMalformed},
		{"comma", []string{"Bearer abc,def"}, "", ErrMalformed},
		{"quote", []string{`Bearer "abc"`}, "", ErrMalformed},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", ErrNotBearer},
		{"short other scheme", []string{"X"}, "", ErrNotBearer},
		{"two headers", []string{"Bearer abc", "Bearer abc"}, "", ErrMultipleHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Authorization", v)
			}
			got, err := FromHeader(h)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestChallengeString(t *testing.T) {
	tests := []struct {
		name string
		c    Challenge
		want string
	}{
		{"no credentials", Challenge{}, "Bearer"},
		{"realm only", Challenge{Realm: "api"}, `Bearer realm="api"`},
		{"invalid token", Challenge{Error: CodeInvalidToken, Description: "token expired"},
			`Bearer error="invalid_token", error_description="token expired"`},
		{"scope", Challenge{Realm: "api", Error: CodeInsufficientScope, Scope: "read write"},
			`Bearer realm="api", error="insufficient_scope", scope="read write"`},
		{"quote and backslash dropped", Challenge{Error: CodeInvalidRequest, Description: "bad \"x\"\\\n"},
			`Bearer error="invalid_request", error_description="bad x"`},
		{"basic scheme", Challenge{Scheme: "Basic", Realm: "introspection"}, `Basic realm="introspection"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.c.String())
		})
	}
}

func TestWriteChallengeStatus(t *testing.T) {
	tests := []struct {
		code   string
		status int
	}{
		{"", http.StatusUnauthorized},
		{CodeInvalidToken, http.StatusUnauthorized},
		{CodeInvalidRequest, http.StatusBadRequest},
		{CodeInsufficientScope, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run("code "+tc.code, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteChallenge(rec, Challenge{Error: tc.code})
			assert.Equal(t, tc.status, rec.Code)
			assert.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer"))
			assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		})
	}
}

func TestChallengeForErrors(t *testing.T) {
	assert.Equal(t, "", ChallengeFor(ErrNoCredentials).Error)
	assert.Equal(t, "", ChallengeFor(ErrNotBearer).Error)
	assert.Equal(t, CodeInvalidRequest, ChallengeFor(ErrMultipleHeaders).Error)
	assert.Equal(t, CodeInvalidRequest, ChallengeFor(ErrMalformed).Error)
}

func TestWriteUnavailable(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteUnavailable(rec)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
	assert.Equal(t, "Service Unavailable\n", rec.Body.String())
}

func TestDigestIsSHA256(t *testing.T) {
	d := Digest("abc")
	// SHA-256("abc") from FIPS 180-2 appendix B.1.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		hex.EncodeToString(d[:]))
}

func FuzzFromHeader(f *testing.F) {
	for _, seed := range []string{"Bearer abc", "bearer a=", "Bearer", "Bearer  x", "Basic x", "Bearer a=b", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		h := http.Header{}
		h.Set("Authorization", value)
		token, err := FromHeader(h)
		if err != nil {
			assert.Empty(t, token)
			return
		}
		assert.True(t, ValidToken(token))
		assert.True(t, strings.EqualFold(value[:7], "Bearer "))
		assert.Equal(t, value[7:], token)
	})
}

func TestDigestAllocations(t *testing.T) {
	short := strings.Repeat("t", 64)
	long := strings.Repeat("t", 4096)
	assert.Equal(t, sha256.Sum256([]byte(short)), Digest(short))
	assert.Equal(t, sha256.Sum256([]byte(long)), Digest(long))
	allocs := testing.AllocsPerRun(100, func() { _ = Digest(short) })
	assert.Zero(t, allocs, "digest of a short token must not allocate")
}
