package lzf

import (
	"encoding/binary"
	"math"
	"math/bits"
	"sync"
)

const (
	hashLog = 14
	// minMatch is the shortest back-reference worth emitting: it costs two
	// bytes, so three matched bytes are the first to save anything.
	minMatch = 3
)

// matchTable maps a hash of three input bytes to the last position where
// they were seen. Positions are stored as base+i; base advances past every
// input, so entries left by an earlier call are recognisably stale (less than
// base) without clearing the table per call, and output never depends on what
// a pooled table saw before. 32-bit positions keep the table at 64 KiB, in
// the core's second-level cache.
type matchTable struct {
	pos  [1 << hashLog]uint32
	base uint32
}

var tablePool = sync.Pool{New: func() any { return &matchTable{base: 1} }}

func hash3(b0, b1, b2 byte) uint32 {
	v := uint32(b0)<<16 | uint32(b1)<<8 | uint32(b2)
	return (v * 2654435761) >> (32 - hashLog)
}

// hashWord is hash3 of the first three bytes of w, four bytes read little
// endian: the same value, without three loads.
func hashWord(w uint32) uint32 {
	return ((bits.ReverseBytes32(w) >> 8) * 2654435761) >> (32 - hashLog)
}

// Compress LZF-compresses src into dst[:0] and reports whether the result is
// worth keeping: ok is false, and the returned slice meaningless, when the
// output would be longer than len(src)-4 bytes, which is the rule Redis uses
// before it stores a string compressed. Whether to try at all (Redis requires
// more than 20 bytes) is the caller's decision.
//
// The output is a plain LZF stream that Redis's lzf_decompress accepts; it is
// not byte-identical to what liblzf would produce. It reads the input a word
// at a time where it can, and probes less often where nothing matches.
func Compress(dst, src []byte) ([]byte, bool) {
	limit := len(src) - 4
	if limit <= 0 {
		return dst[:0], false
	}
	if len(src) > math.MaxUint32/2 {
		// Over 2 GiB in one value: larger than any string Redis stores
		// (proto-max-bulk-len is at most 512 MiB unless raised).
		return dst[:0], false
	}
	var out []byte
	if cap(dst) >= limit {
		out = dst[:limit]
	} else {
		out = make([]byte, limit)
	}

	t := tablePool.Get().(*matchTable)
	defer tablePool.Put(t)
	if t.base > math.MaxUint32-uint32(len(src)) {
		// Positions would wrap: start the numbering over.
		clear(t.pos[:])
		t.base = 1
	}
	base := int(t.base)
	t.base += uint32(len(src))

	op := 0
	litStart := 0
	i := 0
	// skip>>5 is how far the next probe moves: one byte at a time after a
	// match, then, when 32 probes in a row found nothing, further and
	// further apart (as Snappy does). Incompressible input, which Redis
	// tries to compress all the same (any string over 20 bytes), then costs
	// a few probes per 32 bytes instead of one per byte; compressible input
	// finds matches well before the step grows.
	skip := 32
	// While four bytes can be read at i, hash and compare words.
	for i+4 <= len(src) {
		w := binary.LittleEndian.Uint32(src[i:])
		h := hashWord(w)
		cand := int(t.pos[h]) - base
		t.pos[h] = uint32(base + i)
		if cand < 0 || i-cand > maxDistance ||
			(binary.LittleEndian.Uint32(src[cand:])^w)&0xFFFFFF != 0 {
			i += skip >> 5
			skip++
			continue
		}
		skip = 32
		n := matchLength(src, cand, i)
		var ok bool
		if op, ok = emitMatch(out, op, src[litStart:i], i-cand-1, n); !ok {
			return out[:0], false
		}
		i += n
		litStart = i
		// Seed the table with the last two positions of the match, as
		// liblzf does, so a repeat of what just matched is found again.
		if i < len(src) {
			t.pos[hash3(src[i-2], src[i-1], src[i])] = uint32(base + i - 2)
			if i+1 < len(src) {
				t.pos[hash3(src[i-1], src[i], src[i+1])] = uint32(base + i - 1)
			}
		}
	}
	// The last three bytes, if no match took them.
	if i+minMatch <= len(src) {
		h := hash3(src[i], src[i+1], src[i+2])
		cand := int(t.pos[h]) - base
		t.pos[h] = uint32(base + i)
		if cand >= 0 && i-cand <= maxDistance &&
			src[cand] == src[i] && src[cand+1] == src[i+1] && src[cand+2] == src[i+2] {
			n := minMatch // the input ends here
			var ok bool
			if op, ok = emitMatch(out, op, src[litStart:i], i-cand-1, n); !ok {
				return out[:0], false
			}
			i += n
			litStart = i
		}
	}
	var ok bool
	if op, ok = emitLiterals(out, op, src[litStart:]); !ok {
		return out[:0], false
	}
	return out[:op], true
}

// matchLength is how many bytes from src[i:] repeat those from src[cand:]
// (cand < i, at least minMatch already known), up to maxLongRef; it compares
// eight bytes at a time.
func matchLength(src []byte, cand, i int) int {
	n := minMatch
	maxLen := min(len(src)-i, maxLongRef)
	for n+8 <= maxLen {
		if x := binary.LittleEndian.Uint64(src[cand+n:]) ^ binary.LittleEndian.Uint64(src[i+n:]); x != 0 {
			return n + bits.TrailingZeros64(x)/8
		}
		n += 8
	}
	for n < maxLen && src[cand+n] == src[i+n] {
		n++
	}
	return n
}

// emitMatch writes the literals before a match and the back-reference to
// n bytes off+1 back into out[op:], reporting false if out is too small.
func emitMatch(out []byte, op int, lit []byte, off, n int) (int, bool) {
	var ok bool
	if op, ok = emitLiterals(out, op, lit); !ok {
		return op, false
	}
	// Worst case 3 bytes for the back-reference.
	if op+3 > len(out) {
		return op, false
	}
	if l := n - 2; l < 7 {
		out[op] = byte(l<<5 | off>>8)
		out[op+1] = byte(off)
		op += 2
	} else {
		out[op] = byte(7<<5 | off>>8)
		out[op+1] = byte(l - 7)
		out[op+2] = byte(off)
		op += 3
	}
	return op, true
}

// emitLiterals writes lit as literal runs of at most 32 bytes each into
// out[op:], reporting false if out is too small.
func emitLiterals(out []byte, op int, lit []byte) (int, bool) {
	for len(lit) > 0 {
		n := min(len(lit), maxLiteral)
		if op+1+n > len(out) {
			return op, false
		}
		out[op] = byte(n - 1)
		if n <= 8 {
			// Short runs are most of them: a byte loop costs less than
			// a call to memmove.
			dst := out[op+1 : op+1+n]
			for k := range dst {
				dst[k] = lit[k]
			}
		} else {
			copy(out[op+1:], lit[:n])
		}
		op += 1 + n
		lit = lit[n:]
	}
	return op, true
}
