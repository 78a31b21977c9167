package jwks

import (
	"context"
	"errors"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// ErrKeyNotFound reports that a key source holds no key for the requested
// key ID, even after any refresh the source chose to make.
var ErrKeyNotFound = errors.New("jwks: key not found")

// Key is one verification key, already converted from its JWK form to the
// key material that the crypto packages take.
type Key struct {
	// ID is the key's "kid".
	ID string
	// Algorithm is the JWS algorithm the key is published for ("ES256",
	// "EdDSA", "RS256", "HS256", ...), or empty when the JWK names none; a
	// verifier then infers the permitted algorithms from the key type.
	Algorithm string
	// Public is *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey, or
	// []byte for an HMAC secret.
	Public any
	// JWK is the parsed JSON Web Key the other fields come from.
	JWK jwk.Key
}

// KeySource supplies verification keys. Implementations are safe for
// concurrent use.
type KeySource interface {
	// Keys returns the keys that may verify a token whose header carries
	// kid; an empty kid returns every key. It returns an error wrapping
	// ErrKeyNotFound when no key has that ID, and any other error when the
	// source could not be consulted at all (a fault on the server's side,
	// not the token's).
	Keys(ctx context.Context, kid string) ([]Key, error)
}
