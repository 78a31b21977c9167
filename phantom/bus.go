package phantom

import (
	"context"
	"sync"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// TokenDigest returns the SHA-256 of an opaque token: the key under which
// caches hold it and the value that revocation events carry.
func TokenDigest(token string) [32]byte { return bearer.Digest(token) }

// RevocationEvent tells gateway caches that a token was revoked.
type RevocationEvent struct {
	// Digest is the SHA-256 of the revoked opaque token, as [TokenDigest]
	// computes it.
	Digest [32]byte
	// Reset reports that the subscription may have missed events, for
	// example after a reconnect; a cache then drops every positive entry.
	Reset bool
}

// RevocationBus carries revocation events from auth servers to gateway
// caches. [LocalBus] is the in-process implementation; a distributed one
// delivers the same events across processes.
type RevocationBus interface {
	// Publish announces that the token with this digest was revoked. It
	// returns once the event is handed to the transport, not once every
	// subscriber has seen it.
	Publish(ctx context.Context, digest [32]byte) error
	// Subscribe calls fn for every event until unsubscribe is called. fn
	// must be quick and must not call back into the bus.
	Subscribe(fn func(RevocationEvent)) (unsubscribe func())
}

// LocalBus is a RevocationBus inside one process: Publish calls every
// subscriber synchronously, so an eviction has happened when Publish
// returns. The zero value is ready to use.
type LocalBus struct {
	mu     sync.RWMutex
	nextID uint64
	subs   map[uint64]func(RevocationEvent)
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus {
	return &LocalBus{}
}

// Publish delivers an event for digest to every current subscriber.
func (b *LocalBus) Publish(ctx context.Context, digest [32]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.deliver(RevocationEvent{Digest: digest})
	return nil
}

// PublishReset delivers a Reset event, which makes subscribed caches drop
// every positive entry.
func (b *LocalBus) PublishReset() {
	b.deliver(RevocationEvent{Reset: true})
}

func (b *LocalBus) deliver(ev RevocationEvent) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, fn := range b.subs {
		fn(ev)
	}
}

// Subscribe registers fn; the returned function removes it and may be
// called more than once.
func (b *LocalBus) Subscribe(fn func(RevocationEvent)) (unsubscribe func()) {
	b.mu.Lock()
	if b.subs == nil {
		b.subs = make(map[uint64]func(RevocationEvent))
	}
	id := b.nextID
	b.nextID++
	b.subs[id] = fn
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}
