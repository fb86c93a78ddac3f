package lzf

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// referenceDecompress is the byte-at-a-time definition from lzf_d.c, used to
// check the optimised copies in Decompress.
func referenceDecompress(src []byte, ulen int) ([]byte, bool) {
	var out []byte
	for ip := 0; ip < len(src); {
		ctrl := int(src[ip])
		ip++
		if ctrl < 32 {
			n := ctrl + 1
			if ip+n > len(src) {
				return nil, false
			}
			out = append(out, src[ip:ip+n]...)
			ip += n
		} else {
			n := ctrl >> 5
			if ip >= len(src) {
				return nil, false
			}
			if n == 7 {
				n += int(src[ip])
				ip++
				if ip >= len(src) {
					return nil, false
				}
			}
			ref := len(out) - (ctrl&31)<<8 - int(src[ip]) - 1
			ip++
			if ref < 0 {
				return nil, false
			}
			for k := 0; k < n+2; k++ {
				out = append(out, out[ref+k])
			}
		}
		if len(out) > ulen {
			return nil, false
		}
	}
	return out, len(out) == ulen
}

func TestDecompress(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		ulen    int
		want    string
		wantErr string // substring of the error; "" means success
		errOff  int
	}{
		{
			name: "format notes: 100 x a",
			src:  "01 61 61 E0 57 00 01 61 61", ulen: 100,
			want: strings.Repeat("a", 100),
		},
		{name: "empty", src: "", ulen: 0, want: ""},
		{name: "single literal", src: "00 7a", ulen: 1, want: "z"},
		{name: "max literal", src: "1f" + strings.Repeat("41", 32), ulen: 32, want: strings.Repeat("A", 32)},
		{name: "short ref dist 2", src: "01 61 62 20 01", ulen: 5, want: "ababa"},
		{name: "short ref max len", src: "00 78 c0 00", ulen: 9, want: strings.Repeat("x", 9)},
		{name: "long ref max len", src: "00 78 e0 ff 00", ulen: 265, want: strings.Repeat("x", 265)},
		{name: "non-overlapping ref", src: "03 61 62 63 64 20 03", ulen: 7, want: "abcdabc"},

		{name: "negative ulen", src: "00 61", ulen: -1, wantErr: "impossible", errOff: 0},
		{name: "ulen beyond max expansion", src: "00 61", ulen: 177, wantErr: "impossible", errOff: 0},
		{name: "empty input, non-zero ulen", src: "", ulen: 1, wantErr: "impossible", errOff: 0},
		{name: "underrun", src: "01 61 61", ulen: 3, wantErr: "ends after 2 bytes", errOff: 3},
		{name: "literal overrun", src: "01 61 61", ulen: 1, wantErr: "more than the announced 1", errOff: 0},
		{name: "ref overrun", src: "00 61 20 00", ulen: 3, wantErr: "more than the announced 3", errOff: 2},
		{name: "literal truncated", src: "02 61 61", ulen: 3, wantErr: "past the end of the input", errOff: 0},
		{name: "ref truncated", src: "00 61 20", ulen: 4, wantErr: "inside a back-reference", errOff: 2},
		{name: "long ref truncated after length", src: "00 61 e0 00", ulen: 10, wantErr: "inside a back-reference", errOff: 2},
		{name: "long ref truncated before length", src: "00 61 e0", ulen: 10, wantErr: "inside a back-reference", errOff: 2},
		{name: "ref before start", src: "00 61 20 01", ulen: 4, wantErr: "before the start", errOff: 2},
		{name: "ref as first instruction", src: "20 00", ulen: 3, wantErr: "before the start", errOff: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := unhex(t, tt.src)
			got, err := Decompress(nil, src, tt.ulen)
			if tt.wantErr != "" {
				var fe *codec.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want *codec.FormatError", err)
				}
				if !strings.Contains(fe.Reason, tt.wantErr) || fe.Offset != tt.errOff {
					t.Fatalf("err = %v, want offset %d and %q", err, tt.errOff, tt.wantErr)
				}
				if len(got) != 0 {
					t.Fatalf("got %d bytes with an error", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			ref, ok := referenceDecompress(src, tt.ulen)
			if !ok || !bytes.Equal(ref, got) {
				t.Fatalf("reference disagrees: %q %v", ref, ok)
			}
		})
	}
}

func TestDecompressReusesDst(t *testing.T) {
	src := unhex(t, "01 61 61 E0 57 00 01 61 61")
	buf := make([]byte, 3, 200)
	out, err := Decompress(buf, src, 100)
	if err != nil {
		t.Fatal(err)
	}
	if &out[0] != &buf[:1][0] {
		t.Fatal("did not reuse dst")
	}
	small := make([]byte, 0, 10)
	out, err = Decompress(small, src, 100)
	if err != nil {
		t.Fatal(err)
	}
	if cap(out) != 100 {
		t.Fatalf("cap = %d, want exactly ulen", cap(out))
	}
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = Decompress(buf, src, 100)
	})
	if allocs != 0 {
		t.Fatalf("%v allocs with a large enough dst", allocs)
	}
}

