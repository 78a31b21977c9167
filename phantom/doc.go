// Package phantom implements the phantom-token pattern: public clients hold
// only an opaque token, and the API gateway exchanges it at the auth
// server's RFC 7662 introspection endpoint for a JWT that only internal
// services see. Both ends are here.
//
// The auth-server side is a [Server]: an introspection handler that
// authenticates registered clients (client_secret_basic or
// client_secret_post, secrets stored as SHA-256 and compared in constant
// time), returns {"active":false} for any unusable token, adds a JWT
// minted by a [Minter] for clients with AllowJWT (never outliving the
// opaque token), signs RFC 9701 answers on request, and an RFC 7009
// revocation handler that publishes each revocation on a [RevocationBus].
// A [RouteMinter] lets one endpoint mint identity JWTs and, for requests
// that carry "operation", transaction tokens.
//
// The gateway side is a [Gateway]: middleware that takes the opaque token
// from "Authorization: Bearer" or a cookie, exchanges it through a
// [Client] (2 s deadline, size caps, strict parser, JWT verified before
// use), forwards only the JWT, and checks per-route scopes. Its [Cache] is
// keyed by the token's SHA-256, bounded, coalesces concurrent misses into
// one call, remembers inactive tokens briefly, and evicts a token at once
// when the bus reports its revocation. An inactive token gets 401; an auth
// server that is down, slow, broken or rejects the gateway gets 503.
// [Validator] offers plain introspection to session.Middleware: one call
// per request from [NewValidator], or a short cache that the bus still
// evicts at once from [NewCachedValidator].
//
// Switches that weaken the defaults: ClientConfig.InsecureAllowHTTP (plain
// http to a non-loopback auth server) and ClientConfig.AllowScopeArray
// (accept "scope" as a JSON array).
//
//	client, _ := phantom.NewClient(phantom.ClientConfig{
//		Endpoint: "https://auth.example/introspect", ClientID: "gateway",
//		ClientSecret: secret, Verifier: jwtVerifier,
//	})
//	gw, _ := phantom.NewGateway(phantom.GatewayConfig{Client: client, Bus: bus})
//	mux.Handle("/orders/", gw.Middleware("orders:read")(reverseProxy))
package phantom
