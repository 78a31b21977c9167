package txntoken

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ptr(f float64) *float64 { return &f }

// testRegistry is the reference schema of the tests: payment_initiate with
// one claim of each type and bound.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	r, err := NewRegistry(RegistryConfig{},
		Operation{
			Name:     "payment_initiate",
			Version:  1,
			Audience: "https://payments.example",
			MaxSize:  2048,
			Claims: []Claim{
				{Name: "amount", Type: TypeInteger, Required: true, Min: ptr(1), Max: ptr(100000)},
				{Name: "currency", Type: TypeString, MaxLength: 3, Pattern: "[A-Z]{3}"},
				{Name: "rate", Type: TypeNumber, Min: ptr(0), Max: ptr(1.5)},
				{Name: "express", Type: TypeBoolean},
				{Name: "channel", Type: TypeString, MaxLength: 8, Enum: []string{"web", "mobile"}},
			},
		},
		Operation{
			Name:    "user_profile",
			Version: 1,
			Claims:  []Claim{{Name: "user_id", Type: TypeString, Required: true, MaxLength: 36}},
		},
	)
	require.NoError(t, err)
	return r
}

func TestParseParamsAcceptsValidValues(t *testing.T) {
	op, ok := testRegistry(t).Operation("payment_initiate")
	require.True(t, ok)
	got, err := op.ParseParams(url.Values{
		"amount":   {"500"},
		"currency": {"EUR"},
		"rate":     {"1.25"},
		"express":  {"true"},
		"channel":  {"web"},
	})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"amount": int64(500), "currency": "EUR", "rate": 1.25, "express": true, "channel": "web"}, got.Map())
	amount, ok := got.Int("amount")
	assert.True(t, ok)
	assert.Equal(t, int64(500), amount)
	_, ok = got.String("amount")
	assert.False(t, ok)
}

func TestParseParamsRejects(t *testing.T) {
	op, ok := testRegistry(t).Operation("payment_initiate")
	require.True(t, ok)
	tests := []struct {
		name   string
		params url.Values
		claim  string
		reason string
	}{
		{"missing required", url.Values{}, "amount", "is required"},
		{"unknown claim", url.Values{"amount": {"1"}, "admin": {"true"}}, "admin", "is not declared"},
		{"repeated", url.Values{"amount": {"1", "2"}}, "amount", "exactly once"},
		{"integer text", url.Values{"amount": {"five"}}, "amount", "must be an integer"},
		{"integer fraction", url.Values{"amount": {"500.0"}}, "amount", "must be an integer"},
		{"integer plus sign", url.Values{"amount": {"+5"}}, "amount", "must be an integer"},
		{"integer hex", url.Values{"amount": {"0x10"}}, "amount", "must be an integer"},
		{"integer leading zero", url.Values{"amount": {"0500"}}, "amount", "must be an integer"},
		{"integer underscore", url.Values{"amount": {"1_000"}}, "amount", "must be an integer"},
		{"integer empty", url.Values{"amount": {""}}, "amount", "must be an integer"},
		{"integer below min", url.Values{"amount": {"0"}}, "amount", "less than min 1"},
		{"integer above max", url.Values{"amount": {"100001"}}, "amount", "greater than max 100000"},
		{"integer overflow", url.Values{"amount": {"99999999999999999999"}}, "amount", "outside"},
		{"string too long", url.Values{"amount": {"1"}, "currency": {"EURO"}}, "currency", "longer than 3 bytes"},
		{"string pattern", url.Values{"amount": {"1"}, "currency": {"eur"}}, "currency", "does not match the pattern"},
		{"string enum", url.Values{"amount": {"1"}, "channel": {"fax"}}, "channel", "not one of the permitted values"},
		{"string invalid utf8", url.Values{"amount": {"1"}, "channel": {"\xff"}}, "channel", "valid UTF-8"},
		{"number text", url.Values{"amount": {"1"}, "rate": {"NaN"}}, "rate", "must be a number"},
		{"number inf", url.Values{"amount": {"1"}, "rate": {"Inf"}}, "rate", "must be a number"},
		{"number hex float", url.Values{"amount": {"1"}, "rate": {"0x1p-2"}}, "rate", "must be a number"},
		{"number above max", url.Values{"amount": {"1"}, "rate": {"1.51"}}, "rate", "greater than max 1.5"},
		{"number below min", url.Values{"amount": {"1"}, "rate": {"-0.1"}}, "rate", "less than min 0"},
		{"number huge", url.Values{"amount": {"1"}, "rate": {"1e999"}}, "rate", "out of range"},
		{"boolean text", url.Values{"amount": {"1"}, "express": {"yes"}}, "express", `"true" or "false"`},
		{"boolean case", url.Values{"amount": {"1"}, "express": {"TRUE"}}, "express", `"true" or "false"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := op.ParseParams(tt.params)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidClaim)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "payment_initiate", ve.Operation)
			assert.Equal(t, tt.claim, ve.Claim)
			assert.Contains(t, ve.Reason, tt.reason)
			code, desc := ve.OAuthError()
			assert.Equal(t, "invalid_request", code)
			assert.Contains(t, desc, `claim "`+tt.claim+`"`)
		})
	}
}

func TestParseClaimsIsStrictAboutJSONTypes(t *testing.T) {
	op, _ := testRegistry(t).Operation("payment_initiate")
	tests := []struct {
		name  string
		json  string
		valid bool
	}{
		{"integer", `{"amount":500}`, true},
		{"integer as float", `{"amount":500.0}`, false},
		{"integer as exponent", `{"amount":5e2}`, false},
		{"integer as string", `{"amount":"500"}`, false},
		{"number integral", `{"amount":1,"rate":1}`, true},
		{"number exponent", `{"amount":1,"rate":1e-1}`, true},
		{"number as string", `{"amount":1,"rate":"1"}`, false},
		{"boolean", `{"amount":1,"express":false}`, true},
		{"boolean as string", `{"amount":1,"express":"true"}`, false},
		{"string", `{"amount":1,"currency":"USD"}`, true},
		{"string escaped", `{"amount":1,"currency":"\u0055SD"}`, true},
		{"string as number", `{"amount":1,"currency":1}`, false},
		{"null", `{"amount":null}`, false},
		{"object", `{"amount":{}}`, false},
		{"unknown", `{"amount":1,"x":1}`, false},
		{"missing required", `{"rate":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var claims map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(tt.json), &claims))
			_, err := op.ParseClaims(claims)
			if tt.valid {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrInvalidClaim)
			}
		})
	}
}

