package txntoken

import (
	"regexp/syntax"
	"unicode/utf8"
)

// charRun matches a whole string made of min to max bytes from an ASCII
// set. Most claim patterns have that shape ("[A-Z]{3}", "[a-z0-9_-]+",
// "\d{1,12}"), and a bitmap check is an order of magnitude faster than
// running the regexp engine on every verified token.
type charRun struct {
	set      [2]uint64 // bit b set when byte b may appear; ASCII only
	min, max int       // max < 0 means unbounded
}

// compileCharRun returns the charRun equivalent to the whole-string match
// of pattern, or nil when the pattern has another shape. It must agree with
// regexp on every input; FuzzCharRun checks that.
func compileCharRun(pattern string) *charRun {
	// regexp.Compile parses with syntax.Perl, so the trees are the same.
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}

	r := &charRun{min: 1, max: 1}
	repeated := true
	switch re.Op {
	case syntax.OpStar:
		r.min, r.max = 0, -1
	case syntax.OpPlus:
		r.min, r.max = 1, -1
	case syntax.OpQuest:
		r.min, r.max = 0, 1
	case syntax.OpRepeat:
		r.min, r.max = re.Min, re.Max
	default:
		repeated = false
	}
	if repeated {
		re = re.Sub[0]
		for re.Op == syntax.OpCapture {
			re = re.Sub[0]
		}
	}

	switch {
	case re.Op == syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo < 0 || hi >= utf8.RuneSelf {
				return nil
			}
			for b := lo; b <= hi; b++ {
				r.set[b/64] |= 1 << (b % 64)
			}
		}
	case re.Op == syntax.OpLiteral && len(re.Rune) == 1 && re.Flags&syntax.FoldCase == 0:
		b := re.Rune[0]
		if b < 0 || b >= utf8.RuneSelf {
			return nil
		}
		r.set[b/64] |= 1 << (b % 64)
	default:
		return nil
	}
	return r
}

// match reports whether every byte of s is in the set and the length is
// within bounds. Each ASCII byte is one rune, so counting bytes counts the
// repetitions the pattern allows; any other byte fails the set.
func (r *charRun) match(s string) bool {
	if len(s) < r.min || r.max >= 0 && len(s) > r.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf || r.set[b/64]&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}
