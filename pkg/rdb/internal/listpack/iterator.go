package listpack

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

const (
	headerSize = 6 // u32 total_bytes + u16 num_elements
	minSize    = headerSize + 1

	// UnknownCount is the header count Redis writes once a listpack holds
	// 65535 or more entries; the real number is found by walking.
	UnknownCount = 65535

	terminator = 0xFF
)

// Iterator walks the entries of a listpack from first to last, validating
// each one. The zero value is an exhausted iterator.
type Iterator struct {
	lp          []byte
	pos         int // offset of the next entry to decode
	off         int // offset of the current entry
	index       int
	headerCount int
	strStart    int
	strEnd      int
	val         int64
	isInt       bool
	err         error
}

// NewIterator checks the listpack header of lp and returns an iterator
// positioned before the first entry. The header must announce exactly
// len(lp) bytes and the last byte must be the terminator; anything else is a
// *codec.FormatError. lp is not copied.
func NewIterator(lp []byte) (Iterator, error) {
	if len(lp) < minSize {
		return Iterator{}, &codec.FormatError{Offset: 0, Reason: "listpack of " + strconv.Itoa(len(lp)) + " bytes is shorter than its 7-byte minimum"}
	}
	if total := binary.LittleEndian.Uint32(lp); uint64(total) != uint64(len(lp)) {
		return Iterator{}, &codec.FormatError{Offset: 0, Reason: "listpack header says " + strconv.FormatUint(uint64(total), 10) + " bytes, blob has " + strconv.Itoa(len(lp))}
	}
	if lp[len(lp)-1] != terminator {
		return Iterator{}, &codec.FormatError{Offset: len(lp) - 1, Reason: "listpack does not end with 0xFF"}
	}
	return Iterator{
		lp:          lp,
		pos:         headerSize,
		off:         -1,
		index:       -1,
		headerCount: int(binary.LittleEndian.Uint16(lp[4:])),
	}, nil
}

// Next advances to the next entry and reports whether there is one. It
// returns false at the end of the listpack or on the first malformed entry;
// Err tells the two apart.
func (it *Iterator) Next() bool {
	// Fast paths for every entry whose backlen is one byte (entries of at
	// most 127 bytes: integers, and strings up to 125 bytes), the entries of
	// nearly every listpack. The blob's last byte is 0xFF, which no one-byte
	// backlen can equal, so no fast path can consume the terminator; an
	// entry that ends where its backlen says is therefore well formed, as
	// next would find. Everything else, including every error, goes through
	// next. Unsigned offsets let the compiler drop the bounds checks.
	lp := it.lp
	p := uint(it.pos)
	if p+1 >= uint(len(lp)) {
		return it.next()
	}
	b := lp[p]
	if b < 0x80 && lp[p+1] == 1 { // 7-bit unsigned integer, the commonest
		return it.acceptInt(p, 1, int64(b))
	}
	var size uint // encoding and data bytes: the backlen's value
	var v int64
	switch {
	case b < 0x80:
		return it.next()
	case b < 0xC0: // string of up to 63 bytes
		size = 1 + uint(b&0x3F)
		if q := p + size; q < uint(len(lp)) && lp[q] == byte(size) {
			return it.acceptString(p, 1, q)
		}
		return it.next()
	case b < 0xE0: // 13-bit signed integer
		size = 2
		u := int64(b&0x1F)<<8 | int64(lp[p+1])
		if u >= 1<<12 {
			u -= 1 << 13
		}
		v = u
	case b < 0xF0: // string of up to 4095 bytes: fast when its backlen is one byte
		size = 2 + (uint(b&0x0F)<<8 | uint(lp[p+1]))
		if q := p + size; size <= 127 && q < uint(len(lp)) && lp[q] == byte(size) {
			return it.acceptString(p, 2, q)
		}
		return it.next()
	case b >= 0xF1 && b <= 0xF4: // 16, 24, 32 and 64-bit integers
		size = 1 + uint(intWidth[b-0xF1])
		if q := p + size; q < uint(len(lp)) && lp[q] == byte(size) {
			v = readIntLE(lp[p+1 : q])
			return it.acceptInt(p, size, v)
		}
		return it.next()
	default:
		return it.next()
	}
	if q := p + size; q < uint(len(lp)) && lp[q] == byte(size) {
		return it.acceptInt(p, size, v)
	}
	return it.next()
}

