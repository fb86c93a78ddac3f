package ziplist

import (
	"encoding/binary"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

// MaxSize is the largest ziplist the 32-bit header can describe.
const MaxSize = math.MaxUint32

// Builder assembles a ziplist entry by entry, choosing encodings the way
// Redis's ziplistPush does. The zero value is an empty ziplist ready for use.
type Builder struct {
	buf      []byte // header placeholder + entries; the terminator is added by Bytes
	n        int
	last     int // offset of the last entry
	prevSize int // size of the last entry, the next entry's prevlen
}

// Reset empties the builder, keeping its buffer.
func (b *Builder) Reset() {
	b.buf = b.buf[:0]
	b.n = 0
	b.prevSize = 0
}

// begin starts an entry: header on first use, then the prevlen.
func (b *Builder) begin() int {
	if len(b.buf) == 0 {
		b.buf = append(b.buf[:0], make([]byte, headerSize)...)
	}
	start := len(b.buf)
	if b.prevSize < bigPrevlen {
		b.buf = append(b.buf, byte(b.prevSize))
	} else {
		b.buf = append(b.buf, bigPrevlen)
		b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(b.prevSize))
	}
	return start
}

func (b *Builder) end(start int) {
	b.last = start
	b.prevSize = len(b.buf) - start
	b.n++
}

// AppendString adds s. A string that is the canonical decimal text of an
// int64 (codec.ParseCanonicalInt; always fewer than 32 bytes, Redis's limit)
// is stored as an integer, as Redis does; it reads back as the same text.
func (b *Builder) AppendString(s []byte) {
	if v, ok := codec.ParseCanonicalInt(s); ok {
		b.AppendInt(v)
		return
	}
	start := b.begin()
	switch n := len(s); {
	case n <= 0x3F:
		b.buf = append(b.buf, byte(n))
	case n <= 0x3FFF:
		b.buf = append(b.buf, 0x40|byte(n>>8), byte(n))
	default:
		b.buf = append(b.buf, 0x80)
		b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(n))
	}
	b.buf = append(b.buf, s...)
	b.end(start)
}

// AppendInt adds v with the smallest encoding that holds it, immediates for
// 0..12 included.
func (b *Builder) AppendInt(v int64) {
	start := b.begin()
	switch {
	case v >= 0 && v <= 12:
		b.buf = append(b.buf, encImm0+byte(v))
	case v >= math.MinInt8 && v <= math.MaxInt8:
		b.buf = append(b.buf, encInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		b.buf = append(b.buf, encInt16, byte(v), byte(v>>8))
	case v >= -1<<23 && v < 1<<23:
		b.buf = append(b.buf, encInt24, byte(v), byte(v>>8), byte(v>>16))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		b.buf = append(b.buf, encInt32)
		b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(v))
	default:
		b.buf = append(b.buf, encInt64)
		b.buf = binary.LittleEndian.AppendUint64(b.buf, uint64(v))
	}
	b.end(start)
}

// Len returns the number of entries appended since the last Reset.
func (b *Builder) Len() int { return b.n }

// Size returns the length in bytes of the ziplist Bytes would return.
func (b *Builder) Size() int {
	if len(b.buf) == 0 {
		return minSize
	}
	return len(b.buf) + 1
}

// Bytes finishes the ziplist and returns it. The slice is the builder's own
// buffer: it stays valid until the next Append or Reset, which may overwrite
// it. Bytes panics if Size exceeds MaxSize, a limit no Redis encoding
// threshold allows a caller to reach.
func (b *Builder) Bytes() []byte {
	if len(b.buf) == 0 {
		b.buf = append(b.buf[:0], make([]byte, headerSize)...)
	}
	if uint64(b.Size()) > MaxSize {
		panic("ziplist: Builder exceeds the 4 GiB ziplist limit")
	}
	out := append(b.buf, terminator)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	tail := headerSize
	if b.n > 0 {
		tail = b.last
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(tail))
	binary.LittleEndian.PutUint16(out[8:], uint16(min(b.n, UnknownCount)))
	// Keep the terminator out of buf so the next Append overwrites it.
	b.buf = out[:len(out)-1]
	return out
}
