// Package jwks supplies the keys that verify and sign JWTs.
//
// A [KeySource] returns verification keys by "kid". [Remote] fetches an
// issuer's JWK Set over https with a timeout and a body size cap. It honours
// Cache-Control max-age (clamped, with jitter) and ETag. An unknown kid
// triggers a refresh at once, at most once per cooldown and with a negative
// cache. Concurrent fetches are shared, failed refreshes keep the last good
// keys up to a maximum age, and unusable keys are skipped instead of
// failing the set. [Static] holds configured keys from a jwk.Set, JWKS JSON or PEM.
// Every key is checked when it is loaded: EC on P-256/384/521, RSA of 2048
// to 8192 bits, Ed25519, HMAC secrets of 32 bytes or more (static sets
// only), "use" "sig", and an "alg" that fits the key. Remote sets never
// accept private or symmetric keys.
//
// On the issuer side, a [KeyRing] generates ES256 (default), EdDSA or RS256
// keys named by their RFC 7638 thumbprint, rotates them on demand or on a
// schedule, keeps retired keys published, and serves the public set with
// [KeyRing.Handler].
//
// The only switch that lowers a default is RemoteConfig.InsecureAllowHTTP.
//
//	ring, _ := jwks.NewKeyRing(jwks.KeyRingConfig{RotateEvery: 24 * time.Hour})
//	http.Handle("/.well-known/jwks.json", ring.Handler())
//
//	// In each verifying service:
//	keys, _ := jwks.NewRemote(jwks.RemoteConfig{URL: "https://issuer.example/.well-known/jwks.json"})
//	defer keys.Close()
package jwks
