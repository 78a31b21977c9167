package session_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
	"github.com/tokenpattern/tokenpattern/session"
)

func TestNewTokenShape(t *testing.T) {
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)

	assert.Len(t, token, session.TokenLength(session.DefaultPrefix))
	assert.True(t, strings.HasPrefix(token, "sess_"))
	assert.True(t, bearer.ValidToken(token), "a token must be a valid RFC 6750 b64token")
	assert.NoError(t, session.CheckTokenFormat(token, session.DefaultPrefix))

	body := token[len("sess_") : len("sess_")+43]
	random, err := base64.RawURLEncoding.Strict().DecodeString(body)
	require.NoError(t, err)
	assert.Len(t, random, 32, "a token carries 256 random bits")
}

func TestNewTokenUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		token, err := session.NewToken("t_")
		require.NoError(t, err)
		require.False(t, seen[token], "duplicate token")
		seen[token] = true
	}
}

func TestNewTokenRejectsBadPrefix(t *testing.T) {
	for _, prefix := range []string{"", "sess-", "sess.", "séss_", "a b", strings.Repeat("p", session.MaxPrefixLength+1)} {
		_, err := session.NewToken(prefix)
		assert.Error(t, err, "prefix %q", prefix)
	}
}

func TestCheckTokenFormat(t *testing.T) {
	good, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	other, err := session.NewToken("other_")
	require.NoError(t, err)

	cases := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"truncated by one", good[:len(good)-1]},
		{"truncated body", good[:20]},
		{"one extra character", good + "A"},
		{"padding", good + "="},
		{"leading space", " " + good[1:]},
		{"trailing newline", good[:len(good)-1] + "\n"},
		{"inner space", good[:10] + " " + good[11:]},
		{"plus instead of minus", strings.NewReplacer("-", "+", "_", "/").Replace(good[5:]) + "sess_"},
		{"non-base64 character", good[:10] + "*" + good[11:]},
		{"NUL byte", good[:10] + "\x00" + good[11:]},
		{"non-ASCII", good[:10] + "\xc3" + good[11:]},
		{"wrong prefix", "sesx_" + good[5:]},
		{"other prefix", other},
		{"uppercase prefix", "SESS_" + good[5:]},
		{"checksum swapped", good[:len(good)-6] + good[len(good)-5:] + good[len(good)-6:len(good)-5]},
		{"oversized", good + strings.Repeat("A", 1<<20)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := session.CheckTokenFormat(tc.token, session.DefaultPrefix)
			assert.ErrorIs(t, err, session.ErrMalformed)
			assert.ErrorIs(t, err, session.ErrInvalidToken)
		})
	}
}

// TestCheckTokenFormatOneChangedCharacter changes each position of a token
// to every other base64url character: the checksum must catch all of them.
func TestCheckTokenFormatOneChangedCharacter(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	accepted := 0
	for i := len(session.DefaultPrefix); i < len(token); i++ {
		for j := 0; j < len(alphabet); j++ {
			if alphabet[j] == token[i] {
				continue
			}
			changed := token[:i] + string(alphabet[j]) + token[i+1:]
			if session.CheckTokenFormat(changed, session.DefaultPrefix) == nil {
				accepted++
				t.Errorf("token changed at %d to %q was accepted", i, alphabet[j])
			}
		}
	}
	assert.Zero(t, accepted)
}

func TestCheckTokenFormatNoAllocs(t *testing.T) {
	token, err := session.NewToken(session.DefaultPrefix)
	require.NoError(t, err)
	bad := token[:len(token)-1] + "A"
	allocs := testing.AllocsPerRun(100, func() {
		_ = session.CheckTokenFormat(token, session.DefaultPrefix)
		_ = session.CheckTokenFormat(bad, session.DefaultPrefix)
	})
	assert.Zero(t, allocs)
}

func FuzzCheckTokenFormat(f *testing.F) {
	good, err := session.NewToken(session.DefaultPrefix)
	require.NoError(f, err)
	f.Add(good)
	f.Add("")
	f.Add("sess_")
	f.Add(good + "=")
	f.Add(good[:len(good)-1])
	f.Add(" " + good)
	f.Fuzz(func(t *testing.T, token string) {
		err := session.CheckTokenFormat(token, session.DefaultPrefix)
		if err != nil {
			if !assert.ErrorIs(t, err, session.ErrMalformed) {
				return
			}
			return
		}
		// Whatever passes must have the issued shape and be usable as a
		// bearer token and a cookie value.
		assert.Len(t, token, session.TokenLength(session.DefaultPrefix))
		assert.True(t, strings.HasPrefix(token, session.DefaultPrefix))
		assert.True(t, bearer.ValidToken(token))
		_, decodeErr := base64.RawURLEncoding.DecodeString(token[5:48])
		assert.NoError(t, decodeErr)
	})
}

func TestManagerKeysStoreByBearerDigest(t *testing.T) {
	// Other packages (caches, remote validators) key tokens by
	// bearer.Digest; the Manager must store under the same key.
	store := session.NewMemoryStore(session.MemoryStoreConfig{})
	defer store.Close()
	m, err := session.NewManager(session.ManagerConfig{Store: store, Prefix: "abcdefghijklmnop"})
	require.NoError(t, err)
	token, issued, err := m.Issue(context.Background(), "alice", nil)
	require.NoError(t, err)
	got, err := store.Get(context.Background(), bearer.Digest(token))
	require.NoError(t, err)
	assert.Equal(t, issued.ID, got.ID)
}
