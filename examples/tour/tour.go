package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokenpattern/tokenpattern/jwtutil"
)

// maxBody bounds the response bodies the tour's client reads.
const maxBody = 64 << 10

// Column widths of the hop lines, in runes.
const (
	colFrom    = 20
	colRequest = 20
	colToken   = 17
)

// paymentBody is the payment the client asks for in chapter 4.
const paymentBody = `{"amount":500,"currency":"EUR","payee":"DE89370400440532013000"}`

// options configures one run of the tour.
type options struct {
	// verbose prints full tokens and the headers of every hop.
	verbose bool
	// requests is the number of requests each pattern serves with one
	// token before it is revoked. The summary reports auth-server calls
	// for them.
	requests int
}

// PatternResult holds the measurements of one pattern.
type PatternResult struct {
	Name string
	// Requests counts the requests made with one token before revocation,
	// and OK those that returned 200.
	Requests, OK int
	// AuthCalls counts the introspection, exchange and JWKS calls that
	// services and the gateway made to the auth server for those requests.
	AuthCalls int64
	// ClientTokenBytes is the size of the token the client holds.
	ClientTokenBytes int
	// ServiceTokens are the tokens a service received with one request,
	// from its Authorization and Txn-Token headers as sent, and
	// ServiceTokenBytes their total size.
	ServiceTokens     []string
	ServiceTokenBytes int
	// RevokeStatus is the status of the revocation, and AfterRevokeStatus
	// the status of the next request with the token.
	RevokeStatus, AfterRevokeStatus int
	// RevocationDelay and Leak are the summary table's last two columns:
	// how soon a revoked client token fails, and what a leaked client
	// token allows.
	RevocationDelay, Leak string
}

// Result holds every outcome of a tour run. Failures lists the outcomes
// that differed from the expected ones, and the program exits non-zero
// when it is not empty.
type Result struct {
	Session, JWT, Phantom, Txn PatternResult

	// JWTPayload holds claims read from the JWT without any key.
	JWTPayload map[string]any
	// ProfileStatuses are the statuses of the requests chapter 3 prints.
	ProfileStatuses []int
	// GatewayIntrospections and GatewayCacheHits are the identity
	// gateway's counters for chapter 3's requests.
	GatewayIntrospections, GatewayCacheHits uint64
	// IdentityJWTBytes is the JWT the gateway forwards in chapter 3, and
	// TxnTokenBytes the transaction token it forwards in chapter 4.
	IdentityJWTBytes, TxnTokenBytes int
	// JWTLifetime, InnerJWTLifetime and TxnLifetime are the lifetimes
	// (exp - iat) of the login JWT of chapter 2, the JWT the gateway
	// forwards in chapter 3 and the transaction token of chapter 4: how
	// long a leaked one stays usable.
	JWTLifetime, InnerJWTLifetime, TxnLifetime time.Duration
	// Statuses of chapter 4: the payment through the gateway, then the
	// captured transaction token sent to the profile service's
	// profile_update route and its identity route, with a body amount of
	// 999, and a second time.
	Payment, ReplayOtherOperation, ReplayIdentityRoute, TamperedAmount, SecondUse int

	Failures []string
}

// tour walks a client through the four patterns against a running topology.
type tour struct {
	ctx  context.Context
	w    io.Writer
	top  *topology
	opts options
	res  Result
	// clients send the tour's own requests, as the client application and
	// as an attacker inside the network.
	client, attacker *http.Client
}

// runTour runs the four chapters and the summary against top, writing to w.
func runTour(ctx context.Context, w io.Writer, top *topology, opts options) Result {
	if opts.requests < 4 {
		opts.requests = 4
	}
	t := &tour{
		ctx: ctx, w: w, top: top, opts: opts,
		client:   top.trace.client("client"),
		attacker: top.trace.client("attacker"),
	}
	t.intro()
	for _, chapter := range []func(){t.chapterSession, t.chapterJWT, t.chapterPhantom, t.chapterTxn, t.summary} {
		if ctx.Err() != nil {
			t.fail(errInterrupted)
			break
		}
		chapter()
	}
	if len(t.res.Failures) == 0 {
		t.printf("\nall expected outcomes happened\n")
	} else {
		t.printf("\nunexpected outcomes (%d):\n", len(t.res.Failures))
		for _, f := range t.res.Failures {
			t.printf("  %s\n", f)
		}
	}
	return t.res
}

