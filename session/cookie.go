package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultCookieName is the session cookie name when a config names none.
// The "__Host-" prefix makes browsers accept the cookie only if it is
// Secure, has Path=/ and no Domain, so a sibling subdomain cannot plant or
// overwrite it.
const DefaultCookieName = "__Host-session"

const (
	hostPrefix   = "__Host-"
	securePrefix = "__Secure-"
)

// CookieConfig configures SetCookie and ClearCookie. The zero value gives a
// "__Host-session" cookie with Secure, HttpOnly, SameSite=Lax and Path=/.
type CookieConfig struct {
	// Name is the cookie name. It must start with "__Host-" unless
	// InsecureSkipHostPrefix is set. Default DefaultCookieName.
	Name string
	// SameSite is the SameSite attribute. Default http.SameSiteLaxMode.
	// http.SameSiteNoneMode is rejected because it sends the cookie on
	// cross-site requests, and so is any value net/http does not define.
	SameSite http.SameSite
	// InsecureSkipHostPrefix allows a Name without the "__Host-" prefix and
	// drops the Secure attribute, for local development over plain HTTP.
	// The Name must then not start with "__Host-" or "__Secure-" in any
	// letter case, because browsers drop such cookies without Secure.
	// Default false.
	InsecureSkipHostPrefix bool
	// Now is the clock that turns ExpiresAt into Max-Age. Default time.Now.
	Now func() time.Time
}

func (c CookieConfig) name() string {
	if c.Name == "" {
		return DefaultCookieName
	}
	return c.Name
}

func (c CookieConfig) check() error {
	name := c.name()
	if err := (&http.Cookie{Name: name, Value: "x"}).Valid(); err != nil {
		return fmt.Errorf("session: invalid cookie name %q: use ASCII letters, digits and \"-_\"", name)
	}
	if !c.InsecureSkipHostPrefix && !strings.HasPrefix(name, hostPrefix) {
		return errors.New("session: cookie name must start with \"__Host-\"; set InsecureSkipHostPrefix only for plain-HTTP development")
	}
	// A browser drops a "__Host-" or "__Secure-" cookie that lacks Secure.
	// Drafts of RFC 6265bis differ on whether that match ignores case, so
	// every case is rejected.
	if c.InsecureSkipHostPrefix && (hasPrefixFold(name, hostPrefix) || hasPrefixFold(name, securePrefix)) {
		return fmt.Errorf("session: cookie %q needs Secure because of its prefix; drop InsecureSkipHostPrefix or rename the cookie", name)
	}
	switch c.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
	case http.SameSiteNoneMode:
		return errors.New("session: SameSite=None would send the session cookie on cross-site requests")
	default:
		return fmt.Errorf("session: invalid SameSite value %d: use http.SameSiteLaxMode or http.SameSiteStrictMode", c.SameSite)
	}
	return nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func (c CookieConfig) cookie(value string, maxAge int) *http.Cookie {
	sameSite := c.SameSite
	if sameSite == 0 || sameSite == http.SameSiteDefaultMode {
		sameSite = http.SameSiteLaxMode
	}
	return &http.Cookie{
		Name:     c.name(),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   !c.InsecureSkipHostPrefix,
		HttpOnly: true,
		SameSite: sameSite,
	}
}

// SetCookie adds a Set-Cookie header that carries token, with Max-Age
// running to s.ExpiresAt, the end of the absolute lifetime. It returns an
// error, and sets nothing, when cfg is unsafe, the token is empty or not a
// valid cookie value, or the session has already expired.
func SetCookie(w http.ResponseWriter, cfg CookieConfig, token string, s *Session) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if s == nil {
		return errors.New("session: SetCookie needs the session to compute Max-Age")
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	maxAge := int(s.ExpiresAt.Sub(now()) / time.Second)
	if maxAge <= 0 {
		return errors.New("session: SetCookie called for a session past its absolute lifetime")
	}
	c := cfg.cookie(token, maxAge)
	if err := c.Valid(); token == "" || err != nil {
		return errors.New("session: token is not a valid cookie value")
	}
	w.Header().Add("Set-Cookie", c.String())
	return nil
}

// ClearCookie adds a Set-Cookie header that deletes the session cookie, for
// logout. Revoke the session too: clearing the cookie does not end it.
func ClearCookie(w http.ResponseWriter, cfg CookieConfig) error {
	if err := cfg.check(); err != nil {
		return err
	}
	w.Header().Add("Set-Cookie", cfg.cookie("", -1).String())
	return nil
}
