package jwtutil

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyJSONEdgeCases pins the verdict of the strict JSON reader on
// inputs where hand-written readers and encoding/json tend to part ways.
func TestVerifyJSONEdgeCases(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	const reg = `"iss":"https://issuer.example","aud":"api"`
	tests := []struct {
		name    string
		payload string
		want    error // nil means accepted
	}{
		{"plain", `{` + reg + `,"exp":1700000300}`, nil},
		{"escaped name duplicates exp", `{` + reg + `,"exp":1700000300,"e\u0078p":1}`, ErrMalformed},
		{"escaped name duplicates aud", `{"iss":"https://issuer.example","aud":"x","\u0061ud":"api","exp":1700000300}`, ErrMalformed},
		{"lone surrogates collide", `{` + reg + `,"exp":1700000300,"\ud800":1,"\udc00":2}`, ErrMalformed},
		{"lone surrogate value", `{` + reg + `,"exp":1700000300,"n":"\ud800"}`, nil},
		{"invalid UTF-8 value", `{` + reg + `,"exp":1700000300,"n":"` + "\xff" + `"}`, nil},
		{"NUL in string", `{` + reg + `,"exp":1700000300,"n":"a` + "\x00" + `"}`, ErrMalformed},
		{"BOM", "\xef\xbb\xbf{" + reg + `,"exp":1700000300}`, ErrMalformed},
		{"vertical tab", "\v{" + reg + `,"exp":1700000300}`, ErrMalformed},
		{"trailing garbage", `{` + reg + `,"exp":1700000300}x`, ErrMalformed},
		{"trailing whitespace", `{` + reg + `,"exp":1700000300}` + " \r\n\t", nil},
		{"exp 1e400", `{` + reg + `,"exp":1e400}`, ErrMalformed},
		{"exp 1e-400", `{` + reg + `,"exp":1e-400}`, ErrExpired},
		{"exp -0", `{` + reg + `,"exp":-0}`, ErrExpired},
		{"exp 0", `{` + reg + `,"exp":0}`, ErrExpired},
		{"exp 01", `{` + reg + `,"exp":01}`, ErrMalformed},
		{"exp 1.", `{` + reg + `,"exp":1.}`, ErrMalformed},
		{"exp float 1e10", `{` + reg + `,"exp":1e10}`, nil},
		{"exp year 9999", `{` + reg + `,"exp":253402300799}`, nil},
		{"exp past year 9999", `{` + reg + `,"exp":253402300800}`, ErrMalformed},
		{"exp string", `{` + reg + `,"exp":"1700000300"}`, ErrMalformed},
		{"exp missing", `{` + reg + `}`, ErrMissingClaim},
		{"escaped iat in future", `{` + reg + `,"exp":1700000300,"i\u0061t":1700000031}`, ErrNotYetValid},
		{"aud empty array", `{"iss":"https://issuer.example","aud":[],"exp":1700000300}`, ErrAudience},
		{"aud empty string", `{"iss":"https://issuer.example","aud":[""],"exp":1700000300}`, ErrAudience},
		{"aud number in array", `{"iss":"https://issuer.example","aud":["api",1],"exp":1700000300}`, ErrMalformed},
		{"aud null", `{"iss":"https://issuer.example","aud":null,"exp":1700000300}`, ErrMalformed},
		{"aud second of array", `{"iss":"https://issuer.example","aud":[ "x" , "api" ],"exp":1700000300}`, nil},
		{"aud escaped", `{"iss":"https://issuer.example","aud":"ap\u0069","exp":1700000300}`, nil},
		{"aud other case", `{"iss":"https://issuer.example","aud":"API","exp":1700000300}`, ErrAudience},
		{"iss null", `{"iss":null,"aud":"api","exp":1700000300}`, ErrMalformed},
		{"nbf null", `{` + reg + `,"exp":1700000300,"nbf":null}`, ErrMalformed},
		{"private claim null", `{` + reg + `,"exp":1700000300,"x":null}`, nil},
		{"deep unknown claim", `{` + reg + `,"exp":1700000300,"x":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, nil},
		{"unbalanced deep claim", `{` + reg + `,"exp":1700000300,"x":` + strings.Repeat("[", 2000) + `}`, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, tt.payload)
			c, err := v.Verify(context.Background(), tok)
			if tt.want == nil {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			assert.ErrorIs(t, err, tt.want)
		})
	}
}

func TestSignRejectsMistypedClaims(t *testing.T) {
	s, err := NewSigner(SignerConfig{Keys: StaticSigningKey(keyFor(t, "ES256").private), Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	for name, claims := range map[string]map[string]any{
		"exp string":     {"exp": "soon"},
		"exp NaN":        {"exp": math.NaN()},
		"exp infinite":   {"exp": math.Inf(1)},
		"exp bool":       {"exp": true},
		"exp bad Number": {"exp": json.Number("1e400")},
		"nbf string":     {"nbf": "1700000000"},
		"aud number":     {"aud": 5},
		"aud mixed list": {"aud": []any{"api", 1}},
		"iss number":     {"iss": 1},
		"sub map":        {"sub": map[string]any{}},
		"jti bytes":      {"jti": []byte("x")},
		"channel":        {"x": make(chan int)},
		"NaN":            {"x": math.NaN()},
	} {
		tok, err := s.Sign(claims)
		assert.Error(t, err, name)
		assert.Empty(t, tok, name)
	}
	for name, claims := range map[string]map[string]any{
		"exp int64":       {"exp": int64(1700000300)},
		"exp float":       {"exp": 1700000300.5},
		"exp Number":      {"exp": json.Number("1700000300")},
		"exp time":        {"exp": testNow.Add(time.Minute)},
		"aud list":        {"aud": []string{"a", "b"}},
		"aud any list":    {"aud": []any{"a", "b"}},
		"registered nils": {"iss": nil, "aud": nil, "jti": nil},
	} {
		_, err := s.Sign(claims)
		assert.NoError(t, err, name)
	}
}

func TestMiddlewareCookieConflicts(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	good := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, goodClaims)
	other := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","sub":"mallory","exp":1700000300}`)
	h := v.Middleware(MiddlewareConfig{CookieName: "at"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := FromContext(r.Context())
		_, _ = w.Write([]byte(c.Subject))
	}))
	tests := []struct {
		name       string
		auth       string
		cookies    []string
		wantStatus int
		wantAuth   string
	}{
		{"two cookies differ", "", []string{good, other}, 400, `error="invalid_request"`},
		{"two cookies differ, other first", "", []string{other, good}, 400, `error="invalid_request"`},
		{"header and two cookies", "Bearer " + good, []string{good, other}, 400, `error="invalid_request"`},
		{"two equal cookies", "", []string{good, good}, 200, ""},
		{"empty cookie beside a token", "", []string{"", good}, 200, ""},
		{"malformed cookie", "", []string{"%%%"}, 400, `error_description="malformed token cookie"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			for _, c := range tt.cookies {
				r.Header.Add("Cookie", "at="+c)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.Contains(t, w.Header().Get("WWW-Authenticate"), tt.wantAuth)
			if tt.wantStatus == 200 {
				assert.Equal(t, "alice", w.Body.String())
			} else {
				assert.NotContains(t, w.Body.String(), "jwtutil")
			}
		})
	}
}

// countHandler counts slog records and remembers their attribute keys.
type countHandler struct {
	records int
	keys    []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.records++
	r.Attrs(func(a slog.Attr) bool { h.keys = append(h.keys, a.Key); return true })
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }

func TestMiddlewareLogsOnce(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	bad := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, `{"iss":"https://issuer.example","aud":"api","exp":1}`)
	log := &countHandler{}
	h := v.Middleware(MiddlewareConfig{Logger: slog.New(log)})(http.NotFoundHandler())
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+bad)
	h.ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, 1, log.records)
	assert.ElementsMatch(t, []string{"error", "token_sha256"}, log.keys)
}

func TestScopesSplitOnSpaceOnly(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	tok := signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`,
		`{"iss":"https://issuer.example","aud":"api","exp":1700000300,"scope":" read  admin\twrite\u00a0delete "}`)
	c, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, []string{"read", "admin\twrite\u00a0delete"}, c.Scopes())
	assert.False(t, c.HasScope("write"))
	assert.False(t, c.HasScope("delete"))
}

