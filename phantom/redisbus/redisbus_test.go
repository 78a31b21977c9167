package redisbus_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/internal/redistest"
	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/phantom/redisbus"
)

// waitEvent bounds every wait for an event. Delivery on loopback takes
// about a millisecond; the bound only stops a broken test from hanging.
const waitEvent = 5 * time.Second

// syncBuffer is a bytes.Buffer safe for the Bus goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func newBus(t *testing.T, client redis.UniversalClient, cfg redisbus.Config) *redisbus.Bus {
	t.Helper()
	cfg.Client = client
	bus, err := redisbus.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, bus.Close()) })
	return bus
}

// subscribe registers a subscriber that queues events, and waits until the
// subscription is active.
func subscribe(t *testing.T, bus *redisbus.Bus) <-chan phantom.RevocationEvent {
	t.Helper()
	events := make(chan phantom.RevocationEvent, 100)
	unsubscribe := bus.Subscribe(func(ev phantom.RevocationEvent) { events <- ev })
	t.Cleanup(unsubscribe)
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	require.NoError(t, bus.WaitSubscribed(ctx))
	return events
}

func next(t *testing.T, events <-chan phantom.RevocationEvent) phantom.RevocationEvent {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(waitEvent):
		t.Fatalf("no event within %v", waitEvent)
		return phantom.RevocationEvent{}
	}
}

