// Package txntoken issues and verifies transaction tokens: short-lived
// JWTs bound to one operation (such as "payment_initiate") and carrying
// context claims that a typed, versioned schema governs.
//
// A Registry declares each operation's claims (string with max length,
// pattern and enum; integer and number with min and max; boolean; each
// required or optional), lifetime, audience and size budget, built in Go
// or loaded from one JSON document that every service shares. Compare
// reports breaking schema changes for CI, and WorstCaseSize bounds the
// encoded token per signing algorithm.
//
// Every transaction token carries the header "typ" txntoken+jwt (JWTType)
// in both layouts, the explicit typing RFC 8725 section 3.11 recommends.
// A jwtutil.Verifier left at its default type ("JWT" or absent) rejects
// it, so a leaked transaction token cannot pass for the user's access
// token, and a txntoken Verifier rejects an identity JWT. Configure the
// jwtutil.Verifier of a Verifier with Config.Type set to JWTType;
// NewVerifier refuses one that would reject transaction tokens. The
// layouts share the type because their claims already tell them apart:
// each Verifier rejects the other layout's tokens.
//
// By default a Verifier checks, beyond what its jwtutil.Verifier checks
// (signature, issuer, audience, expiry): "typ" is txntoken+jwt, the
// operation matches the route (else 403 insufficient_scope), "sub", "iat"
// and the token id are present, the operation's audience is named, every
// context claim is declared and valid and every required one is present
// (else 401). Optional per route: request binding (Bind) and replay
// protection (ReplayCache). There are no Skip or Insecure switches.
//
// Two layouts share the schema. LayoutFlat, the default, puts "txn_tag" and
// the context claims at the top level and travels in Authorization.
// LayoutIETF follows draft-ietf-oauth-transaction-tokens-10: "txn",
// "scope", "req_wl", the context in "tctx", request context in "rctx", the
// Txn-Token header, and issuance through the RFC 8693 token exchange
// (ExchangeHandler).
//
//	issuer, _ := txntoken.NewIssuer(txntoken.IssuerConfig{Registry: reg, Keys: ring, TrustDomain: "https://bank.example"})
//	// phantom.ServerConfig{Minter: issuer, ...} answers operation=payment_initiate&amount=500
//	jv, _ := jwtutil.NewVerifier(jwtutil.Config{Keys: keys, Issuer: iss, Audience: auds, Type: txntoken.JWTType})
//	v, _ := txntoken.NewVerifier(txntoken.VerifierConfig{Registry: reg, JWT: jv, Replay: cache})
//	mux.Handle("POST /pay", v.Require("payment_initiate", txntoken.BodyField("amount", "amount"))(pay))
//	// in the handler:
//	tc, _ := txntoken.FromContext(r.Context())
//	amount, _ := tc.Values.Int("amount")
package txntoken
