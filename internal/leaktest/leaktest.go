// Package leaktest checks that a test's servers and background work have
// stopped by counting goroutines.
package leaktest

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Wait is how long Check waits for goroutines that end asynchronously, such
// as connections that a closed server is still tearing down.
const Wait = 5 * time.Second

// Check fails t unless the number of goroutines falls back to at most
// before within Wait. Take before with runtime.NumGoroutine at the start of
// the test.
func Check(t testing.TB, before int) {
	t.Helper()
	checkWithin(t, before, Wait)
}

func checkWithin(t testing.TB, before int, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "servers and background work stopped")
}
