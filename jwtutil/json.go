package jwtutil

import (
	"encoding/json"
	"unicode/utf8"
)

// This file holds the small strict JSON reader behind header and claims
// decoding. It validates the same grammar as encoding/json (RFC 8259). It
// returns each object member as a name and a raw value substring, so the
// verifier decodes the registered claims in one pass and keeps the others
// as raw JSON without reflection. Unlike encoding/json it rejects duplicate
// member names, because two parsers that pick different duplicates would
// disagree on what a token says.

// maxJSONDepth matches encoding/json's nesting limit, so the two readers
// agree on every input (a token's size bound keeps real depth far lower).
const maxJSONDepth = 10000

// member is one name/value pair of a JSON object. value is the raw JSON
// text of the value, a substring of the document.
type member struct {
	name  string
	value string
}

// jsonReader walks a JSON document held in a string.
type jsonReader struct {
	data string
	pos  int
}

func (r *jsonReader) skipSpace() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// readObject parses data as exactly one JSON object surrounded by optional
// whitespace and appends its members to dst. ok is false for a syntax
// error; dup is true when two members share a name.
func readObject(data string, dst []member) (members []member, ok bool, dup bool) {
	r := jsonReader{data: data}
	r.skipSpace()
	if r.pos >= len(data) || data[r.pos] != '{' {
		return dst, false, false
	}
	r.pos++
	r.skipSpace()
	if r.pos < len(data) && data[r.pos] == '}' {
		r.pos++
		r.skipSpace()
		return dst, r.pos == len(data), false
	}

	start := len(dst)
	for {
		r.skipSpace()
		nameStart := r.pos
		escaped, good := r.skipString()
		if !good {
			return dst, false, false
		}
		name := data[nameStart+1 : r.pos-1]
		if escaped {
			name = unquote(data[nameStart:r.pos])
		}
		r.skipSpace()
		if r.pos >= len(data) || data[r.pos] != ':' {
			return dst, false, false
		}
		r.pos++
		r.skipSpace()
		valueStart := r.pos
		if !r.skipValue(1) {
			return dst, false, false
		}
		dst = append(dst, member{name: name, value: data[valueStart:r.pos]})

		r.skipSpace()
		if r.pos >= len(data) {
			return dst, false, false
		}
		c := data[r.pos]
		r.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			return dst, false, false
		}
	}

	r.skipSpace()
	if r.pos != len(data) {
		return dst, false, false
	}
	if hasDuplicate(dst[start:]) {
		return dst, true, true
	}
	return dst, true, false
}

// hasDuplicate reports whether two members share a name. Small objects,
// which is nearly every JWT, are compared pairwise without allocating.
func hasDuplicate(ms []member) bool {
	if len(ms) <= 16 {
		for i := 1; i < len(ms); i++ {
			for j := 0; j < i; j++ {
				if ms[i].name == ms[j].name {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[string]struct{}, len(ms))
	for _, m := range ms {
		if _, ok := seen[m.name]; ok {
			return true
		}
		seen[m.name] = struct{}{}
	}
	return false
}

// skipValue advances past one JSON value, reporting whether it was valid.
func (r *jsonReader) skipValue(depth int) bool {
	if depth > maxJSONDepth {
		return false
	}
	if r.pos >= len(r.data) {
		return false
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		_, ok := r.skipString()
		return ok
	case c == '{':
		return r.skipObject(depth)
	case c == '[':
		return r.skipArray(depth)
	case c == '-' || ('0' <= c && c <= '9'):
		return r.skipNumber()
	case c == 't':
		return r.skipLiteral("true")
	case c == 'f':
		return r.skipLiteral("false")
	case c == 'n':
		return r.skipLiteral("null")
	}
	return false
}

func (r *jsonReader) skipLiteral(lit string) bool {
	if len(r.data)-r.pos < len(lit) || r.data[r.pos:r.pos+len(lit)] != lit {
		return false
	}
	r.pos += len(lit)
	return true
}

func (r *jsonReader) skipObject(depth int) bool {
	r.pos++ // '{'
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		return true
	}
	for {
		r.skipSpace()
		if _, ok := r.skipString(); !ok {
			return false
		}
		r.skipSpace()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return false
		}
		r.pos++
		r.skipSpace()
		if !r.skipValue(depth + 1) {
			return false
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return false
		}
		c := r.data[r.pos]
		r.pos++
		if c == '}' {
			return true
		}
		if c != ',' {
			return false
		}
	}
}

func (r *jsonReader) skipArray(depth int) bool {
	r.pos++ // '['
	r.skipSpace()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		return true
	}
	for {
		r.skipSpace()
		if !r.skipValue(depth + 1) {
			return false
		}
		r.skipSpace()
		if r.pos >= len(r.data) {
			return false
		}
		c := r.data[r.pos]
		r.pos++
		if c == ']' {
			return true
		}
		if c != ',' {
			return false
		}
	}
}

// skipString advances past a JSON string starting at r.pos. escaped reports
// whether the string needs unquoting (escapes or non-ASCII bytes), so that
// the common plain-ASCII case can be used as a substring without copying.
func (r *jsonReader) skipString() (escaped bool, ok bool) {
	if r.pos >= len(r.data) || r.data[r.pos] != '"' {
		return false, false
	}
	i := r.pos + 1
	for i < len(r.data) {
		c := r.data[i]
		switch {
		case c == '"':
			r.pos = i + 1
			return escaped, true
		case c < 0x20:
			return false, false
		case c == '\\':
			escaped = true
			if i+1 >= len(r.data) {
				return false, false
			}
			switch r.data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(r.data) {
					return false, false
				}
				for _, h := range []byte(r.data[i+2 : i+6]) {
					if !isHex(h) {
						return false, false
					}
				}
				i += 6
			default:
				return false, false
			}
		case c >= utf8.RuneSelf:
			// encoding/json accepts invalid UTF-8 and replaces it with
			// U+FFFD; unquote does the same.
			escaped = true
			i++
		default:
			i++
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipNumber advances past a JSON number (RFC 8259 section 6).
func (r *jsonReader) skipNumber() bool {
	d := r.data
	i := r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	r.pos = i
	return true
}

// unquote decodes a validated JSON string literal, quotes included. Only
// strings with escapes or non-ASCII bytes get here, so it leaves the
// decoding, with its replacement of invalid UTF-8 and lone surrogates, to
// encoding/json.
func unquote(lit string) string {
	var s string
	if err := json.Unmarshal([]byte(lit), &s); err != nil {
		// Unreachable: skipString validated lit.
		return ""
	}
	return s
}

// stringValue decodes raw as a JSON string, reporting false for any other
// JSON type.
func stringValue(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	r := jsonReader{data: raw}
	escaped, ok := r.skipString()
	if !ok || r.pos != len(raw) {
		return "", false
	}
	if escaped {
		return unquote(raw), true
	}
	return raw[1 : len(raw)-1], true
}