func assertNoEvent(t *testing.T, events <-chan phantom.RevocationEvent) {
	t.Helper()
	select {
	case ev := <-events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestPublishReachesEveryBus(t *testing.T) {
	srv := redistest.Start(t)
	publisher := newBus(t, srv.Client(), redisbus.Config{})
	var queues []<-chan phantom.RevocationEvent
	for range 3 {
		queues = append(queues, subscribe(t, newBus(t, srv.Client(), redisbus.Config{})))
	}

	digest := bearer.Digest("opaque-token-1")
	require.NoError(t, publisher.Publish(context.Background(), digest))
	for i, events := range queues {
		ev := next(t, events)
		assert.Equal(t, digest, ev.Digest, "gateway %d", i)
		assert.False(t, ev.Reset, "gateway %d", i)
	}
}

func TestPublishReset(t *testing.T) {
	srv := redistest.Start(t)
	bus := newBus(t, srv.Client(), redisbus.Config{})
	events := subscribe(t, bus)

	require.NoError(t, bus.PublishReset(context.Background()))
	assert.True(t, next(t, events).Reset)
	assert.Equal(t, uint64(1), bus.Stats().Resets)
}

func TestChannelsAreSeparate(t *testing.T) {
	srv := redistest.Start(t)
	a := newBus(t, srv.Client(), redisbus.Config{Channel: "tenant-a"})
	b := newBus(t, srv.Client(), redisbus.Config{Channel: "tenant-b"})
	eventsA, eventsB := subscribe(t, a), subscribe(t, b)

	require.NoError(t, b.Publish(context.Background(), bearer.Digest("t")))
	assert.Equal(t, bearer.Digest("t"), next(t, eventsB).Digest)
	assertNoEvent(t, eventsA)
}

func TestMalformedMessagesDropped(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	logs := &syncBuffer{}
	bus := newBus(t, client, redisbus.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	events := subscribe(t, bus)
	ctx := context.Background()

	for _, payload := range []string{"", "not-hex", "zz" + string(bytes.Repeat([]byte("0"), 62)), "abcd", "RESET"} {
		require.NoError(t, client.Publish(ctx, redisbus.DefaultChannel, payload).Err())
	}
	digest := bearer.Digest("after-garbage")
	require.NoError(t, bus.Publish(ctx, digest))

	assert.Equal(t, digest, next(t, events).Digest, "only the valid message is delivered")
	assert.Equal(t, uint64(5), bus.Stats().Malformed)
	assert.Contains(t, logs.String(), "dropped malformed revocation message")
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	srv := redistest.Start(t)
	bus := newBus(t, srv.Client(), redisbus.Config{})
	kept := subscribe(t, bus)
	dropped := make(chan phantom.RevocationEvent, 1)
	unsubscribe := bus.Subscribe(func(ev phantom.RevocationEvent) { dropped <- ev })
	unsubscribe()
	unsubscribe() // a second call is harmless

	require.NoError(t, bus.Publish(context.Background(), bearer.Digest("x")))
	next(t, kept)
	assertNoEvent(t, dropped)
}

func TestResetAfterServerRestart(t *testing.T) {
	srv := redistest.Start(t)
	logs := &syncBuffer{}
	bus := newBus(t, srv.Client(), redisbus.Config{
		Logger:            slog.New(slog.NewTextHandler(logs, nil)),
		MaxReconnectDelay: 100 * time.Millisecond,
	})
	events := subscribe(t, bus)

	srv.Kill()
	assert.True(t, next(t, events).Reset, "losing the subscription resets the cache at once")
	err := bus.Publish(context.Background(), bearer.Digest("while-down"))
	assert.ErrorContains(t, err, "redisbus: publish revocation")

	srv.Restart()
	assert.True(t, next(t, events).Reset, "resubscribing resets the cache again: events may have been missed")
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	require.NoError(t, bus.WaitSubscribed(ctx))

	digest := bearer.Digest("after-restart")
	require.NoError(t, bus.Publish(context.Background(), digest))
	assert.Equal(t, digest, next(t, events).Digest, "events flow again without a new Bus")

	out := logs.String()
	assert.Contains(t, out, "subscription lost")
	assert.Contains(t, out, "resubscribed")
	assert.Equal(t, uint64(2), bus.Stats().Resets)
}

func TestResetAfterServerHangs(t *testing.T) {
	srv := redistest.Start(t)
	logs := &syncBuffer{}
	bus := newBus(t, srv.Client(), redisbus.Config{
		Logger:              slog.New(slog.NewTextHandler(logs, nil)),
		HealthCheckInterval: 100 * time.Millisecond,
		MaxReconnectDelay:   100 * time.Millisecond,
	})
	events := subscribe(t, bus)

	srv.Pause()
	assert.True(t, next(t, events).Reset, "an unanswered PING counts as a lost subscription")
	assert.Contains(t, logs.String(), "no reply to PING")

	srv.Resume()
	assert.True(t, next(t, events).Reset)
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	require.NoError(t, bus.WaitSubscribed(ctx))
	digest := bearer.Digest("after-hang")
	require.NoError(t, bus.Publish(context.Background(), digest))
	// Messages that reached the hung server may arrive first; skip Resets.
	for {
		ev := next(t, events)
		if !ev.Reset {
			assert.Equal(t, digest, ev.Digest)
			break
		}
	}
}

func TestSubscribeWhileServerDown(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	bus := newBus(t, srv.Client(), redisbus.Config{MaxReconnectDelay: 100 * time.Millisecond})
	events := make(chan phantom.RevocationEvent, 10)
	bus.Subscribe(func(ev phantom.RevocationEvent) { events <- ev })

	assert.True(t, next(t, events).Reset, "a subscription that cannot start counts as lost")
	srv.Restart()
	assert.True(t, next(t, events).Reset)
	ctx, cancel := context.WithTimeout(context.Background(), waitEvent)
	defer cancel()
	require.NoError(t, bus.WaitSubscribed(ctx))
}

func TestPublishHonoursContext(t *testing.T) {
	srv := redistest.Start(t)
	bus := newBus(t, srv.Client(), redisbus.Config{})
	srv.Pause()
	defer srv.Resume()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := bus.Publish(ctx, bearer.Digest("slow"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond)
}

func TestCloseStopsSubscription(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	bus, err := redisbus.New(redisbus.Config{Client: client})
	require.NoError(t, err)
	subscribe(t, bus)

	numSub := func() int64 {
		counts, err := client.PubSubNumSub(context.Background(), redisbus.DefaultChannel).Result()
		require.NoError(t, err)
		return counts[redisbus.DefaultChannel]
	}
	assert.Equal(t, int64(1), numSub())

	require.NoError(t, bus.Close())
	require.NoError(t, bus.Close(), "a second Close is harmless")
	assert.Eventually(t, func() bool { return numSub() == 0 }, waitEvent, 10*time.Millisecond, "Close ends the Redis subscription")
	assert.Error(t, bus.WaitSubscribed(context.Background()))

	noop := bus.Subscribe(func(phantom.RevocationEvent) { t.Error("subscriber called after Close") })
	noop()
	require.NoError(t, client.Publish(context.Background(), redisbus.DefaultChannel, "reset").Err())
}

func TestWaitSubscribedWithoutSubscribe(t *testing.T) {
	srv := redistest.Start(t)
	bus := newBus(t, srv.Client(), redisbus.Config{})
	assert.ErrorContains(t, bus.WaitSubscribed(context.Background()), "call Subscribe first")
}

func TestNewRejectsBadConfig(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = client.Close() })
	tests := []struct {
		name string
		cfg  redisbus.Config
		want string
	}{
		{"no client", redisbus.Config{}, "Config.Client is nil"},
		{"negative health check", redisbus.Config{Client: client, HealthCheckInterval: -1}, "HealthCheckInterval is negative"},
		{"negative reconnect delay", redisbus.Config{Client: client, MaxReconnectDelay: -1}, "MaxReconnectDelay is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redisbus.New(tc.cfg)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}
