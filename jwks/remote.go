package jwks

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for RemoteConfig.
const (
	DefaultTimeout            = 5 * time.Second
	DefaultMaxBodySize        = 1 << 20
	DefaultMinRefresh         = 5 * time.Minute
	DefaultMaxRefresh         = 24 * time.Hour
	DefaultUnknownKIDCooldown = 30 * time.Second
	DefaultNegativeCacheTTL   = time.Minute
	DefaultNegativeCacheSize  = 4096
	DefaultMaxStale           = 24 * time.Hour
)

// maxRedirects bounds the redirects the default HTTP client follows.
const maxRedirects = 3

// RemoteConfig configures a [Remote]. Only URL is required.
type RemoteConfig struct {
	// URL is the issuer's JWKS endpoint. It must use https, except for
	// loopback hosts (127.0.0.0/8, ::1, localhost) or with InsecureAllowHTTP.
	URL string
	// InsecureAllowHTTP accepts a plain http URL on a non-loopback host,
	// which lets anyone on the network path replace the issuer's keys.
	InsecureAllowHTTP bool
	// HTTPClient sends the requests. Default: a client that follows at
	// most 3 redirects, only to URLs that pass the same scheme check as
	// URL, and never from https to http. A caller's client keeps its own
	// redirect policy.
	HTTPClient *http.Client
	// Timeout bounds each fetch, from sending the request to reading the
	// last byte of the body. Default DefaultTimeout (5 s).
	Timeout time.Duration
	// MaxBodySize bounds the response body in bytes; a larger body fails
	// the fetch. Default DefaultMaxBodySize (1 MiB).
	MaxBodySize int64
	// MinRefresh and MaxRefresh clamp the refresh interval taken from the
	// response's Cache-Control max-age; a response without max-age is
	// refreshed after MinRefresh. Defaults DefaultMinRefresh (5 min) and
	// DefaultMaxRefresh (24 h).
	MinRefresh, MaxRefresh time.Duration
	// UnknownKIDCooldown is the least time between two refreshes triggered
	// by tokens with an unknown kid, and the longest wait before retrying a
	// failed refresh. Default DefaultUnknownKIDCooldown (30 s).
	UnknownKIDCooldown time.Duration
	// NegativeCacheTTL is how long a kid that stayed unknown after a
	// refresh is reported as not found without another refresh. Default
	// DefaultNegativeCacheTTL (1 min).
	NegativeCacheTTL time.Duration
	// NegativeCacheSize bounds the kids remembered as unknown. Default
	// DefaultNegativeCacheSize (4096).
	NegativeCacheSize int
	// MaxStale is how long after the last successful fetch the keys are
	// still used while refreshes fail. After it, Keys tries a fetch and
	// returns an error wrapping ErrUnavailable if that fails. Default
	// DefaultMaxStale (24 h).
	MaxStale time.Duration
	// Logger receives failed refreshes and skipped keys. Default nil: silent.
	Logger *slog.Logger
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Jitter returns how much earlier than interval to refresh, so that
	// many verifiers started together do not fetch together. Default: a
	// uniform random duration in [0, interval/10).
	Jitter func(interval time.Duration) time.Duration
}

// Remote is a [KeySource] backed by one issuer's JWKS URL. It fetches the
// set on first use. On the first use after the response's max-age runs out,
// it refreshes in the background with If-None-Match and keeps serving the
// cached keys. A token naming an unknown kid triggers a refresh at once, at
// most once per UnknownKIDCooldown.
// Concurrent callers share one fetch. A failed refresh keeps the last good
// keys for up to MaxStale. Create one Remote per URL and share it: every
// Remote keeps its own cache. Call Close when done.
type Remote struct {
	url      string
	shownURL string // redacted, for errors and logs
	client   *http.Client
	// closeIdle is set when client's transport was made by NewRemote,
	// so Close may close its idle connections.
	closeIdle   bool
	timeout     time.Duration
	maxBody     int64
	minRefresh  time.Duration
	maxRefresh  time.Duration
	cooldown    time.Duration
	negativeTTL time.Duration
	negativeMax int
	maxStale    time.Duration
	logger      *slog.Logger
	now         func() time.Time
	jitter      func(time.Duration) time.Duration

	ctx    context.Context // ends on Close and cancels fetches
	cancel context.CancelFunc
	wg     sync.WaitGroup

	state atomic.Pointer[remoteState]

	mu             sync.Mutex
	inflight       *flight
	lastKIDRefresh time.Time
	negative       map[[32]byte]time.Time // SHA-256 of kid to expiry

	fetches     atomic.Int64
	notModified atomic.Int64
	failures    atomic.Int64
}

