package convert

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonBuf is a small append-only JSON writer. Everything rdbtool prints as JSON
// goes through it so that byte strings have exactly one representation: a JSON
// string when they are valid UTF-8, {"base64":"..."} otherwise.
type jsonBuf []byte

const hexDigits = "0123456789abcdef"

// bytesValue appends a byte string in rdbtool's lossless form.
func (b jsonBuf) bytesValue(s []byte) jsonBuf {
	if utf8.Valid(s) {
		return b.str(s)
	}
	b = append(b, `{"base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, s)
	return append(b, `"}`...)
}

// str appends s, which must be valid UTF-8, as a JSON string.
func (b jsonBuf) str(s []byte) jsonBuf {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
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

// key appends `"name":` for an object member.
func (b jsonBuf) key(name string) jsonBuf {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}