func TestCheckValuesConvertsGoTypes(t *testing.T) {
	op, _ := testRegistry(t).Operation("payment_initiate")
	got, err := op.CheckValues(map[string]any{"amount": 500, "rate": float32(0.5), "express": true, "currency": "EUR"})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"amount": int64(500), "rate": 0.5, "express": true, "currency": "EUR"}, got.Map())

	got, err = op.CheckValues(map[string]any{"amount": 500.0})
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"amount": int64(500)}, got.Map())

	for _, bad := range []map[string]any{
		{"amount": 500.5},
		{"amount": true},
		{"amount": []int{1}},
		{"amount": 1, "express": 1},
		{"amount": 1, "currency": 3},
	} {
		_, err := op.CheckValues(bad)
		assert.ErrorIs(t, err, ErrInvalidClaim, "%v", bad)
	}
}

func TestUnknownOperationError(t *testing.T) {
	_, err := testRegistry(t).lookup(strings.Repeat("x", 1000))
	require.ErrorIs(t, err, ErrUnknownOperation)
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	_, desc := ve.OAuthError()
	assert.Less(t, len(desc), 120, "description must not echo a long name")
}

func TestNewRegistryRejectsBadDefinitions(t *testing.T) {
	str := func(c Claim) Claim { c.Type = TypeString; return c }
	tests := []struct {
		name   string
		op     Operation
		claim  string
		reason string
	}{
		{"bad op name", Operation{Name: "pay-ment", Version: 1}, "", "name must match"},
		{"empty op name", Operation{Name: "", Version: 1}, "", "name must match"},
		{"no version", Operation{Name: "p"}, "", "version must be at least 1"},
		{"lifetime too long", Operation{Name: "p", Version: 1, Lifetime: time.Hour}, "", "exceeds the maximum"},
		{"lifetime too short", Operation{Name: "p", Version: 1, Lifetime: time.Millisecond}, "", "shorter than 1s"},
		{"negative size", Operation{Name: "p", Version: 1, MaxSize: -1}, "", "negative"},
		{"bad scope", Operation{Name: "p", Version: 1, RequiredScopes: []string{"a b"}}, "", "not a valid scope"},
		{"reserved claim", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "sub", MaxLength: 1})}}, "sub", "reserved"},
		{"reserved operation field", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "operation", MaxLength: 1})}}, "operation", "reserved"},
		{"bad claim name", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a.b", MaxLength: 1})}}, "a.b", "name must match"},
		{"duplicate claim", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 1}), str(Claim{Name: "a", MaxLength: 1})}}, "a", "defined twice"},
		{"missing type", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a"}}}, "a", "type is missing"},
		{"unknown type", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: "float"}}}, "a", `type "float"`},
		{"unbounded string", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a"})}}, "a", "needs a max_length"},
		{"huge string", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: MaxStringLength + 1})}}, "a", "exceeds the maximum"},
		{"bad pattern", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 3, Pattern: "("})}}, "a", "does not compile"},
		{"pattern escaping anchors", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 3, Pattern: "a)|(.*"})}}, "a", "does not compile"},
		{"reserved claim upper case", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "SUB", MaxLength: 1})}}, "SUB", "reserved"},
		{"reserved claim mixed case", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "Txn_Tag", MaxLength: 1})}}, "Txn_Tag", "reserved"},
		{"claims differing in case", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "amount", MaxLength: 1}), str(Claim{Name: "Amount", MaxLength: 1})}}, "Amount", "only in case"},
		{"enum too long", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 2, Enum: []string{"abc"}})}}, "a", "longer than 2"},
		{"enum vs pattern", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 3, Pattern: "[a-z]+", Enum: []string{"A"}})}}, "a", "does not match"},
		{"enum duplicate", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 3, Enum: []string{"a", "a"}})}}, "a", "listed twice"},
		{"string with min", Operation{Name: "p", Version: 1, Claims: []Claim{str(Claim{Name: "a", MaxLength: 3, Min: ptr(1)})}}, "a", "min and max apply"},
		{"integer with pattern", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: TypeInteger, Pattern: "1"}}}, "a", "string claims only"},
		{"integer fractional bound", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: TypeInteger, Max: ptr(1.5)}}}, "a", "must be an integer"},
		{"integer huge bound", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: TypeInteger, Max: ptr(1e300)}}}, "a", "must be an integer"},
		{"min above max", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: TypeNumber, Min: ptr(2), Max: ptr(1)}}}, "a", "greater than max"},
		{"boolean with max", Operation{Name: "p", Version: 1, Claims: []Claim{{Name: "a", Type: TypeBoolean, Max: ptr(1)}}}, "a", "takes no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegistry(RegistryConfig{}, tt.op)
			require.Error(t, err)
			var se *SchemaError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.op.Name, se.Operation)
			assert.Equal(t, tt.claim, se.Claim)
			assert.Contains(t, se.Reason, tt.reason)
		})
	}
}

