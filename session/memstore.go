package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Defaults for MemoryStoreConfig.
const (
	DefaultSweepInterval = time.Minute
	DefaultMaxSessions   = 1 << 20
)

// ErrStoreFull reports that a MemoryStore holds MaxSessions records.
var ErrStoreFull = errors.New("session: memory store is full")

// MemoryStoreConfig configures a MemoryStore. The zero value is ready to use.
type MemoryStoreConfig struct {
	// Now is the store's clock, which decides whether a record is past its
	// deadline. Default time.Now. Share it with the Manager's clock.
	Now func() time.Time
	// SweepInterval is how often the background goroutine deletes records
	// past their deadline. Default DefaultSweepInterval (one minute).
	SweepInterval time.Duration
	// MaxSessions bounds the records held, tombstones included, so a flood
	// of logins or rotations cannot exhaust memory. Create and Rotate return
	// ErrStoreFull beyond it.
	// Default DefaultMaxSessions (1,048,576).
	MaxSessions int
}

// MemoryStore is the in-memory Store: one map keyed by digest plus an index
// by subject, under one mutex, so each operation is O(1) except
// DeleteSubject, which is O(sessions of that subject). A goroutine deletes
// expired records every SweepInterval until Close. Data does not survive a
// restart and is not shared between processes.
type MemoryStore struct {
	now         func() time.Time
	maxSessions int

	mu        sync.RWMutex
	records   map[[32]byte]*memoryRecord
	bySubject map[string]map[[32]byte]struct{}

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// memoryRecord is one session or tombstone. session is never modified after
// Create, so Get can copy it under the read lock; the mutable LastSeenAt
// lives beside it.
type memoryRecord struct {
	session  *Session
	lastSeen time.Time
	deadline time.Time
	revoked  bool
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns a MemoryStore and starts its sweeper goroutine.
// Call Close to stop it.
func NewMemoryStore(cfg MemoryStoreConfig) *MemoryStore {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	m := &MemoryStore{
		now:         cfg.Now,
		maxSessions: cfg.MaxSessions,
		records:     make(map[[32]byte]*memoryRecord),
		bySubject:   make(map[string]map[[32]byte]struct{}),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	go m.sweepLoop(cfg.SweepInterval)
	return m
}

// Close stops the sweeper goroutine and waits for it to exit. The store
// keeps working afterwards, without background sweeping. Close is safe to
// call more than once.
func (m *MemoryStore) Close() error {
	if m.stop == nil {
		// A zero MemoryStore never started a sweeper.
		return nil
	}
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
	return nil
}

func (m *MemoryStore) sweepLoop(interval time.Duration) {
	defer close(m.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-ticker.C:
			m.Sweep()
		}
	}
}

// Sweep deletes every record and tombstone past its deadline and returns
// how many it deleted. The sweeper goroutine calls it; tests with a fake
// clock may call it directly.
//
// NOTE: Sweep holds the write lock for one pass over all records, which
// pauses other operations for a few milliseconds per million sessions.
func (m *MemoryStore) Sweep() int {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for digest, rec := range m.records {
		if now.Before(rec.deadline) {
			continue
		}
		if !rec.revoked {
			m.unindex(rec.session.Subject, digest)
		}
		delete(m.records, digest)
		n++
	}
	return n
}

// Len returns the number of records held, tombstones included.
func (m *MemoryStore) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.records)
}

// Create implements Store.
func (m *MemoryStore) Create(_ context.Context, digest [32]byte, s *Session) error {
	if s == nil {
		return errors.New("session: Create called with a nil session")
	}
	snapshot := *s
	rec := &memoryRecord{session: &snapshot, lastSeen: s.LastSeenAt, deadline: s.Deadline()}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records == nil {
		return errors.New("session: MemoryStore is not initialized; create it with NewMemoryStore")
	}
	if _, ok := m.records[digest]; ok {
		return ErrExists
	}
	if len(m.records) >= m.maxSessions {
		return ErrStoreFull
	}
	m.records[digest] = rec
	m.index(s.Subject, digest)
	return nil
}

// Get implements Store.
func (m *MemoryStore) Get(_ context.Context, digest [32]byte) (*Session, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec, err := m.live(digest, now)
	if err != nil {
		return nil, err
	}
	return rec.copySession(), nil
}

// Touch implements Store.
func (m *MemoryStore) Touch(_ context.Context, digest [32]byte, at time.Time) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.live(digest, now)
	if err != nil {
		return err
	}
	rec.touch(at)
	return nil
}

// Rotate implements Store.
func (m *MemoryStore) Rotate(_ context.Context, oldDigest, newDigest [32]byte, at time.Time) (*Session, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.live(oldDigest, now)
	if err != nil {
		return nil, err
	}
	if _, ok := m.records[newDigest]; ok {
		return nil, ErrExists
	}
	// The old digest stays as a tombstone, so a rotation adds a record.
	if len(m.records) >= m.maxSessions {
		return nil, ErrStoreFull
	}
	moved := &memoryRecord{session: rec.session, lastSeen: rec.lastSeen, deadline: rec.deadline}
	moved.touch(at)
	m.records[newDigest] = moved
	m.index(rec.session.Subject, newDigest)
	m.revoke(oldDigest, rec)
	return moved.copySession(), nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, digest [32]byte) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.live(digest, now)
	if err != nil {
		return err
	}
	m.revoke(digest, rec)
	return nil
}

// DeleteSubject implements Store.
func (m *MemoryStore) DeleteSubject(_ context.Context, subject string) (int, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for digest := range m.bySubject[subject] {
		rec := m.records[digest]
		if now.Before(rec.deadline) {
			n++
		}
		m.revoke(digest, rec)
	}
	return n, nil
}

// live returns the live record under digest, or the Store error that
// reports why there is none. The caller holds m.mu.
func (m *MemoryStore) live(digest [32]byte, now time.Time) (*memoryRecord, error) {
	rec, ok := m.records[digest]
	switch {
	case !ok:
		return nil, ErrNotFound
	case rec.revoked:
		return nil, ErrRevoked
	case !now.Before(rec.deadline):
		return nil, ErrExpired
	}
	return rec, nil
}

// revoke turns rec into a tombstone that lasts until its current deadline.
// The caller holds m.mu for writing.
func (m *MemoryStore) revoke(digest [32]byte, rec *memoryRecord) {
	m.unindex(rec.session.Subject, digest)
	rec.revoked = true
	rec.session = nil
}

func (m *MemoryStore) index(subject string, digest [32]byte) {
	set := m.bySubject[subject]
	if set == nil {
		set = make(map[[32]byte]struct{})
		m.bySubject[subject] = set
	}
	set[digest] = struct{}{}
}

func (m *MemoryStore) unindex(subject string, digest [32]byte) {
	set := m.bySubject[subject]
	delete(set, digest)
	if len(set) == 0 {
		delete(m.bySubject, subject)
	}
}

func (r *memoryRecord) touch(at time.Time) {
	if !at.After(r.lastSeen) {
		return
	}
	r.lastSeen = at
	s := *r.session
	s.LastSeenAt = at
	r.deadline = s.Deadline()
}

func (r *memoryRecord) copySession() *Session {
	s := *r.session
	s.LastSeenAt = r.lastSeen
	return &s
}
