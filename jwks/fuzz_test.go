package jwks

import (
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

func FuzzParseRemoteSet(f *testing.F) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		ring, err := NewKeyRing(KeyRingConfig{Algorithm: alg})
		if err != nil {
			f.Fatal(err)
		}
		body, err := marshalPublicSet(ring.state.Load().index.all)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","d":"AA","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"EdDSA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[1, "x", null, {}]}`))

	f.Fuzz(func(t *testing.T, body []byte) {
		keys, skipped, err := parseRemoteSet(body)
		if err != nil {
			if len(keys) != 0 {
				t.Fatalf("error %v with %d keys", err, len(keys))
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("no error and no keys")
		}
		if len(keys)+len(skipped) > maxRemoteKeys+1 {
			t.Fatalf("%d keys and %d skip reasons exceed the bound", len(keys), len(skipped))
		}
		for _, k := range keys {
			if k.Public == nil || k.JWK == nil {
				t.Fatalf("key %q lacks material", k.ID)
			}
			if _, ok := k.Public.([]byte); ok {
				t.Fatalf("key %q is symmetric", k.ID)
			}
			if private, _ := jwk.IsPrivateKey(k.JWK); private {
				t.Fatalf("key %q is private", k.ID)
			}
		}
	})
}