func TestInspectRejectsDuplicates(t *testing.T) {
	for _, tok := range []string{
		b64(`{"alg":"none","alg":"ES256"}`) + "." + b64(`{}`) + ".",
		b64(`{"alg":"ES256"}`) + "." + b64(`{"sub":"alice","s\u0075b":"admin"}`) + ".",
	} {
		h, c, err := InspectUnverified(tok)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Nil(t, h)
		assert.Nil(t, c)
	}
}

func TestClaimsAll(t *testing.T) {
	v := testVerifier(t, nil, "ES256")
	payload := `{"iss":"https://issuer.example","aud":["api","x"],"exp":1700000300,"n\u0061me":"a\"b","obj":{"k":[1,2]},"nil":null}`
	c, err := v.Verify(context.Background(), signCompact(t, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`, payload))
	require.NoError(t, err)

	var names []string
	var values []string
	for name, raw := range c.All() {
		names = append(names, name)
		values = append(values, string(raw))
	}
	assert.Equal(t, c.Names(), names)
	assert.Equal(t, []string{"iss", "aud", "exp", "name", "obj", "nil"}, names)
	assert.Equal(t, []string{`"https://issuer.example"`, `["api","x"]`, `1700000300`, `"a\"b"`, `{"k":[1,2]}`, `null`}, values)

	// Zero-copy: every value is the very memory the claims were parsed
	// from, not a copy of it.
	i := 0
	for _, raw := range c.All() {
		assert.Same(t, unsafe.StringData(c.members[i].value), unsafe.SliceData(raw), "claim %d copied", i)
		i++
	}

	seen := 0
	for range c.All() {
		seen++
		if seen == 2 {
			break
		}
	}
	assert.Equal(t, 2, seen)

	allocs := testing.AllocsPerRun(100, func() {
		for _, raw := range c.All() {
			if len(raw) == 0 {
				t.Fail()
			}
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkClaimsAll(b *testing.B) {
	v := testVerifier(b, nil, "ES256")
	c, err := v.Verify(context.Background(), signCompact(b, "ES256", `{"alg":"ES256","kid":"kid-ES256"}`,
		`{"iss":"https://issuer.example","aud":"api","sub":"alice","exp":1700000300,"iat":1700000000,"scope":"read write","tctx":{"amount":5}}`))
	require.NoError(b, err)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, raw := range c.All() {
			n += len(raw)
		}
	}
	if n == 0 {
		b.Fatal("no claims walked")
	}
}
