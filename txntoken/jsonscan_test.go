package txntoken

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

// FuzzContextObjectOnePass compares the one-pass reading of a "tctx"
// object with decoding it into a map and checking that: whatever the one
// pass accepts, the map path accepts with the same values.
func FuzzContextObjectOnePass(f *testing.F) {
	for _, seed := range []string{
		`{"amount":500}`,
		`{"amount":500,"currency":"EUR","rate":1.5,"express":true,"channel":"web"}`,
		` { "amount" : 5 , "currency" : "EUR" } `,
		`{"\u0061mount":5}`,
		`{"amount":5,"amount":6}`,
		`{"amount":5,"\u0061mount":6}`,
		`{"amount":5,"x":{"a":1,"a":2}}`,
		`{"amount":5,"channel":"a\"b"}`,
		`{"amount":5,"channel":"\ud800"}`,
		`{"amount":5,}`,
		`{"amount":5}x`,
		`{"amount":5,"x":[1,{"y":[true,false,null]}]}`,
		`{"amount":-0,"rate":1e-3}`,
		`null`,
		`[]`,
		`{}`,
	} {
		f.Add(seed)
	}
	op, _ := testRegistry(f).Operation("payment_initiate")
	f.Fuzz(func(t *testing.T, data string) {
		var set claimSet
		if !set.addObject(op, data) {
			return
		}
		got, err := set.values(op, nil)
		if err != nil {
			return
		}
		claims, err := jsonObject([]byte(data))
		if err != nil {
			t.Fatalf("one pass accepted what the map path rejects: %v", err)
		}
		want, err := op.ParseClaims(claims)
		if err != nil {
			t.Fatalf("one pass accepted what ParseClaims rejects: %v", err)
		}
		assert.Equal(t, want.Map(), got.Map())
	})
}

// FuzzScannerValue compares the scanner's acceptance of one JSON value
// with encoding/json: it may refuse more (long numbers, deep nesting) but
// never accept what encoding/json rejects.
func FuzzScannerValue(f *testing.F) {
	for _, seed := range []string{`1`, `-0.5e+3`, `"a\u00e9"`, `[1,[2,{"a":null}]]`, `{"a":}`, `01`, `1.`, `"\x"`, `tru`, `[1,]`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		s := scanner{data: data}
		if !s.value(1) || s.pos != len(data) {
			return
		}
		if !json.Valid([]byte(data)) {
			t.Fatalf("scanner accepted invalid JSON %q", data)
		}
	})
}

// FuzzOrderedClaims compares the fast path for claims in schema order
// with claimSet: whatever the fast path accepts, claimSet accepts with the
// same values, so the fast path never decides a token's fate.
func FuzzOrderedClaims(f *testing.F) {
	for _, seed := range []string{
		`{"account":"DE89","amount":500,"currency":"EUR"}`,
		`{"amount":500,"channel":"web","currency":"EUR","express":true,"rate":1.5}`,
		`{"currency":"EUR","amount":500}`,
		`{"amount":5,"amount":6}`,
		`{"amount":5,"\u0061mount":6}`,
		`{"amount":5,"zzz":1}`,
		`{"aaa":1,"amount":5}`,
		`{"currency":"EUR"}`,
		`{"amount":"5"}`,
		`{"amount":1e3}`,
		`{"amount":-0,"rate":1e-3}`,
		`{}`,
		` { "amount" : 5 ,"channel":"a\\\"b" } `,
		`{"amount":5,"channel":"\\"}`,
		`{"amount":5,"channel":"web"`,
		`{"amount":5 "channel":"web"}`,
		`{"amount":5,"rate":[1]}`,
		"{\"amount\":5,\"channel\":\"a\tb\"}",
		`{"amount":5,"channel":"é"}`,
		`{"amount":5,"channel":""}`,
		`{"amount":5,"channel":"web`,
		`{"amount":5,"express":"true"}`,
		`{"amount":5,"channel":"we\u0062"}`,
	} {
		f.Add(seed)
	}
	op, _ := testRegistry(f).Operation("payment_initiate")
	f.Fuzz(func(t *testing.T, data string) {
		fast := orderedClaims{op: op, ok: true}
		if !fast.takeObject(data) {
			return
		}
		got, ok := fast.values()
		if !ok {
			return
		}
		var set claimSet
		if !set.addObject(op, data) {
			t.Fatalf("fast path accepted what claimSet rejects")
		}
		want, err := set.values(op, nil)
		if err != nil {
			t.Fatalf("fast path accepted what claimSet rejects: %v", err)
		}
		assert.Equal(t, want.entries, got.entries)
	})
}

// FuzzStringClaim checks stringClaim against encoding/json: it accepts a
// string literal or null, without surrounding space, exactly when
// json.Unmarshal into a string does, with the same result.
func FuzzStringClaim(f *testing.F) {
	for _, seed := range []string{`"payment_initiate"`, `""`, `null`, `"a\"b"`, `"\u00e9"`,
		"\"caf\xc3\xa9\"", "\"\xff\"", "\"a\tb\"", `"a"b"`, `"a`, `5`, ` "a"`, `"a" `} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := stringClaim(raw)
		var want string
		err := json.Unmarshal([]byte(raw), &want)
		trimmed := len(raw) > 0 && !isJSONSpace(raw[0]) && !isJSONSpace(raw[len(raw)-1])
		if !ok {
			if err == nil && trimmed {
				t.Fatalf("stringClaim rejected %q, which encoding/json decodes", raw)
			}
			return
		}
		if err != nil {
			t.Fatalf("stringClaim accepted %q, which encoding/json rejects: %v", raw, err)
		}
		assert.Equal(t, want, got)
	})
}
