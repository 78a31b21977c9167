package txntoken

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompileCharRun(t *testing.T) {
	tests := []struct {
		pattern string
		fast    bool
		accept  []string
		reject  []string
	}{
		{"[A-Z]{3}", true, []string{"EUR"}, []string{"", "EU", "EURO", "eur", "EÜR"}},
		{"[A-Z0-9]+", true, []string{"DE89370400440532013000", "A"}, []string{"", "de89", "DE 89"}},
		{"[a-z0-9_-]*", true, []string{"", "a-b_c"}, []string{"A", "a.b"}},
		{`\d{1,3}`, true, []string{"1", "123"}, []string{"", "1234", "١"}},
		{"x?", true, []string{"", "x"}, []string{"xx", "X"}},
		{"(?:[ab])+", true, []string{"abba"}, []string{"abc"}},
		{"([ab]{2,})", true, []string{"ab", "abab"}, []string{"a"}},
		{"[^a]", false, []string{"b", "é"}, []string{"a", "bb"}},
		{"(?i)k+", false, []string{"kK", "\u212a"}, []string{"x"}},
		{"[a-zé]+", false, []string{"é"}, []string{"E"}},
		{"^[A-Z]+$", false, []string{"AB"}, []string{"ab"}},
		{"[A-Z][a-z]+", false, []string{"Ab"}, []string{"A"}},
		{"a|b", true, []string{"a", "b"}, []string{"ab"}}, // the parser folds a|b into [ab]
		{".+", false, []string{"any"}, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.pattern, func(t *testing.T) {
			run := compileCharRun(tc.pattern)
			assert.Equal(t, tc.fast, run != nil)
			c, err := compileClaim("op", Claim{Name: "c", Type: TypeString, MaxLength: 100, Pattern: tc.pattern})
			require.NoError(t, err)
			for _, s := range tc.accept {
				assert.True(t, c.matchPattern(s), "%q", s)
			}
			for _, s := range tc.reject {
				assert.False(t, c.matchPattern(s), "%q", s)
			}
		})
	}
}

// FuzzCharRun checks that the fast matcher agrees with regexp on the
// whole-string match wherever compileCharRun accepts a pattern.
func FuzzCharRun(f *testing.F) {
	for _, seed := range [][2]string{
		{"[A-Z]{3}", "EUR"}, {"[A-Z0-9]+", "DE89"}, {`\w{0,4}`, "ab_9"}, {"a{2,}", "aaa"},
		{"[[:alpha:]]*", "abc"}, {`[\x00-\x7f]+`, "\xff"}, {"[^\\x80-\\x{10FFFF}]?", ""},
		{"(?i)[a-c]+", "ABC"}, {"(?s).", "\n"}, {"x*?", "xx"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		run := compileCharRun(pattern)
		if run == nil {
			return
		}
		re, err := regexp.Compile(`^(?:` + pattern + `)$`)
		if err != nil {
			// compileClaim rejects such a pattern ("a\Q" quotes the
			// closing parenthesis), so no claim uses the fast matcher.
			return
		}
		if got, want := run.match(s), re.MatchString(s); got != want {
			t.Fatalf("pattern %q on %q: fast %v, regexp %v", pattern, s, got, want)
		}
	})
}

func TestJSONStringText(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{`"EUR"`, "EUR", true},
		{`""`, "", true},
		{`"\u0045UR"`, "EUR", true},
		{`"a\"b"`, `a"b`, true},
		{`"a"b"`, "", false},
		{"\"a\tb\"", "", false},
		{`"abc`, "", false},
		{`null`, "", false},
		{`"`, "", false},
		{` "a"`, "", false},
	}
	for _, tc := range tests {
		got, ok := jsonStringText(tc.raw)
		assert.Equal(t, tc.ok, ok, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
	// The fast path returns a substring: nothing is copied.
	raw := `"DE89370400440532013000"`
	s, ok := jsonStringText(raw)
	require.True(t, ok)
	assert.Equal(t, strings.Index(raw, s), 1)
	assert.Zero(t, testing.AllocsPerRun(100, func() { jsonStringText(raw) }))
}

// FuzzJSONStringText compares jsonStringText with encoding/json on string
// literals.
func FuzzJSONStringText(f *testing.F) {
	for _, seed := range []string{`"EUR"`, `"\u00e9"`, `"\ud800"`, `"a\/b"`, `"\x"`, "\"\x01\"", `"a"b"`, `""`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if raw == "" || raw[0] != '"' || raw[len(raw)-1] != '"' || !utf8.ValidString(raw) {
			// encoding/json also accepts null and surrounding space, which
			// the claims reader has already removed, and replaces invalid
			// UTF-8, which checkString rejects anyway.
			return
		}
		got, ok := jsonStringText(raw)
		var want string
		err := json.Unmarshal([]byte(raw), &want)
		if ok != (err == nil) || got != want {
			t.Fatalf("%q: got %q, %v; encoding/json %q, %v", raw, got, ok, want, err)
		}
	})
}

// FuzzParseClaimsOnePass compares the single-pass claim check with the
// map-driven check it replaced, which walks the declared claims in name
// order and then looks for undeclared ones: both must return the same
// values or the same error.
func FuzzParseClaimsOnePass(f *testing.F) {
	for _, seed := range []string{
		`{"amount":500}`,
		`{"amount":500,"currency":"EUR","rate":1.5,"express":true,"channel":"web"}`,
		`{"currency":"EUR"}`,
		`{"amount":"500","zz":1,"aa":2}`,
		`{"amount":5,"currency":"eur","b":1}`,
		`{"amount":1,"express":"true"}`,
	} {
		f.Add([]byte(seed))
	}
	r := testRegistry(f)
	op, _ := r.Operation("payment_initiate")
	f.Fuzz(func(t *testing.T, data []byte) {
		claims, err := jsonObject(data)
		if err != nil {
			return
		}
		got, gotErr := op.ParseClaims(claims)
		want, wantErr := parseAll(op, claims, func(c *Claim, raw json.RawMessage) (entry, string) {
			return c.parseJSON(string(raw))
		})
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("errors differ: %v, reference %v", gotErr, wantErr)
		}
		assert.Equal(t, want.Map(), got.Map())
	})
}
