package redisbus

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/phantom"
)

// run keeps one subscription alive until Close. Each pass of the loop is one
// connection: subscribe, relay messages until the connection fails, then
// wait and start over. Subscribers get a Reset event when a subscription is
// lost (or cannot be set up) and again when a new one is active, because
// events published in between are gone.
func (b *Bus) run() {
	defer close(b.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-b.stop
		cancel()
	}()

	delay := minReconnectDelay
	lost := false // events may have been missed since the last active subscription
	failed := 0   // failed attempts since the subscription was lost
	for {
		ps, err := b.subscribe(ctx)
		if err == nil {
			if lost {
				b.log(slog.LevelWarn, "redisbus: resubscribed; dropping cached tokens because revocations may have been missed",
					"channel", b.channel, "failed_attempts", failed)
				b.deliver(phantom.RevocationEvent{Reset: true})
			}
			lost, failed, delay = false, 0, minReconnectDelay
			b.setUp(true)
			err = b.relay(ctx, ps)
			b.setUp(false)
			b.release(ps)
		}
		if b.stopped() {
			return
		}

		if !lost {
			lost = true
			b.log(slog.LevelWarn, "redisbus: subscription lost; dropping cached tokens and retrying",
				"channel", b.channel, "error", err)
			b.deliver(phantom.RevocationEvent{Reset: true})
		} else {
			failed++
			b.log(slog.LevelDebug, "redisbus: resubscribe failed", "channel", b.channel, "attempt", failed, "error", err)
		}

		select {
		case <-b.stop:
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, b.maxDelay)
	}
}

// subscribe opens a new pub/sub connection, subscribes to the channel and
// waits for Redis to confirm, after which no published event is missed.
func (b *Bus) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ps := b.client.Subscribe(ctx)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		_ = ps.Close()
		return nil, errors.New("redisbus: bus is closed")
	}
	b.pubsub = ps
	b.mu.Unlock()

	if err := ps.Subscribe(ctx, b.channel); err != nil {
		b.release(ps)
		return nil, fmt.Errorf("subscribe to %q: %w", b.channel, err)
	}
	msg, err := ps.ReceiveTimeout(ctx, b.healthCheck)
	if err != nil {
		b.release(ps)
		return nil, fmt.Errorf("confirm subscription to %q: %w", b.channel, err)
	}
	if sub, ok := msg.(*redis.Subscription); !ok || sub.Kind != "subscribe" || sub.Channel != b.channel {
		b.release(ps)
		return nil, fmt.Errorf("confirm subscription to %q: unexpected reply %v", b.channel, msg)
	}
	return ps, nil
}

// relay hands messages to subscribers until the connection fails. A silent
// connection gets a PING after one health-check interval, and counts as
// lost when the PONG has not come one interval later.
func (b *Bus) relay(ctx context.Context, ps *redis.PubSub) error {
	pingSent := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, b.healthCheck)
		if err != nil {
			if !isTimeout(err) || b.stopped() {
				return err
			}
			if pingSent {
				return fmt.Errorf("no reply to PING within %v", b.healthCheck)
			}
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("send PING: %w", err)
			}
			pingSent = true
			continue
		}
		pingSent = false

		switch m := msg.(type) {
		case *redis.Message:
			b.handle(m.Payload)
		case *redis.Subscription:
			// go-redis reconnects a PubSub by itself after some errors.
			// A second confirmation means that happened, and events may
			// have been missed in between.
			if m.Kind == "subscribe" {
				b.log(slog.LevelWarn, "redisbus: subscription renewed by the client; dropping cached tokens because revocations may have been missed",
					"channel", b.channel)
				b.deliver(phantom.RevocationEvent{Reset: true})
			}
		}
	}
}

// handle turns one message into an event. Anyone who may publish on the
// channel can only evict cache entries this way, never add one.
func (b *Bus) handle(payload string) {
	if payload == resetPayload {
		b.deliver(phantom.RevocationEvent{Reset: true})
		return
	}
	var ev phantom.RevocationEvent
	if len(payload) != 2*len(ev.Digest) {
		b.dropMalformed(payload)
		return
	}
	if _, err := hex.Decode(ev.Digest[:], []byte(payload)); err != nil {
		b.dropMalformed(payload)
		return
	}
	b.deliver(ev)
}

// dropMalformed counts a message that is neither a digest nor a reset. It
// logs the 1st, 2nd, 4th, 8th... one so a flood cannot flood the log.
func (b *Bus) dropMalformed(payload string) {
	n := b.malformed.Add(1)
	if n&(n-1) == 0 {
		b.log(slog.LevelWarn, "redisbus: dropped malformed revocation message; expected 64 hex digits or \"reset\"",
			"channel", b.channel, "length", len(payload), "dropped_total", n)
	}
}

func (b *Bus) setUp(up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.up == up {
		return
	}
	b.up = up
	if up {
		close(b.subscribed)
	} else {
		b.subscribed = make(chan struct{})
	}
}

func (b *Bus) release(ps *redis.PubSub) {
	b.mu.Lock()
	if b.pubsub == ps {
		b.pubsub = nil
	}
	b.mu.Unlock()
	_ = ps.Close()
}

func (b *Bus) stopped() bool {
	select {
	case <-b.stop:
		return true
	default:
		return false
	}
}

func (b *Bus) log(level slog.Level, msg string, args ...any) {
	if b.logger != nil {
		b.logger.Log(context.Background(), level, msg, args...)
	}
}
