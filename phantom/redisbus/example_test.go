package redisbus_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/phantom"
	"github.com/tokenpattern/tokenpattern/phantom/redisbus"
)

// Example shares a revocation between two buses, as an auth server and a
// gateway would. It needs a Redis server on localhost:6379, so go test
// compiles it but does not run it. The package tests run the same steps
// against a server they start.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	gatewayBus, err := redisbus.New(redisbus.Config{Client: rdb, Logger: logger})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer gatewayBus.Close()
	revoked := make(chan phantom.RevocationEvent, 1)
	// A gateway passes the bus to its phantom cache's Subscribe instead.
	gatewayBus.Subscribe(func(ev phantom.RevocationEvent) { revoked <- ev })

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := gatewayBus.WaitSubscribed(ctx); err != nil {
		fmt.Println(err)
		return
	}

	authBus, err := redisbus.New(redisbus.Config{Client: rdb})
	if err != nil {
		fmt.Println(err)
		return
	}
	digest := phantom.TokenDigest("opaque-access-token")
	if err := authBus.Publish(ctx, digest); err != nil {
		fmt.Println(err)
		return
	}
	ev := <-revoked
	fmt.Println(ev.Digest == digest)
}
