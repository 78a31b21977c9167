package txntoken

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ReplayCache records used token ids ("jti" in the flat layout, "txn" in the
// IETF layout). Implementations are safe for concurrent use and must be
// atomic: of two concurrent calls with the same id, exactly one reports
// true.
type ReplayCache interface {
	// First reports true the first time id is seen. expiresAt is the last
	// instant the JWT verifier accepts the token: its "exp" plus the
	// verifier's clock leeway, on the service's clock. Every later call
	// with id must report false until at least expiresAt by that clock.
	// A cache whose records expire on another clock must add a margin for
	// the skew. An error means the cache could not decide, so the
	// middleware responds with 503 and does not accept the token.
	First(ctx context.Context, id string, expiresAt time.Time) (bool, error)
}

// ErrReplayCacheFull reports a MemoryReplayCache at MaxEntries whose entries
// have not expired yet. Forgetting one of them would let its token be used
// again, so the cache fails instead.
var ErrReplayCacheFull = errors.New("txntoken: replay cache is full")

// Defaults for MemoryReplayCacheConfig.
const (
	DefaultReplayMaxEntries    = 1 << 20
	DefaultReplaySweepInterval = 30 * time.Second
	// DefaultReplayLeeway is the margin a MemoryReplayCache keeps ids
	// beyond expiresAt.
	DefaultReplayLeeway = time.Minute
)

// MemoryReplayCacheConfig configures NewMemoryReplayCache.
type MemoryReplayCacheConfig struct {
	// MaxEntries bounds the ids held. Default DefaultReplayMaxEntries
	// (about 100 MB at most; each entry keeps a SHA-256 of the id and a
	// time).
	MaxEntries int
	// SweepInterval is how often expired ids are dropped in the background.
	// Default DefaultReplaySweepInterval.
	SweepInterval time.Duration
	// Leeway is how long past expiresAt an id stays recorded. The
	// Verifier already passes "exp" plus the JWT verifier's leeway as
	// expiresAt, so this is an extra margin, for callers of First that
	// pass the bare "exp" and for clock steps. Default DefaultReplayLeeway.
	// A negative value also means the default, because a shorter record
	// could let a token be used again.
	Leeway time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// MemoryReplayCache is an in-process ReplayCache. It protects a single
// service instance only; services with several replicas need a shared
// cache. Call Close to stop its sweeper.
type MemoryReplayCache struct {
	maxEntries int
	leeway     time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries map[[32]byte]time.Time

	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
}

// NewMemoryReplayCache returns a cache and starts its sweeper.
func NewMemoryReplayCache(cfg MemoryReplayCacheConfig) *MemoryReplayCache {
	c := &MemoryReplayCache{
		maxEntries: cfg.MaxEntries,
		leeway:     cfg.Leeway,
		now:        cfg.Now,
		entries:    make(map[[32]byte]time.Time),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if c.maxEntries <= 0 {
		c.maxEntries = DefaultReplayMaxEntries
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.leeway <= 0 {
		c.leeway = DefaultReplayLeeway
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultReplaySweepInterval
	}
	go c.sweepLoop(interval)
	return c
}

// First implements ReplayCache. Ids are kept as SHA-256 digests, so long ids
// cost no more memory than short ones. Each id is kept until expiresAt plus
// the Leeway. An id presented after that reports false, because the cache
// will not record it and so cannot vouch for a first use.
func (c *MemoryReplayCache) First(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	key := sha256.Sum256([]byte(id))
	now := c.now()
	// The margin covers callers that pass the bare exp, and clock steps:
	// forgetting an id while a verifier still accepts its token would
	// allow unlimited uses.
	expiresAt = expiresAt.Add(c.leeway)

	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.entries[key]; ok && now.Before(exp) {
		return false, nil
	}
	if !now.Before(expiresAt) {
		return false, nil
	}
	if len(c.entries) >= c.maxEntries {
		c.sweepLocked(now)
		if len(c.entries) >= c.maxEntries {
			return false, ErrReplayCacheFull
		}
	}
	c.entries[key] = expiresAt
	return true, nil
}

// Len returns the number of ids held, expired or not.
func (c *MemoryReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// Sweep drops expired ids now.
func (c *MemoryReplayCache) Sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked(c.now())
}

// Close stops the sweeper. It is safe to call more than once. The cache
// keeps working after Close, without background sweeps.
func (c *MemoryReplayCache) Close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

func (c *MemoryReplayCache) sweepLoop(interval time.Duration) {
	defer close(c.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.Sweep()
		}
	}
}

func (c *MemoryReplayCache) sweepLocked(now time.Time) {
	for k, exp := range c.entries {
		if !now.Before(exp) {
			delete(c.entries, k)
		}
	}
}
