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
// at least ulen and otherwise allocating exactly ulen bytes. Bytes of that
// capacity beyond ulen may be overwritten: with some room past ulen, the last
// instructions are copied word by word too.
//
// A *codec.FormatError is returned, with an offset into src, when ulen is
// negative or larger than MaxExpansion(len(src)), when the stream would
// produce more or fewer than ulen bytes, when a back-reference reaches before
// the start of the output, or when src ends inside an instruction. The slice
// returned with an error is empty but keeps any buffer already obtained, so a
// caller can keep reusing it.
func Decompress(dst, src []byte, ulen int) ([]byte, error) {
	if ulen < 0 || ulen > MaxExpansion(len(src)) {
		return dst[:0], impossibleLength(ulen, len(src))
	}
	var buf []byte
	if cap(dst) >= ulen {
		buf = dst[:cap(dst)]
	} else {
		buf = make([]byte, ulen)
	}
	// Copies move 16 bytes, or whole 8-byte words, at a time, and may write
	// up to 15 bytes past their end: into buf beyond the instruction, which
	// later instructions overwrite or which lies past ulen, never into what
	// the stream has produced. Where buf or src lack that room, the copy is
	// exact. The fixed-size copies keep the branches few: most instructions
	// are a few bytes long, and a mispredicted length costs more than
	// copying 16 bytes.
	op, ip := 0, 0
	for ip < len(src) {
		start := ip
		ctrl := int(src[ip])
		ip++
		if ctrl < maxLiteral {
			n := ctrl + 1
			if n > len(src)-ip || n > ulen-op {
				return buf[:0], literalError(start, n, len(src)-ip, ulen)
			}
			if len(buf)-op >= maxLiteral && len(src)-ip >= maxLiteral {
				copy16(buf[op:], src[ip:])
				if n > 16 {
					copy16(buf[op+16:], src[ip+16:])
				}
			} else {
				copy(buf[op:op+n], src[ip:ip+n])
			}
			op += n
			ip += n
			c, ok := followingReference(src, ip)
			if !ok {
				continue
			}
			start, ctrl = ip, c
			ip++
		}

		n, dist, next, whole := backReference(src, ctrl, ip)
		if !whole || dist > op || n > ulen-op {
			return buf[:0], referenceError(start, whole, dist-op, ulen)
		}
		ip = next
		ref := op - dist
		if n > 64 || len(buf)-op < n+16 {
			// Long references are rarer and memmove does them well (runs
			// by doubling); near the end of buf there is no room to spare.
			op = copyExact(buf, op, ref, n)
			continue
		}
		end := op + n
		if dist >= 16 {
			// The common case: 16 bytes read from finished output.
			copy16(buf[op:], buf[ref:])
			if n <= 16 {
				op = end
				continue
			}
			op += 16
			ref += 16
		} else if dist < 8 {
			// The output repeats with period dist. Copying a word from ref
			// yields dist correct bytes; moving on by that many doubles
			// the distance to ref each time, until a whole word is.
			for op-ref < 8 {
				binary.LittleEndian.PutUint64(buf[op:], binary.LittleEndian.Uint64(buf[ref:]))
				op += op - ref
			}
		}
		// At least 8 bytes behind op, every word read is finished output.
		for op < end {
			binary.LittleEndian.PutUint64(buf[op:], binary.LittleEndian.Uint64(buf[ref:]))
			op += 8
			ref += 8
		}
		op = end
	}
	if op != ulen {
		return buf[:0], endsShort(len(src), op, ulen)
	}
	return buf[:ulen], nil
}

// copy16 copies the first 16 bytes of src to dst.
func copy16(dst, src []byte) {
	a := binary.LittleEndian.Uint64(src)
	b := binary.LittleEndian.Uint64(src[8:16])
	binary.LittleEndian.PutUint64(dst, a)
	binary.LittleEndian.PutUint64(dst[8:16], b)
}

// copyExact copies n bytes from buf[ref:] to buf[op:] as LZF defines it
// (byte by byte in increasing order, so an overlapping source repeats) and
// writes nothing past op+n. It returns op+n.
func copyExact(buf []byte, op, ref, n int) int {
	if op-ref >= n {
		copy(buf[op:op+n], buf[ref:ref+n])
		return op + n
	}
	// The result is periodic with period op-ref, so copying what is
	// already there doubles the available pattern each round.
	for n > 0 {
		k := copy(buf[op:op+n], buf[ref:op])
		op += k
		n -= k
	}
	return op
}

