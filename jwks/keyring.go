package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// KeyRingConfig configures a [KeyRing]. The zero value is usable: ES256 keys,
// rotation only on [KeyRing.Rotate], retired keys published for an hour.
type KeyRingConfig struct {
	// Algorithm is the JWS algorithm of the generated keys: "ES256" (P-256),
	// "EdDSA" (Ed25519) or "RS256". Default "ES256".
	Algorithm string
	// RSABits is the modulus size for "RS256" keys, at least MinRSABits.
	// Default 2048.
	RSABits int
	// RetireAfter is how long a key stays published after it stopped
	// signing. It must be at least the longest lifetime of a token signed
	// with the ring plus the verifiers' clock leeway, or verifiers reject
	// still-valid tokens after a rotation.
	// Default 1 hour.
	RetireAfter time.Duration
	// RotateEvery rotates the signing key when it has been current this
	// long. The rotation happens on the first use of the ring after the
	// deadline, so no goroutine runs. Default 0: rotate only on Rotate.
	RotateEvery time.Duration
	// CacheMaxAge is the max-age the Handler sends in Cache-Control.
	// Default 5 minutes, lowered to RotateEvery/2 when that is shorter so
	// that verifiers see each upcoming key before it signs.
	CacheMaxAge time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives rotation events. Default nil: silent.
	Logger *slog.Logger
}

// KeyRing holds an issuer's signing keys. It signs with one current key,
// publishes the next key one rotation ahead so that verifiers can cache it
// before it signs, and keeps publishing retired keys for
// [KeyRingConfig.RetireAfter]. Each key's "kid" is its RFC 7638 SHA-256
// thumbprint in base64url. A KeyRing is a [KeySource] for its public keys
// and is safe for concurrent use.
//
// TODO: keys live in memory only. Replicas of one issuer each hold their own
// ring, and a restart drops every key, so run one issuer process for now.
type KeyRing struct {
	alg         string
	rsaBits     int
	retireAfter time.Duration
	rotateEvery time.Duration
	maxAge      time.Duration
	now         func() time.Time
	logger      *slog.Logger

	mu    sync.Mutex // serializes state changes
	state atomic.Pointer[ringState]
}

var _ KeySource = (*KeyRing)(nil)

type ringKey struct {
	private jwk.Key
	public  Key
}

type retiredKey struct {
	ringKey
	until time.Time
}

// ringState is an immutable snapshot; changes replace it whole.
type ringState struct {
	current ringKey
	next    ringKey
	retired []retiredKey
	// rotateAt is when current stops signing; zero without RotateEvery.
	rotateAt time.Time
	// changeAt is the earliest of rotateAt and the retirement ends; zero
	// when nothing is scheduled.
	changeAt time.Time
	index    *keyIndex
	body     []byte
	etag     string
}

// NewKeyRing generates the current and the next signing key.
func NewKeyRing(cfg KeyRingConfig) (*KeyRing, error) {
	r := &KeyRing{
		alg:         cfg.Algorithm,
		rsaBits:     cfg.RSABits,
		retireAfter: cfg.RetireAfter,
		rotateEvery: cfg.RotateEvery,
		maxAge:      cfg.CacheMaxAge,
		now:         cfg.Now,
		logger:      cfg.Logger,
	}
	if r.alg == "" {
		r.alg = "ES256"
	}
	switch r.alg {
	case "ES256", "EdDSA":
		if r.rsaBits != 0 {
			return nil, fmt.Errorf("jwks: RSABits is set but Algorithm is %q; set Algorithm to \"RS256\" or leave RSABits zero", r.alg)
		}
	case "RS256":
		if r.rsaBits == 0 {
			r.rsaBits = MinRSABits
		}
		if r.rsaBits < MinRSABits || r.rsaBits > MaxRSABits {
			return nil, fmt.Errorf("jwks: RSABits %d out of range; use %d to %d", r.rsaBits, MinRSABits, MaxRSABits)
		}
	default:
		return nil, fmt.Errorf("jwks: unsupported key ring algorithm %q; use \"ES256\", \"EdDSA\" or \"RS256\"", cfg.Algorithm)
	}
	if r.retireAfter < 0 || r.rotateEvery < 0 || r.maxAge < 0 {
		return nil, errors.New("jwks: negative duration in KeyRingConfig")
	}
	if r.retireAfter == 0 {
		r.retireAfter = time.Hour
	}
	if r.maxAge == 0 {
		r.maxAge = 5 * time.Minute
		if r.rotateEvery > 0 && r.rotateEvery/2 < r.maxAge {
			r.maxAge = r.rotateEvery / 2
		}
	}
	if r.now == nil {
		r.now = time.Now
	}

	current, err := r.generate()
	if err != nil {
		return nil, err
	}
	next, err := r.generate()
	if err != nil {
		return nil, err
	}
	st, err := r.newState(r.now(), current, next, nil)
	if err != nil {
		return nil, err
	}
	r.state.Store(st)
	return r, nil
}

// SigningKey returns the current private signing key with "kid" and "alg"
// set. The key is shared: callers must not modify it.
func (r *KeyRing) SigningKey() (jwk.Key, error) {
	st, err := r.load()
	if err != nil {
		return nil, err
	}
	return st.current.private, nil
}

