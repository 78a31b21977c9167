package clocktest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := New(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "reading the clock must not move it")

	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())

	c.Advance(-30 * time.Second)
	assert.Equal(t, start.Add(time.Minute), c.Now())

	later := start.Add(time.Hour)
	c.Set(later)
	assert.Equal(t, later, c.Now())
}

func TestClockConcurrentAdvance(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := New(start)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, start.Add(800*time.Millisecond), c.Now())
}
