package lzf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// beforeTable is matchTable as it was before positions became 32-bit.
type beforeTable struct {
	pos  [1 << hashLog]int
	base int
}

// compressBefore is Compress as it was before it read words instead of bytes
// (kept as the oracle of TestCompressMatchesBefore: the faster compressor
// must write the same bytes for every input).
func compressBefore(dst, src []byte) ([]byte, bool) {
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

	t := &beforeTable{base: 1}
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

// compressInputs are inputs of every kind a compressor meets: tiny, text,
// runs of one byte, random (incompressible), repeats at the distance limit,
// and matches that end at the input's last byte.
func compressInputs() [][]byte {
	rng := rand.New(rand.NewPCG(7, 8))
	var ins [][]byte
	for n := range 80 {
		ins = append(ins, bytes.Repeat([]byte{'a'}, n), []byte(strings.Repeat("abc", n)))
	}
	for range 300 {
		n := rng.IntN(3000)
		b := make([]byte, n)
		alphabet := 1 + rng.IntN(255)
		for i := range b {
			b[i] = byte(rng.IntN(alphabet))
		}
		ins = append(ins, b)
	}
	for _, d := range []int{maxDistance - 1, maxDistance, maxDistance + 1, maxDistance + 2} {
		b := make([]byte, d+400)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		copy(b[d:], b[:400])
		ins = append(ins, b)
	}
	ins = append(ins, benchInput())
	ins = append(ins, benchPages(200)...)
	return ins
}

func TestCompressMatchesBefore(t *testing.T) {
	for i, in := range compressInputs() {
		want, wantOK := compressBefore(nil, in)
		got, ok := Compress(nil, in)
		if ok != wantOK || (ok && !bytes.Equal(got, want)) {
			t.Fatalf("input %d (%d bytes): Compress gives %d bytes (ok %v), before %d (ok %v)", i, len(in), len(got), ok, len(want), wantOK)
		}
	}
}

// TestCompressTableWraps: a pooled table whose positions are about to wrap
// starts over, and writes what a fresh one would.
func TestCompressTableWraps(t *testing.T) {
	in := benchInput()[:5000]
	want, _ := compressBefore(nil, in)
	tb := tablePool.Get().(*matchTable)
	tb.base = math.MaxUint32 - 10
	tablePool.Put(tb)
	for range 3 {
		if got, _ := Compress(nil, in); !bytes.Equal(got, want) {
			t.Fatal("Compress differs after the positions wrapped")
		}
	}
}

func FuzzCompressMatchesBefore(f *testing.F) {
	for _, in := range compressInputs()[:200] {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want, wantOK := compressBefore(nil, in)
		got, ok := Compress(nil, in)
		if ok != wantOK || (ok && !bytes.Equal(got, want)) {
			t.Fatalf("Compress gives %x (ok %v), before %x (ok %v)", got, ok, want, wantOK)
		}
	})
}

func BenchmarkCompressBefore(b *testing.B) {
	in := benchInput()
	dst := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		dst, _ = compressBefore(dst, in)
	}
}