func TestMaxExpansion(t *testing.T) {
	tests := []struct{ clen, want int }{
		{-1, 0}, {0, 0}, {1, 88}, {3, 264}, {math.MaxInt, math.MaxInt},
	}
	for _, tt := range tests {
		if got := MaxExpansion(tt.clen); got != tt.want {
			t.Errorf("MaxExpansion(%d) = %d, want %d", tt.clen, got, tt.want)
		}
	}
	// The bound must be reachable-or-above for the densest stream:
	// one literal then long references of distance 1.
	src := []byte{0x00, 'x'}
	for range 100 {
		src = append(src, 0xe0, 0xff, 0x00)
	}
	want := 1 + 100*264
	if _, err := Decompress(nil, src, want); err != nil {
		t.Fatal(err)
	}
	if MaxExpansion(len(src)) < want {
		t.Fatalf("MaxExpansion(%d) = %d < %d", len(src), MaxExpansion(len(src)), want)
	}
}

func testInputs() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	words := []string{"redis", "listpack", "ziplist", "key:", "1234", " ", "\x00", "user:1000:name"}
	var text []byte
	for len(text) < 70000 {
		text = append(text, words[rng.IntN(len(words))]...)
	}
	return [][]byte{
		nil,
		[]byte("a"),
		bytes.Repeat([]byte("a"), 21),
		bytes.Repeat([]byte("a"), 100),
		bytes.Repeat([]byte("a"), 100000),
		bytes.Repeat([]byte("abc"), 1000),
		[]byte("hello hello hello hello hello hello"),
		[]byte("no repeats here at all: 0123456789"),
		random,
		text,
		append(bytes.Repeat([]byte("z"), 9000), bytes.Repeat([]byte("z"), 9000)...),
	}
}

func TestCompressRoundTrip(t *testing.T) {
	for _, in := range testInputs() {
		out, ok := Compress(nil, in)
		if !ok {
			if len(in) > 100 && !isRandomish(in) {
				t.Errorf("Compress(%d bytes %.20q) refused", len(in), in)
			}
			continue
		}
		if len(out) > len(in)-4 {
			t.Fatalf("Compress kept %d bytes for %d input bytes", len(out), len(in))
		}
		back, err := Decompress(nil, out, len(in))
		if err != nil {
			t.Fatalf("Decompress(Compress(%.20q)): %v", in, err)
		}
		if !bytes.Equal(back, in) {
			t.Fatalf("round trip changed %.20q", in)
		}
		ref, ok := referenceDecompress(out, len(in))
		if !ok || !bytes.Equal(ref, in) {
			t.Fatalf("reference decompressor disagrees for %.20q", in)
		}
		again, _ := Compress(nil, in)
		if !bytes.Equal(again, out) {
			t.Fatalf("Compress is not deterministic for %.20q", in)
		}
	}
}

func isRandomish(b []byte) bool {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n > 200
}

func TestCompressRatio(t *testing.T) {
	in := bytes.Repeat([]byte("a"), 100)
	out, ok := Compress(nil, in)
	if !ok || len(out) > 12 {
		t.Fatalf("100 x a compressed to %d bytes (ok=%v): % x", len(out), ok, out)
	}
}

func TestCompressRefusesShort(t *testing.T) {
	for _, s := range []string{"", "a", "abcd", "aaaaa"} {
		if _, ok := Compress(nil, []byte(s)); ok {
			t.Errorf("Compress(%q) ok, want refused (len-4 rule)", s)
		}
	}
}

func TestCompressNoAllocs(t *testing.T) {
	in := bytes.Repeat([]byte("hello world "), 100)
	dst := make([]byte, len(in))
	Compress(dst, in)
	allocs := testing.AllocsPerRun(100, func() { Compress(dst, in) })
	if allocs != 0 {
		t.Fatalf("%v allocs per Compress", allocs)
	}
}

