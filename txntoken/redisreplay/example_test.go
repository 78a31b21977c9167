package redisreplay_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/txntoken/redisreplay"
)

// Example records a token id twice. It needs a Redis server on
// localhost:6379, so go test compiles it but does not run it. The package
// tests run the same steps against a server they start.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	cache, err := redisreplay.New(redisreplay.Config{Client: rdb})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()

	exp := time.Now().Add(time.Minute)
	first, err := cache.First(ctx, "txn-7d3f", exp)
	fmt.Println(first, err)
	replay, err := cache.First(ctx, "txn-7d3f", exp)
	fmt.Println(replay, err)
}