// acceptString makes the string entry at p, whose data follow hdr bytes of
// encoding and end at its one-byte backlen at q, current.
func (it *Iterator) acceptString(p, hdr, q uint) bool {
	it.isInt = false
	it.strStart, it.strEnd = int(p+hdr), int(q)
	it.off = int(p)
	it.pos = int(q) + 1
	it.index++
	return true
}

// acceptInt makes the integer entry of size bytes at p, value v, current.
func (it *Iterator) acceptInt(p, size uint, v int64) bool {
	it.val, it.isInt = v, true
	it.off = int(p)
	it.pos = int(p+size) + 1
	it.index++
	return true
}

// intWidth is the data size of the integer encodings 0xF1..0xF4.
var intWidth = [4]uint8{2, 3, 4, 8}

func (it *Iterator) next() bool {
	lp := it.lp
	p := it.pos
	end := len(lp) - 1 // offset of the terminator
	if p >= end {
		if p == end && it.err == nil {
			it.finish()
		}
		return false
	}

	b := lp[p]
	var hdr, dataLen int // encoding bytes, data bytes after them
	isInt := true
	switch {
	case b < 0x80:
		hdr = 1
		it.val = int64(b)
	case b < 0xC0:
		hdr, dataLen = 1, int(b&0x3F)
		isInt = false
	case b < 0xE0:
		if end-p < 2 {
			return it.fail(p, "13-bit integer entry runs into the terminator")
		}
		hdr = 2
		u := int64(b&0x1F)<<8 | int64(lp[p+1])
		if u >= 1<<12 {
			u -= 1 << 13
		}
		it.val = u
	case b < 0xF0:
		if end-p < 2 {
			return it.fail(p, "12-bit string length runs into the terminator")
		}
		hdr, dataLen = 2, int(b&0x0F)<<8|int(lp[p+1])
		isInt = false
	case b == 0xF0:
		if end-p < 5 {
			return it.fail(p, "32-bit string length runs into the terminator")
		}
		hdr, dataLen = 5, lenFromU32(binary.LittleEndian.Uint32(lp[p+1:]))
		isInt = false
	case b <= 0xF4:
		// 0xF1..0xF4: int16, int24, int32, int64.
		width := int(intWidth[b-0xF1])
		if end-p < 1+width {
			return it.fail(p, "integer entry runs into the terminator")
		}
		hdr = 1 + width
		it.val = readIntLE(lp[p+1 : p+1+width])
	case b == terminator:
		return it.fail(p, "terminator 0xFF before the end of the listpack")
	default:
		return it.fail(p, "invalid listpack encoding byte 0x"+strconv.FormatUint(uint64(b), 16))
	}

	if dataLen > end-p-hdr {
		return it.fail(p, "entry with "+strconv.Itoa(dataLen)+" data bytes runs past the end of the listpack")
	}
	size := hdr + dataLen
	bl := backlenSize(size)
	last := p + size + bl - 1 // offset of the backlen's final byte
	if last >= end {
		return it.fail(p, "entry backlen runs past the end of the listpack")
	}
	if !backlenMatches(lp, last, size) {
		return it.fail(p+size, "backlen does not encode the entry size "+strconv.Itoa(size))
	}

	it.isInt = isInt
	if !isInt {
		it.strStart, it.strEnd = p+hdr, p+size
	}
	it.off = p
	it.pos = last + 1
	it.index++
	return true
}

