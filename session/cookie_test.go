package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/session"
)

func TestSetCookieDefaults(t *testing.T) {
	clock := newFakeClock()
	s := &session.Session{ExpiresAt: clock.Now().Add(8 * time.Hour)}
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	require.NoError(t, session.SetCookie(rec, session.CookieConfig{Now: clock.Now}, token, s))
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, "__Host-session", c.Name)
	assert.Equal(t, token, c.Value)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain, "a __Host- cookie must have no Domain")
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, 8*60*60, c.MaxAge, "Max-Age runs to the end of the absolute lifetime")
}

func TestSetCookieRejectsUnsafeConfig(t *testing.T) {
	clock := newFakeClock()
	s := &session.Session{ExpiresAt: clock.Now().Add(time.Hour)}
	cases := map[string]session.CookieConfig{
		"no __Host- prefix":        {Name: "session", Now: clock.Now},
		"__Host- without Secure":   {Name: "__Host-s", InsecureSkipHostPrefix: true, Now: clock.Now},
		"SameSite=None":            {SameSite: http.SameSiteNoneMode, Now: clock.Now},
		"undefined SameSite":       {SameSite: 42, Now: clock.Now},
		"lowercase __host-":        {Name: "__host-s", InsecureSkipHostPrefix: true, Now: clock.Now},
		"__Secure- without Secure": {Name: "__Secure-s", InsecureSkipHostPrefix: true, Now: clock.Now},
		"space in name":            {Name: "__Host-bad name", Now: clock.Now},
	}
	for name, cfg := range cases {
		rec := httptest.NewRecorder()
		assert.Error(t, session.SetCookie(rec, cfg, "sess_x", s), name)
		assert.Empty(t, rec.Header().Values("Set-Cookie"), name)
	}

	rec := httptest.NewRecorder()
	expired := &session.Session{ExpiresAt: clock.Now()}
	assert.Error(t, session.SetCookie(rec, session.CookieConfig{Now: clock.Now}, "sess_x", expired))
	assert.Error(t, session.SetCookie(rec, session.CookieConfig{Now: clock.Now}, "bad value;", s))
	assert.Error(t, session.SetCookie(rec, session.CookieConfig{Now: clock.Now}, "", s), "an empty token")
	assert.Empty(t, rec.Header().Values("Set-Cookie"))
}

func TestSetCookieInsecureDevelopment(t *testing.T) {
	clock := newFakeClock()
	s := &session.Session{ExpiresAt: clock.Now().Add(time.Hour)}
	rec := httptest.NewRecorder()
	cfg := session.CookieConfig{Name: "dev_session", InsecureSkipHostPrefix: true, SameSite: http.SameSiteStrictMode, Now: clock.Now}
	require.NoError(t, session.SetCookie(rec, cfg, "sess_x", s))
	c := rec.Result().Cookies()[0]
	assert.Equal(t, "dev_session", c.Name)
	assert.False(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
}

func TestClearCookie(t *testing.T) {
	rec := httptest.NewRecorder()
	require.NoError(t, session.ClearCookie(rec, session.CookieConfig{}))
	c := rec.Result().Cookies()[0]
	assert.Equal(t, "__Host-session", c.Name)
	assert.Empty(t, c.Value)
	assert.Less(t, c.MaxAge, 0, "Max-Age must delete the cookie")
	assert.True(t, c.Secure)
	assert.Equal(t, "/", c.Path)
}

func TestClearCookieRejectsInvalidName(t *testing.T) {
	// net/http formats a cookie with an invalid name as an empty string, so
	// without the check logout would send an empty Set-Cookie and report
	// success while the cookie stays in the browser.
	for _, name := range []string{"__Host-bad name", "__Host-a;b", "__Host-\u00e9"} {
		rec := httptest.NewRecorder()
		assert.Error(t, session.ClearCookie(rec, session.CookieConfig{Name: name}), name)
		assert.Empty(t, rec.Header().Values("Set-Cookie"), name)
	}
}
