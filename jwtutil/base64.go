package jwtutil

// JWS segments are base64url without padding (RFC 7515 section 2). The
// decoder here is stricter than encoding/base64, which skips '\r' and '\n'
// anywhere in its input. It rejects every byte outside the alphabet, any
// padding, and unused trailing bits that are not zero, so each decoded value
// has exactly one encoding. It reads a string, so decoding a segment never
// copies the token first.

// base64Invalid marks bytes outside the base64url alphabet in base64Decode;
// every valid entry is below 64, so one mask test catches it.
const base64Invalid = 0xff

var base64Decode = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = base64Invalid
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodedLen returns the number of bytes that n base64url characters
// encode, or -1 when no unpadded encoding has that length.
func decodedLen(n int) int {
	if n%4 == 1 {
		return -1
	}
	return n/4*3 + (n%4*6)/8
}

// decodeSegment decodes src into dst, which must hold decodedLen(len(src))
// bytes, and reports whether src was canonical unpadded base64url.
func decodeSegment(dst []byte, src string) bool {
	n := decodedLen(len(src))
	if n < 0 || len(dst) < n {
		return false
	}
	di := 0
	si := 0
	for ; si+4 <= len(src); si += 4 {
		a := base64Decode[src[si]]
		b := base64Decode[src[si+1]]
		c := base64Decode[src[si+2]]
		d := base64Decode[src[si+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di] = byte(v >> 16)
		dst[di+1] = byte(v >> 8)
		dst[di+2] = byte(v)
		di += 3
	}
	switch len(src) - si {
	case 2:
		a := base64Decode[src[si]]
		b := base64Decode[src[si+1]]
		if (a|b)&0xc0 != 0 || b&0x0f != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a := base64Decode[src[si]]
		b := base64Decode[src[si+1]]
		c := base64Decode[src[si+2]]
		if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
			return false
		}
		dst[di] = a<<2 | b>>4
		dst[di+1] = b<<4 | c>>2
	}
	return true
}

// isBase64URL reports whether every byte of s is in the base64url
// alphabet. The verifier calls it before allocating a buffer for a large
// segment, so garbage is rejected without allocating.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if base64Decode[s[i]] == base64Invalid {
			return false
		}
	}
	return true
}