var _ KeySource = (*Remote)(nil)

// remoteState is an immutable snapshot; each fetch attempt replaces it.
type remoteState struct {
	index       *keyIndex // nil until the first successful fetch
	skipped     int
	etag        string
	fetchedAt   time.Time // last successful fetch, 200 or 304
	staleAt     time.Time // fetchedAt + MaxStale
	refreshAt   time.Time // next fetch: scheduled refresh or retry
	attemptedAt time.Time
	err         error // error of the last attempt, nil if it succeeded
	failures    int   // consecutive failed attempts
}

type flight struct {
	done chan struct{}
	st   *remoteState
	err  error
}

// RemoteStats describes a Remote's fetches, for tests and monitoring.
type RemoteStats struct {
	// Fetches counts HTTP requests sent, including failed ones.
	Fetches int64
	// NotModified counts 304 responses.
	NotModified int64
	// Failures counts failed fetches.
	Failures int64
	// Keys is the number of usable keys held.
	Keys int
	// SkippedKeys is the number of unusable keys in the last set received.
	SkippedKeys int
	// LastSuccess is the time of the last successful fetch.
	LastSuccess time.Time
	// LastAttempt is the time of the last fetch.
	LastAttempt time.Time
	// LastError is the error of the last fetch, nil if it succeeded.
	LastError error
	// NextRefresh is when the next fetch is due.
	NextRefresh time.Time
}

