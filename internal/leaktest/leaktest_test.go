package leaktest

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records failures instead of reporting them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestCheckWaitsForGoroutinesToEnd(t *testing.T) {
	before := runtime.NumGoroutine()
	done := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(done)
	}()
	rec := &recorder{TB: t}
	Check(rec, before)
	assert.False(t, rec.failed, "a goroutine that ends within the wait must pass")
	<-done
}

func TestCheckReportsLeftoverGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := make(chan struct{})
	go func() { <-stop }()
	defer close(stop)

	rec := &recorder{TB: t}
	checkWithin(rec, before, 20*time.Millisecond)
	assert.True(t, rec.failed, "a goroutine still running must fail the check")
}