func TestNewRegistryDefaults(t *testing.T) {
	r, err := NewRegistry(RegistryConfig{}, Operation{Name: "p", Version: 1})
	require.NoError(t, err)
	op, ok := r.Operation("p")
	require.True(t, ok)
	assert.Equal(t, DefaultLifetime, op.Lifetime)
	assert.Equal(t, DefaultMaxSize, op.MaxSize)
	assert.Equal(t, DefaultMaxSubjectLength, r.MaxSubjectLength())

	_, err = NewRegistry(RegistryConfig{}, Operation{Name: "p", Version: 1}, Operation{Name: "p", Version: 2})
	assert.ErrorContains(t, err, "defined twice")
}

const referenceSchema = `{
  "operations": {
    "payment_initiate": {
      "version": 1,
      "lifetime": "30s",
      "audience": "https://payments.example",
      "max_size": 1024,
      "required_scopes": ["write"],
      "claims": {
        "amount":   {"type": "integer", "required": true, "min": 1, "max": 100000},
        "currency": {"type": "string", "max_length": 3, "pattern": "[A-Z]{3}"}
      }
    },
    "user_profile": {"version": 2, "claims": {}}
  }
}`

func TestParseRegistryReadsDocument(t *testing.T) {
	r, err := ParseRegistry([]byte(referenceSchema))
	require.NoError(t, err)
	assert.Equal(t, []string{"payment_initiate", "user_profile"}, r.Operations())
	op, _ := r.Operation("payment_initiate")
	assert.Equal(t, 30*time.Second, op.Lifetime)
	assert.Equal(t, 1024, op.MaxSize)
	assert.Equal(t, []string{"write"}, op.RequiredScopes)
	amount, ok := op.Claim("amount")
	require.True(t, ok)
	assert.Equal(t, TypeInteger, amount.Type)
	assert.True(t, amount.Required)
	assert.Equal(t, 100000.0, *amount.Max)

	// MarshalJSON writes a document that reads back to an equal registry.
	data, err := json.Marshal(r)
	require.NoError(t, err)
	again, err := ParseRegistry(data)
	require.NoError(t, err)
	assert.Empty(t, Compare(r, again).Changes)
}

