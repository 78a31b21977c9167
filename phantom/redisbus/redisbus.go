package redisbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/internal/rediserr"
	"github.com/tokenpattern/tokenpattern/phantom"
)

// DefaultChannel is the channel used when Config.Channel is empty.
const DefaultChannel = "tokenpattern:revocations"

// DefaultHealthCheckInterval is the HealthCheckInterval used when
// Config.HealthCheckInterval is zero.
const DefaultHealthCheckInterval = 3 * time.Second

// DefaultMaxReconnectDelay is the MaxReconnectDelay used when
// Config.MaxReconnectDelay is zero.
const DefaultMaxReconnectDelay = time.Second

// resetPayload is the message PublishReset sends. A digest message is always
// 64 hex digits, so the two cannot be confused.
const resetPayload = "reset"

// minReconnectDelay is the first wait after a lost subscription; the wait
// doubles on each failed attempt up to the configured maximum.
const minReconnectDelay = 50 * time.Millisecond

// Config configures a Bus.
type Config struct {
	// Client is the Redis connection; required. A *redis.Client, a
	// *redis.ClusterClient or a Sentinel failover client all work. Set
	// ContextTimeoutEnabled in its options so that the deadline of the
	// context passed to Publish bounds the command.
	Client redis.UniversalClient

	// Channel is the pub/sub channel. Every auth server and gateway that
	// shares revocations must use the same one. Default DefaultChannel.
	Channel string

	// HealthCheckInterval is how long the subscription may stay silent
	// before the Bus sends a PING. A PING left unanswered for another
	// interval counts as a lost subscription. Default
	// DefaultHealthCheckInterval.
	HealthCheckInterval time.Duration

	// MaxReconnectDelay caps the wait between attempts to resubscribe.
	// Default DefaultMaxReconnectDelay.
	MaxReconnectDelay time.Duration

	// Logger receives lost-subscription, resubscription and
	// malformed-message reports. Default nil: silent.
	Logger *slog.Logger
}

// Bus is a phantom.RevocationBus on Redis pub/sub. It is safe for
// concurrent use. Close it to stop its subscription.
type Bus struct {
	client      redis.UniversalClient
	channel     string
	healthCheck time.Duration
	maxDelay    time.Duration
	logger      *slog.Logger

	mu      sync.Mutex
	subs    map[uint64]func(phantom.RevocationEvent)
	nextID  uint64
	started bool
	closed  bool
	pubsub  *redis.PubSub // current subscription; nil between attempts

	// subscribed is closed and replaced under mu as the subscription goes
	// up and down, so WaitSubscribed can wait on it.
	subscribed chan struct{}
	up         bool

	stop chan struct{} // closed by Close
	done chan struct{} // closed when the subscription goroutine returns

	resets    atomic.Uint64
	events    atomic.Uint64
	malformed atomic.Uint64
}

var _ phantom.RevocationBus = (*Bus)(nil)

// New returns a Bus for cfg. It opens no connection: Publish uses the
// client's pool, and the first Subscribe starts the subscription.
func New(cfg Config) (*Bus, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisbus: Config.Client is nil; pass a redis.UniversalClient such as redis.NewClient(&redis.Options{Addr: ...})")
	}
	if cfg.HealthCheckInterval < 0 {
		return nil, fmt.Errorf("redisbus: Config.HealthCheckInterval is negative (%v); use zero for the default of %v", cfg.HealthCheckInterval, DefaultHealthCheckInterval)
	}
	if cfg.MaxReconnectDelay < 0 {
		return nil, fmt.Errorf("redisbus: Config.MaxReconnectDelay is negative (%v); use zero for the default of %v", cfg.MaxReconnectDelay, DefaultMaxReconnectDelay)
	}
	b := &Bus{
		client:      cfg.Client,
		channel:     cfg.Channel,
		healthCheck: cfg.HealthCheckInterval,
		maxDelay:    cfg.MaxReconnectDelay,
		logger:      cfg.Logger,
		subs:        make(map[uint64]func(phantom.RevocationEvent)),
		subscribed:  make(chan struct{}),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if b.channel == "" {
		b.channel = DefaultChannel
	}
	if b.healthCheck == 0 {
		b.healthCheck = DefaultHealthCheckInterval
	}
	if b.maxDelay == 0 {
		b.maxDelay = DefaultMaxReconnectDelay
	}
	return b, nil
}

