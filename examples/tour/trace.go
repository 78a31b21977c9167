package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// maxPeekBody bounds the response body a tracer reads to describe a hop.
// Larger bodies are passed on untouched and described by status only.
const maxPeekBody = 64 << 10

// hop is one HTTP request between two parties of the tour, as the caller
// sent it.
type hop struct {
	From, To     string
	Method, Path string
	// Token is the credential the callee received: a bearer token, a
	// Txn-Token header, or the "token" field of an introspection or
	// revocation form.
	Token string
	// Header and Form are what the caller sent, for -v.
	Header http.Header
	Form   url.Values
	Status int
	// Note describes the response: "active", an OAuth error, or the
	// error_description of a WWW-Authenticate challenge.
	Note string
}

// tracer records the hops of one request at a time. Every party of the tour
// sends its outbound requests through a transport from tracer.client, so the
// trace shows who called whom without touching the servers.
type tracer struct {
	base  *http.Transport
	names map[string]string // "127.0.0.1:port" to the name of the server

	mu        sync.Mutex
	recording bool
	hops      []*hop
}

func newTracer() *tracer {
	return &tracer{
		// Proxy is nil on purpose: every request stays on loopback even
		// when HTTP_PROXY is set in the environment.
		base: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		names: map[string]string{},
	}
}

// client returns an HTTP client for the party called from. It follows no
// redirects, as phantom's default client does, so no token is resent
// elsewhere.
func (t *tracer) client(from string) *http.Client {
	return &http.Client{
		Transport:     &tracingTransport{t: t, from: from},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// start clears the trace and records the hops of the next request.
func (t *tracer) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recording = true
	t.hops = nil
}

// stop ends recording and returns copies of the hops in the order they
// were sent. A hop's status is recorded when its response arrives, before
// the caller responds in turn, so every hop of a finished request is
// complete.
func (t *tracer) stop() []hop {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recording = false
	out := make([]hop, len(t.hops))
	for i, h := range t.hops {
		out[i] = *h
	}
	t.hops = nil
	return out
}

func (t *tracer) record(h *hop) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.recording {
		t.hops = append(t.hops, h)
	}
}

func (t *tracer) finish(h *hop, status int, note string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h.Status, h.Note = status, note
}

type tracingTransport struct {
	t    *tracer
	from string
}

func (tt *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := &hop{
		From:   tt.from,
		To:     tt.t.names[req.URL.Host],
		Method: req.Method,
		Path:   req.URL.Path,
		Header: req.Header.Clone(),
	}
	if h.To == "" {
		h.To = req.URL.Host
	}
	h.Token, h.Form = credential(req)
	tt.t.record(h)

	resp, err := tt.t.base.RoundTrip(req)
	if err != nil {
		tt.t.finish(h, 0, err.Error())
		return nil, err
	}
	tt.t.finish(h, resp.StatusCode, describe(resp))
	return resp, nil
}

// tokensIn returns every token a request header carries: the bearer token
// of each Authorization field and each Txn-Token value.
func tokensIn(h http.Header) []string {
	var tokens []string
	for _, v := range h.Values("Authorization") {
		if scheme, token, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "Bearer") {
			tokens = append(tokens, token)
		}
	}
	return append(tokens, h.Values("Txn-Token")...)
}

// credential returns the token a request carries and, for form posts, the
// other form fields.
func credential(req *http.Request) (string, url.Values) {
	if v := req.Header.Get("Txn-Token"); v != "" {
		return v, nil
	}
	if scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return token, nil
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || req.GetBody == nil {
		return "", nil
	}
	// GetBody returns a fresh copy, so reading it leaves the request intact.
	body, err := req.GetBody()
	if err != nil {
		return "", nil
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, maxPeekBody))
	if err != nil {
		return "", nil
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return "", nil
	}
	token := form.Get("token")
	form.Del("token")
	return token, form
}

// describe summarizes a response in a few words: the challenge of a
// rejected request, the OAuth error of an endpoint, or whether
// introspection found the token active. It restores the body it reads.
func describe(resp *http.Response) string {
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		if d := challengeParam(c, "error_description"); d != "" {
			return d
		}
		if e := challengeParam(c, "error"); e != "" {
			return e
		}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" || resp.ContentLength > maxPeekBody {
		return ""
	}
	// The caller reads the peeked bytes first, then the rest of the body.
	original := resp.Body
	data, err := io.ReadAll(io.LimitReader(original, maxPeekBody+1))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), original), original}
	if err != nil || len(data) > maxPeekBody {
		return ""
	}
	var fields struct {
		Active      *bool  `json:"active"`
		JWT         string `json:"jwt"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(data, &fields) != nil {
		return ""
	}
	switch {
	case fields.Error != "" && fields.Description != "":
		return fields.Error + ": " + fields.Description
	case fields.Error != "":
		return fields.Error
	case fields.Active == nil:
		return ""
	case !*fields.Active:
		return "inactive"
	case fields.JWT != "":
		return "active, JWT returned"
	}
	return "active"
}

// challengeParam returns the value of the quoted parameter name of a
// WWW-Authenticate challenge, enough for the challenges this library writes.
func challengeParam(challenge, name string) string {
	_, rest, ok := strings.Cut(challenge, name+`="`)
	if !ok {
		return ""
	}
	value, _, _ := strings.Cut(rest, `"`)
	return value
}

// abbreviate shortens a token to its first 10 and last 6 characters, enough
// to tell tokens apart on screen.
func abbreviate(token string) string {
	if token == "" {
		return "-"
	}
	if len(token) <= 20 {
		return token
	}
	return token[:10] + "…" + token[len(token)-6:]
}

// pad left-aligns s in width runes, because fmt pads by bytes and would
// misalign "…".
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

// sortedHeader lists the header fields of h as "Name: value" lines, sorted,
// with Basic credentials masked: -v shows tokens, not client secrets.
func sortedHeader(h http.Header) []string {
	var lines []string
	for name, values := range h {
		for _, v := range values {
			if name == "Authorization" && strings.HasPrefix(strings.ToLower(v), "basic ") {
				v = "Basic (client credentials)"
			}
			lines = append(lines, name+": "+v)
		}
	}
	sort.Strings(lines)
	return lines
}