func (t *tour) printf(format string, args ...any) {
	fmt.Fprintf(t.w, format, args...)
}

// errInterrupted is the one failure an interrupted tour reports, in place
// of every request that the cancellation made fail.
const errInterrupted = "interrupted before every outcome was checked"

// fail records an unexpected outcome.
func (t *tour) fail(format string, args ...any) {
	if t.ctx.Err() != nil {
		if n := len(t.res.Failures); n == 0 || t.res.Failures[n-1] != errInterrupted {
			t.res.Failures = append(t.res.Failures, errInterrupted)
		}
		return
	}
	t.res.Failures = append(t.res.Failures, fmt.Sprintf(format, args...))
}

// expect records the failure of outcome unless got equals want, and
// reports whether they are equal.
func (t *tour) expect(outcome string, got, want int) bool {
	if got != want {
		t.fail("%s: got %d, expected %d", outcome, got, want)
		return false
	}
	return true
}

func (t *tour) intro() {
	top := t.top
	t.printf("tokenpattern tour: four token patterns, real HTTP on loopback\n")
	t.printf("  %-8s %s  login, JWKS, introspection, revocation\n", "auth", top.AuthURL)
	t.printf("  %-8s %s  httputil.ReverseProxy + phantom.Gateway\n", "gateway", top.GatewayURL)
	t.printf("  %-8s %s  session, JWT and transaction-token routes\n", "profile", top.ProfileURL)
	t.printf("  %-8s %s  txntoken.Require(\"payment_initiate\")\n", "payment", top.PaymentURL)
	t.printf("  gateway, profile and payment fetched the JWKS (the auth server's public keys) at startup\n")
	t.printf("  \"auth calls\": requests from services and the gateway to the auth server (introspection,\n")
	t.printf("  which asks whether a token is valid, token exchange, JWKS); logins and revocations not counted\n")
}

func (t *tour) chapter(title, subtitle string) {
	t.printf("\n== %s: %s\n", title, subtitle)
	t.printf("   %s %s %s %s  %s\n", pad("caller -> callee", colFrom), pad("request", colRequest), pad("token seen", colToken), "code", "notes")
}

// request is one HTTP request the tour sends.
type request struct {
	as     *http.Client
	method string
	url    string
	// bearer goes in Authorization, txnToken in Txn-Token.
	bearer, txnToken string
	// form is sent as a form, json as a JSON body.
	form url.Values
	json string
	// basic authenticates the tour's client application.
	basic bool
	// label names the attempt at the start of the notes.
	label string
}

// send sends r and returns the status and body.
func (t *tour) send(r request) (int, []byte, error) {
	var body io.Reader
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
	case r.json != "":
		body = strings.NewReader(r.json)
	}
	req, err := http.NewRequestWithContext(t.ctx, r.method, r.url, body)
	if err != nil {
		return 0, nil, err
	}

	switch {
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case r.json != "":
		req.Header.Set("Content-Type", "application/json")
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.txnToken != "" {
		req.Header.Set("Txn-Token", r.txnToken)
	}
	if r.basic {
		req.SetBasicAuth(appClientID, t.top.AppSecret)
	}

	resp, err := r.as.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, data, err
}

// step sends r, prints every hop it caused, and checks the status against
// want. note, called with the response body, adds to the first line.
// It returns the status, the body and the hops.
func (t *tour) step(outcome string, r request, want int, note func(body []byte) string) (int, []byte, []hop) {
	t.top.trace.start()
	status, body, err := t.send(r)
	hops := t.top.trace.stop()
	if err != nil {
		t.fail("%s: %v", outcome, err)
	}
	ok := t.expect(outcome, status, want)
	for i, h := range hops {
		var notes []string
		if i == 0 && !ok {
			notes = append(notes, fmt.Sprintf("UNEXPECTED, expected %d", want))
		}
		if i == 0 && r.label != "" {
			notes = append(notes, r.label)
		}
		if h.Note != "" {
			notes = append(notes, h.Note)
		}
		if i == 0 && note != nil {
			notes = append(notes, note(body))
		}
		t.printHop(h, i > 0, strings.Join(notes, "; "))
	}
	return status, body, hops
}

