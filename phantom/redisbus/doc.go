// Package redisbus is a phantom.RevocationBus on Redis pub/sub, so that a
// token revoked at any auth server is evicted at once from the phantom-token
// caches of every gateway.
//
// Publish sends the hex SHA-256 digest of the revoked token (never the token)
// on one channel. Each Bus that has subscribers keeps one pub/sub connection
// and hands every event to them. Redis pub/sub does not store messages, so a
// subscriber that loses its connection may miss events: the Bus then sends
// a RevocationEvent with Reset set (the cache drops every positive entry)
// when it notices the loss, and again once it has resubscribed, and logs
// both. Health-check pings find a server that hangs without closing the
// connection. The package has no Skip or Insecure switches.
//
//	bus, err := redisbus.New(redisbus.Config{Client: rdb, Logger: logger})
//	if err != nil { ... }
//	defer bus.Close()
//	unsubscribe := cache.Subscribe(bus) // gateway side
//	// auth server side: pass bus as phantom.ServerConfig.Bus, which
//	// publishes sha256.Sum256([]byte(token)) for each revoked token
package redisbus
