package jwks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxRemoteKeys bounds the keys taken from one fetched set, because each
// key costs parsing and validation work that the issuer's response chooses.
// Issuers publish a handful; the rest of a longer set is skipped.
const maxRemoteKeys = 100

// parseRemoteSet parses a JWK Set document from an issuer. Keys that cannot
// verify signatures are skipped, each with a reason, instead of failing the
// whole set, so one exotic key does not take down verification of the
// others: unknown key types and curves, "use" other than "sig", RSA moduli
// outside [MinRSABits, MaxRSABits], mismatched "alg", symmetric keys, and
// any key with a private member. A set with no usable key is an error.
func parseRemoteSet(body []byte) (keys []Key, skipped []string, err error) {
	var doc struct {
		Keys *[]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("invalid JWK Set document: %v", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`invalid JWK Set document: no "keys" array`)
	}

	for i, raw := range *doc.Keys {
		if i >= maxRemoteKeys {
			skipped = append(skipped, fmt.Sprintf("keys %d to %d: more than %d keys in set", i, len(*doc.Keys)-1, maxRemoteKeys))
			break
		}
		k, err := parseRemoteKey(raw)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		if len(skipped) == 0 {
			return nil, nil, errors.New("JWK Set contains no keys")
		}
		return nil, skipped, fmt.Errorf("JWK Set contains no usable key (%d skipped, first: %s)", len(skipped), skipped[0])
	}
	return keys, skipped, nil
}

func parseRemoteKey(raw json.RawMessage) (Key, error) {
	// Members are checked on the raw JSON before jwx parses the key: jwx
	// decides public versus private on "d" alone and would carry other
	// private members along.
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return Key{}, fmt.Errorf("not a JSON object: %v", err)
	}
	for _, name := range privateMembers {
		if _, ok := members[name]; ok {
			return Key{}, fmt.Errorf("private member %q present", name)
		}
	}

	jk, err := jwk.ParseKey(raw)
	if err != nil {
		return Key{}, err
	}
	k, err := newKey(jk, keyPolicy{})
	if err != nil {
		return Key{}, fmt.Errorf("kid %q: %v", jk.KeyID(), err)
	}
	return k, nil
}

// cacheLifetime returns how long a response may be used according to its
// Cache-Control max-age minus its Age (RFC 9111 sections 5.2.2.1 and 4.2.3).
// It returns 0 for no-store, no-cache, or no usable max-age.
func cacheLifetime(h http.Header) time.Duration {
	var maxAge int64 = -1
	for _, v := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(v, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
				if err != nil || n < 0 {
					return 0
				}
				maxAge = n
			}
		}
	}
	if maxAge < 0 {
		return 0
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
		maxAge -= age
	}
	// A year bounds the multiplication below; callers clamp far lower.
	const year = 365 * 24 * 60 * 60
	maxAge = min(max(maxAge, 0), year)
	return time.Duration(maxAge) * time.Second
}