func (t *tour) printHop(h hop, nested bool, note string) {
	from := h.From
	if nested {
		from = "  " + from
	}
	line := fmt.Sprintf("   %s %s %s %3d  %s",
		pad(from+" -> "+h.To, colFrom), pad(h.Method+" "+h.Path, colRequest), pad(abbreviate(h.Token), colToken),
		h.Status, note)
	t.printf("%s\n", strings.TrimRight(line, " "))
	if !t.opts.verbose {
		return
	}
	inHeader := false
	for _, line := range sortedHeader(h.Header) {
		t.printf("        %s\n", line)
		inHeader = inHeader || (h.Token != "" && strings.Contains(line, h.Token))
	}
	if h.Token != "" && !inHeader {
		t.printf("        form token: %s\n", h.Token)
	}
	if len(h.Form) > 0 {
		t.printf("        form: %s\n", h.Form.Encode())
	}
	// Anyone who holds a JWT can decode it, so -v prints what each hop
	// could read.
	if header, claims, err := jwtutil.InspectUnverified(h.Token); err == nil {
		t.printf("        JWT header:  %s\n", compactJSON(header))
		t.printf("        JWT payload: %s\n", compactJSON(claims))
	}
}

func compactJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(data)
}

// repeat sends r n times without printing and returns how many got 200.
func (t *tour) repeat(outcome string, n int, r func() request) int {
	ok := 0
	for range n {
		status, _, err := t.send(r())
		if err != nil {
			t.fail("%s: %v", outcome, err)
			return ok
		}
		if status == http.StatusOK {
			ok++
		}
	}
	return ok
}

// login logs in as alice at path and returns the issued token.
func (t *tour) login(path, kind string) string {
	var token string
	t.step("login at "+path, request{
		as: t.client, method: http.MethodPost, url: t.top.AuthURL + path,
		form: url.Values{"username": {"alice"}},
	}, http.StatusOK, func(body []byte) string {
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.Unmarshal(body, &out); err != nil || out.AccessToken == "" {
			t.fail("login at %s: no access_token in the answer", path)
		}
		token = out.AccessToken
		return fmt.Sprintf("alice logs in, gets %s of %d bytes", kind, len(token))
	})
	return token
}

// revoke revokes token at the auth server as the client application and
// returns the status.
func (t *tour) revoke(token, note string) int {
	status, _, _ := t.step("revocation", request{
		as: t.client, method: http.MethodPost, url: t.top.AuthURL + "/revoke",
		form: url.Values{"token": {token}}, basic: true,
	}, http.StatusOK, func([]byte) string { return note })
	return status
}

// checks returns a note function that reports the auth calls made after
// checks returned.
func (t *tour) checks() func([]byte) string {
	base := t.top.counts.checks()
	return func([]byte) string { return fmt.Sprintf("auth calls %d", t.top.counts.checks()-base) }
}

// chapterSession: every request costs one call to the auth server, and
// revocation takes effect at once.
func (t *tour) chapterSession() {
	res := &t.res.Session
	res.Name = "session ID"
	t.chapter("1. Session ID", "opaque token, checked at the auth server on every call")
	token := t.login("/login", "opaque token")
	res.ClientTokenBytes = len(token)

	call := func() request {
		return request{as: t.client, method: http.MethodGet, url: t.top.ProfileURL + "/session/profile", bearer: token}
	}
	base := t.top.counts.checks()
	note := t.checks()
	t.callSeries(res, "session ID: profile call", "session ID: profile calls", call, note)
	res.AuthCalls = t.top.counts.checks() - base
	t.printf("   ... %d more calls like these: %d requests, %s: the auth server is in every request's path\n",
		t.opts.requests-shownCalls, res.Requests, note(nil))
	t.expect("session ID: profile calls returning 200", res.OK, res.Requests)
	t.expect("session ID: auth calls for the profile calls", int(res.AuthCalls), res.Requests)

	res.RevokeStatus = t.revoke(token, "alice logs out")
	res.AfterRevokeStatus, _, _ = t.step("session ID: profile call after revocation", call(), http.StatusUnauthorized, note)
	res.RevocationDelay = "next request"
	if res.AfterRevokeStatus != http.StatusUnauthorized {
		res.RevocationDelay = "not observed"
	}
	res.Leak = "every call until revoked"
}

