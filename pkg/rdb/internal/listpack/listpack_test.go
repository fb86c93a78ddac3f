package listpack

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

// unhex decodes hex with spaces, '|' separators and "quoted" ASCII runs, so
// test vectors can be copied from FORMAT-NOTES as written there.
func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	var out []byte
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '|' || c == '\n' || c == '\t':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				tb.Fatalf("unterminated quote in %q", s)
			}
			out = append(out, s[i+1:i+1+j]...)
			i += j + 2
		default:
			b, err := hex.DecodeString(s[i : i+2])
			if err != nil {
				tb.Fatalf("bad hex %q in %q", s[i:i+2], s)
			}
			out = append(out, b...)
			i += 2
		}
	}
	return out
}

// walk collects the texts of all entries, or the error that stopped the walk.
func walk(lp []byte) ([]string, error) {
	it, err := NewIterator(lp)
	if err != nil {
		return nil, err
	}
	var out []string
	for it.Next() {
		out = append(out, string(it.AppendText(nil)))
	}
	return out, it.Err()
}

type entry struct {
	isInt bool
	i     int64
	s     string
}

func walkEntries(t *testing.T, lp []byte) []entry {
	t.Helper()
	it, err := NewIterator(lp)
	if err != nil {
		t.Fatal(err)
	}
	var out []entry
	prevOff := 0
	for it.Next() {
		if it.Index() != len(out) {
			t.Fatalf("Index() = %d, want %d", it.Index(), len(out))
		}
		if it.Offset() <= prevOff {
			t.Fatalf("Offset() = %d not increasing", it.Offset())
		}
		prevOff = it.Offset()
		if it.IsInt() {
			if it.Str() != nil {
				t.Fatal("Str() non-nil for an integer entry")
			}
			out = append(out, entry{isInt: true, i: it.Int()})
		} else {
			if it.Int() != 0 {
				t.Fatal("Int() non-zero for a string entry")
			}
			out = append(out, entry{s: string(it.Str())})
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFormatNotesExamples(t *testing.T) {
	ms := make([]byte, 8)
	binary.LittleEndian.PutUint64(ms, 1700000000000)
	tests := []struct {
		name  string
		hex   string
		count int
		want  []entry
		build func(*Builder)
	}{
		{
			name:  "SADD sl a b 3",
			hex:   "0F 00 00 00 | 03 00 | 81 61 02 | 81 62 02 | 03 01 | FF",
			count: 3,
			want:  []entry{{s: "a"}, {s: "b"}, {isInt: true, i: 3}},
			build: func(b *Builder) {
				b.AppendString([]byte("a"))
				b.AppendString([]byte("b"))
				b.AppendString([]byte("3"))
			},
		},
		{
			name: "HASH_LISTPACK_EX triplets",
			hex: `23 00 00 00 06 00 | 82 "f1" 03 | 82 "v1" 03 | F4 ` + hex.EncodeToString(ms) +
				` 09 | 82 "f2" 03 | 82 "v2" 03 | 00 01 | FF`,
			count: 6,
			want: []entry{{s: "f1"}, {s: "v1"}, {isInt: true, i: 1700000000000},
				{s: "f2"}, {s: "v2"}, {isInt: true, i: 0}},
			build: func(b *Builder) {
				b.AppendString([]byte("f1"))
				b.AppendString([]byte("v1"))
				b.AppendInt(1700000000000)
				b.AppendString([]byte("f2"))
				b.AppendString([]byte("v2"))
				b.AppendInt(0)
			},
		},
		{
			// XADD 1-1 a 1 b 2, XADD 1-2 a 3 b 4, XADD 2-1 c 5, XDEL 1-2:
			// 53 bytes compressed to 60 in the checked RDB (C3 35 3C).
			name: "stream node",
			hex: `3C 00 00 00 19 00 | 02 01 01 01 02 01 81 "a" 02 81 "b" 02 00 01 |
				02 01 00 01 00 01 01 01 02 01 05 01 |
				03 01 00 01 01 01 03 01 04 01 05 01 |
				00 01 01 01 00 01 01 01 81 "c" 02 05 01 06 01 | FF`,
			count: 25,
			want: func() []entry {
				var e []entry
				for _, v := range []any{2, 1, 2, "a", "b", 0, 2, 0, 0, 1, 2, 5, 3, 0, 1, 3, 4, 5, 0, 1, 0, 1, "c", 5, 6} {
					if s, ok := v.(string); ok {
						e = append(e, entry{s: s})
					} else {
						e = append(e, entry{isInt: true, i: int64(v.(int))})
					}
				}
				return e
			}(),
			build: func(b *Builder) {
				for _, v := range []string{"2", "1", "2", "a", "b", "0", "2", "0", "0", "1", "2", "5", "3", "0", "1", "3", "4", "5", "0", "1", "0", "1", "c", "5", "6"} {
					b.AppendString([]byte(v))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lp := unhex(t, tt.hex)
			got := walkEntries(t, lp)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d: %v", len(got), len(tt.want), got)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("entry %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			it, _ := NewIterator(lp)
			if it.HeaderCount() != tt.count {
				t.Errorf("HeaderCount() = %d, want %d", it.HeaderCount(), tt.count)
			}
			var b Builder
			tt.build(&b)
			if built := b.Bytes(); !bytes.Equal(built, lp) {
				t.Errorf("Builder wrote\n% x\nwant\n% x", built, lp)
			}
			if b.Size() != len(lp) || b.Len() != tt.count {
				t.Errorf("Size() = %d, Len() = %d; want %d, %d", b.Size(), b.Len(), len(lp), tt.count)
			}
		})
	}
}

// lpOf wraps entry bytes in a listpack header and terminator.
func lpOf(count int, entries ...[]byte) []byte {
	body := bytes.Join(entries, nil)
	lp := make([]byte, 6, 7+len(body))
	lp = append(append(lp, body...), 0xFF)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	binary.LittleEndian.PutUint16(lp[4:], uint16(count))
	return lp
}

func TestEncodings(t *testing.T) {
	str64 := strings.Repeat("x", 64)
	str200 := strings.Repeat("y", 200)
	tests := []struct {
		name  string
		entry []byte
		want  entry
	}{
		{"7-bit 0", unhex(t, "00 01"), entry{isInt: true, i: 0}},
		{"7-bit 127", unhex(t, "7F 01"), entry{isInt: true, i: 127}},
		{"6-bit empty string", unhex(t, "80 01"), entry{s: ""}},
		{"13-bit 128", unhex(t, "C0 80 02"), entry{isInt: true, i: 128}},
		{"13-bit 4095", unhex(t, "CF FF 02"), entry{isInt: true, i: 4095}},
		{"13-bit -1", unhex(t, "DF FF 02"), entry{isInt: true, i: -1}},
		{"13-bit -4096", unhex(t, "D0 00 02"), entry{isInt: true, i: -4096}},
		{"13-bit non-minimal 5", unhex(t, "C0 05 02"), entry{isInt: true, i: 5}},
		{"12-bit string 64", append(append(unhex(t, "E0 40"), str64...), 0x42), entry{s: str64}},
		{"12-bit string 200", append(append(unhex(t, "E0 C8"), str200...), 0x01, 0xCA), entry{s: str200}},
		{"12-bit non-minimal short", unhex(t, `E0 02 "hi" 04`), entry{s: "hi"}},
		{"32-bit string", unhex(t, `F0 03 00 00 00 "abc" 08`), entry{s: "abc"}},
		{"int16", unhex(t, "F1 00 80 03"), entry{isInt: true, i: math.MinInt16}},
		{"int24", unhex(t, "F2 FF FF 7F 04"), entry{isInt: true, i: 1<<23 - 1}},
		{"int24 negative", unhex(t, "F2 00 00 80 04"), entry{isInt: true, i: -1 << 23}},
		{"int32", unhex(t, "F3 00 00 00 80 05"), entry{isInt: true, i: math.MinInt32}},
		{"int64", unhex(t, "F4 FF FF FF FF FF FF FF 7F 09"), entry{isInt: true, i: math.MaxInt64}},
		{"int64 min", unhex(t, "F4 00 00 00 00 00 00 00 80 09"), entry{isInt: true, i: math.MinInt64}},
		// lpDecodeBacklen reads backwards while bit 7 is set; Redis accepts a
		// 1-byte-size backlen of 0x81 when the byte before it is 0x00.
		{"backlen read through data like Redis", unhex(t, "F1 00 00 83"), entry{isInt: true, i: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Alone, and surrounded by other entries so offsets vary.
			for _, lp := range [][]byte{
				lpOf(1, tt.entry),
				lpOf(3, unhex(t, "81 61 02"), tt.entry, unhex(t, "05 01")),
			} {
				got := walkEntries(t, lp)
				idx := 0
				if len(got) == 3 {
					idx = 1
				}
				if got[idx] != tt.want {
					t.Fatalf("got %+v, want %+v", got[idx], tt.want)
				}
			}
		})
	}
}

func TestBacklenCutoffs(t *testing.T) {
	tests := []struct{ size, width int }{
		{1, 1}, {127, 1}, {128, 2}, {16382, 2}, {16383, 3}, {2097150, 3},
		{2097151, 4}, {268435454, 4}, {268435455, 5}, {math.MaxInt32, 5},
	}
	for _, tt := range tests {
		if got := backlenSize(tt.size); got != tt.width {
			t.Errorf("backlenSize(%d) = %d, want %d", tt.size, got, tt.width)
		}
		enc := appendBacklen([]byte{0}, tt.size) // a leading 0 stops a runaway read
		if len(enc) != 1+tt.width {
			t.Errorf("appendBacklen(%d) wrote %d bytes", tt.size, len(enc)-1)
		}
		if !backlenMatches(enc, len(enc)-1, tt.size) {
			t.Errorf("backlen of %d does not read back: % x", tt.size, enc)
		}
		if backlenMatches(enc, len(enc)-1, tt.size+1) {
			t.Errorf("backlen of %d matches %d", tt.size, tt.size+1)
		}
	}
}

// TestBuilderStringSizes crosses the string-encoding and backlen cut-offs
// with real entries.
func TestBuilderStringSizes(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 125, 126, 127, 4095, 4096, 16377, 16378, 16379, 16380, 70000} {
		s := bytes.Repeat([]byte{'s'}, n)
		var b Builder
		b.AppendString(s)
		b.AppendString([]byte("tail"))
		lp := b.Bytes()
		got := walkEntries(t, lp)
		if len(got) != 2 || got[0].s != string(s) || got[1].s != "tail" {
			t.Fatalf("n=%d: got %d entries", n, len(got))
		}
		wantHdr := 1
		if n >= 4096 {
			wantHdr = 5
		} else if n >= 64 {
			wantHdr = 2
		}
		if want := 6 + wantHdr + n + backlenSize(wantHdr+n) + 6 + 1; len(lp) != want {
			t.Errorf("n=%d: listpack is %d bytes, want %d", n, len(lp), want)
		}
	}
}

func TestBuilderIntEncodings(t *testing.T) {
	tests := []struct {
		v    int64
		want string
	}{
		{0, "00 01"}, {127, "7F 01"}, {128, "C0 80 02"}, {-1, "DF FF 02"},
		{4095, "CF FF 02"}, {-4096, "D0 00 02"}, {4096, "F1 00 10 03"}, {-4097, "F1 FF EF 03"},
		{math.MaxInt16, "F1 FF 7F 03"}, {math.MaxInt16 + 1, "F2 00 80 00 04"},
		{1<<23 - 1, "F2 FF FF 7F 04"}, {1 << 23, "F3 00 00 80 00 05"},
		{math.MinInt32, "F3 00 00 00 80 05"}, {math.MaxInt32 + 1, "F4 00 00 00 80 00 00 00 00 09"},
		{math.MinInt64, "F4 00 00 00 00 00 00 00 80 09"},
	}
	for _, tt := range tests {
		var a, s Builder
		a.AppendInt(tt.v)
		s.AppendString([]byte(strconv.FormatInt(tt.v, 10)))
		want := lpOf(1, unhex(t, tt.want))
		if got := a.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("AppendInt(%d) = % x, want % x", tt.v, got, want)
		}
		if got := s.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("AppendString(%d) = % x, want % x", tt.v, got, want)
		}
	}
	// Non-canonical integer text stays a string.
	for _, s := range []string{"007", "-0", "+1", " 1", "1 ", "99999999999999999999"} {
		var b Builder
		b.AppendString([]byte(s))
		got := walkEntries(t, b.Bytes())
		if got[0].isInt || got[0].s != s {
			t.Errorf("AppendString(%q) read back as %+v", s, got[0])
		}
	}
}

func TestBuilderReuse(t *testing.T) {
	var b Builder
	if got := b.Bytes(); !bytes.Equal(got, unhex(t, "07 00 00 00 00 00 FF")) || b.Size() != 7 {
		t.Fatalf("empty builder: % x, Size %d", got, b.Size())
	}
	b.AppendString([]byte("a"))
	first := append([]byte(nil), b.Bytes()...)
	b.AppendString([]byte("b")) // overwrites the terminator of the first Bytes
	if got, _ := walk(b.Bytes()); strings.Join(got, ",") != "a,b" {
		t.Fatalf("after second append: %q", got)
	}
	b.Reset()
	b.AppendString([]byte("a"))
	if !bytes.Equal(b.Bytes(), first) {
		t.Fatal("Reset did not start over")
	}
	allocs := testing.AllocsPerRun(100, func() {
		b.Reset()
		b.AppendString([]byte("hello"))
		b.AppendInt(123456)
		_ = b.Bytes()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per reuse", allocs)
	}
}

func TestUnknownCount(t *testing.T) {
	var b Builder
	for i := range 70000 {
		b.AppendInt(int64(i))
	}
	lp := b.Bytes()
	it, err := NewIterator(lp)
	if err != nil {
		t.Fatal(err)
	}
	if it.HeaderCount() != UnknownCount {
		t.Fatalf("HeaderCount() = %d", it.HeaderCount())
	}
	n := 0
	for it.Next() {
		if it.Int() != int64(n) {
			t.Fatalf("entry %d = %d", n, it.Int())
		}
		n++
	}
	if it.Err() != nil || n != 70000 {
		t.Fatalf("n = %d, err = %v", n, it.Err())
	}

	// Exactly 65534 entries still fit the header; 65535 do not.
	for _, n := range []int{65534, 65535} {
		b.Reset()
		for range n {
			b.AppendInt(1)
		}
		want := n
		if n == 65535 {
			want = UnknownCount
		}
		if got := int(binary.LittleEndian.Uint16(b.Bytes()[4:])); got != want {
			t.Errorf("%d entries: header count %d, want %d", n, got, want)
		}
	}
	// With 65535 in the header any number of entries is fine.
	if _, err := walk(lpOf(UnknownCount, unhex(t, "01 01"))); err != nil {
		t.Fatal(err)
	}
}

func TestMalformed(t *testing.T) {
	good := unhex(t, "0F 00 00 00 03 00 81 61 02 81 62 02 03 01 FF")
	patched := func(off int, b ...byte) []byte {
		out := append([]byte(nil), good...)
		copy(out[off:], b)
		return out
	}
	tests := []struct {
		name   string
		lp     []byte
		offset int
		reason string
	}{
		{"empty", nil, 0, "shorter than"},
		{"six bytes", unhex(t, "06 00 00 00 00 00"), 0, "shorter than"},
		{"total too big", patched(0, 0x10), 0, "header says 16 bytes"},
		{"total too small", patched(0, 0x0E), 0, "header says 14 bytes"},
		{"huge total", patched(0, 0xFF, 0xFF, 0xFF, 0xFF), 0, "header says 4294967295"},
		{"truncated", good[:len(good)-1], 0, "header says 15"},
		{"no terminator", patched(14, 0x00), 14, "does not end with 0xFF"},
		{"count too high", patched(4, 4), 4, "counts 4 entries, found 3"},
		{"count too low", patched(4, 2), 4, "counts 2 entries, found 3"},
		{"count zero", patched(4, 0), 4, "counts 0 entries, found 3"},
		{"backlen wrong", patched(8, 0x03), 8, "backlen does not encode"},
		{"backlen of int wrong", patched(13, 0x02), 13, "backlen does not encode"},
		{"string length past end", patched(9, 0xBF), 9, "runs past the end"},
		{"terminator in the middle", patched(9, 0xFF), 9, "terminator 0xFF before the end"},
		{"invalid encoding F5", patched(6, 0xF5), 6, "invalid listpack encoding byte 0xf5"},
		{"invalid encoding FE", patched(6, 0xFE), 6, "invalid listpack encoding byte 0xfe"},
		{"empty but counted", lpOf(1), 4, "counts 1 entries, found 0"},
		{"huge 32-bit string", lpOf(1, unhex(t, "F0 FF FF FF FF 00")), 6, "runs past the end"},
		{"32-bit length cut by terminator", lpOf(1, unhex(t, "F0 01 00")), 6, "32-bit string length runs into the terminator"},
		{"12-bit length cut by terminator", lpOf(1, unhex(t, "E0")), 6, "12-bit string length runs into"},
		{"13-bit int cut by terminator", lpOf(1, unhex(t, "C0")), 6, "13-bit integer entry runs into"},
		{"int64 cut by terminator", lpOf(1, unhex(t, "F4 00 00 00")), 6, "integer entry runs into"},
		{"missing backlen", lpOf(1, unhex(t, "05")), 6, "backlen runs past the end"},
		{"backlen eats terminator", append(lpOf(1, unhex(t, "81 61")), 0xFF)[1:], 0, "header says"},
		{"backlen continues forever", lpOf(1, unhex(t, "F1 80 80 80 80 83")), 9, "backlen does not encode"},
		{"two-byte backlen for small entry", lpOf(1, unhex(t, "81 61 00 02")), 8, "backlen does not encode"},
		{"non-canonical backlen is still checked", lpOf(1, unhex(t, "F1 00 01 83")), 9, "backlen does not encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := walk(tt.lp)
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

func TestIteratorAfterEnd(t *testing.T) {
	var zero Iterator
	if zero.Next() || zero.Err() != nil {
		t.Fatal("zero Iterator is not an empty, error-free iterator")
	}
	it, err := NewIterator(unhex(t, "0F 00 00 00 04 00 81 61 02 81 62 02 03 01 FF"))
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
	}
	first := it.Err()
	if first == nil || it.Next() || it.Err() != first {
		t.Fatalf("error not sticky: %v then %v", first, it.Err())
	}
	it, _ = NewIterator(unhex(t, "0F 00 00 00 03 00 81 61 02 81 62 02 03 01 FF"))
	for it.Next() {
	}
	if it.Next() || it.Err() != nil {
		t.Fatal("Next after a clean end")
	}
}

func TestIteratorNoAllocs(t *testing.T) {
	lp := benchListpack(t, 200)
	var sink []byte
	allocs := testing.AllocsPerRun(100, func() {
		it, _ := NewIterator(lp)
		for it.Next() {
			sink = it.AppendText(sink[:0])
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per walk", allocs)
	}
}

// splitEntries turns fuzz bytes into a list of byte strings: the first byte
// is the separator.
func splitEntries(data []byte) [][]byte {
	if len(data) == 0 {
		return nil
	}
	return bytes.Split(data[1:], data[:1])
}

// walkBoth walks lp once through Next and once through the slow path alone,
// returning the texts, offsets and error of the Next walk. A divergence means
// a fast path accepted or decoded something differently.
func walkBoth(t *testing.T, lp []byte) {
	it, err := NewIterator(lp)
	if err != nil {
		return
	}
	slow, _ := NewIterator(lp)
	prevEnd := 6
	n := 0
	for it.Next() {
		if !slow.next() {
			t.Fatalf("slow path stopped at entry %d (%v), fast path went on", n, slow.Err())
		}
		if it.Offset() != slow.Offset() || it.IsInt() != slow.IsInt() || it.Int() != slow.Int() || !bytes.Equal(it.Str(), slow.Str()) {
			t.Fatalf("entry %d differs between fast and slow path", n)
		}
		if it.Offset() < prevEnd || it.Offset() >= len(lp)-1 {
			t.Fatalf("entry %d at offset %d, previous ended at %d", n, it.Offset(), prevEnd)
		}
		prevEnd = it.Offset() + 2 // every entry has at least a byte and a backlen
		if s := it.Str(); s != nil && cap(s) != len(s) {
			t.Fatal("Str() capacity reaches into the blob")
		}
		_ = it.AppendText(nil)
		n++
	}
	if slow.next() {
		t.Fatalf("slow path found entry %d after the fast path stopped (%v)", n, it.Err())
	}
	if (it.Err() == nil) != (slow.Err() == nil) {
		t.Fatalf("fast path err %v, slow path err %v", it.Err(), slow.Err())
	}
	if it.Err() == nil && it.HeaderCount() != UnknownCount && it.HeaderCount() != n {
		t.Fatalf("clean end after %d entries, header says %d", n, it.HeaderCount())
	}
}

func FuzzIterator(f *testing.F) {
	f.Add(unhex(f, "0F 00 00 00 03 00 81 61 02 81 62 02 03 01 FF"))
	f.Add(unhex(f, "07 00 00 00 00 00 FF"))
	f.Add(lpOf(UnknownCount, unhex(f, `F0 03 00 00 00 "abc" 08`), unhex(f, "F4 FF FF FF FF FF FF FF 7F 09")))
	f.Add(lpOf(2, unhex(f, "DF FF 02"), unhex(f, "F2 00 00 80 04")))
	f.Add(lpOf(1, append(append(unhex(f, "E0 C8"), strings.Repeat("y", 200)...), 0x01, 0xCA)))
	f.Add(lpOf(2, unhex(f, "F1 00 00 83"), unhex(f, "F3 01 02 03 04 05")))
	f.Fuzz(func(t *testing.T, lp []byte) {
		walkBoth(t, lp)
		// Random bytes almost never carry a matching total_bytes, so also
		// walk a copy with the header and terminator repaired: that is
		// where the entry decoding gets exercised.
		if len(lp) >= minSize {
			fixed := append([]byte(nil), lp...)
			binary.LittleEndian.PutUint32(fixed, uint32(len(fixed)))
			fixed[len(fixed)-1] = 0xFF
			walkBoth(t, fixed)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(",a,b,3"))
	f.Add([]byte("\x00007\x00-0\x00-9223372036854775808\x00\x00x"))
	f.Add(append([]byte{'|'}, bytes.Repeat([]byte("z"), 5000)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		items := splitEntries(data)
		var b Builder
		for _, s := range items {
			b.AppendString(s)
		}
		lp := b.Bytes()
		if b.Size() != len(lp) || b.Len() != len(items) {
			t.Fatalf("Size %d/Len %d, blob %d bytes with %d items", b.Size(), b.Len(), len(lp), len(items))
		}
		it, err := NewIterator(lp)
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for it.Next() {
			if i >= len(items) {
				t.Fatal("more entries than appended")
			}
			if got := it.AppendText(nil); !bytes.Equal(got, items[i]) {
				t.Fatalf("entry %d = %q, want %q", i, got, items[i])
			}
			_, isInt := codec.ParseCanonicalInt(items[i])
			if it.IsInt() != isInt {
				t.Fatalf("entry %d %q: IsInt %v", i, items[i], it.IsInt())
			}
			i++
		}
		if err := it.Err(); err != nil || i != len(items) {
			t.Fatalf("read %d of %d entries, err %v", i, len(items), err)
		}
	})
}

// TestFastPathsMatchSlowPath walks random listpacks of every encoding
// (including non-minimal ones and entries at the one- and two-byte backlen
// cut-off), and damaged copies of them, through Next and through the slow
// path alone: the fast paths must accept exactly the entries the slow path
// accepts, and decode them the same.
func TestFastPathsMatchSlowPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	entry := func() []byte {
		switch rng.IntN(9) {
		case 0:
			return []byte{byte(rng.IntN(128)), 1}
		case 1:
			n := rng.IntN(64)
			return append(append([]byte{0x80 | byte(n)}, bytes.Repeat([]byte{'s'}, n)...), byte(n+1))
		case 2:
			v := rng.IntN(1 << 13)
			return []byte{0xC0 | byte(v>>8), byte(v), 2}
		case 3, 4:
			n := rng.IntN(140) // across the 125-byte limit of one-byte backlens
			e := append([]byte{0xE0 | byte(n>>8), byte(n)}, bytes.Repeat([]byte{'m'}, n)...)
			return appendBacklen(e, n+2)
		case 5:
			n := rng.IntN(20)
			e := binary.LittleEndian.AppendUint32([]byte{0xF0}, uint32(n))
			return appendBacklen(append(e, bytes.Repeat([]byte{'w'}, n)...), n+5)
		default:
			k := rng.IntN(4) // 0xF1..0xF4: 2, 3, 4, 8 bytes
			w := []int{2, 3, 4, 8}[k]
			e := []byte{0xF1 + byte(k)}
			for range w {
				e = append(e, byte(rng.Uint32()))
			}
			return append(e, byte(1+w))
		}
	}
	for range 20000 {
		var entries [][]byte
		for range rng.IntN(12) {
			entries = append(entries, entry())
		}
		lp := lpOf(len(entries), entries...)
		walkBoth(t, lp)
		for range 3 {
			bad := append([]byte(nil), lp...)
			if len(bad) > 7 {
				bad[6+rng.IntN(len(bad)-7)] = byte(rng.Uint32())
			}
			walkBoth(t, bad)
		}
	}
}

// TestReadIntLE: the fixed-width loads give what the byte loop gives, for
// every width the 16-, 24-, 32- and 64-bit encodings use, sign included.
func TestReadIntLE(t *testing.T) {
	byteLoop := func(b []byte) int64 {
		var u uint64
		for i := len(b) - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		shift := 64 - 8*uint(len(b))
		return int64(u<<shift) >> shift
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, width := range []int{2, 3, 4, 8} {
		for i := range 20000 {
			b := make([]byte, width)
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			if i < 4 { // the extremes: 0, -1, the largest and the smallest
				fill := [4]byte{0, 0xFF, 0xFF, 0}[i]
				for j := range b {
					b[j] = fill
				}
				if i >= 2 {
					b[width-1] ^= 0x80
				}
			}
			if got, want := readIntLE(b), byteLoop(b); got != want {
				t.Fatalf("readIntLE(% x) = %d, want %d", b, got, want)
			}
		}
	}
}
