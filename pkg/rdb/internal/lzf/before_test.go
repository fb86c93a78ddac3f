package lzf

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

// decompressBefore is Decompress as it was before its copies went word by
// word (commit b3235d6), kept verbatim as the oracle of the differential
// tests: the new decoder must give the same bytes and the same errors on
// every input.
func decompressBefore(dst, src []byte, ulen int) ([]byte, error) {
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

// sameDecode reports how Decompress and decompressBefore differ on one input
// (each with its own copy of dst), or "" when they agree on the bytes, the
// error (its text and offset), and the returned slice's length, capacity and
// backing array; and Check must return the same error.
func sameDecode(dst, src []byte, ulen int) string {
	dstA := append(make([]byte, 0, cap(dst)), dst...)
	dstB := append(make([]byte, 0, cap(dst)), dst...)
	got, gerr := Decompress(dstA, src, ulen)
	want, werr := decompressBefore(dstB, src, ulen)
	if cerr := Check(src, ulen); fmt.Sprint(cerr) != fmt.Sprint(werr) ||
		cerr != nil && cerr.(*codec.FormatError).Offset != werr.(*codec.FormatError).Offset {
		return fmt.Sprintf("Check: error %v, Decompress before %v", cerr, werr)
	}
	switch {
	case (gerr == nil) != (werr == nil):
		return fmt.Sprintf("error %v, before %v", gerr, werr)
	case gerr != nil && gerr.Error() != werr.Error():
		return fmt.Sprintf("error %q, before %q", gerr, werr)
	case gerr != nil && gerr.(*codec.FormatError).Offset != werr.(*codec.FormatError).Offset:
		return fmt.Sprintf("error offset %d, before %d", gerr.(*codec.FormatError).Offset, werr.(*codec.FormatError).Offset)
	case !bytes.Equal(got, want):
		return fmt.Sprintf("output %q, before %q", got, want)
	case len(got) != len(want) || cap(got) != cap(want):
		return fmt.Sprintf("len/cap %d/%d, before %d/%d", len(got), cap(got), len(want), cap(want))
	case reuses(got, dstA) != reuses(want, dstB):
		return fmt.Sprintf("reuses dst %v, before %v", reuses(got, dstA), reuses(want, dstB))
	}
	return ""
}

func reuses(out, dst []byte) bool {
	return cap(out) > 0 && cap(dst) > 0 && &out[:1][0] == &dst[:1][0]
}

// stream is an LZF stream and the length it decodes to.
type stream struct {
	src  []byte
	ulen int
}

// differentialStreams returns LZF streams that exercise every instruction
// shape: compressed text and runs of every period (back-references of every
// distance below and above 8, overlapping or not, short and long), literal
// runs of every length, and instruction sequences Compress never emits.
func differentialStreams() []stream {
	rng := rand.New(rand.NewPCG(7, 8))
	var streams []stream
	add := func(in []byte) {
		if out, ok := Compress(nil, in); ok {
			streams = append(streams, stream{out, len(in)})
		}
	}
	for _, in := range testInputs() {
		add(in)
	}
	for period := 1; period <= 40; period++ {
		for _, n := range []int{3, 9, 17, 100, 300, 1000} {
			unit := make([]byte, period)
			for i := range unit {
				unit[i] = byte('a' + rng.IntN(26))
			}
			add(append([]byte("x"), bytes.Repeat(unit, n/period+1)[:n]...))
		}
	}
	for range 300 {
		// Repeats at random distances between random literals.
		var in []byte
		for len(in) < 50+rng.IntN(3000) {
			if len(in) > 0 && rng.IntN(2) == 0 {
				d := 1 + rng.IntN(min(len(in), 9000))
				for range 1 + rng.IntN(300) {
					in = append(in, in[len(in)-d])
				}
			} else {
				for range 1 + rng.IntN(40) {
					in = append(in, byte(rng.IntN(256)))
				}
			}
		}
		add(in)
	}
	// Every literal length around back-references of many lengths at
	// distances 1..31 and the largest ones.
	for n := 1; n <= 32; n++ {
		lit := []byte{byte(n - 1)}
		for i := range n {
			lit = append(lit, byte(i+1))
		}
		streams = append(streams, stream{lit, n})
		for _, dist := range []int{1, 2, 3, 5, 7, 8, 9, 10, 16, 31, 8191, 8192} {
			for _, l := range []int{3, 4, 8, 9, 10, 16, 17, 33, 64, 200, 264} {
				src := append([]byte(nil), lit...)
				o := dist - 1
				if l-2 < 7 {
					src = append(src, byte((l-2)<<5|o>>8), byte(o))
				} else {
					src = append(src, byte(7<<5|o>>8), byte(l-2-7), byte(o))
				}
				// Past the output's start when dist > n: an error case.
				streams = append(streams, stream{append(src, lit...), n + l + n})
			}
		}
	}
	return streams
}

// ulens returns announced lengths around the true one.
func (s stream) ulens() []int {
	m := MaxExpansion(len(s.src))
	return []int{s.ulen, s.ulen - 1, s.ulen + 1, 0, -1, s.ulen + 8, m, m + 1}
}

// TestDecompressMatchesBefore compares the word-copying decoder with the one
// before it on the streams above, on truncations and random damage of them,
// and on random bytes, with every kind of dst.
func TestDecompressMatchesBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	checked := 0
	check := func(dst, src []byte, ulen int) {
		t.Helper()
		checked++
		if d := sameDecode(dst, src, ulen); d != "" {
			t.Fatalf("src % x, ulen %d, cap(dst) %d: %s", src, ulen, cap(dst), d)
		}
	}
	dsts := func(ulen int) [][]byte {
		ulen = max(ulen, 0)
		garbage := bytes.Repeat([]byte{0xAA}, ulen+40)
		return [][]byte{nil, make([]byte, 0, 3), garbage[:0:ulen], garbage[: 5 : ulen+7], garbage[:0]}
	}
	for _, s := range differentialStreams() {
		for _, ulen := range s.ulens() {
			for _, dst := range dsts(ulen) {
				check(dst, s.src, ulen)
			}
		}
		for cut := 0; cut < len(s.src); cut += 1 + len(s.src)/50 {
			check(nil, s.src[:cut], s.ulen)
			check(make([]byte, 0, s.ulen+16), s.src[:cut], s.ulen)
		}
		for range 20 {
			bad := append([]byte(nil), s.src...)
			for range 1 + rng.IntN(3) {
				bad[rng.IntN(len(bad))] = byte(rng.Uint32())
			}
			check(nil, bad, s.ulen)
			check(make([]byte, 0, s.ulen+64), bad, s.ulen)
			check(make([]byte, 0, s.ulen+64), bad, s.ulen+rng.IntN(9)-4)
		}
	}
	for range 20000 {
		// Random bytes: mostly errors of every kind.
		src := make([]byte, rng.IntN(64))
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		check(make([]byte, 0, rng.IntN(600)), src, rng.IntN(MaxExpansion(len(src))+2))
	}
	t.Logf("%d inputs decoded alike", checked)
}

func FuzzDecompressMatchesBefore(f *testing.F) {
	for i, s := range differentialStreams() {
		// A sample: the test above runs them all.
		if i%40 == 0 && len(s.src) < 400 {
			f.Add(s.src, s.ulen, uint16(0))
			f.Add(s.src, s.ulen, uint16(40))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, ulen int, spare uint16) {
		if ulen > 1<<20 || ulen < -1 {
			ulen %= 1 << 20
		}
		var dst []byte
		if spare > 0 {
			dst = make([]byte, 0, max(ulen, 0)+int(spare%300))
		}
		if d := sameDecode(dst, src, ulen); d != "" {
			t.Fatalf("src % x, ulen %d, cap(dst) %d: %s", src, ulen, cap(dst), d)
		}
	})
}

// BenchmarkDecompressBefore runs the benchmarks of Decompress on the decoder
// before it, for comparison.
func BenchmarkDecompressBefore(b *testing.B) {
	benchDecoders(b, decompressBefore)
}
