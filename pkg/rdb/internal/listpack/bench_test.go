package listpack

import (
	"strconv"
	"testing"
)

// benchListpack builds a listpack shaped like a small hash: short field names
// and a mix of integer and short string values.
func benchListpack(tb testing.TB, entries int) []byte {
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

func benchIterate(b *testing.B, lp []byte) {
	b.SetBytes(int64(len(lp)))
	b.ReportAllocs()
	for b.Loop() {
		it, err := NewIterator(lp)
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

func BenchmarkIterator(b *testing.B) {
	benchIterate(b, benchListpack(b, 128))
}

func BenchmarkIteratorLarge(b *testing.B) {
	benchIterate(b, benchListpack(b, 100000))
}

// BenchmarkIteratorInts walks a listpack of 7-bit integers only, the worst
// case for bytes per entry.
func BenchmarkIteratorInts(b *testing.B) {
	var bl Builder
	for i := range 4096 {
		bl.AppendInt(int64(i % 128))
	}
	benchIterate(b, bl.Bytes())
}

// BenchmarkIteratorMixed covers the slow path: 13-bit and wider integers and
// 12-bit strings.
func BenchmarkIteratorMixed(b *testing.B) {
	var bl Builder
	long := make([]byte, 100)
	for i := range 4096 {
		switch i % 4 {
		case 0:
			bl.AppendInt(int64(i * 1000))
		case 1:
			bl.AppendInt(int64(-i))
		case 2:
			bl.AppendString(long)
		default:
			bl.AppendInt(int64(i) << 40)
		}
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
