// Package rediserr holds error plumbing shared by the Redis backends.
package rediserr

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WithContext adds the context's error to err when ctx has ended, so that
// errors.Is(err, context.DeadlineExceeded) holds after a timeout. go-redis
// reports a context deadline as a network timeout, which can arrive a moment
// before ctx.Err() turns non-nil, so a passed deadline counts too.
func WithContext(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	ctxErr := ctx.Err()
	if deadline, ok := ctx.Deadline(); ctxErr == nil && ok && !time.Now().Before(deadline) {
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}
