package txntoken

import (
	"encoding/json"
	"testing"
)

// FuzzParseClaims feeds arbitrary JSON claims to schema validation. It must
// never panic, and whatever it accepts must satisfy the schema's types and
// bounds again when re-encoded the way Mint writes values.
func FuzzParseClaims(f *testing.F) {
	for _, seed := range []string{
		`{"amount":500}`,
		`{"amount":500,"currency":"EUR","rate":1.5,"express":true,"channel":"web"}`,
		`{"amount":500.0}`,
		`{"amount":-9007199254740993}`,
		`{"amount":1,"currency":"\u0045UR"}`,
		`{"amount":1,"rate":1e400}`,
		`{"amount":1,"x":null}`,
		`[]`,
		`{"amount":1,"amount":2}`,
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
		values, err := op.ParseClaims(claims)
		if err != nil {
			return
		}
		raw := make(map[string]json.RawMessage, values.Len())
		for i := range values.entries {
			b, err := json.Marshal(values.entries[i].encode())
			if err != nil {
				t.Fatalf("re-encoding %s: %v", values.name(i), err)
			}
			raw[values.name(i)] = b
		}
		again, err := op.ParseClaims(raw)
		if err != nil {
			t.Fatalf("accepted values do not validate again: %v", err)
		}
		if again.Len() != values.Len() {
			t.Fatalf("%d values became %d", values.Len(), again.Len())
		}
		for i := range values.entries {
			e, name := &values.entries[i], values.name(i)
			if got := again.find(name); got == nil || *got != *e {
				t.Fatalf("claim %s: %v became %v", name, e.value(), again.Map()[name])
			}
		}
	})
}

// FuzzParseRegistry feeds arbitrary schema documents to the loader, which
// must return a registry or a *SchemaError, never panic.
func FuzzParseRegistry(f *testing.F) {
	f.Add([]byte(referenceSchema))
	f.Add([]byte(`{"operations":{"p":{"version":1,"claims":{"a":{"type":"string","max_length":3,"pattern":"("}}}}}`))
	f.Add([]byte(`{"operations":{"p":{"version":1,"claims":{"a":{"type":"integer","min":1e300}}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRegistry(data)
		if err != nil {
			if _, ok := err.(*SchemaError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}
