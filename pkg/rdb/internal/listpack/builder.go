package listpack

import (
	"encoding/binary"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

// MaxSize is the largest listpack the 32-bit header can describe. Redis
// itself stops growing a listpack long before (1 GiB safety limit), so a
// writer following Redis's encoding thresholds never comes near it.
const MaxSize = math.MaxUint32

// Builder assembles a listpack entry by entry, choosing encodings the way
// Redis's lpAppend does so that the bytes match what a server would write.
// The zero value is an empty listpack ready for use.
type Builder struct {
	buf []byte // header placeholder + entries; the terminator is added by Bytes
	n   int
}

// Reset empties the builder, keeping its buffer.
func (b *Builder) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
}

func (b *Builder) init() {
	if len(b.buf) == 0 {
		b.buf = append(b.buf[:0], 0, 0, 0, 0, 0, 0)
	}
}

// AppendString adds s. A string that is the canonical decimal text of an
// int64 (codec.ParseCanonicalInt) is stored as the smallest integer encoding,
// as Redis does; it reads back as the same text.
func (b *Builder) AppendString(s []byte) {
	if v, ok := codec.ParseCanonicalInt(s); ok {
		b.AppendInt(v)
		return
	}
	b.init()
	start := len(b.buf)
	switch n := len(s); {
	case n < 64:
		b.buf = append(b.buf, 0x80|byte(n))
	case n < 4096:
		b.buf = append(b.buf, 0xE0|byte(n>>8), byte(n))
	default:
		b.buf = append(b.buf, 0xF0)
		b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(n))
	}
	b.buf = append(b.buf, s...)
	b.buf = appendBacklen(b.buf, len(b.buf)-start)
	b.n++
}

// AppendInt adds v with the smallest integer encoding that holds it.
func (b *Builder) AppendInt(v int64) {
	b.init()
	switch {
	case v >= 0 && v <= 127:
		b.buf = append(b.buf, byte(v), 1)
	case v >= -4096 && v <= 4095:
		u := uint16(v) & 0x1FFF
		b.buf = append(b.buf, 0xC0|byte(u>>8), byte(u), 2)
	case v >= math.MinInt16 && v <= math.MaxInt16:
		b.buf = append(b.buf, 0xF1, byte(v), byte(v>>8), 3)
	case v >= -1<<23 && v < 1<<23:
		b.buf = append(b.buf, 0xF2, byte(v), byte(v>>8), byte(v>>16), 4)
	case v >= math.MinInt32 && v <= math.MaxInt32:
		b.buf = append(b.buf, 0xF3)
		b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(v))
		b.buf = append(b.buf, 5)
	default:
		b.buf = append(b.buf, 0xF4)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(v))
		b.buf = append(b.buf, 9)
	}
	b.n++
}

// appendBacklen appends the backlen of an entry of the given size, with the
// byte order described in doc.go and the cut-offs of backlenSize.
func appendBacklen(dst []byte, size int) []byte {
	l := uint64(size)
	switch backlenSize(size) {
	case 1:
		return append(dst, byte(l))
	case 2:
		return append(dst, byte(l>>7), byte(l)|0x80)
	case 3:
		return append(dst, byte(l>>14), byte(l>>7)|0x80, byte(l)|0x80)
	case 4:
		return append(dst, byte(l>>21), byte(l>>14)|0x80, byte(l>>7)|0x80, byte(l)|0x80)
	default:
		return append(dst, byte(l>>28), byte(l>>21)|0x80, byte(l>>14)|0x80, byte(l>>7)|0x80, byte(l)|0x80)
	}
}

// Len returns the number of entries appended since the last Reset.
func (b *Builder) Len() int { return b.n }

// Size returns the length in bytes of the listpack Bytes would return.
func (b *Builder) Size() int {
	if len(b.buf) == 0 {
		return minSize
	}
	return len(b.buf) + 1
}

// Bytes finishes the listpack and returns it. The slice is the builder's own
// buffer: it stays valid until the next Append or Reset, which may overwrite
// it. Bytes panics if Size exceeds MaxSize, a limit no Redis encoding
// threshold allows a caller to reach.
func (b *Builder) Bytes() []byte {
	b.init()
	if uint64(b.Size()) > MaxSize {
		panic("listpack: Builder exceeds the 4 GiB listpack limit")
	}
	out := append(b.buf, terminator)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	count := b.n
	if count >= UnknownCount {
		count = UnknownCount
	}
	binary.LittleEndian.PutUint16(out[4:], uint16(count))
	// Keep the terminator out of buf so the next Append overwrites it.
	b.buf = out[:len(out)-1]
	return out
}