// Publish sends a revocation event for digest to every subscribed Bus on the
// channel, in this process and others. It returns once Redis has accepted
// the message; delivery to subscribers follows asynchronously.
func (b *Bus) Publish(ctx context.Context, digest [32]byte) error {
	if err := b.client.Publish(ctx, b.channel, hex.EncodeToString(digest[:])).Err(); err != nil {
		return fmt.Errorf("redisbus: publish revocation: %w", rediserr.WithContext(ctx, err))
	}
	return nil
}

// PublishReset makes every subscribed Bus on the channel send a Reset event,
// so that every gateway drops its positive cache. Use it when the digests of
// revoked tokens are not known, for example after revoking every session of
// a subject.
func (b *Bus) PublishReset(ctx context.Context) error {
	if err := b.client.Publish(ctx, b.channel, resetPayload).Err(); err != nil {
		return fmt.Errorf("redisbus: publish reset: %w", rediserr.WithContext(ctx, err))
	}
	return nil
}

// Subscribe calls fn for every event until unsubscribe is called. The first
// call starts the subscription in the background; use WaitSubscribed to
// know when it is active. fn runs on the Bus's goroutine and must be quick;
// it must not call Close, which waits for that goroutine to return. fn may
// still run once for an event already being delivered when unsubscribe is
// called.
// After Close, Subscribe registers nothing and unsubscribe does nothing.
func (b *Bus) Subscribe(fn func(phantom.RevocationEvent)) (unsubscribe func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return func() {}
	}
	id := b.nextID
	b.nextID++
	b.subs[id] = fn
	if !b.started {
		b.started = true
		go b.run()
	}
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

// WaitSubscribed blocks until the subscription is active, or ctx ends.
// Events published before that moment are not delivered. It returns an
// error if Subscribe was never called or the Bus is closed.
func (b *Bus) WaitSubscribed(ctx context.Context) error {
	for {
		b.mu.Lock()
		started, closed, up, ch := b.started, b.closed, b.up, b.subscribed
		b.mu.Unlock()
		switch {
		case closed:
			return errors.New("redisbus: bus is closed")
		case !started:
			return errors.New("redisbus: no subscription to wait for; call Subscribe first")
		case up:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("redisbus: wait for subscription: %w", ctx.Err())
		}
	}
}

// Close stops the subscription and waits for its goroutine to return. It
// does not close the Redis client, which belongs to the caller. Close may be
// called more than once.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started := b.started
	close(b.stop)
	if b.pubsub != nil {
		// Closing the connection ends a blocked receive at once.
		_ = b.pubsub.Close()
	}
	if !b.up {
		close(b.subscribed) // wake WaitSubscribed callers
	}
	b.mu.Unlock()
	if started {
		<-b.done
	}
	return nil
}

// Stats are counters of a Bus since New.
type Stats struct {
	// Events counts digest events handed to subscribers.
	Events uint64
	// Resets counts Reset events handed to subscribers, whether caused by a
	// lost subscription or by PublishReset.
	Resets uint64
	// Malformed counts messages on the channel that were neither a digest
	// nor a reset, and were dropped.
	Malformed uint64
}

// Stats returns the Bus's counters.
func (b *Bus) Stats() Stats {
	return Stats{Events: b.events.Load(), Resets: b.resets.Load(), Malformed: b.malformed.Load()}
}

func (b *Bus) deliver(ev phantom.RevocationEvent) {
	if ev.Reset {
		b.resets.Add(1)
	} else {
		b.events.Add(1)
	}
	b.mu.Lock()
	fns := make([]func(phantom.RevocationEvent), 0, len(b.subs))
	for _, fn := range b.subs {
		fns = append(fns, fn)
	}
	b.mu.Unlock()
	// Calling outside the lock lets fn unsubscribe without a deadlock.
	for _, fn := range fns {
		fn(ev)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
