package zipmap

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

type pair struct{ k, v string }

func walk(zm []byte) ([]pair, error) {
	it, err := NewIterator(zm)
	if err != nil {
		return nil, err
	}
	var out []pair
	for it.Next() {
		out = append(out, pair{string(it.Key()), string(it.Value())})
	}
	return out, it.Err()
}

func TestIterator(t *testing.T) {
	long := strings.Repeat("L", 300)
	tests := []struct {
		name string
		zm   string
		want []pair
	}{
		{
			// The example at the top of zipmap.c.
			name: "foo bar hello world",
			zm:   "\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff",
			want: []pair{{"foo", "bar"}, {"hello", "world"}},
		},
		{
			name: "free bytes skipped",
			zm:   "\x02\x03foo\x02\x03hiXYZ\x01k\x01\x00v\xff",
			want: []pair{{"foo", "hi"}, {"k", "v"}},
		},
		{
			name: "5-byte lengths for short strings",
			zm:   "\x01\xfe\x03\x00\x00\x00foo\xfe\x02\x00\x00\x00\x00hi\xff",
			want: []pair{{"foo", "hi"}},
		},
		{
			name: "5-byte length for a long value",
			zm:   "\x01\x01k\xfe\x2c\x01\x00\x00\x00" + long + "\xff",
			want: []pair{{"k", long}},
		},
		{
			name: "empty key and value",
			zm:   "\x01\x00\x00\x00\xff",
			want: []pair{{"", ""}},
		},
		{
			name: "unknown count",
			zm:   "\xfe\x01a\x01\x00b\xff",
			want: []pair{{"a", "b"}},
		},
		{
			name: "253 length byte is a plain length",
			zm:   "\x01\x01k\xfd\x00" + strings.Repeat("v", 253) + "\xff",
			want: []pair{{"k", strings.Repeat("v", 253)}},
		},
		{name: "empty", zm: "\x00\xff", want: nil},
		// Redis 2.x read any zmlen >= 254 as "count by walking".
		{name: "zmlen 255", zm: "\xff\x01a\x01\x00b\xff", want: []pair{{"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := walk([]byte(tt.zm))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("pair %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestOffsetsAndCount(t *testing.T) {
	zm := []byte("\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff")
	it, err := NewIterator(zm)
	if err != nil {
		t.Fatal(err)
	}
	if it.HeaderCount() != 2 {
		t.Fatalf("HeaderCount() = %d", it.HeaderCount())
	}
	var offs []int
	for it.Next() {
		offs = append(offs, it.Offset())
		if k := it.Key(); cap(k) != len(k) {
			t.Fatal("Key() capacity reaches into the blob")
		}
	}
	if len(offs) != 2 || offs[0] != 1 || offs[1] != 10 {
		t.Fatalf("offsets %v, want [1 10]", offs)
	}
	if it.Next() || it.Err() != nil {
		t.Fatal("Next after a clean end")
	}
	var zero Iterator
	if zero.Next() || zero.Err() != nil {
		t.Fatal("zero Iterator is not empty")
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name   string
		zm     string
		offset int
		reason string
	}{
		{"empty", "", 0, "shorter than"},
		{"only count", "\x00", 0, "shorter than"},
		{"no end marker", "\x01\x01a\x01\x00b", 5, "does not end with 0xFF"},
		{"count high", "\x02\x01a\x01\x00b\xff", 0, "counts 2 pairs, found 1"},
		{"count low", "\x00\x01a\x01\x00b\xff", 0, "counts 0 pairs, found 1"},
		{"count 253 is exact", "\xfd\x01a\x01\x00b\xff", 0, "counts 253 pairs, found 1"},
		{"end marker early", "\x01\x01a\x01\x00b\xff\xff", 6, "end marker before the last byte"},
		{"key past end", "\x01\x05a\xff", 1, "key of 5 bytes runs past"},
		{"huge key", "\x01\xfe\xff\xff\xff\xffa\xff", 1, "bytes runs past"},
		{"key length cut", "\x01\xfe\x01\x00\xff", 1, "key length runs into the end marker"},
		{"key without value", "\x01\x01a\xff", 1, "not followed by a value"},
		{"value length 0xFF", "\x01\x01a\xff\x00\xff", 3, "value length 0xFF"},
		{"value length cut", "\x01\x01a\xfe\x01\x00\xff", 3, "value length runs into"},
		{"free byte missing", "\x01\x01a\x00\xff", 3, "free byte runs into"},
		{"value past end", "\x01\x01a\x05\x00b\xff", 3, "value of 5 bytes and 0 free bytes runs past"},
		{"huge value", "\x01\x01a\xfe\xff\xff\xff\xff\x00b\xff", 3, "bytes and 0 free bytes runs past"},
		{"padding past end", "\x01\x01a\x01\x09b\xff", 3, "value of 1 bytes and 9 free bytes runs past"},
		{"padding eats end marker", "\x01\x01a\x01\x01bX", 6, "does not end with 0xFF"},
		{"padding reaches end marker", "\x01\x01a\x01\x02bX\xff", 3, "and 2 free bytes runs past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := walk([]byte(tt.zm))
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

func TestErrorSticky(t *testing.T) {
	it, _ := NewIterator([]byte("\x02\x01a\x01\x00b\xff"))
	for it.Next() {
	}
	first := it.Err()
	if first == nil || it.Next() || it.Err() != first {
		t.Fatal("error not sticky")
	}
}

func FuzzIterator(f *testing.F) {
	f.Add([]byte("\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff"))
	f.Add([]byte("\x02\x03foo\x02\x03hiXYZ\x01k\x01\x00v\xff"))
	f.Add([]byte("\xfe\xfe\x03\x00\x00\x00foo\xfe\x02\x00\x00\x00\x00hi\xff"))
	f.Add([]byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, zm []byte) {
		checkZipmap(t, zm)
		// Also walk a copy whose last byte is the end marker, which random
		// mutations rarely keep, so the pair decoding gets exercised.
		if len(zm) >= 2 && zm[len(zm)-1] != end {
			fixed := append([]byte(nil), zm...)
			fixed[len(fixed)-1] = end
			checkZipmap(t, fixed)
		}
	})
}

func checkZipmap(t *testing.T, zm []byte) {
	it, err := NewIterator(zm)
	if err != nil {
		return
	}
	prev := 0
	n := 0
	for it.Next() {
		if it.Offset() <= prev {
			t.Fatalf("pair %d at offset %d after %d", n, it.Offset(), prev)
		}
		prev = it.Offset()
		k, v := it.Key(), it.Value()
		if cap(k) != len(k) || cap(v) != len(v) {
			t.Fatal("slice capacity reaches into the blob")
		}
		n++
	}
	if it.Err() == nil {
		if it.HeaderCount() < UnknownCount && it.HeaderCount() != n {
			t.Fatalf("clean end after %d pairs, header says %d", n, it.HeaderCount())
		}
		// A well-formed zipmap rebuilt without padding and with short
		// lengths must read back the same.
		it2, _ := NewIterator(zm)
		var rebuilt []byte
		rebuilt = append(rebuilt, zm[0])
		var want []pair
		for it2.Next() {
			want = append(want, pair{string(it2.Key()), string(it2.Value())})
		}
		for _, p := range want {
			rebuilt = appendLen(rebuilt, len(p.k))
			rebuilt = append(rebuilt, p.k...)
			rebuilt = appendLen(rebuilt, len(p.v))
			rebuilt = append(append(rebuilt, 0), p.v...)
		}
		rebuilt = append(rebuilt, 0xff)
		got, err := walk(rebuilt)
		if err != nil || len(got) != len(want) {
			t.Fatalf("rebuilt: %v, %d pairs of %d", err, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("rebuilt pair %d differs", i)
			}
		}
	}
}

func appendLen(b []byte, n int) []byte {
	if n < bigLen {
		return append(b, byte(n))
	}
	return append(b, bigLen, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
}

func BenchmarkIterator(b *testing.B) {
	zm := []byte{UnknownCount}
	for i := range 500 {
		k := []byte("field:" + strings.Repeat("x", i%10))
		v := bytes.Repeat([]byte{'v'}, i%40)
		zm = appendLen(zm, len(k))
		zm = append(zm, k...)
		zm = appendLen(zm, len(v))
		zm = append(append(zm, byte(i%3)), v...)
		zm = append(zm, make([]byte, i%3)...)
	}
	zm = append(zm, 0xff)
	b.SetBytes(int64(len(zm)))
	b.ReportAllocs()
	for b.Loop() {
		it, err := NewIterator(zm)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for it.Next() {
			n += len(it.Key()) + len(it.Value())
		}
		if it.Err() != nil {
			b.Fatal(it.Err())
		}
	}
}