// Rotate retires the current key, makes the published next key current and
// generates a new next key. Tokens signed before keep verifying while the
// retired key is published.
func (r *KeyRing) Rotate() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.rotateLocked(r.now())
	return err
}

// Keys returns the published public keys with ID kid, or all of them for
// an empty kid; see [KeySource]. The returned slice is shared: callers must
// not modify it.
func (r *KeyRing) Keys(_ context.Context, kid string) ([]Key, error) {
	st, err := r.load()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if ks, ok := st.index.lookup(kid); ok {
		return ks, nil
	}
	return nil, notFound(kid)
}

// PublicSet returns a new set holding the published public keys: current
// first, then the next key, then retired keys.
func (r *KeyRing) PublicSet() jwk.Set {
	set := jwk.NewSet()
	st, err := r.load()
	if err != nil {
		// load fails only when a due rotation failed, and then the old
		// keys are still valid.
		st = r.state.Load()
	}
	for _, k := range st.index.all {
		// Public keys were built by this package, so AddKey cannot fail.
		_ = set.AddKey(k.JWK)
	}
	return set
}

// load returns the state, first applying a due rotation or retirement.
func (r *KeyRing) load() (*ringState, error) {
	st := r.state.Load()
	if st.changeAt.IsZero() {
		return st, nil
	}
	now := r.now()
	if now.Before(st.changeAt) {
		return st, nil
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	st = r.state.Load()
	if st.changeAt.IsZero() || now.Before(st.changeAt) {
		return st, nil
	}
	if !st.rotateAt.IsZero() && !now.Before(st.rotateAt) {
		return r.rotateLocked(now)
	}
	next, err := r.newState(now, st.current, st.next, st.retired)
	if err != nil {
		return st, err
	}
	r.state.Store(next)
	return next, nil
}

func (r *KeyRing) rotateLocked(now time.Time) (*ringState, error) {
	st := r.state.Load()
	fresh, err := r.generate()
	if err != nil {
		return st, err
	}
	retired := append(st.retired[:len(st.retired):len(st.retired)], retiredKey{ringKey: st.current, until: now.Add(r.retireAfter)})
	next, err := r.newState(now, st.next, fresh, retired)
	if err != nil {
		return st, err
	}
	r.state.Store(next)
	if r.logger != nil {
		r.logger.Info("jwks: signing key rotated", "kid", next.current.public.ID, "retired_kid", st.current.public.ID, "published_kid", fresh.public.ID)
	}
	return next, nil
}

// newState builds a snapshot, dropping retired keys whose time is up.
func (r *KeyRing) newState(now time.Time, current, next ringKey, retired []retiredKey) (*ringState, error) {
	st := &ringState{current: current, next: next}
	if r.rotateEvery > 0 {
		st.rotateAt = now.Add(r.rotateEvery)
		if prev := r.state.Load(); prev != nil && prev.current.public.ID == current.public.ID {
			st.rotateAt = prev.rotateAt
		}
		st.changeAt = st.rotateAt
	}
	keys := []Key{current.public, next.public}
	for _, rk := range retired {
		if !now.Before(rk.until) {
			continue
		}
		st.retired = append(st.retired, rk)
		keys = append(keys, rk.public)
		if st.changeAt.IsZero() || rk.until.Before(st.changeAt) {
			st.changeAt = rk.until
		}
	}
	st.index = newKeyIndex(keys)

	body, err := marshalPublicSet(keys)
	if err != nil {
		return nil, err
	}
	st.body = body
	st.etag = etagOf(body)
	return st, nil
}

// generate makes a new key pair and returns its private JWK with "kid",
// "alg" and "use" set, together with its public half.
func (r *KeyRing) generate() (ringKey, error) {
	var raw any
	var err error
	switch r.alg {
	case "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		raw, err = rsa.GenerateKey(rand.Reader, r.rsaBits)
	}
	if err != nil {
		return ringKey{}, fmt.Errorf("jwks: generate %s key: %v", r.alg, err)
	}

	priv, err := jwk.FromRaw(raw)
	if err != nil {
		return ringKey{}, fmt.Errorf("jwks: convert %s key: %v", r.alg, err)
	}
	thumb, err := priv.Thumbprint(crypto.SHA256)
	if err != nil {
		return ringKey{}, fmt.Errorf("jwks: thumbprint %s key: %v", r.alg, err)
	}
	kid := base64URL(thumb)
	for name, value := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: jwa.SignatureAlgorithm(r.alg),
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := priv.Set(name, value); err != nil {
			return ringKey{}, fmt.Errorf("jwks: set %q on %s key: %v", name, r.alg, err)
		}
	}

	pubJWK, err := jwk.PublicKeyOf(priv)
	if err != nil {
		return ringKey{}, fmt.Errorf("jwks: public half of %s key: %v", r.alg, err)
	}
	pub, err := newKey(pubJWK, keyPolicy{})
	if err != nil {
		return ringKey{}, fmt.Errorf("jwks: generated %s key unusable: %v", r.alg, err)
	}
	return ringKey{private: priv, public: pub}, nil
}
