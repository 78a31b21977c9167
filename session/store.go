package session

import (
	"context"
	"errors"
	"time"
)

// ErrExists reports that a store already holds a record under the digest
// given to Create or Rotate. With 256-bit tokens it signals a bug or a
// broken random source, not bad luck, so it is not an ErrInvalidToken.
var ErrExists = errors.New("session: a session is already stored under this digest")

// Store keeps sessions on the server. Every method is one operation that an
// implementation must make atomic (a Redis store runs each as one Lua
// script or MULTI transaction), so a Manager never needs two calls where a
// concurrent revoke could slip in between.
//
// Keys are digests: bearer.Digest(token), the SHA-256 of the raw token. A
// store never receives the raw token, so a dump of its contents cannot be
// replayed, and its lookups are by hash, whose timing tells nothing about
// the raw value.
//
// A record is live from Create until its deadline, [Session.Deadline]: the
// earlier of ExpiresAt and LastSeenAt plus IdleTimeout. After the deadline
// a store may keep the record for a while, but every method must treat it
// as gone and report an error matching ErrExpired or ErrNotFound; it must
// never return it. A store reads "now" from its own clock, so the clocks of
// the store and of the Manager that writes the timestamps must agree.
//
// Delete, DeleteSubject and the old digest of Rotate leave a tombstone: until
// the record's deadline at the time of removal, every method given that
// digest reports ErrRevoked. After that deadline ErrRevoked or ErrNotFound
// are both allowed. A digest the store never held reports ErrNotFound.
//
// Errors matching ErrInvalidToken (ErrNotFound, ErrExpired, ErrRevoked)
// describe the record; any other error means the store failed, and callers
// fail closed on it. Implementations are safe for concurrent use. The
// session/storetest package checks all of this for any Store.
type Store interface {
	// Create stores s under digest. It returns ErrExists if any record,
	// live or tombstone, holds digest. The store keeps its own copy of the
	// Session struct; Attributes may be shared and are never modified.
	Create(ctx context.Context, digest [32]byte, s *Session) error

	// Get returns a copy of the live session stored under digest. Changing
	// the copy's fields does not change the store.
	Get(ctx context.Context, digest [32]byte) (*Session, error)

	// Touch records a use of the session at the instant at: LastSeenAt
	// becomes at if at is later, which slides the idle deadline but never
	// moves it past ExpiresAt. A session that is gone, expired or revoked
	// is not revived; Touch reports why with the errors listed on Store.
	Touch(ctx context.Context, digest [32]byte, at time.Time) error

	// Rotate moves the live session under oldDigest to newDigest in one
	// step, sets its LastSeenAt to at (if later) and leaves a tombstone
	// under oldDigest, so the old token fails from that moment. It returns
	// a copy of the moved session. If newDigest is taken it returns
	// ErrExists and changes nothing.
	Rotate(ctx context.Context, oldDigest, newDigest [32]byte, at time.Time) (*Session, error)

	// Delete revokes the session under digest. Deleting a digest that
	// holds no live session reports why with the errors listed on Store.
	Delete(ctx context.Context, digest [32]byte) error

	// DeleteSubject revokes every live session whose Subject is subject,
	// including sessions moved by Rotate, and returns how many it revoked.
	// Sessions of other subjects are untouched.
	DeleteSubject(ctx context.Context, subject string) (int, error)
}
