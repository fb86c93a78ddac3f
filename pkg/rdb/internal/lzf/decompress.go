package lzf

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

const (
	maxLiteral     = 32      // longest literal run one control byte can announce
	maxShortRef    = 8       // longest back-reference with a 2-byte instruction
	maxLongRef     = 264     // 7 + 255 + 2: longest back-reference of all
	maxDistance    = 1 << 13 // 13 offset bits, stored minus one
	bytesPerMaxRef = 3       // size of the long back-reference instruction
)

// MaxExpansion returns an upper bound of the number of bytes that clen bytes of
// LZF input can decompress to: every three input bytes yield at most 264
// output bytes. It saturates at math.MaxInt instead of overflowing.
func MaxExpansion(clen int) int {
	const perByte = maxLongRef / bytesPerMaxRef // 88
	if clen <= 0 {
		return 0
	}
	if clen > math.MaxInt/perByte {
		return math.MaxInt
	}
	return clen * perByte
}

// Decompress decodes the LZF stream src, which must produce exactly ulen
// bytes. The output is written to dst[:0], reusing dst's capacity when it is
// at least ulen and otherwise allocating exactly ulen bytes.
//
// A *codec.FormatError is returned, with an offset into src, when ulen is
// negative or larger than MaxExpansion(len(src)), when the stream would
// produce more or fewer than ulen bytes, when a back-reference reaches before
// the start of the output, or when src ends inside an instruction. The slice
// returned with an error is empty but keeps any buffer already obtained, so a
// caller can keep reusing it.
func Decompress(dst, src []byte, ulen int) ([]byte, error) {
	if ulen < 0 || ulen > MaxExpansion(len(src)) {
		return dst[:0], &codec.FormatError{Offset: 0, Reason: "LZF announced length " +
			strconv.Itoa(ulen) + " is impossible for " + strconv.Itoa(len(src)) + " compressed bytes"}
	}
	var out []byte
	if cap(dst) >= ulen {
		out = dst[:ulen]
	} else {
		out = make([]byte, ulen)
	}
	op, ip := 0, 0
	for ip < len(src) {
		start := ip
		ctrl := int(src[ip])
		ip++
		if ctrl < maxLiteral {
			n := ctrl + 1
			if n > len(src)-ip {
				return out[:0], lzfError(start, "LZF literal run of "+strconv.Itoa(n)+" bytes runs past the end of the input")
			}
			if n > ulen-op {
				return out[:0], overrun(start, ulen)
			}
			// Most runs are short: when both sides have 16 bytes of slack,
			// move 16 at once and let later output overwrite the excess.
			if n <= 16 && op+16 <= len(out) && ip+16 <= len(src) {
				binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(src[ip:]))
				binary.LittleEndian.PutUint64(out[op+8:], binary.LittleEndian.Uint64(src[ip+8:]))
			} else {
				copy(out[op:op+n], src[ip:ip+n])
			}
			op += n
			ip += n
			continue
		}

		n := ctrl >> 5
		if n == 7 {
			if ip >= len(src) {
				return out[:0], lzfError(start, "LZF input ends inside a back-reference")
			}
			n += int(src[ip])
			ip++
		}
		if ip >= len(src) {
			return out[:0], lzfError(start, "LZF input ends inside a back-reference")
		}
		dist := (ctrl&0x1f)<<8 + int(src[ip]) + 1
		ip++
		n += 2
		if dist > op {
			return out[:0], lzfError(start, "LZF back-reference reaches "+strconv.Itoa(dist-op)+" bytes before the start of the output")
		}
		if n > ulen-op {
			return out[:0], overrun(start, ulen)
		}
		ref := op - dist
		if dist >= 8 && n <= 8 && op+8 <= len(out) {
			// Same trick for short references whose source is at least 8
			// bytes back, so the 8-byte load sees only finished output.
			binary.LittleEndian.PutUint64(out[op:], binary.LittleEndian.Uint64(out[ref:]))
			op += n
			continue
		}
		if dist >= n {
			copy(out[op:op+n], out[ref:ref+n])
			op += n
			continue
		}
		// Overlapping copy: the result is periodic with period dist, so
		// copying what is already there doubles the available pattern each
		// round and matches the byte-by-byte definition.
		for n > 0 {
			k := copy(out[op:op+n], out[ref:op])
			op += k
			n -= k
		}
	}
	if op != ulen {
		return out[:0], lzfError(len(src), "LZF stream ends after "+strconv.Itoa(op)+" bytes of the announced "+strconv.Itoa(ulen))
	}
	return out, nil
}

func overrun(offset, ulen int) error {
	return lzfError(offset, "LZF stream produces more than the announced "+strconv.Itoa(ulen)+" bytes")
}

func lzfError(offset int, reason string) error {
	return &codec.FormatError{Offset: offset, Reason: reason}
}
