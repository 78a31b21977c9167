// Package tokenpattern is the root of a library that gives Go services the
// four token patterns of API security as small middleware-first packages.
// This package holds no code; import the subpackage for the pattern you use.
//
// # Session ID: package session
//
// The client holds an opaque random string that carries no data. Every
// service looks it up in a server-side store, so revocation is immediate and
// a stolen token reveals nothing, but every request costs a store or
// auth-server round trip. Tokens have a prefix and a checksum, so secret
// scanners can find leaked ones and typos fail before any lookup; stores key
// sessions by the token's SHA-256, never the token itself.
//
// # JWT: packages jwtutil and jwks
//
// The client holds a signed token that each service verifies locally against
// the issuer's published keys: no call to the auth server, but the claims are
// readable by anyone who holds the token, and revocation waits for expiry.
// package jwks fetches, caches and rotates key sets (and runs the issuer's key
// ring); package jwtutil signs and verifies with strict defaults: only the
// algorithms the selected key supports (never "none", never HMAC with a
// public key), required exp, issuer and audience checks, and no key lookup
// from token headers.
//
// # Phantom token: package phantom
//
// Public clients hold only an opaque token. The API gateway exchanges it at
// the auth server's RFC 7662 introspection endpoint for a short-lived JWT, and
// only that JWT travels to internal services. The client learns nothing from
// its token; services keep local verification. The gateway caches exchanges
// by token digest, coalesces concurrent lookups and evicts a revoked token the
// moment the auth server publishes the revocation.
//
// # Transaction token: package txntoken
//
// The exchanged JWT is bound to one operation (txn_tag such as
// payment_initiate) and its parameters (such as amount), so a token leaked by
// one service cannot be replayed against another or for another amount. A
// versioned, typed claim schema shared by issuer and services keeps the
// claims consistent, a compatibility check catches breaking schema changes
// before deployment, and per-operation size budgets keep tokens small. Both
// a flat layout and the layout of draft-ietf-oauth-transaction-tokens-10 are
// supported.
//
// # Choosing
//
//	pattern      client holds   verified where                 revoked                 a stolen token gives
//	session      opaque token   store, on every request        at once                 access until revoked
//	JWT          signed JWT     each service, locally          not before exp          access and readable claims
//	phantom      opaque token   gateway, then services (JWT)   at once, by event       access until revoked
//	transaction  opaque token   each service, per operation    seconds, single use     one operation, once
//
// Every package offers net/http middleware of the form
// func(http.Handler) http.Handler, a FromContext accessor for what it
// verified, and RFC 6750 error responses. Redis-backed stores live in
// subpackages that only their importers compile.
package tokenpattern
