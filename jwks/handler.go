package jwks

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// privateMembers are the JWK members that carry secret key material: "d",
// "p", "q", "dp", "dq", "qi" and "oth" (RFC 7518 section 6.2.2 and 6.3.2)
// and "k" of a symmetric key (section 6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Handler returns an http.Handler that serves the ring's public JWK Set to
// GET and HEAD requests, with Cache-Control max-age, a strong ETag and a 304
// response to a matching If-None-Match. The document is built from public
// keys only and checked for private members before it is stored, so the
// handler cannot send secret key material.
func (r *KeyRing) Handler() http.Handler {
	return http.HandlerFunc(r.serveJWKS)
}

func (r *KeyRing) serveJWKS(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	st, err := r.load()
	if err != nil {
		// A failed scheduled rotation leaves the previous keys valid, so
		// serving them beats failing every verifier's refresh.
		st = r.state.Load()
	}

	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(r.maxAge.Seconds())))
	h.Set("ETag", st.etag)
	if etagMatches(req.Header.Values("If-None-Match"), st.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Content-Length", strconv.Itoa(len(st.body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if req.Method == http.MethodGet {
		_, _ = w.Write(st.body)
	}
}

// etagMatches applies the weak comparison that RFC 9110 section 13.1.2
// requires for If-None-Match: "*" or any listed tag equal to etag, ignoring "W/".
func etagMatches(values []string, etag string) bool {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// marshalPublicSet encodes keys as a JWK Set document and fails if any key
// carries a private member.
func marshalPublicSet(keys []Key) ([]byte, error) {
	set := jwk.NewSet()
	for _, k := range keys {
		if err := set.AddKey(k.JWK); err != nil {
			return nil, fmt.Errorf("jwks: build public set: %v", err)
		}
	}
	body, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwks: encode public set: %v", err)
	}
	if name, found := findPrivateMember(body); found {
		return nil, fmt.Errorf("jwks: public set would contain private member %q", name)
	}
	return body, nil
}

// findPrivateMember reports the first private member of any key in a JWK
// Set document, or true with an empty name if the document does not decode.
func findPrivateMember(body []byte) (string, bool) {
	var doc struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", true
	}
	for _, k := range doc.Keys {
		for _, name := range privateMembers {
			if _, ok := k[name]; ok {
				return name, true
			}
		}
	}
	return "", false
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64URL(sum[:18]) + `"`
}

func base64URL(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}
