package txntoken_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tokenpattern/tokenpattern/jwks"
	"github.com/tokenpattern/tokenpattern/jwtutil"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

const exampleSchema = `{
  "operations": {
    "payment_initiate": {
      "version": 1,
      "audience": "https://payments.example",
      "max_size": 1024,
      "claims": {"amount": {"type": "integer", "required": true, "min": 1, "max": 100000}}
    },
    "user_profile": {"version": 1, "claims": {}}
  }
}`

// Example mints a payment_initiate token for amount 500 and sends it to a
// payment service, to a profile service, with a different amount, and twice.
func Example() {
	reg, err := txntoken.ParseRegistry([]byte(exampleSchema))
	if err != nil {
		panic(err)
	}
	ring, err := jwks.NewKeyRing(jwks.KeyRingConfig{})
	if err != nil {
		panic(err)
	}
	issuer, err := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: ring, Issuer: "https://txn.example", TrustDomain: "https://bank.example"})
	if err != nil {
		panic(err)
	}
	// Type makes the verifier accept "typ" txntoken+jwt and nothing else,
	// so no identity JWT passes for a transaction token.
	jv, err := jwtutil.NewVerifier(jwtutil.Config{Keys: ring, Issuer: "https://txn.example", Audience: []string{"https://payments.example", "https://bank.example"}, Type: txntoken.JWTType})
	if err != nil {
		panic(err)
	}
	replay := txntoken.NewMemoryReplayCache(txntoken.MemoryReplayCacheConfig{})
	defer replay.Close()
	v, err := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: reg, JWT: jv, Replay: replay})
	if err != nil {
		panic(err)
	}

	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tc, _ := txntoken.FromContext(r.Context())
		amount, _ := tc.Values.Int("amount")
		fmt.Fprintf(w, "paid %d for %s", amount, tc.Subject)
	})
	payments := httptest.NewServer(v.Require("payment_initiate", txntoken.BodyField("amount", "amount"))(ok))
	defer payments.Close()
	profile := httptest.NewServer(v.Require("user_profile")(ok))
	defer profile.Close()

	token, err := issuer.Mint(context.Background(), txntoken.MintRequest{
		Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": "500"},
	})
	if err != nil {
		panic(err)
	}
	send := func(name, url, body string) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(name, resp.StatusCode)
	}
	send("payment:", payments.URL, `{"amount":500}`)
	send("profile:", profile.URL, `{}`)
	send("amount 999:", payments.URL, `{"amount":999}`)
	send("second use:", payments.URL, `{"amount":500}`)

	_, err = issuer.Mint(context.Background(), txntoken.MintRequest{
		Subject: "alice", Operation: "payment_initiate", Claims: map[string]any{"amount": "five hundred"},
	})
	fmt.Println(err)
	// Output:
	// payment: 200
	// profile: 403
	// amount 999: 401
	// second use: 401
	// txntoken: operation "payment_initiate": claim "amount" must be an integer
}

// ExampleCompare shows the check CI runs before deploying a schema change.
func ExampleCompare() {
	v1, _ := txntoken.ParseRegistry([]byte(`{"operations":{"pay":{"version":1,"claims":{
		"amount":{"type":"integer","required":true,"max":1000}}}}}`))
	v2, _ := txntoken.ParseRegistry([]byte(`{"operations":{"pay":{"version":2,"claims":{
		"amount":{"type":"integer","required":true,"max":500},
		"memo":{"type":"string","max_length":40}}}}}`))
	report := txntoken.Compare(v1, v2)
	for _, c := range report.Changes {
		fmt.Println(c)
	}
	fmt.Println("breaking:", report.Breaking())
	// Output:
	// BREAKING range_narrowed operation=pay claim=amount: max 1000 -> 500
	// safe     claim_added operation=pay claim=memo: new optional claim; deploy verifiers before issuers
	// breaking: true
}

// ExampleRegistry_WorstCaseSize prints the largest possible token of an
// operation per signing algorithm.
func ExampleRegistry_WorstCaseSize() {
	reg, _ := txntoken.ParseRegistry([]byte(`{"max_subject_length":32,"operations":{"payment_initiate":{"version":1,
		"claims":{"amount":{"type":"integer","required":true,"min":1,"max":100000}}}}}`))
	for _, alg := range []string{"HS256", "ES256", "EdDSA", "RS256"} {
		n, _ := reg.WorstCaseSize("payment_initiate", txntoken.SizeParams{Algorithm: alg, Audience: "https://bank.example"})
		fmt.Println(alg, n)
	}
	// Output:
	// HS256 623
	// ES256 666
	// EdDSA 666
	// RS256 922
}
