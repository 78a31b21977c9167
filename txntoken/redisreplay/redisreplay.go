package redisreplay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/internal/rediserr"
	"github.com/tokenpattern/tokenpattern/txntoken"
)

// DefaultKeyPrefix is the key prefix used when Config.KeyPrefix is empty.
const DefaultKeyPrefix = "tokenpattern:txn:"

// DefaultLeeway is the Leeway used when Config.Leeway is zero.
const DefaultLeeway = time.Minute

// maxTTL bounds the record lifetime so that adding the leeway and rounding
// to milliseconds cannot overflow a time.Duration.
const maxTTL = time.Duration(math.MaxInt64) - time.Millisecond

// MaxIDLength bounds the ids First accepts. Token ids are short random
// strings, so a longer one points at a bug or an attack.
const MaxIDLength = 1024

// Config configures a Cache.
type Config struct {
	// Client is the Redis connection; required. A *redis.Client, a
	// *redis.ClusterClient or a Sentinel failover client all work. Set
	// ContextTimeoutEnabled in its options so that the deadline of the
	// context passed to First bounds each command; without it go-redis waits
	// for its own read and write timeouts.
	Client redis.UniversalClient

	// KeyPrefix is put in front of every key. Default DefaultKeyPrefix.
	KeyPrefix string

	// Leeway is how long past expiresAt an id stays recorded, a margin for
	// clock skew between service replicas. The txntoken middleware already
	// adds its verifier's clock leeway to expiresAt, so this need not repeat
	// it. Default DefaultLeeway; negative is an error.
	Leeway time.Duration

	// Now returns the current time. Default time.Now.
	Now func() time.Time
}

// Cache records transaction-token ids in Redis. It is safe for concurrent
// use and implements txntoken.ReplayCache.
type Cache struct {
	client redis.UniversalClient
	prefix string
	leeway time.Duration
	now    func() time.Time
}

var _ txntoken.ReplayCache = (*Cache)(nil)

// New returns a Cache for cfg.
func New(cfg Config) (*Cache, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisreplay: Config.Client is nil; pass a redis.UniversalClient such as redis.NewClient(&redis.Options{Addr: ...})")
	}
	if cfg.Leeway < 0 {
		return nil, fmt.Errorf("redisreplay: Config.Leeway is negative (%v); use zero for the default of %v", cfg.Leeway, DefaultLeeway)
	}
	c := &Cache{client: cfg.Client, prefix: cfg.KeyPrefix, leeway: cfg.Leeway, now: cfg.Now}
	if c.prefix == "" {
		c.prefix = DefaultKeyPrefix
	}
	if c.leeway == 0 {
		c.leeway = DefaultLeeway
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// First records id and reports whether this call was the first to do so. The
// record lasts until expiresAt plus the configured leeway, measured on the
// Cache's clock, so the result does not depend on the Redis server's clock.
// An id whose expiresAt has passed is still recorded for the leeway, because
// a verifier with clock leeway may still accept its token.
//
// On any Redis error First returns false with an error wrapping the cause,
// so errors.Is finds context.DeadlineExceeded or context.Canceled.
func (c *Cache) First(ctx context.Context, id string, expiresAt time.Time) (bool, error) {
	if id == "" {
		return false, errors.New("redisreplay: empty token id; the token needs a jti or txn claim")
	}
	if len(id) > MaxIDLength {
		return false, fmt.Errorf("redisreplay: token id of %d bytes exceeds the maximum of %d", len(id), MaxIDLength)
	}
	if expiresAt.IsZero() {
		return false, errors.New("redisreplay: zero expiresAt; the token needs an exp claim")
	}

	// A relative expiry (PX) computed here, not an absolute one (PXAT),
	// keeps skew between this host's clock and Redis's from shortening the
	// record below the window in which the verifier accepts the token.
	remaining := max(expiresAt.Sub(c.now()), 0)
	if remaining > maxTTL-c.leeway {
		return false, fmt.Errorf("redisreplay: invalid expiresAt %v: too far in the future to record the token id; the token needs a realistic exp claim", expiresAt)
	}
	// Redis counts in whole milliseconds; rounding up keeps the record
	// until at least expiresAt plus the leeway.
	ttl := (remaining + c.leeway + time.Millisecond - 1).Truncate(time.Millisecond)
	ok, err := c.client.SetNX(ctx, c.key(id), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redisreplay: record token id: %w", rediserr.WithContext(ctx, err))
	}
	return ok, nil
}

// key returns the Redis key for id. Hashing bounds the key length and keeps
// arbitrary bytes from the token out of key names.
func (c *Cache) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return c.prefix + hex.EncodeToString(sum[:])
}