// recordServiceTokens sets the service-side fields of res from the hop of
// hops that reached the profile or payment service, if any.
// shownCalls is how many calls of a repeated series the tour prints hop by
// hop; the rest run quietly.
const shownCalls = 3

// callSeries makes t.opts.requests calls built by call. It prints the first
// shownCalls hop by hop under the outcome one, counts the 200s and the
// tokens services saw into res, and returns the printed calls' statuses.
func (t *tour) callSeries(res *PatternResult, one, many string, call func() request, note func([]byte) string) []int {
	statuses := make([]int, 0, shownCalls)
	for range shownCalls {
		status, _, hops := t.step(one, call(), http.StatusOK, note)
		statuses = append(statuses, status)
		if status == http.StatusOK {
			res.OK++
		}
		recordServiceTokens(res, hops)
	}
	res.OK += t.repeat(many, t.opts.requests-shownCalls, call)
	res.Requests = t.opts.requests
	return statuses
}

func recordServiceTokens(res *PatternResult, hops []hop) {
	for _, h := range hops {
		if h.To != "profile" && h.To != "payment" {
			continue
		}
		res.ServiceTokens = tokensIn(h.Header)
		res.ServiceTokenBytes = 0
		for _, tok := range res.ServiceTokens {
			res.ServiceTokenBytes += len(tok)
		}
	}
}

// lifetime returns exp - iat of a JWT, read without a key, or 0.
func lifetime(token string) time.Duration {
	_, claims, err := jwtutil.InspectUnverified(token)
	if err != nil {
		return 0
	}
	exp, ok1 := claims["exp"].(json.Number)
	iat, ok2 := claims["iat"].(json.Number)
	if !ok1 || !ok2 {
		return 0
	}
	e, err1 := exp.Int64()
	i, err2 := iat.Int64()
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(e-i) * time.Second
}

// short formats d as "5m" rather than "5m0s".
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

// chapterJWT: the profile service verifies the JWT locally, so the auth
// server is never asked, and nothing can be revoked before "exp".
func (t *tour) chapterJWT() {
	res := &t.res.JWT
	res.Name = "JWT"
	t.chapter("2. JWT", "signed token, verified locally with the JWKS")
	token := t.login("/login/jwt", "signed JWT")
	res.ClientTokenBytes = len(token)
	t.res.JWTLifetime = lifetime(token)

	_, payload, err := jwtutil.InspectUnverified(token)
	if err != nil {
		t.fail("JWT: decoding the payload without a key: %v", err)
	}
	t.res.JWTPayload = payload
	t.printf("   anyone holding it reads the payload, no key needed: sub=%v name=%v scope=%q\n",
		payload["sub"], payload["name"], payload["scope"])
	if payload["sub"] != "alice" {
		t.fail("JWT: payload read without a key has sub %v, expected alice", payload["sub"])
	}

	call := func() request {
		return request{as: t.client, method: http.MethodGet, url: t.top.ProfileURL + "/profile", bearer: token}
	}
	base := t.top.counts.checks()
	note := t.checks()
	t.callSeries(res, "JWT: profile call", "JWT: profile calls", call, note)
	res.AuthCalls = t.top.counts.checks() - base
	t.printf("   ... %d more calls like these: %d requests, %s\n", t.opts.requests-shownCalls, res.Requests, note(nil))
	t.expect("JWT: profile calls returning 200", res.OK, res.Requests)
	t.expect("JWT: auth calls for the profile calls", int(res.AuthCalls), 0)

	res.RevokeStatus = t.revoke(token, "nothing to revoke: the auth server keeps no state for a JWT")
	res.AfterRevokeStatus, _, _ = t.step("JWT: profile call after revocation", call(), http.StatusOK,
		func([]byte) string { return "still accepted until exp" })
	res.RevocationDelay = fmt.Sprintf("until exp (%s)", short(t.res.JWTLifetime))
	res.Leak = fmt.Sprintf("every call until exp (%s)", short(t.res.JWTLifetime))
}

