package jwtutil

import (
	"sync"
	"time"
)

// maxCacheShards spreads the cache over independent locks so concurrent
// requests rarely contend. The key is a SHA-256 digest, so its first bytes
// pick a shard uniformly.
const maxCacheShards = 16

// tokenCache maps the digest of (verifier policy, token) to verified
// claims. It keeps at most its size in entries: the size is split over the
// shards, and a cache smaller than maxCacheShards has one shard per entry.
// When a shard is full, an insert first drops expired entries among the few
// it examines, and otherwise evicts an arbitrary one, which approximates
// random replacement.
type tokenCache struct {
	maxAge time.Duration
	shards []cacheShard
}

type cacheShard struct {
	mu       sync.Mutex
	capacity int
	entries  map[[32]byte]cacheEntry
}

type cacheEntry struct {
	claims  *Claims
	expires time.Time
}

func newTokenCache(size int, maxAge time.Duration) *tokenCache {
	n := min(size, maxCacheShards)
	c := &tokenCache{maxAge: maxAge, shards: make([]cacheShard, n)}
	for i := range c.shards {
		// The first size%n shards take one entry more, so the capacities
		// add up to size exactly.
		c.shards[i].capacity = size / n
		if i < size%n {
			c.shards[i].capacity++
		}
		c.shards[i].entries = make(map[[32]byte]cacheEntry)
	}
	return c
}

// shard picks the shard of key. Two bytes keep the choice near uniform when
// the shard count does not divide 256.
func (c *tokenCache) shard(key [32]byte) *cacheShard {
	return &c.shards[(int(key[0])<<8|int(key[1]))%len(c.shards)]
}

func (c *tokenCache) get(key [32]byte, now time.Time) (*Claims, bool) {
	s := c.shard(key)
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
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[key]; !ok && len(s.entries) >= s.capacity {
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