func TestParseRegistryRejectsMalformedDocuments(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		operation string
		claim     string
		reason    string
	}{
		{"empty", ``, "", "", "truncated or empty"},
		{"syntax", "{\n  \"operations\": {,}\n}", "", "", "line 2, column"},
		{"trailing data", `{"operations":{}} {}`, "", "", "after the top-level value"},
		{"no operations", `{}`, "", "", `"operations" object is missing`},
		{"unknown top field", `{"operations":{},"extra":1}`, "", "", `unknown field "extra"`},
		{"duplicate operation", `{"operations":{"p":{"version":1,"claims":{}},"p":{"version":1,"claims":{}}}}`, "p", "", "defined twice"},
		{"duplicate claim", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"boolean"},"a":{"type":"boolean"}}}}}`, "p", "a", "defined twice"},
		{"duplicate claim field", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"boolean","type":"string"}}}}}`, "p", "a", `key "type" appears twice`},
		{"unknown operation field", `{"operations":{"p":{"version":1,"claims":{},"ttl":5}}}`, "p", "", `unknown field "ttl"`},
		{"missing claims", `{"operations":{"p":{"version":1}}}`, "p", "", `"claims" object is missing`},
		{"bad lifetime", `{"operations":{"p":{"version":1,"lifetime":"soon","claims":{}}}}`, "p", "", "not a duration"},
		{"negative lifetime", `{"operations":{"p":{"version":1,"lifetime":"-5s","claims":{}}}}`, "p", "", "must be positive"},
		{"version as string", `{"operations":{"p":{"version":"1","claims":{}}}}`, "p", "", `field "version" must be a JSON number`},
		{"unknown claim field", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"string","maxLength":3}}}}}`, "p", "a", `unknown field "maxLength"`},
		{"min as string", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"integer","min":"1"}}}}}`, "p", "a", `field "min" must be a JSON number`},
		{"claim not object", `{"operations":{"p":{"version":1,"claims":{"a":"string"}}}}`, "p", "a", "expected a JSON object"},
		{"unbounded string", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"string"}}}}}`, "p", "a", "needs a max_length"},
		{"bad type", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"int"}}}}}`, "p", "a", `type "int"`},
		{"claim field in upper case", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"string","max_length":3,"MAX_LENGTH":4000}}}}}`, "p", "a", `unknown field "MAX_LENGTH"`},
		{"operation field in another case", `{"operations":{"p":{"Version":1,"claims":{}}}}`, "p", "", `use "version"`},
		{"top field in another case", `{"Operations":{}}`, "", "", `unknown field "Operations"`},
		{"claims differing in case", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"boolean"},"A":{"type":"boolean"}}}}}`, "p", "a", "only in case"},
		{"pattern escaping anchors", `{"operations":{"p":{"version":1,"claims":{"a":{"type":"string","max_length":3,"pattern":"x)|(.*"}}}}}`, "p", "a", "does not compile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRegistry([]byte(tt.doc))
			require.Error(t, err)
			var se *SchemaError
			require.ErrorAs(t, err, &se, "error %v", err)
			assert.Equal(t, tt.operation, se.Operation)
			assert.Equal(t, tt.claim, se.Claim)
			assert.Contains(t, se.Reason, tt.reason)
		})
	}
}

func TestParseRegistryRejectsOversizedDocument(t *testing.T) {
	_, err := ParseRegistry(make([]byte, MaxSchemaSize+1))
	assert.ErrorContains(t, err, "exceeds")
}

func TestLoadRegistryMissingFile(t *testing.T) {
	_, err := LoadRegistry(t.TempDir() + "/none.json")
	assert.ErrorIs(t, err, os.ErrNotExist)
}
