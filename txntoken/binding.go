package txntoken

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokenpattern/tokenpattern/internal/bearer"
)

// Source is the part of the live request that a bound claim is read from.
type Source int

// Binding sources.
const (
	// SourceBody reads a member of a JSON object request body; Bind.Name
	// is a dot-separated path such as "payment.amount".
	SourceBody Source = iota + 1
	// SourceQuery reads a URL query parameter.
	SourceQuery
	// SourcePath reads a path wildcard of a Go 1.22 ServeMux pattern with
	// http.Request.PathValue.
	SourcePath
	// SourceHeader reads a request header.
	SourceHeader
)

func (s Source) String() string {
	switch s {
	case SourceBody:
		return "body field"
	case SourceQuery:
		return "query parameter"
	case SourcePath:
		return "path value"
	case SourceHeader:
		return "header"
	}
	return "invalid source"
}

// Bind ties a context claim to a value of the request: the request is
// rejected unless the value equals the claim.
//
// Comparison is exact and typed. A body value must have the claim's JSON
// type: an integer claim matches a JSON integer literal only, so a body
// "amount": 500.0, 5e2 or "500" does not match a token amount of 500 (a handler
// decoding into an int would reject those anyway, and other parsers may read
// them differently). A number claim matches any JSON number of equal
// float64 value. Query, path and header values are text and are converted
// with the rules of ParseParams. A claim absent from the token matches only
// an absent request value. A query parameter or header that appears more
// than once is rejected as malformed. So is a body member whose name differs
// from a bound member only in case ("Amount" beside or instead of "amount"),
// because encoding/json decodes such members into the same struct field.
type Bind struct {
	Claim  string
	Source Source
	Name   string
}

// BodyField binds claim to the JSON body member at path, a dot-separated
// list of object member names.
func BodyField(claim, path string) Bind { return Bind{Claim: claim, Source: SourceBody, Name: path} }

// QueryParam binds claim to the query parameter name.
func QueryParam(claim, name string) Bind { return Bind{Claim: claim, Source: SourceQuery, Name: name} }

// PathValue binds claim to the ServeMux path wildcard name.
func PathValue(claim, name string) Bind { return Bind{Claim: claim, Source: SourcePath, Name: name} }

// HeaderValue binds claim to the request header name.
func HeaderValue(claim, name string) Bind {
	return Bind{Claim: claim, Source: SourceHeader, Name: name}
}

func (b Bind) check() error {
	if b.Name == "" {
		return fmt.Errorf("txntoken: binding of claim %q has an empty name", b.Claim)
	}
	switch b.Source {
	case SourceBody:
		for _, part := range strings.Split(b.Name, ".") {
			if part == "" {
				return fmt.Errorf("txntoken: binding of claim %q: body path %q has an empty member name", b.Claim, b.Name)
			}
		}
	case SourceQuery, SourcePath, SourceHeader:
	default:
		return fmt.Errorf("txntoken: binding of claim %q has an invalid source %d", b.Claim, b.Source)
	}
	return nil
}

func compileBinding(op *Operation, binds []Bind) ([]Bind, error) {
	seen := make(map[string]bool, len(binds))
	for _, b := range binds {
		if _, ok := op.claims[b.Claim]; !ok {
			return nil, fmt.Errorf("txntoken: operation %q declares no claim %q to bind", op.Name, b.Claim)
		}
		if seen[b.Claim] {
			return nil, fmt.Errorf("txntoken: operation %q: claim %q is bound twice", op.Name, b.Claim)
		}
		seen[b.Claim] = true
		if err := b.check(); err != nil {
			return nil, err
		}
	}
	return append([]Bind(nil), binds...), nil
}

var errBodyTooLarge = errors.New("txntoken: request body too large")

// bindingError reports a request that is malformed (400) or that differs
// from the token (401).
type bindingError struct {
	malformed   bool
	description string
}

func (e *bindingError) Error() string { return "txntoken: " + e.description }

func (e *bindingError) Unwrap() error {
	if e.malformed {
		return nil
	}
	return ErrMismatch
}

func mismatch(b Bind) error {
	return &bindingError{description: fmt.Sprintf("request %s %q does not match claim %q", b.Source, b.Name, b.Claim)}
}

func malformed(format string, args ...any) error {
	return &bindingError{malformed: true, description: fmt.Sprintf(format, args...)}
}

// requestValues reads bound values from one request, parsing the body and
// the query at most once.
type requestValues struct {
	r       *http.Request
	maxBody int64
	body    any
	read    bool
	query   url.Values
}

