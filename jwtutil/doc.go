// Package jwtutil signs and verifies JSON Web Tokens (RFC 7519) in JWS
// compact form, with keys from package jwks.
//
// By default a [Verifier] checks the following:
//   - a size bound (8 KiB) before any decoding
//   - exactly three segments of strict unpadded base64url
//   - a header without duplicate members, "crit" or "b64"
//   - an "alg" the key supports, never "none" and never HMAC with a public key
//   - the signature over the raw signing input, before "typ" or any claim is read
//   - "typ" of "JWT" or absent
//   - "exp" present and a number; "nbf" and "iat" not in the future (30 seconds of leeway)
//   - "iss" equal to Config.Issuer and "aud" naming one of Config.Audience
//
// Key material in the token's own header ("jwk", "jku",
// "x5c", "x5u") is never used. The switches that turn checks off are
// Config.SkipIssuerCheck, SkipAudienceCheck and SkipTypeCheck.
//
//	v, err := jwtutil.NewVerifier(jwtutil.Config{
//		Keys:     remote, // a jwks.KeySource
//		Issuer:   "https://auth.example.com",
//		Audience: []string{"orders-api"},
//	})
//	...
//	mux.Handle("/orders", v.Middleware(jwtutil.MiddlewareConfig{})(orders))
//	// in the handler:
//	claims, _ := jwtutil.FromContext(r.Context())
//
// A [Signer] issues tokens with the current key of a [SigningKeySource]
// such as a jwks.KeyRing. [InspectUnverified] shows what any holder of a
// token can read, without verifying it.
package jwtutil
