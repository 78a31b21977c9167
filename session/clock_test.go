package session_test

import (
	"time"

	"github.com/tokenpattern/tokenpattern/internal/clocktest"
)

// fakeClock is the manual test clock shared by every component of a test.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock {
	return clocktest.New(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
}