func FuzzDecompress(f *testing.F) {
	f.Add([]byte{0x01, 0x61, 0x61, 0xE0, 0x57, 0x00, 0x01, 0x61, 0x61}, 100)
	f.Add([]byte{0x00, 0x61, 0x20, 0x01}, 4)
	f.Add([]byte{0x00, 0x78, 0xe0, 0xff, 0x00}, 265)
	f.Add([]byte{0x1f, 1, 2, 3}, 32)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, src []byte, ulen int) {
		got, err := Decompress(nil, src, ulen)
		ref, ok := referenceDecompress(src, ulen)
		if ulen > MaxExpansion(len(src)) && ok {
			t.Fatalf("MaxExpansion(%d) = %d but %d bytes decoded", len(src), MaxExpansion(len(src)), ulen)
		}
		if (err == nil) != ok {
			t.Fatalf("err = %v, reference ok = %v", err, ok)
		}
		if err != nil {
			var fe *codec.FormatError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(src) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if !bytes.Equal(got, ref) || len(got) != ulen {
			t.Fatalf("got %q, reference %q", got, ref)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every new interesting input,
	// and minimizing multi-kilobyte inputs stalls the run for a minute.
	for _, in := range testInputs() {
		if len(in) <= 300 {
			f.Add(in)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, ok := Compress(nil, in)
		if !ok {
			return
		}
		if len(out) > len(in)-4 {
			t.Fatalf("Compress kept %d bytes for %d input bytes", len(out), len(in))
		}
		back, err := Decompress(nil, out, len(in))
		if err != nil {
			t.Fatalf("Decompress: %v", err)
		}
		if !bytes.Equal(back, in) {
			t.Fatalf("round trip changed the input")
		}
	})
}

func benchInput() []byte {
	// Something like a JSON document or a serialized object: moderately
	// compressible text, which is what Redis strings over 20 bytes tend to be.
	rng := rand.New(rand.NewPCG(3, 4))
	var b []byte
	for len(b) < 1<<20 {
		b = append(b, `{"id":`...)
		b = append(b, byte('0'+rng.IntN(10)), byte('0'+rng.IntN(10)), byte('0'+rng.IntN(10)))
		b = append(b, `,"name":"user`...)
		b = append(b, byte('a'+rng.IntN(26)), byte('a'+rng.IntN(26)))
		b = append(b, `","active":true,"score":`...)
		b = append(b, byte('0'+rng.IntN(10)), '.', byte('0'+rng.IntN(10)))
		b = append(b, "},\n"...)
	}
	return b
}

// benchPages returns n bytes of HTML-like cache fragments between 100 and
// 2400 bytes (most of them small), the values of bench/gen's pages dataset.
func benchPages(n int) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	words := []string{"oak", "lamp", "garden", "steel", "modern", "sofa", "linen", "sale", "desk", "glass"}
	var pages [][]byte
	for total := 0; total < n; {
		u := rng.Float64()
		size := 100 + int(2300*u*u*u*u*u)
		b := []byte("<ul class=\"grid\">")
		for len(b) < size {
			id := strconv.Itoa(rng.IntN(1_000_000))
			b = append(b, "\n  <li class=\"card card--product\" data-id=\""+id+"\">\n    <a class=\"card__link\" href=\"/p/"+id+"/"...)
			b = append(b, words[rng.IntN(len(words))]+"-"+words[rng.IntN(len(words))]+"\">"+words[rng.IntN(len(words))]+"</a>\n    <span class=\"price\">"...)
			b = strconv.AppendInt(b, int64(rng.IntN(100000)), 10)
			b = append(b, "</span>\n  </li>"...)
		}
		pages = append(pages, b[:size])
		total += size
	}
	return pages
}

func BenchmarkDecompress(b *testing.B) { benchDecoders(b, Decompress) }

// BenchmarkCheck measures Check on the inputs of BenchmarkDecompress.
func BenchmarkCheck(b *testing.B) {
	benchDecoders(b, func(dst, src []byte, ulen int) ([]byte, error) { return dst, Check(src, ulen) })
}

// benchDecoders measures decode on a 1 MiB JSON-like document, a run of one
// byte, and 1 MiB of small page fragments.
func benchDecoders(b *testing.B, decode func(dst, src []byte, ulen int) ([]byte, error)) {
	b.Run("json", func(b *testing.B) {
		in := benchInput()
		comp, ok := Compress(nil, in)
		if !ok {
			b.Fatal("not compressible")
		}
		dst := make([]byte, len(in))
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if dst, err = decode(dst, comp, len(in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("runs", func(b *testing.B) {
		in := bytes.Repeat([]byte("a"), 1<<20)
		comp, _ := Compress(nil, in)
		dst := make([]byte, len(in))
		b.SetBytes(int64(len(in)))
		b.ReportAllocs()
		for b.Loop() {
			dst, _ = decode(dst, comp, len(in))
		}
	})
	b.Run("pages", func(b *testing.B) {
		pages := benchPages(1 << 20)
		var comps [][]byte
		total := 0
		for _, p := range pages {
			c, ok := Compress(nil, p)
			if !ok {
				c = nil
			}
			comps = append(comps, c)
			total += len(p)
		}
		dst := make([]byte, 0, 4096)
		b.SetBytes(int64(total))
		b.ReportAllocs()
		for b.Loop() {
			for i, c := range comps {
				if c == nil {
					continue
				}
				var err error
				if dst, err = decode(dst, c, len(pages[i])); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	in := benchInput()
	dst := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Compress(dst, in)
	}
}

func BenchmarkCompressSmall(b *testing.B) {
	in := []byte("user:1000:session:abcdefabcdefabcdef")
	dst := make([]byte, len(in))
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Compress(dst, in)
	}
}