// NewRemote checks cfg and returns a Remote. It sends no request: the
// first Keys call fetches, or call [Remote.Refresh] to fetch at startup.
func NewRemote(cfg RemoteConfig) (*Remote, error) {
	if err := checkURL(cfg.URL, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.MaxBodySize < 0 || cfg.MinRefresh < 0 || cfg.MaxRefresh < 0 ||
		cfg.UnknownKIDCooldown < 0 || cfg.NegativeCacheTTL < 0 || cfg.NegativeCacheSize < 0 || cfg.MaxStale < 0 {
		return nil, errors.New("jwks: negative value in RemoteConfig")
	}
	u, _ := url.Parse(cfg.URL)
	r := &Remote{
		url:         cfg.URL,
		shownURL:    redactURL(u),
		client:      cfg.HTTPClient,
		timeout:     orDefault(cfg.Timeout, DefaultTimeout),
		maxBody:     orDefault(cfg.MaxBodySize, DefaultMaxBodySize),
		minRefresh:  orDefault(cfg.MinRefresh, DefaultMinRefresh),
		maxRefresh:  orDefault(cfg.MaxRefresh, DefaultMaxRefresh),
		cooldown:    orDefault(cfg.UnknownKIDCooldown, DefaultUnknownKIDCooldown),
		negativeTTL: orDefault(cfg.NegativeCacheTTL, DefaultNegativeCacheTTL),
		negativeMax: orDefault(cfg.NegativeCacheSize, DefaultNegativeCacheSize),
		maxStale:    orDefault(cfg.MaxStale, DefaultMaxStale),
		logger:      cfg.Logger,
		now:         cfg.Now,
		jitter:      cfg.Jitter,
		negative:    make(map[[32]byte]time.Time),
	}
	if r.minRefresh > r.maxRefresh {
		return nil, fmt.Errorf("jwks: MinRefresh %v exceeds MaxRefresh %v", r.minRefresh, r.maxRefresh)
	}
	if r.client == nil {
		r.client = &http.Client{CheckRedirect: checkRedirect(cfg.InsecureAllowHTTP)}
		// A transport of its own lets Close drop the idle connections
		// without touching those of other users of http.DefaultTransport.
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			r.client.Transport = t.Clone()
			r.closeIdle = true
		}
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.jitter == nil {
		r.jitter = defaultJitter
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.state.Store(&remoteState{})
	return r, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

func defaultJitter(interval time.Duration) time.Duration {
	if interval < 10 {
		return 0
	}
	return rand.N(interval / 10)
}

// checkRedirect returns the default client's redirect policy: at most
// maxRedirects redirects, each to a URL that passes checkURL. A redirect
// from https to http is rejected, because it could send verifiers to a
// plain-text service on their own loopback interface.
func checkRedirect(allowHTTP bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "https" {
			for _, prev := range via {
				if prev.URL.Scheme == "https" {
					return fmt.Errorf("redirect from https to %s rejected", redactURL(req.URL))
				}
			}
		}
		if err := checkURL(req.URL.String(), allowHTTP); err != nil {
			return fmt.Errorf("redirect to %s rejected: the URL must use https", redactURL(req.URL))
		}
		return nil
	}
}

func checkURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("jwks: invalid JWKS URL %q; want an absolute https URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || isLoopback(u.Hostname())):
	default:
		return fmt.Errorf("jwks: JWKS URL %s must use https (set InsecureAllowHTTP to accept http)", redactURL(u))
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL hides a password and the query, which may carry credentials.
func redactURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "redacted"
	}
	return c.Redacted()
}

// Keys returns the keys with ID kid, or all keys for an empty kid; see
// [KeySource]. The first call fetches the set. An unknown kid triggers one
// refresh unless another refresh for an unknown kid started within
// UnknownKIDCooldown or the kid stayed unknown within NegativeCacheTTL.
// When another caller's fetch ends after the lookup, Keys uses that set
// for the kid instead and leaves the cooldown unspent. A fetch is shared
// with concurrent callers, and ctx only ends this caller's wait. Errors
// wrap [ErrKeyNotFound] or [ErrUnavailable]. The returned slice is shared:
// callers must not modify it.
func (r *Remote) Keys(ctx context.Context, kid string) ([]Key, error) {
	st := r.state.Load()
	now := r.now()
	if st.index == nil || !now.Before(st.staleAt) {
		var err error
		if st, err = r.refreshUsable(ctx, st, now); err != nil {
			return nil, err
		}
	} else if !now.Before(st.refreshAt) {
		r.startRefresh(ctx, st)
	}

	// Keys without a kid match any kid, but only after the unknown-kid
	// path has had its chance to refresh: otherwise one kid-less key in the
	// set would keep a rotated key from being fetched until the schedule.
	if kid == "" {
		return st.index.all, nil
	}
	if ks, ok := st.index.byID[kid]; ok {
		return ks, nil
	}
	return r.unknownKID(ctx, kid, st, now)
}

// refreshUsable fetches when no keys or only stale keys are held. Between
// failed attempts it returns the last error at once, so an issuer outage
// does not make every request wait for a fetch.
func (r *Remote) refreshUsable(ctx context.Context, st *remoteState, now time.Time) (*remoteState, error) {
	if st.err != nil && now.Before(st.refreshAt) {
		return nil, r.unavailable(st)
	}
	st, err := r.refresh(ctx, st)
	if err != nil {
		return nil, err
	}
	if st.index == nil || !now.Before(st.staleAt) {
		return nil, r.unavailable(st)
	}
	return st, nil
}

func (r *Remote) unavailable(st *remoteState) error {
	if st.err == nil {
		return fmt.Errorf("%w: %s: keys are stale", ErrUnavailable, r.shownURL)
	}
	return st.err
}

// unknownKID decides whether a kid missing from st is worth a refresh.
func (r *Remote) unknownKID(ctx context.Context, kid string, st *remoteState, now time.Time) ([]Key, error) {
	digest := sha256.Sum256([]byte(kid))

	r.mu.Lock()
	if until, ok := r.negative[digest]; ok {
		if now.Before(until) {
			r.mu.Unlock()
			return anonymousOr(st.index, kid)
		}
		delete(r.negative, digest)
	}
	// A fetch that ends after the caller loaded st decides the kid, so the
	// caller joins one in flight or uses the state one left. Only a fetch
	// started here spends the cooldown, so a scheduled refresh cannot hold
	// back the first token of a rotated key.
	// NOTE: a joined fetch whose request left before the issuer published
	// the kid puts it in the negative cache for NegativeCacheTTL.
	f := r.inflight
	fresh := r.state.Load()
	if f == nil && fresh == st {
		if !r.lastKIDRefresh.IsZero() && now.Sub(r.lastKIDRefresh) < r.cooldown {
			r.mu.Unlock()
			return anonymousOr(st.index, kid)
		}
		if r.ctx.Err() != nil {
			r.mu.Unlock()
			return nil, r.closedError()
		}
		r.lastKIDRefresh = now
		f = r.startLocked(ctx)
	}
	r.mu.Unlock()

	if f != nil {
		var err error
		if fresh, err = r.wait(ctx, f); err != nil {
			return nil, err
		}
	}
	if fresh.index == nil {
		return nil, notFound(kid)
	}
	if ks, ok := fresh.index.byID[kid]; ok {
		return ks, nil
	}
	if fresh.err == nil {
		r.rememberUnknown(digest, now)
	}
	return anonymousOr(fresh.index, kid)
}

// anonymousOr returns x's keys without a kid, or an error wrapping
// ErrKeyNotFound for kid when it has none.
func anonymousOr(x *keyIndex, kid string) ([]Key, error) {
	if len(x.anonymous) > 0 {
		return x.anonymous, nil
	}
	return nil, notFound(kid)
}

func (r *Remote) rememberUnknown(digest [32]byte, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.negative) >= r.negativeMax {
		for d, until := range r.negative {
			if !now.Before(until) {
				delete(r.negative, d)
			}
		}
	}
	// Still full: evict an arbitrary entry, which Go's map iteration order
	// makes a random one.
	for d := range r.negative {
		if len(r.negative) < r.negativeMax {
			break
		}
		delete(r.negative, d)
	}
	r.negative[digest] = now.Add(r.negativeTTL)
}

