package phantom

import (
	"container/list"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// Cache defaults.
const (
	DefaultCacheMaxEntries   = 10000
	DefaultCacheMaxTTL       = 5 * time.Minute
	DefaultCacheNegativeTTL  = 5 * time.Second
	DefaultCacheExpiryMargin = 5 * time.Second
)

// CacheConfig configures a [Cache]. The zero value gives the defaults.
type CacheConfig struct {
	// MaxEntries bounds the number of entries, positive and negative; the
	// least recently used entry goes first. Default DefaultCacheMaxEntries.
	MaxEntries int
	// MaxTTL caps how long a positive entry lives, even when the token and
	// its JWT live longer. Default DefaultCacheMaxTTL.
	MaxTTL time.Duration
	// NegativeTTL is how long an inactive answer or a revocation is
	// remembered. Default DefaultCacheNegativeTTL.
	NegativeTTL time.Duration
	// ExpiryMargin ends a positive entry this long before its JWT expires,
	// so that services never receive a JWT about to expire in transit.
	// Default DefaultCacheExpiryMargin.
	ExpiryMargin time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives cache resets; nil is silent.
	Logger *slog.Logger
}

// Cache remembers introspection answers keyed by the SHA-256 of the opaque
// token, so that a dump of its memory holds no usable token. Positive
// entries live until the earliest of the JWT's expiry (minus ExpiryMargin),
// the opaque token's expiry and MaxTTL; negative entries live NegativeTTL.
// Concurrent misses for one token share one introspection call. A Cache is
// safe for concurrent use and may be shared by several gateways that use
// the same [Client]; answers checked by one Client (its Audience, its
// Verifier) must not serve another.
type Cache struct {
	maxEntries int
	maxTTL     time.Duration
	negTTL     time.Duration
	margin     time.Duration
	now        func() time.Time
	logger     *slog.Logger

	group singleflight.Group

	mu      sync.Mutex
	owner   *Client    // the Client whose answers the cache holds
	lru     *list.List // of *cacheEntry, most recently used first
	items   map[[32]byte]*list.Element
	flights map[[32]byte]*flight

	revoked  atomic.Uint64
	evicted  atomic.Uint64
	resets   atomic.Uint64
	rejected atomic.Uint64
}

type cacheEntry struct {
	digest  [32]byte
	result  *Introspection // nil for a negative entry
	expires time.Time
}

// flight records revocation events that arrive while an introspection
// call for its digest is in progress, so that the call's answer, which may
// predate the revocation, is not cached.
type flight struct {
	revoked bool
	reset   bool
}

// CacheStats counts cache events since the cache was created.
type CacheStats struct {
	// Entries is the current number of entries.
	Entries int
	// Revoked counts positive entries removed by revocation events.
	Revoked uint64
	// Evicted counts entries dropped to stay within MaxEntries.
	Evicted uint64
	// Resets counts Reset events and calls.
	Resets uint64
	// RevokedInFlight counts answers discarded because their token was
	// revoked while the introspection call was in progress.
	RevokedInFlight uint64
}

// NewCache returns an empty cache.
func NewCache(cfg CacheConfig) *Cache {
	c := &Cache{
		maxEntries: cfg.MaxEntries,
		maxTTL:     cfg.MaxTTL,
		negTTL:     cfg.NegativeTTL,
		margin:     cfg.ExpiryMargin,
		now:        cfg.Now,
		logger:     cfg.Logger,
		lru:        list.New(),
		items:      make(map[[32]byte]*list.Element),
		flights:    make(map[[32]byte]*flight),
	}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultCacheMaxEntries
	}
	if c.maxTTL <= 0 {
		c.maxTTL = DefaultCacheMaxTTL
	}
	if c.negTTL <= 0 {
		c.negTTL = DefaultCacheNegativeTTL
	}
	if c.margin <= 0 {
		c.margin = DefaultCacheExpiryMargin
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Subscribe makes the cache handle the bus's events until unsubscribe is
// called: a digest event evicts that token's entry at once, and a Reset
// event drops every positive entry.
func (c *Cache) Subscribe(bus RevocationBus) (unsubscribe func()) {
	return bus.Subscribe(c.handleEvent)
}

func (c *Cache) handleEvent(ev RevocationEvent) {
	if ev.Reset {
		c.Reset()
		return
	}
	c.Revoke(ev.Digest)
}

// Revoke removes the positive entry for digest, if any, and remembers the
// token as inactive for NegativeTTL. An introspection call in progress for
// the same digest has its answer discarded.
func (c *Cache) Revoke(digest [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, inFlight := c.flights[digest]
	if inFlight {
		f.revoked = true
	}
	el, cached := c.items[digest]
	if cached && el.Value.(*cacheEntry).result != nil {
		c.revoked.Add(1)
	}
	// A negative entry is only worth its memory when the gateway has seen
	// the token; revocations of tokens it never saw are ignored.
	if cached || inFlight {
		c.putLocked(digest, nil, c.now().Add(c.negTTL))
	}
}

// Reset drops every positive entry and marks every call in progress so its
// answer is not cached. Negative entries stay.
func (c *Cache) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	dropped := 0
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cacheEntry)
		if e.result != nil {
			c.removeLocked(el)
			dropped++
		}
		el = next
	}
	for _, f := range c.flights {
		f.reset = true
	}
	c.resets.Add(1)
	if c.logger != nil {
		c.logger.Warn("phantom: revocation events may have been missed; dropped all positive cache entries", "dropped", dropped)
	}
}

