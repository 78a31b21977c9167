package jwtutil

import (
	"sync"
	"time"
)

// cacheShards spreads the cache over independent locks so concurrent
// requests rarely contend. The key is a SHA-256 digest, so its first byte
// picks a shard uniformly.
const cacheShards = 16

// tokenCache maps the digest of (verifier policy, token) to verified
// claims. It keeps at most its size in entries. When a shard is full, an
// insert first drops expired entries among the few it examines, and
// otherwise evicts an arbitrary one, which approximates random replacement.
type tokenCache struct {
	maxAge   time.Duration
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
}

type cacheEntry struct {
	claims  *Claims
	expires time.Time
}

func newTokenCache(size int, maxAge time.Duration) *tokenCache {
	per := (size + cacheShards - 1) / cacheShards
	c := &tokenCache{maxAge: maxAge, perShard: per}
	for i := range c.shards {
		c.shards[i].entries = make(map[[32]byte]cacheEntry)
	}
	return c
}

func (c *tokenCache) get(key [32]byte, now time.Time) (*Claims, bool) {
	s := &c.shards[key[0]%cacheShards]
	s.mu.Lock()
	e, ok := s.entries[key]
	if ok && !now.Before(e.expires) {
		delete(s.entries, key)
		ok = false
	}
	s.mu.Unlock()
	return e.claims, ok
}

// put stores claims until their "exp" or maxAge from now, whichever is
// sooner. The leeway is not added to "exp", so a cached result never
// outlives the token's own stated lifetime.
func (c *tokenCache) put(key [32]byte, claims *Claims, now time.Time) {
	expires := now.Add(c.maxAge)
	if claims.ExpiresAt.Before(expires) {
		expires = claims.ExpiresAt
	}
	if !now.Before(expires) {
		return
	}
	s := &c.shards[key[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[key]; !ok && len(s.entries) >= c.perShard {
		s.evict(now)
	}
	s.entries[key] = cacheEntry{claims: claims, expires: expires}
}

// evict removes at least one entry, preferring expired ones among the first
// few that map iteration, which starts at a random position, yields.
func (s *cacheShard) evict(now time.Time) {
	const probe = 8
	var victim [32]byte
	removed, seen := false, 0
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
			removed = true
		} else if seen == 0 {
			victim = k
		}
		seen++
		if seen >= probe {
			break
		}
	}
	if !removed {
		delete(s.entries, victim)
	}
}
