package ziplist

import (
	"strconv"
	"testing"
)

// benchZiplist builds a ziplist shaped like a small hash: short field names
// and a mix of integer and short string values.
func benchZiplist(entries int) []byte {
	var b Builder
	for i := 0; i < entries/2; i++ {
		b.AppendString([]byte("field:" + strconv.Itoa(i)))
		if i%2 == 0 {
			b.AppendInt(int64(i * 37))
		} else {
			b.AppendString([]byte("value-" + strconv.Itoa(i*7)))
		}
	}
	return append([]byte(nil), b.Bytes()...)
}

func benchIterate(b *testing.B, zl []byte) {
	b.SetBytes(int64(len(zl)))
	b.ReportAllocs()
	for b.Loop() {
		it, err := NewIterator(zl)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for it.Next() {
			if it.IsInt() {
				n += int(it.Int())
			} else {
				n += len(it.Str())
			}
		}
		if it.Err() != nil {
			b.Fatal(it.Err())
		}
		_ = n
	}
}

func BenchmarkIterator(b *testing.B) { benchIterate(b, benchZiplist(128)) }

func BenchmarkIteratorLarge(b *testing.B) { benchIterate(b, benchZiplist(100000)) }

// BenchmarkIteratorSmallInts walks immediates only, the fewest bytes per entry.
func BenchmarkIteratorSmallInts(b *testing.B) {
	var bl Builder
	for i := range 4096 {
		bl.AppendInt(int64(i % 13))
	}
	benchIterate(b, bl.Bytes())
}

func BenchmarkBuilder(b *testing.B) {
	fields := make([][]byte, 128)
	for i := range fields {
		fields[i] = []byte("field:" + strconv.Itoa(i))
	}
	var bl Builder
	b.ReportAllocs()
	for b.Loop() {
		bl.Reset()
		for _, f := range fields {
			bl.AppendString(f)
		}
		_ = bl.Bytes()
	}
}
