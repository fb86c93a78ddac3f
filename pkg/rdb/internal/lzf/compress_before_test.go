package lzf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// beforeTable is matchTable as it was before positions became 32-bit.
type beforeTable struct {
	pos  [1 << hashLog]int
	base int
}

var beforePool = sync.Pool{New: func() any { return &beforeTable{base: 1} }}

// compressBefore is Compress as it was before it read words instead of bytes
// and probed less often where nothing matches: the yardstick of
// TestCompressAgainstBefore and BenchmarkCompressBefore.
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

	t := beforePool.Get().(*beforeTable)
	defer beforePool.Put(t)
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

// TestCompressAgainstBefore: what Compress writes decompresses to its input,
// and on compressible inputs it is about as small as what the old
// compressor, which probed every byte, wrote: within 1% over the text
// inputs, and no value refused that the old one compressed by a tenth.
func TestCompressAgainstBefore(t *testing.T) {
	var oldTotal, newTotal int
	for i, in := range compressInputs() {
		want, wantOK := compressBefore(nil, in)
		got, ok := Compress(nil, in)
		if ok {
			back, err := Decompress(nil, got, len(in))
			if err != nil || !bytes.Equal(back, in) {
				t.Fatalf("input %d (%d bytes): Decompress(Compress(x)) != x (%v)", i, len(in), err)
			}
		}
		if wantOK && len(want) < len(in)*9/10 && !ok {
			t.Errorf("input %d (%d bytes): refused; the old compressor wrote %d bytes", i, len(in), len(want))
		}
		if wantOK && ok {
			oldTotal += len(want)
			newTotal += len(got)
		}
	}
	if newTotal > oldTotal+oldTotal/100 {
		t.Errorf("compressed inputs take %d bytes, %d with the old compressor", newTotal, oldTotal)
	}
	t.Logf("compressed inputs take %d bytes, %d with the old compressor", newTotal, oldTotal)
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

func FuzzCompressRoundTrip(f *testing.F) {
	for _, in := range compressInputs()[:200] {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, ok := Compress(nil, in)
		if !ok {
			return
		}
		if len(got) > len(in)-4 {
			t.Fatalf("Compress kept %d bytes for %d", len(got), len(in))
		}
		back, err := Decompress(nil, got, len(in))
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("Decompress(Compress(%x)) = %x, %v", in, back, err)
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

// benchRandom is incompressible input cut into values of Redis's usual sizes:
// tokens, identifiers, encrypted blobs. Redis tries to compress them all.
func benchRandom() [][]byte {
	rng := rand.New(rand.NewPCG(9, 10))
	var vals [][]byte
	for range 4000 {
		b := make([]byte, 21+rng.IntN(400))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		vals = append(vals, b)
	}
	return vals
}

func benchValues(b *testing.B, compress func(dst, src []byte) ([]byte, bool), vals [][]byte) {
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	b.SetBytes(int64(n))
	dst := make([]byte, 4096)
	for b.Loop() {
		for _, v := range vals {
			dst, _ = compress(dst, v)
		}
	}
}

func BenchmarkCompressRandom(b *testing.B)       { benchValues(b, Compress, benchRandom()) }
func BenchmarkCompressRandomBefore(b *testing.B) { benchValues(b, compressBefore, benchRandom()) }
