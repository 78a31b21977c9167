package txntoken

// maxScanDepth bounds the nesting the scanner follows inside a context
// object. Context claims are scalars, so a nested value is rejected
// anyway, and the slow path describes why.
const maxScanDepth = 32

// scanner walks JSON text without decoding it. It accepts a subset of
// RFC 8259: numbers of at most 64 bytes and nesting of at most
// maxScanDepth. A rejection only sends the caller to the slow path, so the
// subset never decides whether a token is valid.
type scanner struct {
	data string
	pos  int
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// consume skips the byte c if it is next.
func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

// str skips a string literal and reports whether it holds an escape.
func (s *scanner) str() (escaped, ok bool) {
	if !s.consume('"') {
		return false, false
	}
	data := s.data
	for i := s.pos; i < len(data); i++ {
		c := data[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch c {
		case '"':
			s.pos = i + 1
			return escaped, true
		case '\\':
			escaped = true
			i++
			if i >= len(data) {
				return false, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return false, false
				}
				for j := i + 1; j <= i+4; j++ {
					if !isHex(data[j]) {
						return false, false
					}
				}
				i += 4
			default:
				return false, false
			}
		default:
			return false, false // a control character
		}
	}
	return false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// value skips one JSON value at the given nesting depth.
func (s *scanner) value(depth int) bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.pos++
		s.space()
		if s.consume(end) {
			return true
		}
		for {
			if c == '{' {
				if _, ok := s.str(); !ok {
					return false
				}
				s.space()
				if !s.consume(':') {
					return false
				}
				s.space()
			}
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.consume(end) {
				return true
			}
			if !s.consume(',') {
				return false
			}
			s.space()
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		start := s.pos
		for s.pos < len(s.data) {
			c := s.data[s.pos]
			if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
				break
			}
			s.pos++
		}
		return isJSONNumber(s.data[start:s.pos])
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.pos >= len(lit) && s.data[s.pos:s.pos+len(lit)] == lit {
		s.pos += len(lit)
		return true
	}
	return false
}

// addObject records every member of data, the JSON text of one object,
// in s, with one pass and no map. It reports false when data is not an
// object the scanner accepts or names a declared claim twice. The values
// are checked later, by claimSet.values.
func (s *claimSet) addObject(o *Operation, data string) bool {
	return scanObject(data, func(name, raw string) bool { return s.add(o, name, raw) })
}

// scanObject calls add with the name and the JSON text of every member of
// data, the JSON text of one object, in order. It reports false when data
// is not an object the scanner accepts or when add reports false.
func scanObject(data string, add func(name, raw string) bool) bool {
	r := scanner{data: data}
	r.space()
	if !r.consume('{') {
		return false
	}
	r.space()
	if !r.consume('}') {
		for {
			start := r.pos
			escaped, ok := r.str()
			if !ok {
				return false
			}
			name := data[start+1 : r.pos-1]
			if escaped {
				if name, ok = jsonStringText(data[start:r.pos]); !ok {
					return false
				}
			}
			r.space()
			if !r.consume(':') {
				return false
			}
			r.space()
			valueStart := r.pos
			if !r.value(1) || !add(name, data[valueStart:r.pos]) {
				return false
			}
			r.space()
			if r.consume('}') {
				break
			}
			if !r.consume(',') {
				return false
			}
			r.space()
		}
	}
	r.space()
	return r.pos == len(data)
}

// takeObject passes every member of data, the JSON text of one object,
// to take. It handles only objects whose member names contain no escape
// and whose values are strings, numbers or literals. For anything else (a
// nested value, an escaped name, a structural fault) it reports false,
// which sends the caller to claimSet. It splits data
// without checking each byte against the JSON grammar. That is enough,
// because take checks every value with Claim.parseJSON and accepts only
// declared names.
func (w *orderedClaims) takeObject(data string) bool {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	for {
		if i == len(data) || data[i] != '"' {
			return false
		}
		j := i + 1
		for j < len(data) && data[j] != '"' && data[j] != '\\' {
			j++
		}
		if j == len(data) || data[j] != '"' {
			return false
		}
		name := data[i+1 : j]
		i = skipSpace(data, j+1)
		if i == len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		if i == len(data) {
			return false
		}
		start := i
		plain := false
		switch data[i] {
		case '{', '[':
			return false
		case '"':
			// Most literals hold no escape or control byte: one scan
			// finds their end and their text.
			j := i + 1
			for j < len(data) && data[j] >= 0x20 && data[j] != '"' && data[j] != '\\' {
				j++
			}
			if j < len(data) && data[j] == '"' {
				i, plain = j+1, true
				break
			}
			end, ok := stringEnd(data, i)
			if !ok {
				return false
			}
			i = end
		default:
			for i < len(data) && data[i] != ',' && data[i] != '}' && !isJSONSpace(data[i]) {
				i++
			}
		}
		if plain {
			if !w.takeString(name, data[start+1:i-1]) {
				return false
			}
		} else if !w.take(name, data[start:i]) {
			return false
		}
		i = skipSpace(data, i)
		if i == len(data) {
			return false
		}
		if data[i] == '}' {
			return skipSpace(data, i+1) == len(data)
		}
		if data[i] != ',' {
			return false
		}
		i = skipSpace(data, i+1)
	}
}

// stringEnd returns the position just past the string literal that starts
// with the quote at data[i]. The literal ends at the first later quote
// that is not preceded by an odd number of backslashes.
func stringEnd(data string, i int) (int, bool) {
	j := i + 1
	for {
		for j < len(data) && data[j] != '"' {
			j++
		}
		if j == len(data) {
			return 0, false
		}
		// The opening quote stops the count.
		escapes := 0
		for data[j-1-escapes] == '\\' {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// skipSpace returns the position of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(data string, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}