// chapterPhantom: the gateway exchanges the opaque token once, caches the
// JWT, and drops it the moment the auth server publishes a revocation.
func (t *tour) chapterPhantom() {
	res := &t.res.Phantom
	res.Name = "phantom token"
	t.chapter("3. Phantom token", "opaque outside, JWT inside, exchanged once by the gateway")
	token := t.login("/login", "opaque token")
	res.ClientTokenBytes = len(token)

	call := func() request {
		return request{as: t.client, method: http.MethodGet, url: t.top.GatewayURL + "/profile", bearer: token}
	}
	gw := t.top.identityGateway
	before := gw.Stats()
	base := t.top.counts.checks()
	note := func([]byte) string {
		s := gw.Stats()
		return fmt.Sprintf("auth calls %d, cache hits %d", t.top.counts.checks()-base, s.CacheHits-before.CacheHits)
	}
	statuses := t.callSeries(res, "phantom: profile call through the gateway", "phantom: profile calls", call, note)
	t.res.ProfileStatuses = append(t.res.ProfileStatuses, statuses...)
	res.AuthCalls = t.top.counts.checks() - base
	after := gw.Stats()
	t.res.GatewayIntrospections = after.Introspections - before.Introspections
	t.res.GatewayCacheHits = after.CacheHits - before.CacheHits
	t.res.IdentityJWTBytes = res.ServiceTokenBytes
	t.printf("   ... %d more calls like these: %d requests, %s\n", t.opts.requests-shownCalls, res.Requests, note(nil))
	t.expect("phantom: profile calls returning 200", res.OK, res.Requests)
	t.expect("phantom: auth calls for the profile calls", int(res.AuthCalls), 1)
	t.expect("phantom: gateway introspections", int(t.res.GatewayIntrospections), 1)
	t.expect("phantom: gateway cache hits", int(t.res.GatewayCacheHits), res.Requests-1)
	t.expectOnlyJWT("phantom", res, token)
	if len(res.ServiceTokens) == 1 {
		t.res.InnerJWTLifetime = lifetime(res.ServiceTokens[0])
	}

	res.RevokeStatus = t.revoke(token, "revocation event evicts the gateway's cache entry")
	res.AfterRevokeStatus, _, _ = t.step("phantom: profile call after revocation", call(), http.StatusUnauthorized, note)
	res.RevocationDelay = "next request"
	if res.AfterRevokeStatus != http.StatusUnauthorized {
		res.RevocationDelay = "not observed"
	}
	res.Leak = "every call until revoked (1)"
}