// finish runs the end-of-listpack checks once the terminator is reached.
func (it *Iterator) finish() {
	count := it.index + 1
	it.pos = len(it.lp)
	if it.headerCount != UnknownCount && count != it.headerCount {
		it.err = &codec.FormatError{Offset: 4, Reason: "listpack header counts " + strconv.Itoa(it.headerCount) + " entries, found " + strconv.Itoa(count)}
	}
}

func (it *Iterator) fail(offset int, reason string) bool {
	it.err = &codec.FormatError{Offset: offset, Reason: reason}
	it.pos = len(it.lp)
	return false
}

// backlenSize is the number of bytes of the backlen for an entry of the given
// encoding+data size, with the cut-offs of lpEncodeBacklen (note the ≤ on the
// first and < on the rest: they are part of the format).
func backlenSize(size int) int {
	switch {
	case size <= 127:
		return 1
	case size < 16383:
		return 2
	case size < 2097151:
		return 3
	case size < 268435455:
		return 4
	default:
		return 5
	}
}

// backlenMatches decodes the backlen whose last byte is at lp[last], reading
// backwards exactly as lpDecodeBacklen does (which may stop early or, for
// odd bytes, look further back), and compares it with size. Matching Redis's
// reading rather than requiring the canonical bytes means we accept exactly
// the listpacks Redis accepts.
func backlenMatches(lp []byte, last, size int) bool {
	if size <= 127 && lp[last] == byte(size) {
		return true
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift > 28 || last < 0 {
			return false
		}
		c := lp[last]
		v |= uint64(c&0x7F) << shift
		if c&0x80 == 0 {
			break
		}
		last--
	}
	return v == uint64(size)
}

// readIntLE sign-extends the little-endian integer in b (2, 3, 4 or 8 bytes).
func readIntLE(b []byte) int64 {
	switch len(b) {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 3:
		u := uint32(binary.LittleEndian.Uint16(b)) | uint32(b[2])<<16
		return int64(int32(u<<8) >> 8)
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case 8:
		return int64(binary.LittleEndian.Uint64(b))
	}
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	shift := 64 - 8*uint(len(b))
	return int64(u<<shift) >> shift
}

// Err returns the error that stopped the iteration, or nil if it reached the
// end of a well-formed listpack (or has not finished yet).
func (it *Iterator) Err() error { return it.err }

// IsInt reports whether the current entry is stored as an integer.
func (it *Iterator) IsInt() bool { return it.isInt }

// Int returns the value of the current integer entry; 0 for string entries.
func (it *Iterator) Int() int64 {
	if !it.isInt {
		return 0
	}
	return it.val
}

// Str returns the bytes of the current string entry, or nil for an integer
// entry. The slice aliases the listpack; its capacity ends with the string.
func (it *Iterator) Str() []byte {
	if it.isInt {
		return nil
	}
	return it.lp[it.strStart:it.strEnd:it.strEnd]
}

// AppendText appends the current entry as Redis would return it: the string
// bytes, or the decimal text of an integer entry.
func (it *Iterator) AppendText(dst []byte) []byte {
	if it.isInt {
		return codec.AppendInt(dst, it.val)
	}
	return append(dst, it.lp[it.strStart:it.strEnd]...)
}

// Offset returns the byte offset of the current entry within the listpack.
func (it *Iterator) Offset() int { return it.off }

// Index returns the zero-based position of the current entry (-1 before the
// first call to Next).
func (it *Iterator) Index() int { return it.index }

// HeaderCount returns the entry count stored in the header; UnknownCount
// (65535) means the listpack did not record it.
func (it *Iterator) HeaderCount() int { return it.headerCount }

// lenFromU32 converts a 32-bit length from the blob to int. On 32-bit
// platforms a value above math.MaxInt saturates, which every bounds check
// then rejects, instead of wrapping negative and slipping past them.
func lenFromU32(u uint32) int {
	if uint64(u) > math.MaxInt {
		return math.MaxInt
	}
	return int(u)
}
