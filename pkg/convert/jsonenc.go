package convert

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// jsonBuf is a small append-only JSON writer. Everything rdbtool prints as JSON
// goes through it so that byte strings have exactly one representation: a JSON
// string when they are valid UTF-8, {"base64":"..."} otherwise.
type jsonBuf []byte

const hexDigits = "0123456789abcdef"

// bytesValue appends a byte string in rdbtool's lossless form. It validates
// UTF-8 and escapes in one pass, eight ASCII bytes at a time where nothing
// needs escaping, and starts over as base64 at the first invalid byte.
func (b jsonBuf) bytesValue(s []byte) jsonBuf {
	if len(s) <= 16 && plainShort(s) {
		// Most elements of big collections: no loop, one copy.
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	start := len(b)
	b = append(b, '"')
	last, i := 0, 0
	for i < len(s) {
		if i+8 <= len(s) && plainASCII8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b[:start], `{"base64":"`...)
				b = appendBase64(b, s)
				return append(b, `"}`...)
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[last:i]...)
		b = appendEscape(b, c)
		i++
		last = i
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// plainASCII8 reports whether eight bytes are all printable ASCII other than
// '"' and '\\', so they are copied as they are. SWAR: with no high bit set,
// (x - 0x01..) &^ x has a high bit set exactly where some byte of x is zero,
// and (v - 0x20..) &^ v where some byte is below 0x20.
func plainASCII8(v uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	if v&hi != 0 {
		return false
	}
	q := v ^ (lo * '"')
	bs := v ^ (lo * '\\')
	return ((v-lo*0x20)&^v|(q-lo)&^q|(bs-lo)&^bs)&hi == 0
}

// plainShort reports whether s, of at most 16 bytes, is all printable ASCII
// other than '"' and '\\': two overlapping eight- or four-byte words cover it.
func plainShort(s []byte) bool {
	switch n := len(s); {
	case n >= 8:
		return plainASCII8(binary.LittleEndian.Uint64(s)) && plainASCII8(binary.LittleEndian.Uint64(s[n-8:]))
	case n >= 4:
		return plainASCII8(uint64(binary.LittleEndian.Uint32(s)) | uint64(binary.LittleEndian.Uint32(s[n-4:]))<<32)
	}
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// str appends s, which must be valid UTF-8, as a JSON string.
func (b jsonBuf) str(s []byte) jsonBuf {
	b = append(b, '"')
	last := 0
	for i, c := range s {
		if c < 0x20 || c == '"' || c == '\\' {
			b = append(b, s[last:i]...)
			b = appendEscape(b, c)
			last = i + 1
		}
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// text appends a Go string known to be UTF-8 (names, IDs).
func (b jsonBuf) text(s string) jsonBuf {
	return b.str([]byte(s))
}

// score appends a sorted-set score: a JSON number printed so that it parses back
// to the same float64, or "inf" / "-inf" (JSON has no infinities).
func (b jsonBuf) score(f float64) jsonBuf {
	switch {
	case math.IsInf(f, 1):
		return append(b, `"inf"`...)
	case math.IsInf(f, -1):
		return append(b, `"-inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

func (b jsonBuf) int(v int64) jsonBuf   { return strconv.AppendInt(b, v, 10) }
func (b jsonBuf) uint(v uint64) jsonBuf { return strconv.AppendUint(b, v, 10) }

// base64Pairs maps twelve bits to their two base64 characters, first one in
// the low byte.
var base64Pairs = func() (t [4096]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// appendBase64 appends the standard base64 encoding of src. Binary values are
// a good part of what dump writes; this takes six bytes per step (four table
// lookups, one 8-byte store) where encoding/base64 takes three, and leaves the
// tail, with its padding, to encoding/base64.
func appendBase64(dst, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	i, o := 0, 0
	for ; i+8 <= len(src); i, o = i+6, o+8 {
		v := binary.BigEndian.Uint64(src[i:]) // the top 48 bits are the six bytes
		binary.LittleEndian.PutUint64(out[o:], uint64(base64Pairs[v>>52])|
			uint64(base64Pairs[v>>40&0xfff])<<16|
			uint64(base64Pairs[v>>28&0xfff])<<32|
			uint64(base64Pairs[v>>16&0xfff])<<48)
	}
	base64.StdEncoding.Encode(out[o:], src[i:])
	return dst[:len(dst)+n]
}