// Refresh fetches the set now, sharing a fetch already in flight, and
// returns its error. Use it to fetch at startup; Keys refreshes on its own.
func (r *Remote) Refresh(ctx context.Context) error {
	st, err := r.refresh(ctx, nil)
	if err != nil {
		return err
	}
	return st.err
}

// refresh joins the fetch in flight or starts one. A fetch is skipped when
// the state is no longer observed, because another fetch completed since
// the caller looked; a nil observed always fetches. It returns the
// resulting state, or an error when ctx ended the wait.
func (r *Remote) refresh(ctx context.Context, observed *remoteState) (*remoteState, error) {
	r.mu.Lock()
	f := r.inflight
	if f == nil {
		cur := r.state.Load()
		if observed != nil && cur != observed {
			r.mu.Unlock()
			return cur, nil
		}
		if r.ctx.Err() != nil {
			r.mu.Unlock()
			return nil, r.closedError()
		}
		f = r.startLocked(ctx)
	}
	r.mu.Unlock()
	return r.wait(ctx, f)
}

// wait returns the state that f ends in, or an error when ctx ends first.
func (r *Remote) wait(ctx context.Context, f *flight) (*remoteState, error) {
	select {
	case <-f.done:
		return f.st, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: waiting for fetch: %v", ErrUnavailable, r.shownURL, ctx.Err())
	}
}

func (r *Remote) closedError() error {
	return fmt.Errorf("%w: %s: key set closed", ErrUnavailable, r.shownURL)
}

// startRefresh starts a background refresh if none is in flight.
func (r *Remote) startRefresh(ctx context.Context, observed *remoteState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil && r.state.Load() == observed && r.ctx.Err() == nil {
		r.startLocked(ctx)
	}
}

// startLocked runs a fetch in its own goroutine, so that a caller whose ctx
// ends does not cancel the fetch other callers wait for. The fetch keeps
// ctx's values but not its cancellation.
func (r *Remote) startLocked(ctx context.Context) *flight {
	f := &flight{done: make(chan struct{})}
	r.inflight = f
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		stop := context.AfterFunc(r.ctx, cancel)
		st := r.fetch(fctx)
		stop()
		cancel()

		r.mu.Lock()
		r.state.Store(st)
		f.st = st
		r.inflight = nil
		r.mu.Unlock()
		close(f.done)
	}()
	return f
}

