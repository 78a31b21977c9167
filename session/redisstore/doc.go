// Package redisstore is a session.Store on Redis, so that every replica of
// an auth server or application shares one set of sessions.
//
// Records are keyed by the hex SHA-256 digest of the token, never the token.
// Each record is a hash that Redis expires at the session's deadline, the
// earlier of the absolute lifetime and the idle timeout. Each subject has a
// sorted set of its session digests scored by deadline, which is trimmed as
// it changes and expires with its last member. Every write is one Lua script,
// so a concurrent revoke can never be undone by a touch or a rotate.
//
// The store decides whether a record is live by its own clock (Config.Now),
// not by Redis's, and sets key lifetimes relative to that clock, so skew
// between the hosts and Redis does not change which sessions are accepted.
//
// Run Redis with maxmemory-policy noeviction for this store: an eviction
// policy may drop a subject's index under memory pressure, and revoking all
// of that subject's sessions would then miss some of them.
//
// Any Redis failure is returned as an error that does not match
// session.ErrInvalidToken, so the session middleware answers 503, never 401.
// The package has no Skip or Insecure switches.
//
//	store, err := redisstore.New(redisstore.Config{Client: rdb})
//	if err != nil { ... }
//	manager, err := session.NewManager(session.ManagerConfig{Store: store})
package redisstore
