package phantom

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MinSecretLength is the shortest client secret NewRegisteredClient
// accepts. Secrets are stored as a single SHA-256, which is only safe for
// random, high-entropy secrets, never for passwords a person chose.
const MinSecretLength = 16

// RegisteredClient is a client allowed to call the introspection and
// revocation endpoints, such as an API gateway.
//
// Register a client from a plaintext secret with [NewRegisteredClient],
// or from a stored hash with a literal:
//
//	hash, err := phantom.ParseSecretHash(os.Getenv("GATEWAY_SECRET_SHA256"))
//	c := phantom.RegisteredClient{ID: "gateway", SecretHash: hash, AllowJWT: true}
type RegisteredClient struct {
	// ID is the client_id.
	ID string
	// SecretHash is the SHA-256 of the client secret, as [HashSecret]
	// computes it.
	SecretHash [32]byte
	// AllowJWT lets the client receive the "jwt" member of introspection
	// responses. Default false: the client gets the plain RFC 7662 response.
	AllowJWT bool
	// RevokeAny lets the client revoke tokens issued to any client, as a
	// gateway that handles logout for several applications does. Default
	// false: RFC 7009 section 2.1 limits a client to tokens issued to it,
	// so it may revoke only sessions whose "client_id" attribute is its
	// own ID or absent.
	RevokeAny bool
}

// NewRegisteredClient returns a client whose secret hash is computed from
// secret, which must be at least MinSecretLength bytes of random data.
// Set AllowJWT on the result to let the client receive JWTs.
func NewRegisteredClient(id, secret string) (RegisteredClient, error) {
	if id == "" {
		return RegisteredClient{}, errors.New("phantom: client ID is empty")
	}
	if len(secret) < MinSecretLength {
		return RegisteredClient{}, fmt.Errorf("phantom: secret of client %q is %d bytes; use at least %d random bytes", id, len(secret), MinSecretLength)
	}
	return RegisteredClient{ID: id, SecretHash: HashSecret(secret)}, nil
}

// HashSecret returns the SHA-256 of secret, the form in which
// RegisteredClient stores it.
func HashSecret(secret string) [32]byte {
	return sha256.Sum256([]byte(secret))
}

// ParseSecretHash decodes a SHA-256 secret hash written as 64 hexadecimal
// digits, for example the output of "printf %s SECRET | sha256sum".
func ParseSecretHash(hexDigest string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(strings.TrimSpace(hexDigest))
	if err != nil || len(b) != len(h) {
		return h, errors.New("phantom: secret hash is not 64 hexadecimal digits")
	}
	copy(h[:], b)
	return h, nil
}

// clientRegistry authenticates registered clients.
type clientRegistry struct {
	byID map[string]RegisteredClient
}

func newClientRegistry(clients []RegisteredClient) (*clientRegistry, error) {
	if len(clients) == 0 {
		return nil, errors.New("phantom: no registered clients; add at least one to ServerConfig.Clients")
	}
	r := &clientRegistry{byID: make(map[string]RegisteredClient, len(clients))}
	for _, c := range clients {
		if c.ID == "" {
			return nil, errors.New("phantom: registered client with an empty ID")
		}
		if c.SecretHash == ([32]byte{}) {
			return nil, fmt.Errorf("phantom: registered client %q has no secret hash", c.ID)
		}
		if _, dup := r.byID[c.ID]; dup {
			return nil, fmt.Errorf("phantom: client %q is registered twice", c.ID)
		}
		r.byID[c.ID] = c
	}
	return r, nil
}

// errClientAuth is the reason for every failed client authentication. The
// handler responds 401 invalid_client without saying which check failed.
var errClientAuth = errors.New("client authentication failed")

// errAuthMethods reports credentials sent by two methods at once, which
// RFC 6749 section 2.3 forbids.
var errAuthMethods = errors.New("client credentials sent by more than one method")

// authenticate checks client_secret_basic or client_secret_post
// credentials. form is the parsed request body.
func (r *clientRegistry) authenticate(req *http.Request, form url.Values) (RegisteredClient, error) {
	user, pass, hasBasic := req.BasicAuth()
	_, hasPostID := form["client_id"]
	_, hasPostSecret := form["client_secret"]
	var id, secret string
	switch {
	case hasBasic && hasPostSecret:
		return RegisteredClient{}, errAuthMethods
	case hasBasic:
		// RFC 6749 section 2.3.1: both parts are form-urlencoded before
		// they are joined for Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(user)
		secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return RegisteredClient{}, errClientAuth
		}
		if hasPostID && form.Get("client_id") != id {
			return RegisteredClient{}, errClientAuth
		}
	case hasPostID && hasPostSecret:
		if len(form["client_id"]) != 1 || len(form["client_secret"]) != 1 {
			return RegisteredClient{}, errClientAuth
		}
		id, secret = form.Get("client_id"), form.Get("client_secret")
	default:
		return RegisteredClient{}, errClientAuth
	}
	c, known := r.byID[id]
	presented := HashSecret(secret)
	// Compare even for an unknown ID, so timing does not reveal which
	// client IDs exist.
	want := c.SecretHash
	if !known {
		want = [32]byte{0xff}
	}
	if subtle.ConstantTimeCompare(presented[:], want[:]) != 1 || !known {
		return RegisteredClient{}, errClientAuth
	}
	return c, nil
}
