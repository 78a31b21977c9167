package redisstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/session"
	"github.com/tokenpattern/tokenpattern/session/redisstore"
)

// Example issues a session on one Manager and validates it on another, as
// two replicas sharing one Redis would. It needs a Redis server on
// localhost:6379, so go test compiles it but does not run it. The package
// tests run the same steps against a server they start.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	newManager := func() *session.Manager {
		store, err := redisstore.New(redisstore.Config{Client: rdb})
		if err != nil {
			panic(err)
		}
		m, err := session.NewManager(session.ManagerConfig{Store: store})
		if err != nil {
			panic(err)
		}
		return m
	}
	replicaA, replicaB := newManager(), newManager()

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	token, _, err := replicaA.Issue(ctx, "alice", map[string]string{"scope": "read"})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := replicaB.ValidateToken(ctx, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Subject, s.Scopes())
}
