package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash/crc32"
)

// DefaultPrefix is the token prefix a Manager uses when its config names
// none. A fixed prefix lets secret scanners find leaked tokens.
const DefaultPrefix = "sess_"

// MaxPrefixLength bounds a configured token prefix.
const MaxPrefixLength = 16

const (
	// randomBytes is the entropy of a token: 256 bits.
	randomBytes = 32
	// bodyLength is randomBytes in unpadded base64url.
	bodyLength = 43
	// checksumLength is a CRC-32 (4 bytes) in unpadded base64url.
	checksumLength = 6
)

// TokenLength returns the length of a token issued with prefix.
func TokenLength(prefix string) int {
	return len(prefix) + bodyLength + checksumLength
}

// The format errors wrap ErrMalformed so callers branch on one sentinel,
// while logs and tests still see which check failed. They are allocated
// once, so rejecting a token costs no allocation.
var (
	errEmpty    = fmt.Errorf("%w: empty token", ErrMalformed)
	errLength   = fmt.Errorf("%w: wrong length", ErrMalformed)
	errPrefix   = fmt.Errorf("%w: wrong prefix", ErrMalformed)
	errCharset  = fmt.Errorf("%w: character outside base64url", ErrMalformed)
	errChecksum = fmt.Errorf("%w: checksum mismatch", ErrMalformed)
)

// NewToken returns a fresh session token: prefix, then 256 bits from
// crypto/rand in unpadded base64url (43 characters), then the CRC-32 (IEEE)
// of those 43 characters in unpadded base64url (6 characters). The
// checksum is not a security measure: it lets [CheckTokenFormat] reject a
// mistyped or truncated token before any store lookup, and lets secret
// scanners tell a real token from a lookalike.
func NewToken(prefix string) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	var random [randomBytes]byte
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program instead when the system source fails.
	_, _ = rand.Read(random[:])

	buf := make([]byte, TokenLength(prefix))
	n := copy(buf, prefix)
	base64.RawURLEncoding.Encode(buf[n:n+bodyLength], random[:])
	sum := checksum(buf[n : n+bodyLength])
	copy(buf[n+bodyLength:], sum[:])
	return string(buf), nil
}

// CheckTokenFormat reports whether token has the shape [NewToken] produces
// for prefix: exact length, prefix, base64url body and matching checksum.
// It consults no store, so it is cheap enough to run on every request
// before any lookup. The error wraps ErrMalformed and names the failed
// check.
func CheckTokenFormat(token, prefix string) error {
	if token == "" {
		return errEmpty
	}
	if len(token) != TokenLength(prefix) {
		return errLength
	}
	if token[:len(prefix)] != prefix {
		return errPrefix
	}
	body := token[len(prefix) : len(prefix)+bodyLength]
	for i := 0; i < len(body); i++ {
		if decodeMap[body[i]] == invalid {
			return errCharset
		}
	}
	sum := checksum(body)
	if token[len(prefix)+bodyLength:] != string(sum[:]) {
		return errChecksum
	}
	return nil
}

// checkPrefix accepts 1 to MaxPrefixLength ASCII letters, digits and
// underscores, which keeps a token a valid RFC 6750 b64token and a valid
// cookie value.
func checkPrefix(prefix string) error {
	if prefix == "" || len(prefix) > MaxPrefixLength {
		return fmt.Errorf("session: token prefix %q must be 1 to %d characters", prefix, MaxPrefixLength)
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Errorf("session: token prefix %q may hold only ASCII letters, digits and underscores", prefix)
		}
	}
	return nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

const invalid = 0xff

var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = invalid
	}
	for i := 0; i < len(alphabet); i++ {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// checksum returns the CRC-32 (IEEE) of s as six base64url characters: the
// 32 bits big-endian, then four zero bits. It takes the text without a
// conversion, so neither NewToken nor CheckTokenFormat allocates for it.
func checksum[T string | []byte](s T) [checksumLength]byte {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	crc = ^crc
	bits := uint64(crc) << 4
	var out [checksumLength]byte
	for i := checksumLength - 1; i >= 0; i-- {
		out[i] = alphabet[bits&0x3f]
		bits >>= 6
	}
	return out
}

// newID returns a random 128-bit session ID in unpadded base64url.
func newID() string {
	var random [16]byte
	_, _ = rand.Read(random[:])
	return base64.RawURLEncoding.EncodeToString(random[:])
}

// digest returns bearer.Digest(token) for a token that passed
// CheckTokenFormat. Copying the token into a stack array first saves the
// heap allocation of the []byte conversion in bearer.Digest, which is the
// only one left on the validation path besides the returned Session.
func digest(token string) [32]byte {
	var buf [MaxPrefixLength + bodyLength + checksumLength]byte
	if len(token) > len(buf) {
		return sha256.Sum256([]byte(token))
	}
	n := copy(buf[:], token)
	return sha256.Sum256(buf[:n])
}