// Check returns the error Decompress would return for src and ulen, without
// producing any output: whether an LZF stream is valid depends only on the
// lengths and distances of its instructions, never on the bytes they copy.
// It is what checking a compressed string that nobody reads costs: a walk
// over the instructions that writes no memory, several times faster than
// decompressing. Its conditions are those of Decompress, tested in the same
// order.
func Check(src []byte, ulen int) error {
	if ulen < 0 || ulen > MaxExpansion(len(src)) {
		return impossibleLength(ulen, len(src))
	}
	// A first walk asks one question per instruction (does a reference
	// reach before the output's start?) and reads no byte out of bounds
	// while three remain, which spares the compiler's bounds checks too.
	// The other conditions hold for every instruction when they hold at the
	// end of the walk: the input and output positions only grow. Anything
	// amiss, and the careful walk from the start finds the first bad
	// instruction and says what is wrong with it.
	op, ip := 0, 0
	before := false
	for ip+3 <= len(src) {
		s := src[ip : ip+3 : ip+3]
		ctrl := int(s[0])
		if ctrl < maxLiteral {
			ip += ctrl + 2
			op += ctrl + 1
			continue
		}
		n, dist := ctrl>>5, (ctrl&0x1f)<<8
		if n == 7 {
			n += int(s[1])
			dist += int(s[2])
			ip += 3
		} else {
			dist += int(s[1])
			ip += 2
		}
		if dist >= op {
			before = true // dist is one less than the distance
		}
		op += n + 2
	}
	if before || ip > len(src) || op > ulen {
		return checkFrom(src, ulen, 0, 0)
	}
	if err := checkFrom(src, ulen, ip, op); err != nil {
		return checkFrom(src, ulen, 0, 0)
	}
	return nil
}

// checkFrom is Check's careful walk from input position ip, at output
// position op.
func checkFrom(src []byte, ulen, ip, op int) error {
	for ip < len(src) {
		start := ip
		ctrl := int(src[ip])
		ip++
		if ctrl < maxLiteral {
			n := ctrl + 1
			if n > len(src)-ip || n > ulen-op {
				return literalError(start, n, len(src)-ip, ulen)
			}
			op += n
			ip += n
			c, ok := followingReference(src, ip)
			if !ok {
				continue
			}
			start, ctrl = ip, c
			ip++
		}
		n, dist, next, whole := backReference(src, ctrl, ip)
		if !whole || dist > op || n > ulen-op {
			return referenceError(start, whole, dist-op, ulen)
		}
		ip = next
		op += n
	}
	if op != ulen {
		return endsShort(len(src), op, ulen)
	}
	return nil
}

// followingReference returns the control byte at src[ip] if it starts a
// back-reference. A literal run is nearly always followed by one (two runs in
// a row only when one is longer than 32 bytes): asking right after a run,
// where the guess is nearly always right, spares the loop's first test, whose
// outcome is hard to predict, a mispredicted branch.
func followingReference(src []byte, ip int) (int, bool) {
	if ip < len(src) && src[ip] >= maxLiteral {
		return int(src[ip]), true
	}
	return 0, false
}

// backReference decodes the back-reference whose control byte ctrl precedes
// src[ip:]: the bytes it copies, its distance and the offset after it; whole
// is false when src ends inside it.
func backReference(src []byte, ctrl, ip int) (n, dist, next int, whole bool) {
	n = ctrl >> 5
	if n == 7 {
		if ip >= len(src) {
			return 0, 0, ip, false
		}
		n += int(src[ip])
		ip++
	}
	if ip >= len(src) {
		return 0, 0, ip, false
	}
	return n + 2, (ctrl&0x1f)<<8 + int(src[ip]) + 1, ip + 1, true
}

// The errors of Decompress and Check, built in one place so that the two
// report the same.

// literalError is the error of a literal run of n bytes at offset, with
// avail bytes of input after its control byte: past the input's end comes
// before too much output.
func literalError(offset, n, avail, ulen int) error {
	if n > avail {
		return literalPastEnd(offset, n)
	}
	return overrun(offset, ulen)
}

// referenceError is the error of the back-reference at offset: src ends
// inside it (not whole), it reaches before bytes before the output's start
// (before > 0), or it makes too much output.
func referenceError(offset int, whole bool, before, ulen int) error {
	switch {
	case !whole:
		return referenceCut(offset)
	case before > 0:
		return referenceBeforeStart(offset, before)
	}
	return overrun(offset, ulen)
}

func impossibleLength(ulen, clen int) error {
	return lzfError(0, "LZF announced length "+strconv.Itoa(ulen)+" is impossible for "+strconv.Itoa(clen)+" compressed bytes")
}

func literalPastEnd(offset, n int) error {
	return lzfError(offset, "LZF literal run of "+strconv.Itoa(n)+" bytes runs past the end of the input")
}

func referenceCut(offset int) error {
	return lzfError(offset, "LZF input ends inside a back-reference")
}

func referenceBeforeStart(offset, before int) error {
	return lzfError(offset, "LZF back-reference reaches "+strconv.Itoa(before)+" bytes before the start of the output")
}

func endsShort(offset, produced, ulen int) error {
	return lzfError(offset, "LZF stream ends after "+strconv.Itoa(produced)+" bytes of the announced "+strconv.Itoa(ulen))
}

func overrun(offset, ulen int) error {
	return lzfError(offset, "LZF stream produces more than the announced "+strconv.Itoa(ulen)+" bytes")
}

func lzfError(offset int, reason string) error {
	return &codec.FormatError{Offset: offset, Reason: reason}
}
