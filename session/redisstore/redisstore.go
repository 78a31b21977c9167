package redisstore

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/tokenpattern/tokenpattern/internal/rediserr"
	"github.com/tokenpattern/tokenpattern/session"
)

// DefaultKeyPrefix is the key prefix used when Config.KeyPrefix is empty.
// The braces make it a Redis Cluster hash tag, so all of the store's keys
// share one slot.
const DefaultKeyPrefix = "{tokenpattern:session}:"

// Config configures a Store.
type Config struct {
	// Client is the Redis connection; required. A *redis.Client, a
	// *redis.ClusterClient or a Sentinel failover client all work. Set
	// ContextTimeoutEnabled in its options so that the deadline of the
	// context passed to each method bounds its command; without it go-redis
	// waits for its own read and write timeouts. A cluster client that
	// reads from replicas is rejected, since a replica may still hold a
	// session that the primary has revoked.
	Client redis.UniversalClient

	// KeyPrefix starts every key of the store. Records live under
	// KeyPrefix+"s:"+hex digest and subject indexes under
	// KeyPrefix+"u:"+subject. On a *redis.ClusterClient the prefix must
	// contain a hash tag such as "{sessions}", because one script touches
	// several keys. Default DefaultKeyPrefix.
	KeyPrefix string

	// Now is the store's clock, which decides whether a record is past its
	// deadline. Share it with the session.Manager's clock. Default time.Now.
	Now func() time.Time
}

// Store is a session.Store on Redis. It is safe for concurrent use, keeps no
// state of its own and starts no goroutine, so any number of Stores in any
// number of processes can share one Redis.
type Store struct {
	client       redis.UniversalClient
	recordPrefix string
	indexPrefix  string
	now          func() time.Time
}

var _ session.Store = (*Store)(nil)

// New returns a Store for cfg.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("redisstore: Config.Client is nil; pass a redis.UniversalClient such as redis.NewClient(&redis.Options{Addr: ...})")
	}
	prefix := cfg.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	if cluster, ok := cfg.Client.(*redis.ClusterClient); ok {
		if !hasHashTag(prefix) {
			return nil, fmt.Errorf("redisstore: Config.KeyPrefix %q has no hash tag, which Redis Cluster needs to keep the store's keys in one slot; put one in braces, as in %q", prefix, DefaultKeyPrefix)
		}
		// Get is a plain read, which such a client may send to a replica
		// that has not yet applied a revoke.
		if o := cluster.Options(); o.ReadOnly || o.RouteByLatency || o.RouteRandomly {
			return nil, errors.New("redisstore: Config.Client routes reads to replicas (ReadOnly, RouteByLatency or RouteRandomly is set), where a revoked session can still look live; pass a client that reads from primaries")
		}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{client: cfg.Client, recordPrefix: prefix + "s:", indexPrefix: prefix + "u:", now: now}, nil
}

// hasHashTag reports whether key contains a non-empty {...} section, which
// Redis Cluster hashes in place of the whole key.
func hasHashTag(key string) bool {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return false
	}
	closing := strings.IndexByte(key[open+1:], '}')
	return closing > 0
}

// recordData is the JSON in a record's data field: everything the scripts
// never read. IdleTimeout is kept here exactly; the idle field holds it in
// milliseconds for the scripts.
type recordData struct {
	ID          string            `json:"id"`
	Attributes  map[string]string `json:"attrs,omitempty"`
	CreatedAt   int64             `json:"created"`
	IdleTimeout time.Duration     `json:"idle_ns,omitempty"`
}

// Create implements session.Store.
func (st *Store) Create(ctx context.Context, digest [32]byte, s *session.Session) error {
	if s == nil {
		return errors.New("redisstore: Create called with a nil session")
	}
	if err := checkUTF8(s); err != nil {
		return err
	}
	data, err := json.Marshal(recordData{
		ID:          s.ID,
		Attributes:  s.Attributes,
		CreatedAt:   s.CreatedAt.UnixMilli(),
		IdleTimeout: s.IdleTimeout,
	})
	if err != nil {
		return fmt.Errorf("redisstore: encode session: %w", err)
	}
	lastSeen, idle, expires := s.LastSeenAt.UnixMilli(), s.IdleTimeout.Milliseconds(), s.ExpiresAt.UnixMilli()
	if s.IdleTimeout > 0 && idle == 0 {
		// The scripts read 0 as "no idle timeout", so a timeout shorter
		// than their millisecond resolution must not round down to it.
		idle = 1
	}
	deadline := expires
	if idle > 0 && lastSeen+idle < expires {
		deadline = lastSeen + idle
	}
	member := hex.EncodeToString(digest[:])

	status, err := createScript.Run(ctx, st.client,
		[]string{st.recordPrefix + member, st.indexPrefix + s.Subject},
		st.nowMillis(), member, s.Subject, data, lastSeen, idle, expires, deadline,
	).Text()
	if err != nil {
		return st.failed(ctx, "create session", err)
	}
	return statusError(status)
}

