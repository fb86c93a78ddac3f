package intset

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "").Replace(s))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func values(s Set) []int64 {
	out := make([]int64, s.Len())
	for i := range out {
		out[i] = s.At(i)
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want []int64
	}{
		// SADD s 1 2 3 on any Redis: three int16 values.
		{"int16", "02 00 00 00 | 03 00 00 00 | 01 00 02 00 03 00", []int64{1, 2, 3}},
		{"int16 extremes", "02 00 00 00 | 02 00 00 00 | 00 80 ff 7f", []int64{math.MinInt16, math.MaxInt16}},
		{"int32", "04 00 00 00 | 02 00 00 00 | ff ff ff ff 00 00 01 00", []int64{-1, 65536}},
		{"int64", "08 00 00 00 | 02 00 00 00 | 00 00 00 00 00 00 00 80 ff ff ff ff ff ff ff 7f", []int64{math.MinInt64, math.MaxInt64}},
		{"wider than needed", "08 00 00 00 | 01 00 00 00 | 05 00 00 00 00 00 00 00", []int64{5}},
		{"empty", "02 00 00 00 | 00 00 00 00", []int64{}},
		{"single", "02 00 00 00 | 01 00 00 00 | 07 00", []int64{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(unhex(t, tt.hex))
			if err != nil {
				t.Fatal(err)
			}
			if got := values(s); !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name   string
		hex    string
		offset int
		reason string
	}{
		{"empty", "", 0, "shorter than its 8-byte header"},
		{"short header", "02 00 00 00 01 00 00", 0, "shorter than"},
		{"encoding 0", "00 00 00 00 | 00 00 00 00", 0, "encoding 0 is not"},
		{"encoding 1", "01 00 00 00 | 01 00 00 00 | 05", 0, "encoding 1 is not"},
		{"encoding 16", "10 00 00 00 | 00 00 00 00", 0, "encoding 16 is not"},
		{"truncated", "02 00 00 00 | 03 00 00 00 | 01 00 02 00 03", 4, "announces 3 values of 2 bytes, blob holds 5"},
		{"trailing bytes", "02 00 00 00 | 01 00 00 00 | 01 00 02 00", 4, "announces 1 values"},
		{"huge length", "08 00 00 00 | ff ff ff ff | 01 00 00 00 00 00 00 00", 4, "announces 4294967295 values of 8 bytes"},
		{"duplicate", "02 00 00 00 | 03 00 00 00 | 01 00 02 00 02 00", 12, "value 2 (2) is not greater than the one before it (2)"},
		{"descending", "04 00 00 00 | 02 00 00 00 | 05 00 00 00 04 00 00 00", 12, "value 1 (4)"},
		{"descending int64", "08 00 00 00 | 02 00 00 00 | 00 00 00 00 00 00 00 00 ff ff ff ff ff ff ff ff", 16, "value 1 (-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(unhex(t, tt.hex))
			var fe *codec.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *codec.FormatError", err)
			}
			if fe.Offset != tt.offset || !strings.Contains(fe.Reason, tt.reason) {
				t.Fatalf("err = %v, want offset %d and %q", err, tt.offset, tt.reason)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	tests := []struct {
		in   []int64
		want string
	}{
		{nil, "02 00 00 00 00 00 00 00"},
		{[]int64{1, 2, 3}, "02 00 00 00 03 00 00 00 01 00 02 00 03 00"},
		{[]int64{math.MinInt16, math.MaxInt16}, "02 00 00 00 02 00 00 00 00 80 ff 7f"},
		{[]int64{0, math.MaxInt16 + 1}, "04 00 00 00 02 00 00 00 00 00 00 00 00 80 00 00"},
		{[]int64{math.MinInt16 - 1, 0}, "04 00 00 00 02 00 00 00 ff 7f ff ff 00 00 00 00"},
		{[]int64{math.MinInt32, math.MaxInt32}, "04 00 00 00 02 00 00 00 00 00 00 80 ff ff ff 7f"},
		{[]int64{-1, math.MaxInt32 + 1}, "08 00 00 00 02 00 00 00 ff ff ff ff ff ff ff ff 00 00 00 80 00 00 00 00"},
		{[]int64{math.MinInt64, 1}, "08 00 00 00 02 00 00 00 00 00 00 00 00 00 00 80 01 00 00 00 00 00 00 00"},
	}
	for _, tt := range tests {
		got := Build(nil, tt.in)
		if want := unhex(t, tt.want); !bytes.Equal(got, want) {
			t.Errorf("Build(%v) = % x, want % x", tt.in, got, want)
		}
		s, err := Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if len(tt.in) > 0 && !slices.Equal(values(s), tt.in) {
			t.Errorf("round trip %v -> %v", tt.in, values(s))
		}
	}
	buf := make([]byte, 5, 64)
	out := Build(buf, []int64{1, 2})
	if &out[0] != &buf[0] {
		t.Error("Build did not reuse dst")
	}
	if allocs := testing.AllocsPerRun(100, func() { buf = Build(buf, []int64{1, 2, 3}) }); allocs != 0 {
		t.Errorf("%v allocs with room in dst", allocs)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(unhex(f, "02 00 00 00 03 00 00 00 01 00 02 00 03 00"))
	f.Add(unhex(f, "04 00 00 00 02 00 00 00 ff ff ff ff 00 00 01 00"))
	f.Add(unhex(f, "08 00 00 00 01 00 00 00 05 00 00 00 00 00 00 00"))
	f.Add(unhex(f, "08 00 00 00 ff ff ff ff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(b)
		if err != nil {
			return
		}
		for i := 1; i < s.Len(); i++ {
			if s.At(i) <= s.At(i-1) {
				t.Fatalf("accepted out-of-order value %d", i)
			}
		}
		// Rebuilding gives the same values, in at most as many bytes.
		again := Build(nil, values(s))
		s2, err := Parse(again)
		if err != nil || !slices.Equal(values(s2), values(s)) || len(again) > len(b) {
			t.Fatalf("rebuild: %v, %d bytes from %d", err, len(again), len(b))
		}
	})
}

// FuzzRoundTrip reads the input as little-endian int64s of varying widths,
// sorts and dedupes them, and checks that Build then Parse gives them back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3}, uint8(1))
	f.Add([]byte{0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f}, uint8(4))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 0, 0, 0, 0, 0, 0}, uint8(8))
	f.Fuzz(func(t *testing.T, raw []byte, width uint8) {
		w := int(width%8) + 1
		var vals []int64
		for len(raw) >= w {
			var u [8]byte
			copy(u[:], raw[:w])
			shift := 64 - 8*uint(w)
			vals = append(vals, int64(binary.LittleEndian.Uint64(u[:])<<shift)>>shift)
			raw = raw[w:]
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		b := Build(nil, vals)
		s, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if got := values(s); !slices.Equal(got, vals) {
			t.Fatalf("got %v, want %v", got, vals)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	vals := make([]int64, 512)
	for i := range vals {
		vals[i] = int64(i*1000 - 100000)
	}
	blob := Build(nil, vals)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(blob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIterate is the reader's use: Parse, then every value with At.
func BenchmarkIterate(b *testing.B) {
	vals := make([]int64, 512)
	for i := range vals {
		vals[i] = int64(i)
	}
	blob := Build(nil, vals)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		s, _ := Parse(blob)
		var sum int64
		for i := range s.Len() {
			sum += s.At(i)
		}
		_ = sum
	}
}
