// Package storetest checks that an implementation of session.Store keeps
// the contract documented on that interface. It is meant for tests only:
// call Run (or RunWithOptions) from a test of the store's own package.
package storetest

import (
	"testing"
	"time"

	"github.com/tokenpattern/tokenpattern/session"
)

// Options configures RunWithOptions.
type Options struct {
	// NewStore returns an empty store for one subtest. Required. Register
	// any cleanup, such as Close, with t.Cleanup.
	NewStore func(t *testing.T) session.Store
	// Now is the store's clock, used to build session timestamps.
	// Default time.Now.
	Now func() time.Time
	// Advance moves the store's clock forward by d. Default nil: the store
	// expires by real time, and the expiry tests wait in real time for
	// deadlines a few hundred milliseconds away.
	Advance func(d time.Duration)
}

// Run runs the whole suite against stores from newStore, which expire
// records by the real clock.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	RunWithOptions(t, Options{NewStore: newStore})
}

// RunWithOptions runs the whole suite as configured by o.
func RunWithOptions(t *testing.T, o Options) {
	t.Helper()
	// TODO: the suite itself lands in the next commit.
}