// Len returns the number of entries, including expired ones not yet
// removed.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Entries:         c.Len(),
		Revoked:         c.revoked.Load(),
		Evicted:         c.evicted.Load(),
		Resets:          c.resets.Load(),
		RevokedInFlight: c.rejected.Load(),
	}
}

// bind ties the cache to client, so that answers one Client checked never
// serve a gateway or validator whose Client checks differently.
func (c *Cache) bind(client *Client) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner != nil && c.owner != client {
		return errors.New("phantom: the Cache already serves another Client; give each Client its own Cache")
	}
	c.owner = client
	return nil
}

// lookupSource says where exchange found its answer.
type lookupSource int

const (
	fromPositive  lookupSource = iota // a positive cache entry
	fromNegative                      // a negative cache entry
	fromCall                          // this caller's introspection call
	fromShared                        // another caller's call for the same token
	fromAbandoned                     // none: ctx ended while waiting
)

// exchange returns the answer for token from the cache or, on a miss,
// from fetch, which runs once for all concurrent misses of one token. The
// call serves every waiter, so it runs on a context that the first
// caller's cancellation does not end; fetch must bound it itself.
func (c *Cache) exchange(ctx context.Context, token string, fetch func(context.Context, string, url.Values) (*Introspection, error)) (*Introspection, lookupSource, error) {
	digest := bearer.Digest(token)
	if in, found := c.lookup(digest); found {
		if in == nil {
			return nil, fromNegative, inactive("token recently reported inactive")
		}
		return in, fromPositive, nil
	}
	leader := false
	ch := c.group.DoChan(string(digest[:]), func() (any, error) {
		leader = true
		// A call for this token may have finished between the lookup above
		// and joining the group.
		if in, found := c.lookup(digest); found {
			if in == nil {
				return nil, inactive("token recently reported inactive")
			}
			return in, nil
		}
		f := c.beginFlight(digest)
		in, err := fetch(context.WithoutCancel(ctx), token, nil)
		return c.endFlight(digest, f, in, err)
	})
	select {
	case res := <-ch:
		src := fromShared
		if leader {
			src = fromCall
		}
		if res.Err != nil {
			return nil, src, res.Err
		}
		return res.Val.(*Introspection), src, nil
	case <-ctx.Done():
		return nil, fromAbandoned, ctx.Err()
	}
}

// lookup returns the live entry for digest. A negative entry has a nil
// result.
func (c *Cache) lookup(digest [32]byte) (result *Introspection, found bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[digest]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.removeLocked(el)
		return nil, false
	}
	c.lru.MoveToFront(el)
	return e.result, true
}

// beginFlight registers an introspection call for digest. Calls for one
// digest are serialized by the singleflight group, so there is at most one.
func (c *Cache) beginFlight(digest [32]byte) *flight {
	f := &flight{}
	c.mu.Lock()
	c.flights[digest] = f
	c.mu.Unlock()
	return f
}

// endFlight stores the outcome of the call that beginFlight registered and
// returns what the callers should see. It never lets a positive answer
// replace a live negative entry, and it discards a positive answer when the
// token was revoked while the call was in progress.
func (c *Cache) endFlight(digest [32]byte, f *flight, in *Introspection, err error) (*Introspection, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, digest)
	if err != nil {
		if isInactive(err) {
			c.putLocked(digest, nil, now.Add(c.negTTL))
		}
		return nil, err
	}
	if f.revoked {
		c.rejected.Add(1)
		c.putLocked(digest, nil, now.Add(c.negTTL))
		return nil, inactive("token revoked")
	}
	if el, ok := c.items[digest]; ok {
		e := el.Value.(*cacheEntry)
		if e.result == nil && now.Before(e.expires) {
			return nil, inactive("token recently reported inactive")
		}
	}
	if f.reset {
		return in, nil
	}
	if exp := c.positiveExpiry(in, now); exp.After(now) {
		c.putLocked(digest, in, exp)
	}
	return in, nil
}

// putNegative remembers digest as inactive for NegativeTTL.
func (c *Cache) putNegative(digest [32]byte) {
	now := c.now()
	c.mu.Lock()
	c.putLocked(digest, nil, now.Add(c.negTTL))
	c.mu.Unlock()
}

func (c *Cache) positiveExpiry(in *Introspection, now time.Time) time.Time {
	exp := now.Add(c.maxTTL)
	if !in.ExpiresAt.IsZero() && in.ExpiresAt.Before(exp) {
		exp = in.ExpiresAt
	}
	if !in.jwtExpiresAt.IsZero() {
		if j := in.jwtExpiresAt.Add(-c.margin); j.Before(exp) {
			exp = j
		}
	}
	return exp
}

func (c *Cache) putLocked(digest [32]byte, result *Introspection, expires time.Time) {
	if el, ok := c.items[digest]; ok {
		e := el.Value.(*cacheEntry)
		e.result = result
		e.expires = expires
		c.lru.MoveToFront(el)
		return
	}
	c.items[digest] = c.lru.PushFront(&cacheEntry{digest: digest, result: result, expires: expires})
	for c.lru.Len() > c.maxEntries {
		c.removeLocked(c.lru.Back())
		c.evicted.Add(1)
	}
}

func (c *Cache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.items, e.digest)
}

// digestID returns a short hex prefix of a token digest, for logs.
func digestID(d [32]byte) string {
	return hex.EncodeToString(d[:6])
}

func digestOf(token string) [32]byte {
	return bearer.Digest(token)
}