// lookup returns the value for b: a string for query, path and header
// values, a decoded JSON value (string, json.Number, bool, nil, map or
// slice) for body fields.
func (rv *requestValues) lookup(b Bind) (any, bool, error) {
	switch b.Source {
	case SourceBody:
		if err := rv.readBody(); err != nil {
			return nil, false, err
		}
		cur := rv.body
		for _, part := range strings.Split(b.Name, ".") {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil, false, nil
			}
			// encoding/json matches member names to struct fields without
			// regard to case and keeps the last match, so a handler would
			// decode {"amount":500,"AMOUNT":999} as 999. Such members are
			// rejected rather than ignored.
			found := false
			for k, v := range obj {
				if !strings.EqualFold(k, part) {
					continue
				}
				if k != part || found {
					return nil, false, malformed("request body has a member that differs from %q only in case", part)
				}
				cur, found = v, true
			}
			if !found {
				return nil, false, nil
			}
		}
		return cur, true, nil
	case SourceQuery:
		if rv.query == nil {
			q, err := url.ParseQuery(rv.r.URL.RawQuery)
			if err != nil {
				return nil, false, malformed("query string is malformed")
			}
			rv.query = q
		}
		vs := rv.query[b.Name]
		switch len(vs) {
		case 0:
			return nil, false, nil
		case 1:
			return vs[0], true, nil
		}
		return nil, false, malformed("query parameter %q appears more than once", b.Name)
	case SourcePath:
		s := rv.r.PathValue(b.Name)
		return s, s != "", nil
	case SourceHeader:
		vs := rv.r.Header.Values(b.Name)
		switch len(vs) {
		case 0:
			return nil, false, nil
		case 1:
			return vs[0], true, nil
		}
		return nil, false, malformed("header %q appears more than once", b.Name)
	}
	return nil, false, malformed("invalid binding source")
}

// readBody reads at most maxBody bytes, restores r.Body so the handler can
// read it again, and decodes it as one JSON value with duplicate keys
// rejected: two parsers could otherwise pick different members.
func (rv *requestValues) readBody() error {
	if rv.read {
		return nil
	}
	rv.read = true
	if rv.r.Body == nil || rv.r.Body == http.NoBody {
		return malformed("request body is empty")
	}
	data, err := io.ReadAll(io.LimitReader(rv.r.Body, rv.maxBody+1))
	_ = rv.r.Body.Close()
	rv.r.Body = io.NopCloser(bytes.NewReader(data))
	if err != nil {
		return malformed("request body could not be read")
	}
	if int64(len(data)) > rv.maxBody {
		return errBodyTooLarge
	}
	if err := checkDuplicateKeys(data); err != nil {
		return malformed("request body is not valid JSON or repeats a member")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&rv.body); err != nil {
		return malformed("request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("request body has data after the JSON value")
	}
	return nil
}

// checkBinding checks every bound claim, in the order the route declared
// them, against the request.
func checkBinding(r *http.Request, op *Operation, binds []Bind, values Values, maxBody int64) error {
	if len(binds) == 0 {
		return nil
	}
	rv := &requestValues{r: r, maxBody: maxBody}
	for _, b := range binds {
		got, present, err := rv.lookup(b)
		if err != nil {
			return err
		}
		want := values.find(b.Claim)
		inToken := want != nil
		if !present && !inToken {
			continue
		}
		if !present || !inToken {
			return mismatch(b)
		}
		if !matches(op.claims[b.Claim], got, want, b.Source == SourceBody) {
			return mismatch(b)
		}
	}
	return nil
}

// matches compares a request value with the token's typed value want.
func matches(c *Claim, got any, want *entry, fromJSON bool) bool {
	if !fromJSON {
		s, _ := got.(string)
		v, why := c.parseForm(s)
		return why == "" && v.equal(want)
	}
	switch c.Type {
	case TypeString:
		s, ok := got.(string)
		return ok && want.kind == kindString && s == want.str
	case TypeBoolean:
		b, ok := got.(bool)
		return ok && want.kind == kindBool && b == (want.num != 0)
	case TypeInteger:
		n, ok := got.(json.Number)
		if !ok || !isJSONInteger(string(n)) {
			return false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil && want.kind == kindInt && i == int64(want.num)
	case TypeNumber:
		n, ok := got.(json.Number)
		if !ok || !isJSONNumber(string(n)) {
			return false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && want.kind == kindFloat && f == want.float()
	}
	return false
}

// GatewayParams returns a function that builds the introspection form
// fields for a request: "operation" and one field per binding, read from the
// request the way the middleware reads it. Its type matches the phantom
// gateway's ExchangeParams, so a gateway obtains a token whose claims the
// service's bindings will find equal. Body values keep their JSON text
// (500.0 stays "500.0" and the issuer rejects it for an integer claim). A
// missing value is left out, so the issuer rejects it when the claim is
// required; non-scalar body values and repeated parameters are errors.
// GatewayParams panics on an invalid binding, a programming error.
//
// The gateway's phantom.Client verifies the returned token before it
// forwards it, so give that Client a jwtutil.Verifier with Type JWTType and
// the operation's audience. A Client whose Verifier checks identity JWTs
// rejects every transaction token, and the gateway responds with 503.
func GatewayParams(operation string, binds ...Bind) func(r *http.Request) (url.Values, error) {
	for _, b := range binds {
		if err := b.check(); err != nil {
			panic(err)
		}
	}
	return func(r *http.Request) (url.Values, error) {
		rv := &requestValues{r: r, maxBody: DefaultMaxBodySize}
		out := url.Values{"operation": {operation}}
		for _, b := range binds {
			got, present, err := rv.lookup(b)
			if err != nil {
				return nil, err
			}
			if !present {
				continue
			}
			switch x := got.(type) {
			case string:
				out.Set(b.Claim, x)
			case json.Number:
				out.Set(b.Claim, string(x))
			case bool:
				out.Set(b.Claim, strconv.FormatBool(x))
			default:
				return nil, malformed("request %s %q is not a string, number or boolean", b.Source, b.Name)
			}
		}
		return out, nil
	}
}

// bearerDigestPrefix returns the first 8 hex digits of the token's SHA-256,
// enough to correlate log records without revealing the token.
func bearerDigestPrefix(token string) string {
	d := bearer.Digest(token)
	return hex.EncodeToString(d[:4])
}
