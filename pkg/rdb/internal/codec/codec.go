package codec

import "strconv"

// FormatError reports bytes that contradict a blob format. Offset is relative
// to the start of the blob so the decoder need not know where the blob came
// from; the RDB reader wraps it with the file position.
type FormatError struct {
	Offset int    // byte offset within the blob where the problem was found
	Reason string // what was expected, in words
}

func (e *FormatError) Error() string {
	return "offset " + strconv.Itoa(e.Offset) + " in blob: " + e.Reason
}

// maxCanonicalIntLen is LONG_STR_SIZE-1 in Redis: "-9223372036854775808" is
// 20 bytes, and string2ll refuses anything as long as 21 without looking.
const maxCanonicalIntLen = 20

// ParseCanonicalInt reports whether b is an integer exactly as Redis's
// string2ll accepts it, and its value. A true result means formatting the
// value in decimal gives back b byte for byte, which is the property the
// listpack and ziplist writers rely on when they store such strings as
// integers.
func ParseCanonicalInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > maxCanonicalIntLen {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	negative := b[0] == '-'
	digits := b
	if negative {
		digits = b[1:]
	}
	// A leading zero (which also rules out "-0") or an empty digit run means
	// the text is not the canonical spelling of any integer.
	if len(digits) == 0 || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range digits {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		// At most 20 digits can reach here; overflow of uint64 is only
		// possible on the last one, so check before multiplying.
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v *= 10
		if v > 1<<64-1-uint64(d) {
			return 0, false
		}
		v += uint64(d)
	}
	if negative {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// AppendInt appends the decimal text of v to dst. It is the inverse of
// ParseCanonicalInt and is how integer entries are rendered as strings.
func AppendInt(dst []byte, v int64) []byte {
	return strconv.AppendInt(dst, v, 10)
}
