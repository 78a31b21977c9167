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
	// deadlines about one second away, which adds some seconds to the run.
	Advance func(d time.Duration)
}

// Run runs the whole suite against stores from newStore, which expire
// records by the real clock.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	RunWithOptions(t, Options{NewStore: newStore})
}

// RunWithOptions runs the whole suite as configured by o. Each subtest
// gets a fresh store from o.NewStore.
//
// Timestamps are compared at millisecond precision, so a store may keep
// times as Unix milliseconds.
func RunWithOptions(t *testing.T, o Options) {
	t.Helper()
	if o.NewStore == nil {
		t.Fatal("storetest: Options.NewStore is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &suite{Options: o}
	tests := []struct {
		name string
		run  func(t *testing.T, st session.Store)
	}{
		{"CreateThenGet", s.createThenGet},
		{"CreateTakenDigest", s.createTakenDigest},
		{"GetUnknown", s.getUnknown},
		{"GetReturnsCopy", s.getReturnsCopy},
		{"TouchMovesLastSeenForward", s.touchMovesLastSeenForward},
		{"TouchUnknown", s.touchUnknown},
		{"DeleteLeavesTombstone", s.deleteLeavesTombstone},
		{"DeleteUnknown", s.deleteUnknown},
		{"RotateMovesSession", s.rotateMovesSession},
		{"RotateUnknown", s.rotateUnknown},
		{"RotateIntoTakenDigest", s.rotateIntoTakenDigest},
		{"DeleteSubjectIsolation", s.deleteSubjectIsolation},
		{"DeleteSubjectFollowsRotate", s.deleteSubjectFollowsRotate},
		{"AbsoluteExpiry", s.absoluteExpiry},
		{"IdleExpiry", s.idleExpiry},
		{"TouchExtendsIdleDeadline", s.touchExtendsIdleDeadline},
		{"TouchStopsAtExpiresAt", s.touchStopsAtExpiresAt},
		{"DeleteSubjectSkipsExpired", s.deleteSubjectSkipsExpired},
		{"ConcurrentRotateOneWinner", s.concurrentRotateOneWinner},
		{"ConcurrentDeleteOneWinner", s.concurrentDeleteOneWinner},
		{"ConcurrentMixedOperations", s.concurrentMixedOperations},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, o.NewStore(t))
		})
	}
}
