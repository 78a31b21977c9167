package rediserr_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tokenpattern/tokenpattern/internal/rediserr"
)

func TestWithContext(t *testing.T) {
	netErr := errors.New("read tcp: i/o timeout")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	passed, cancelPassed := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPassed()
	live, cancelLive := context.WithTimeout(context.Background(), time.Hour)
	defer cancelLive()

	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		wantCtx error
	}{
		{"live context", live, netErr, nil},
		{"canceled", canceled, netErr, context.Canceled},
		{"deadline passed", passed, netErr, context.DeadlineExceeded},
		{"already wrapped", canceled, context.Canceled, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rediserr.WithContext(tc.ctx, tc.err)
			assert.ErrorIs(t, got, tc.err, "the original error stays visible")
			if tc.wantCtx != nil {
				assert.ErrorIs(t, got, tc.wantCtx)
			} else {
				assert.Equal(t, tc.err, got)
			}
		})
	}
	assert.NoError(t, rediserr.WithContext(canceled, nil))
}
