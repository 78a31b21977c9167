// Package redisreplay is a txntoken.ReplayCache on Redis, so that a
// transaction token is accepted once across every replica of a service.
//
// Each id is recorded with one SET NX carrying an expiry, which Redis runs
// atomically: of any number of concurrent First calls for the same id, on
// any number of hosts, exactly one gets true. Keys hold the SHA-256 of the id
// under a configurable prefix and expire shortly after the token does, so
// the cache never outgrows the set of unexpired tokens.
//
// A token is accepted once only while Redis keeps its record. A Redis
// without persistence loses every recorded id when it restarts, and a
// replica promoted after a failover may lack the last ids written to its
// primary, so a token used just before such an event is accepted once more.
// Run Redis with AOF persistence (appendfsync always for no loss) where
// that matters.
//
// Failures are never read as "first use": when Redis is down, slow or the
// context ends, First returns false and an error, and callers fail closed.
// The package has no Skip or Insecure switches.
//
//	cache, err := redisreplay.New(redisreplay.Config{Client: rdb})
//	// use cache as the ReplayCache of the transaction-token verifier
package redisreplay
