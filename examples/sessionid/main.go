// Command sessionid runs the session-ID pattern end to end on loopback: an
// auth server issues opaque session tokens, and a profile service checks
// every request by calling the auth server. It logs in, calls the service,
// logs out, shows the next call rejected, and prints how many validation
// calls the service made to the auth server: one per request, which is the
// cost this pattern is known for.
//
//	go run ./examples/sessionid
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/session"
)

// serviceKey authenticates the profile service to the auth server's
// validation endpoint. A real deployment uses a per-service credential.
const serviceKey = "example-service-key"

// maxValidateBody bounds the validation response the profile service reads.
const maxValidateBody = 64 << 10

func main() {
	os.Exit(run(context.Background(), os.Stdout, os.Stderr))
}

// run runs the example with its steps printed to stdout and returns the exit
// status. It returns 1, naming the cause on stderr, if a step failed or an
// outcome differed from the expected one.
func run(ctx context.Context, stdout, stderr io.Writer) int {
	if err := demo(ctx, stdout); err != nil {
		fmt.Fprintln(stderr, "sessionid:", err)
		return 1
	}
	return 0
}

// demo logs in, calls the profile service, logs out and checks each status
// and the number of validation calls.
func demo(ctx context.Context, stdout io.Writer) error {
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	mgr, err := session.NewManager(session.ManagerConfig{Store: store})
	if err != nil {
		return err
	}

	var validateCalls atomic.Int64
	authURL, stopAuth, err := serve(authServer(mgr, &validateCalls))
	if err != nil {
		return err
	}
	defer stopAuth()

	remote := &remoteValidator{endpoint: authURL + "/validate", client: &http.Client{Timeout: 5 * time.Second}}
	middleware := session.Middleware(remote, session.MiddlewareConfig{SkipCookie: true, Logger: slog.Default()})
	profileURL, stopProfile, err := serve(middleware(profileHandler()))
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Fprintln(stdout, "auth server:    ", authURL)
	fmt.Fprintln(stdout, "profile service:", profileURL)

	token, err := login(ctx, authURL, "alice")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "logged in as alice; token has prefix %q and %d characters\n", mgr.Prefix(), len(token))

	var failures []string
	for i := 1; i <= 3; i++ {
		status, body, err := call(ctx, http.MethodGet, profileURL+"/profile", token)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "profile call %d: %d %s\n", i, status, body)
		if status != http.StatusOK {
			failures = append(failures, fmt.Sprintf("profile call %d returned %d, expected 200", i, status))
		}
	}

	status, _, err := call(ctx, http.MethodPost, authURL+"/logout", token)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "logout: %d (session revoked on the auth server)\n", status)
	if status != http.StatusNoContent {
		failures = append(failures, fmt.Sprintf("logout returned %d, expected 204", status))
	}

	status, body, err := call(ctx, http.MethodGet, profileURL+"/profile", token)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "profile call after logout: %d %s\n", status, body)
	if status != http.StatusUnauthorized {
		failures = append(failures, fmt.Sprintf("profile call after logout returned %d, expected 401", status))
	}

	n := validateCalls.Load()
	fmt.Fprintf(stdout, "profile service made %d validation calls to the auth server for 4 requests\n", n)
	if n != 4 {
		failures = append(failures, fmt.Sprintf("expected 4 validation calls, counted %d", n))
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, "; "))
	}
	return nil
}