// chapterTxn: each payment gets its own short-lived token bound to the
// payment's content, usable once and only for payment_initiate.
func (t *tour) chapterTxn() {
	res := &t.res.Txn
	res.Name = "transaction token"
	t.chapter("4. Transaction token", "one token per operation, bound to the request")
	token := t.login("/login", "opaque token")
	res.ClientTokenBytes = len(token)

	pay := func() request {
		return request{as: t.client, method: http.MethodPost, url: t.top.GatewayURL + "/payments", bearer: token, json: paymentBody}
	}
	base := t.top.counts.checks()
	note := t.checks()
	status, _, hops := t.step("transaction token: payment through the gateway", pay(), http.StatusOK, note)
	t.res.Payment = status
	if status == http.StatusOK {
		res.OK++
	}
	recordServiceTokens(res, hops)
	t.expectOnlyJWT("transaction token", res, token)
	var captured string
	if len(res.ServiceTokens) == 1 {
		captured = res.ServiceTokens[0]
	}
	t.res.TxnTokenBytes = len(captured)
	t.res.TxnLifetime = lifetime(captured)
	growth := 0
	if t.res.IdentityJWTBytes > 0 {
		growth = 100 * (len(captured) - t.res.IdentityJWTBytes) / t.res.IdentityJWTBytes
	}
	t.printf("   token sizes: client %d B (opaque); services: identity JWT %d B, transaction token %d B (%+d%%), one per payment\n",
		len(token), t.res.IdentityJWTBytes, len(captured), growth)
	if len(captured) <= t.res.IdentityJWTBytes {
		t.fail("transaction token: %d bytes, expected more than the %d-byte identity JWT", len(captured), t.res.IdentityJWTBytes)
	}

	t.printf("   an attacker inside the network captured that token and tries it:\n")
	t.res.ReplayOtherOperation, _, _ = t.step("transaction token: replay at the profile_update route", request{
		as: t.attacker, method: http.MethodPatch, url: t.top.ProfileURL + "/profile", txnToken: captured,
		label: "at a profile_update route",
	}, http.StatusForbidden, nil)
	t.res.ReplayIdentityRoute, _, _ = t.step("transaction token: replay at the identity route", request{
		as: t.attacker, method: http.MethodGet, url: t.top.ProfileURL + "/profile", bearer: captured,
		label: "as an identity JWT",
	}, http.StatusUnauthorized, nil)
	tampered := strings.Replace(paymentBody, `"amount":500`, `"amount":999`, 1)
	t.res.TamperedAmount, _, _ = t.step("transaction token: tampered amount", request{
		as: t.attacker, method: http.MethodPost, url: t.top.PaymentURL + "/payments", txnToken: captured, json: tampered,
		label: "with amount 999",
	}, http.StatusUnauthorized, nil)
	t.res.SecondUse, _, _ = t.step("transaction token: second use", request{
		as: t.attacker, method: http.MethodPost, url: t.top.PaymentURL + "/payments", txnToken: captured, json: paymentBody,
		label: "a second time",
	}, http.StatusUnauthorized, nil)

	before := t.top.counts.checks()
	res.OK += t.repeat("transaction token: payments", t.opts.requests-1, pay)
	res.Requests = t.opts.requests
	res.AuthCalls = t.top.counts.checks() - base
	t.printf("   ... %d more payments through the gateway: %d requests, auth calls %d\n",
		t.opts.requests-1, res.Requests, res.AuthCalls)
	t.expect("transaction token: payments returning 200", res.OK, res.Requests)
	t.expect("transaction token: auth calls for the payments", int(t.top.counts.checks()-before), res.Requests-1)
	t.expect("transaction token: auth calls for all payments", int(res.AuthCalls), res.Requests)

	res.RevokeStatus = t.revoke(token, "alice logs out")
	res.AfterRevokeStatus, _, _ = t.step("transaction token: payment after revocation", pay(), http.StatusUnauthorized, nil)
	res.RevocationDelay = "next request"
	if res.AfterRevokeStatus != http.StatusUnauthorized {
		res.RevocationDelay = "not observed"
	}
	res.Leak = "every call until revoked (2)"
}

// expectOnlyJWT records a failure unless the service received exactly one
// token, a JWT, and not the client's opaque token.
func (t *tour) expectOnlyJWT(pattern string, res *PatternResult, clientToken string) {
	if len(res.ServiceTokens) != 1 {
		t.fail("%s: the service received %d tokens, expected only the gateway's JWT", pattern, len(res.ServiceTokens))
		return
	}
	if res.ServiceTokens[0] == clientToken {
		t.fail("%s: the service received the client's opaque token", pattern)
	} else if _, _, err := jwtutil.InspectUnverified(res.ServiceTokens[0]); err != nil {
		t.fail("%s: the service received a token that is not a JWT: %v", pattern, err)
	}
}

// summary prints one row per pattern.
func (t *tour) summary() {
	t.printf("\n== Summary (measured above, %d requests per pattern)\n", t.opts.requests)
	t.printf("   %-18s %10s %8s %9s  %-17s %s\n", "pattern", "auth calls", "client", "services", "revocation delay", "a leaked token allows")
	for _, p := range []PatternResult{t.res.Session, t.res.JWT, t.res.Phantom, t.res.Txn} {
		perHundred := float64(p.AuthCalls) * 100 / float64(max(p.Requests, 1))
		t.printf("   %-18s %10.0f %6d B %7d B  %-17s %s\n",
			p.Name, perHundred, p.ClientTokenBytes, p.ServiceTokenBytes, p.RevocationDelay, p.Leak)
	}
	t.printf("   auth calls: per 100 requests; client, services: bytes of the tokens each side receives\n")
	t.printf("   revocation delay: until a revoked client token fails; leaked token: the one the client holds\n")
	t.printf("   (1) a leaked inner JWT: every call at the services until exp (%s)\n", short(t.res.InnerJWTLifetime))
	t.printf("   (2) a leaked transaction token: its one payment, once, until exp (%s)\n", short(t.res.TxnLifetime))
}
