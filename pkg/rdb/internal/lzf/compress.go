package lzf

import (
	"math"
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
// base) without clearing 128 KiB per call, and output never depends on what
// a pooled table saw before.
type matchTable struct {
	pos  [1 << hashLog]int
	base int
}

var tablePool = sync.Pool{New: func() any { return &matchTable{base: 1} }}

func hash3(b0, b1, b2 byte) uint32 {
	v := uint32(b0)<<16 | uint32(b1)<<8 | uint32(b2)
	return (v * 2654435761) >> (32 - hashLog)
}

// Compress LZF-compresses src into dst[:0] and reports whether the result is
// worth keeping: ok is false, and the returned slice meaningless, when the
// output would be longer than len(src)-4 bytes, which is the rule Redis uses
// before it stores a string compressed. Whether to try at all (Redis requires
// more than 20 bytes) is the caller's decision.
//
// The output is a plain LZF stream that Redis's lzf_decompress accepts; it is
// not byte-identical to what liblzf would produce.
func Compress(dst, src []byte) ([]byte, bool) {
	limit := len(src) - 4
	if limit <= 0 {
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
	if t.base > math.MaxInt-len(src) {
		// Only reachable after exabytes (or 2 GiB on 32-bit platforms)
		// through one pooled table: start the numbering over.
		clear(t.pos[:])
		t.base = 1
	}
	base := t.base
	t.base += len(src)

	op := 0
	litStart := 0
	i := 0
	for i+minMatch <= len(src) {
		h := hash3(src[i], src[i+1], src[i+2])
		cand := t.pos[h] - base
		t.pos[h] = base + i
		if cand < 0 || cand >= i || i-cand > maxDistance ||
			src[cand] != src[i] || src[cand+1] != src[i+1] || src[cand+2] != src[i+2] {
			i++
			continue
		}
		n := minMatch
		maxLen := min(len(src)-i, maxLongRef)
		for n < maxLen && src[cand+n] == src[i+n] {
			n++
		}

		var ok bool
		if op, ok = emitLiterals(out, op, src[litStart:i]); !ok {
			return out[:0], false
		}
		// Worst case 3 bytes for the back-reference.
		if op+3 > len(out) {
			return out[:0], false
		}
		off := i - cand - 1
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

		i += n
		litStart = i
		// Seed the table with the last two positions of the match, as
		// liblzf does, so a repeat of what just matched is found again.
		for j := i - 2; j < i && j+minMatch <= len(src); j++ {
			t.pos[hash3(src[j], src[j+1], src[j+2])] = base + j
		}
	}
	var ok bool
	if op, ok = emitLiterals(out, op, src[litStart:]); !ok {
		return out[:0], false
	}
	return out[:op], true
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
		copy(out[op+1:], lit[:n])
		op += 1 + n
		lit = lit[n:]
	}
	return op, true
}