// serve starts h on an ephemeral loopback port and returns its base URL
// and a function that shuts it down.
func serve(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// authServer issues sessions at /login, revokes them at /logout and reports
// to services whether a token is active at /validate.
func authServer(mgr *session.Manager, validateCalls *atomic.Int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// The example accepts any user name; a real server checks a password
		// or an upstream identity provider here.
		user := r.PostFormValue("username")
		if user == "" {
			http.Error(w, "missing username", http.StatusBadRequest)
			return
		}
		token, _, err := mgr.Issue(r.Context(), user, map[string]string{"name": strings.ToUpper(user[:1]) + user[1:], "scope": "profile"})
		if err != nil {
			slog.Error("issuing session failed", "subject", user, "error", err)
			bearer.WriteUnavailable(w)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"session_token": token})
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		token, err := bearer.FromHeader(r.Header)
		if err != nil {
			bearer.WriteChallenge(w, bearer.ChallengeFor(err))
			return
		}
		// Revoke succeeds for unknown or already revoked tokens, so logout
		// can be retried safely.
		switch err := mgr.Revoke(r.Context(), token); {
		case errors.Is(err, session.ErrInvalidToken):
			bearer.WriteChallenge(w, bearer.Challenge{Error: bearer.CodeInvalidToken})
		case err != nil:
			slog.Error("revoking session failed", "error", err)
			bearer.WriteUnavailable(w)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("POST /validate", func(w http.ResponseWriter, r *http.Request) {
		validateCalls.Add(1)
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Service-Key")), []byte(serviceKey)) != 1 {
			http.Error(w, "unknown service", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		s, err := mgr.ValidateToken(r.Context(), r.PostFormValue("token"))
		switch {
		case errors.Is(err, session.ErrInvalidToken):
			_ = json.NewEncoder(w).Encode(validateResponse{Active: false})
		case err != nil:
			slog.Error("validating session failed", "error", err)
			bearer.WriteUnavailable(w)
		default:
			_ = json.NewEncoder(w).Encode(validateResponse{
				Active: true, SessionID: s.ID, Subject: s.Subject, Attributes: s.Attributes,
				CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, IdleTimeout: s.IdleTimeout, ExpiresAt: s.ExpiresAt,
			})
		}
	})
	return mux
}

type validateResponse struct {
	Active      bool              `json:"active"`
	SessionID   string            `json:"sid,omitempty"`
	Subject     string            `json:"sub,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	CreatedAt   time.Time         `json:"created_at,omitzero"`
	LastSeenAt  time.Time         `json:"last_seen_at,omitzero"`
	IdleTimeout time.Duration     `json:"idle_timeout,omitempty"`
	ExpiresAt   time.Time         `json:"expires_at,omitzero"`
}

// remoteValidator implements session.Validator by asking the auth server,
// so the profile service needs no access to the session store.
type remoteValidator struct {
	endpoint string
	client   *http.Client
}

func (v *remoteValidator) ValidateToken(ctx context.Context, token string) (*session.Session, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Service-Key", serviceKey)
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling auth server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("auth server returned %d", resp.StatusCode)
	}
	var out validateResponse
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxValidateBody)).Decode(&out); err != nil {
		return nil, fmt.Errorf("decoding auth server response: %w", err)
	}
	if !out.Active {
		return nil, session.ErrInvalidToken
	}
	return &session.Session{
		ID: out.SessionID, Subject: out.Subject, Attributes: out.Attributes,
		CreatedAt: out.CreatedAt, LastSeenAt: out.LastSeenAt, IdleTimeout: out.IdleTimeout, ExpiresAt: out.ExpiresAt,
	}, nil
}

func profileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := session.FromContext(r.Context())
		_, _ = fmt.Fprintf(w, "profile of %s (%s)", s.Attributes["name"], s.Subject)
	})
}

func login(ctx context.Context, authURL, user string) (string, error) {
	form := url.Values{"username": {user}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("login returned %d", resp.StatusCode)
	}
	var out struct {
		Token string `json:"session_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxValidateBody)).Decode(&out); err != nil {
		return "", fmt.Errorf("decoding login response: %w", err)
	}
	return out.Token, nil
}

// call sends a request with token as a bearer token and returns the status
// and the body, or the WWW-Authenticate challenge of a 401.
func call(ctx context.Context, method, target, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxValidateBody))
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), nil
	}
	return resp.StatusCode, strings.TrimSpace(string(body)), nil
}