// fetch requests the set and returns the state that follows from the
// response. Failures keep the previous keys.
func (r *Remote) fetch(ctx context.Context) *remoteState {
	prev := r.state.Load()
	start := r.now()
	r.fetches.Add(1)

	next, err := r.fetchSet(ctx, prev)
	if err == nil {
		next.attemptedAt = start
		next.fetchedAt = r.now()
		next.staleAt = next.fetchedAt.Add(r.maxStale)
		return next
	}

	r.failures.Add(1)
	failed := *prev
	failed.attemptedAt = start
	failed.failures++
	failed.err = fmt.Errorf("%w: fetch %s: %v", ErrUnavailable, r.shownURL, err)
	// Retry after 1 s, 2 s, 4 s ... up to the cooldown.
	backoff := r.cooldown
	if failed.failures < 16 {
		backoff = min(time.Second<<(failed.failures-1), r.cooldown)
	}
	failed.refreshAt = r.now().Add(backoff)
	if r.logger != nil {
		r.logger.Warn("jwks: refresh failed", "url", r.shownURL, "error", err,
			"consecutive_failures", failed.failures, "keys_held", prev.index != nil, "retry_in", backoff)
	}
	return &failed
}

func (r *Remote) fetchSet(ctx context.Context, prev *remoteState) (*remoteState, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if prev.index != nil && prev.etag != "" {
		req.Header.Set("If-None-Match", prev.etag)
	}

	resp, err := r.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("timed out after %v", r.timeout)
		}
		return nil, err
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		if prev.index == nil {
			return nil, errors.New("304 Not Modified without a cached set")
		}
		r.notModified.Add(1)
		next := *prev
		next.err, next.failures = nil, 0
		next.refreshAt = r.schedule(resp.Header)
		return &next, nil
	default:
		return nil, fmt.Errorf("unexpected HTTP status %s", resp.Status)
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBody+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("reading body timed out after %v", r.timeout)
		}
		return nil, fmt.Errorf("reading body: %v", err)
	}
	if int64(len(body)) > r.maxBody {
		return nil, fmt.Errorf("response body exceeds %d bytes", r.maxBody)
	}
	keys, skipped, err := parseRemoteSet(body)
	if err != nil {
		return nil, err
	}
	if len(skipped) > 0 && r.logger != nil {
		r.logger.Warn("jwks: skipped unusable keys", "url", r.shownURL,
			"skipped", len(skipped), "usable", len(keys), "first_reason", skipped[0])
	}
	return &remoteState{
		index:     newKeyIndex(keys),
		skipped:   len(skipped),
		etag:      resp.Header.Get("ETag"),
		refreshAt: r.schedule(resp.Header),
	}, nil
}

// schedule returns when to refresh after a response with header h.
func (r *Remote) schedule(h http.Header) time.Time {
	interval := min(max(cacheLifetime(h), r.minRefresh), r.maxRefresh)
	early := min(max(r.jitter(interval), 0), interval)
	return r.now().Add(interval - early)
}

// Stats returns counters and times of the fetches so far.
func (r *Remote) Stats() RemoteStats {
	st := r.state.Load()
	s := RemoteStats{
		Fetches:     r.fetches.Load(),
		NotModified: r.notModified.Load(),
		Failures:    r.failures.Load(),
		SkippedKeys: st.skipped,
		LastSuccess: st.fetchedAt,
		LastAttempt: st.attemptedAt,
		LastError:   st.err,
		NextRefresh: st.refreshAt,
	}
	if st.index != nil {
		s.Keys = len(st.index.all)
	}
	return s
}

// Close cancels fetches in flight, waits for them to end and, unless
// RemoteConfig.HTTPClient was set, closes idle connections. Keys keeps
// returning the keys held until they are stale, but fetches no more.
func (r *Remote) Close() error {
	// Cancelling under mu orders it against startLocked's wg.Add.
	r.mu.Lock()
	r.cancel()
	r.mu.Unlock()
	r.wg.Wait()
	if r.closeIdle {
		r.client.CloseIdleConnections()
	}
	return nil
}
