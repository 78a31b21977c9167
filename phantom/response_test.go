package phantom

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseIntrospection(t *testing.T) {
	in, err := parseIntrospection([]byte(`{
		"active": true, "scope": "read write", "client_id": "web", "username": "al",
		"token_type": "Bearer", "sub": "alice", "aud": ["api", "ops"], "iss": "https://auth.test",
		"jti": "j1", "exp": 1700000300, "iat": 1700000000, "nbf": 1700000000, "sid": "s1", "x": null
	}`), parseOptions{})
	require.NoError(t, err)
	assert.True(t, in.Active)
	assert.Equal(t, []string{"read", "write"}, in.Scopes)
	assert.Equal(t, "web", in.ClientID)
	assert.Equal(t, "al", in.Username)
	assert.Equal(t, "Bearer", in.TokenType)
	assert.Equal(t, "alice", in.Subject)
	assert.Equal(t, []string{"api", "ops"}, in.Audience)
	assert.Equal(t, "https://auth.test", in.Issuer)
	assert.Equal(t, "j1", in.ID)
	assert.Equal(t, time.Unix(1700000300, 0), in.ExpiresAt)
	assert.Equal(t, time.Unix(1700000000, 0), in.IssuedAt)
	assert.Equal(t, time.Unix(1700000000, 0), in.NotBefore)
	assert.Equal(t, `"s1"`, string(in.Raw["sid"]))
	assert.True(t, in.HasScope("write", "read"))
	assert.False(t, in.HasScope("admin"))
}

func TestParseIntrospectionRejects(t *testing.T) {
	bad := []string{
		``, `null`, `[]`, `"active"`, `{`, `{"active":true`, `{"active":null}`,
		`{"active":1}`, `{"active":"true"}`, `{"active":true,"active":true}`,
		`{"active":true,"exp":-1}`, `{"active":true,"exp":1e3}`, `{"active":true,"exp":"1"}`,
		`{"active":true,"exp":99999999999999999999}`, `{"active":true,"sub":5}`,
		`{"active":true,"aud":[1]}`, `{"active":true,"scope":" read"}`, `{"active":true,"scope":"read "}`,
		`{"active":true,"scope":"a\"b"}`, `{"active":true,"scope":5}`, `{"active":true}x`,
	}
	for _, b := range bad {
		_, err := parseIntrospection([]byte(b), parseOptions{allowScopeArray: true})
		assert.Error(t, err, "input %q", b)
	}
}

func TestParseInactiveIgnoresOtherMembers(t *testing.T) {
	in, err := parseIntrospection([]byte(`{"active":false,"sub":"alice","scope":"admin","exp":"junk"}`), parseOptions{})
	require.NoError(t, err)
	assert.Equal(t, &Introspection{}, in)
}

func FuzzParseIntrospection(f *testing.F) {
	seeds := []string{
		`{"active":false}`,
		`{"active":true,"scope":"read write","jwt":"a.b.c","exp":1700000000}`,
		`{"active":true,"scope":["read"],"aud":"api"}`,
		`{"active":"true"}`,
		`{}`,
		`{"active":true,"exp":0}`,
		`{"active":true,"active":false}`,
		`{"active":true,"scope":"read  write"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, allowArray bool) {
		in, err := parseIntrospection(data, parseOptions{allowScopeArray: allowArray})
		if err != nil {
			if in != nil {
				t.Fatalf("result %+v returned with error %v", in, err)
			}
			return
		}
		if !in.Active && (in.Subject != "" || in.Scopes != nil || in.JWT != "") {
			t.Fatalf("inactive answer carries members: %+v", in)
		}
		for _, s := range in.Scopes {
			if !validScopeToken(s) {
				t.Fatalf("invalid scope token %q accepted", s)
			}
		}
	})
}