// checkUTF8 rejects text that JSON cannot carry: encoding/json would
// replace each invalid byte with U+FFFD, so Get would return attributes
// other than those stored.
func checkUTF8(s *session.Session) error {
	if !utf8.ValidString(s.ID) {
		return errors.New("redisstore: invalid session ID: not valid UTF-8, which the JSON record cannot keep; use UTF-8 text")
	}
	for k, v := range s.Attributes {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("redisstore: invalid attribute %q: not valid UTF-8, which the JSON record cannot keep; use UTF-8 text", strings.ToValidUTF8(k, "\uFFFD"))
		}
	}
	return nil
}

// Get implements session.Store. One HGETALL reads the record, so Get needs
// no script.
func (st *Store) Get(ctx context.Context, digest [32]byte) (*session.Session, error) {
	fields, err := st.client.HGetAll(ctx, st.recordKey(digest)).Result()
	if err != nil {
		return nil, st.failed(ctx, "get session", err)
	}
	switch {
	case fields["revoked"] != "":
		return nil, session.ErrRevoked
	case len(fields) == 0:
		return nil, session.ErrNotFound
	}
	deadline, err := strconv.ParseInt(fields["dl"], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: corrupt record: deadline %q: %w", fields["dl"], err)
	}
	if deadline <= st.nowMillis() {
		return nil, session.ErrExpired
	}
	return decode(fields["sub"], fields["data"], fields["ls"], fields["exp"])
}

// Touch implements session.Store.
func (st *Store) Touch(ctx context.Context, digest [32]byte, at time.Time) error {
	member := hex.EncodeToString(digest[:])
	status, err := touchScript.Run(ctx, st.client,
		[]string{st.recordPrefix + member},
		st.nowMillis(), at.UnixMilli(), st.indexPrefix, member,
	).Text()
	if err != nil {
		return st.failed(ctx, "touch session", err)
	}
	return statusError(status)
}

// Rotate implements session.Store.
func (st *Store) Rotate(ctx context.Context, oldDigest, newDigest [32]byte, at time.Time) (*session.Session, error) {
	oldMember, newMember := hex.EncodeToString(oldDigest[:]), hex.EncodeToString(newDigest[:])
	reply, err := rotateScript.Run(ctx, st.client,
		[]string{st.recordPrefix + oldMember, st.recordPrefix + newMember},
		st.nowMillis(), at.UnixMilli(), st.indexPrefix, oldMember, newMember,
	).StringSlice()
	if err != nil {
		return nil, st.failed(ctx, "rotate session", err)
	}
	if len(reply) == 0 {
		return nil, errors.New("redisstore: rotate session: empty reply from script")
	}
	if err := statusError(reply[0]); err != nil {
		return nil, err
	}
	if len(reply) != 6 {
		return nil, fmt.Errorf("redisstore: rotate session: script returned %d values, expected 6", len(reply))
	}
	return decode(reply[1], reply[2], reply[3], reply[5])
}

// Delete implements session.Store.
func (st *Store) Delete(ctx context.Context, digest [32]byte) error {
	member := hex.EncodeToString(digest[:])
	status, err := deleteScript.Run(ctx, st.client,
		[]string{st.recordPrefix + member},
		st.nowMillis(), st.indexPrefix, member,
	).Text()
	if err != nil {
		return st.failed(ctx, "delete session", err)
	}
	return statusError(status)
}

// DeleteSubject implements session.Store.
func (st *Store) DeleteSubject(ctx context.Context, subject string) (int, error) {
	n, err := deleteSubjectScript.Run(ctx, st.client,
		[]string{st.indexPrefix + subject},
		st.nowMillis(), st.recordPrefix,
	).Int()
	if err != nil {
		return 0, st.failed(ctx, "delete sessions of subject", err)
	}
	return n, nil
}

func (st *Store) recordKey(digest [32]byte) string {
	return st.recordPrefix + hex.EncodeToString(digest[:])
}

func (st *Store) nowMillis() int64 {
	return st.now().UnixMilli()
}

// failed wraps a Redis error. The result never matches
// session.ErrInvalidToken, so callers treat it as a store failure.
func (st *Store) failed(ctx context.Context, op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w", op, rediserr.WithContext(ctx, err))
}

// statusError maps a script's status to the session.Store errors.
func statusError(status string) error {
	switch status {
	case statusOK:
		return nil
	case statusNotFound:
		return session.ErrNotFound
	case statusExpired:
		return session.ErrExpired
	case statusRevoked:
		return session.ErrRevoked
	case statusExists:
		return session.ErrExists
	}
	return fmt.Errorf("redisstore: unexpected script status %q", status)
}

// decode rebuilds a session from a record's fields.
func decode(subject, data, lastSeen, expires string) (*session.Session, error) {
	var d recordData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("redisstore: corrupt record: data: %w", err)
	}
	ls, err := strconv.ParseInt(lastSeen, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: corrupt record: last seen %q: %w", lastSeen, err)
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: corrupt record: expiry %q: %w", expires, err)
	}
	return &session.Session{
		ID:          d.ID,
		Subject:     subject,
		Attributes:  d.Attributes,
		CreatedAt:   time.UnixMilli(d.CreatedAt),
		LastSeenAt:  time.UnixMilli(ls),
		IdleTimeout: d.IdleTimeout,
		ExpiresAt:   time.UnixMilli(exp),
	}, nil
}
