package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/phantom/redisbus"
)

// redisWait bounds each wait on Redis: connecting, subscribing, and a
// revocation reaching the gateways.
const redisWait = 5 * time.Second

// sharedRevocation carries revocations over Redis pub/sub, as separate auth
// server and gateway processes would share them. Each Bus has its own
// connection pool, so each gateway has its own subscription.
type sharedRevocation struct {
	addr      string
	stdout    io.Writer
	clients   []*redis.Client
	buses     []*redisbus.Bus
	publisher *redisbus.Bus
}

// newSharedRevocation connects to the Redis server at addr and returns the
// auth server's bus. It prints its progress to stdout.
func newSharedRevocation(ctx context.Context, addr string, stdout io.Writer) (*sharedRevocation, error) {
	s := &sharedRevocation{addr: addr, stdout: stdout}
	client := s.newClient()
	pingCtx, cancel := context.WithTimeout(ctx, redisWait)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s (start one with redis-server --port PORT, or drop -redis): %w", addr, err)
	}
	var err error
	if s.publisher, err = s.newBus(client); err != nil {
		s.Close()
		return nil, err
	}
	fmt.Fprintf(s.stdout, "revocations travel over Redis pub/sub at %s, channel %q\n", addr, redisbus.DefaultChannel)
	return s, nil
}

func (s *sharedRevocation) newClient() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.addr, ContextTimeoutEnabled: true})
	s.clients = append(s.clients, c)
	return c
}

func (s *sharedRevocation) newBus(client *redis.Client) (*redisbus.Bus, error) {
	bus, err := redisbus.New(redisbus.Config{Client: client})
	if err != nil {
		return nil, err
	}
	s.buses = append(s.buses, bus)
	return bus, nil
}

// gatewayBus returns a bus for one more gateway, on its own connection.
func (s *sharedRevocation) gatewayBus() (phantom.RevocationBus, error) {
	return s.newBus(s.newClient())
}

// waitSubscribed waits until every gateway's bus is listening, so that no
// revocation published afterwards is missed.
func (s *sharedRevocation) waitSubscribed(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, redisWait)
	defer cancel()
	for _, bus := range s.buses {
		if bus == s.publisher {
			continue
		}
		if err := bus.WaitSubscribed(ctx); err != nil {
			return err
		}
	}
	return nil
}

// waitEvicted waits until every gateway has evicted a revoked token and
// prints how long that took after start. Pub/sub delivers asynchronously,
// unlike the in-process bus, so the gateways may lag Publish slightly.
func (s *sharedRevocation) waitEvicted(start time.Time, gateways ...*phantom.Gateway) error {
	deadline := start.Add(redisWait)
	for i, gw := range gateways {
		for gw.Stats().Evictions == 0 {
			if time.Now().After(deadline) {
				return fmt.Errorf("gateway %d did not evict the revoked token within %v", i+1, redisWait)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	fmt.Fprintf(s.stdout, "%d gateways evicted the token %v after the revocation request\n", len(gateways), time.Since(start).Round(time.Microsecond))
	return nil
}

// Close stops every bus and closes every client.
func (s *sharedRevocation) Close() {
	for _, bus := range s.buses {
		_ = bus.Close()
	}
	for _, c := range s.clients {
		_ = c.Close()
	}
}

// statusOf sends GET base+path with token and returns the status.
func statusOf(ctx context.Context, base, path, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// expectStatus checks that gateway number n returns status want for path
// and prints the status to stdout.
func expectStatus(ctx context.Context, stdout io.Writer, n int, base, path, token string, want int) error {
	status, err := statusOf(ctx, base, path, token)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gateway %d: GET %-8s -> %d\n", n, path, status)
	if status != want {
		return fmt.Errorf("gateway %d: GET %s returned status %d, expected %d", n, path, status, want)
	}
	return nil
}
