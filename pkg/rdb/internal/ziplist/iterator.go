package ziplist

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

const (
	headerSize = 10 // zlbytes, zltail, zllen
	minSize    = headerSize + 1

	// UnknownCount is the zllen Redis leaves once a ziplist holds 65535 or
	// more entries; the real number is found by walking.
	UnknownCount = 65535

	terminator = 0xFF
	bigPrevlen = 0xFE // first prevlen byte announcing a u32le size

	encInt16 = 0xC0
	encInt32 = 0xD0
	encInt64 = 0xE0
	encInt24 = 0xF0
	encInt8  = 0xFE
	encImm0  = 0xF1 // immediate 0; 0xFD is immediate 12
	encImm12 = 0xFD
)

// Iterator walks the entries of a ziplist from first to last, validating
// each one. The zero value is an exhausted iterator.
type Iterator struct {
	zl          []byte
	pos         int // offset of the next entry to decode
	off         int // offset of the current entry
	prevSize    int // size of the current entry, which the next prevlen must state
	index       int
	headerCount int
	tail        int
	strStart    int
	strEnd      int
	val         int64
	isInt       bool
	err         error
}

// NewIterator checks the ziplist header of zl and returns an iterator
// positioned before the first entry: zlbytes must equal len(zl), zltail must
// lie inside the entry area and the last byte must be the terminator. zl is
// not copied.
func NewIterator(zl []byte) (Iterator, error) {
	if len(zl) < minSize {
		return Iterator{}, &codec.FormatError{Offset: 0, Reason: "ziplist of " + strconv.Itoa(len(zl)) + " bytes is shorter than its 11-byte minimum"}
	}
	if total := binary.LittleEndian.Uint32(zl); uint64(total) != uint64(len(zl)) {
		return Iterator{}, &codec.FormatError{Offset: 0, Reason: "ziplist header says " + strconv.FormatUint(uint64(total), 10) + " bytes, blob has " + strconv.Itoa(len(zl))}
	}
	tail := binary.LittleEndian.Uint32(zl[4:])
	if tail < headerSize || uint64(tail) >= uint64(len(zl)) {
		return Iterator{}, &codec.FormatError{Offset: 4, Reason: "ziplist tail offset " + strconv.FormatUint(uint64(tail), 10) + " is outside the entries"}
	}
	if zl[len(zl)-1] != terminator {
		return Iterator{}, &codec.FormatError{Offset: len(zl) - 1, Reason: "ziplist does not end with 0xFF"}
	}
	return Iterator{
		zl:          zl,
		pos:         headerSize,
		off:         -1,
		index:       -1,
		headerCount: int(binary.LittleEndian.Uint16(zl[8:])),
		tail:        int(tail),
	}, nil
}

// Next advances to the next entry and reports whether there is one. It
// returns false at the end of the ziplist or on the first malformed entry;
// Err tells the two apart.
func (it *Iterator) Next() bool {
	// Fast paths for a one-byte prevlen followed by a short string or an
	// immediate 0..12, which is most of what Redis wrote. The bound keeps
	// every entry before the terminator; the rest goes through next.
	zl := it.zl
	p := uint(it.pos)
	if p+2 < uint(len(zl)) && int(zl[p]) == it.prevSize && it.prevSize < bigPrevlen {
		enc := zl[p+1]
		if enc < 0x40 {
			if q := p + 2 + uint(enc); q < uint(len(zl)) {
				it.isInt = false
				it.strStart, it.strEnd = int(p)+2, int(q)
				it.off = int(p)
				it.pos = int(q)
				it.prevSize = int(q - p)
				it.index++
				return true
			}
		} else if enc >= encImm0 && enc <= encImm12 {
			it.val = int64(enc&0x0F) - 1
			it.isInt = true
			it.off = int(p)
			it.pos = int(p) + 2
			it.prevSize = 2
			it.index++
			return true
		}
	}
	return it.next()
}

func (it *Iterator) next() bool {
	zl := it.zl
	p := it.pos
	end := len(zl) - 1 // offset of the terminator
	if p >= end {
		if p == end && it.err == nil {
			it.finish()
		}
		return false
	}
	if zl[p] == terminator {
		return it.fail(p, "0xFF before the end of the ziplist")
	}

	prevlenSize, prevlen := 1, int(zl[p])
	if zl[p] == bigPrevlen {
		if end-p < 5 {
			return it.fail(p, "5-byte prevlen runs into the terminator")
		}
		prevlenSize, prevlen = 5, lenFromU32(binary.LittleEndian.Uint32(zl[p+1:]))
	}
	if prevlen != it.prevSize {
		return it.fail(p, "prevlen says "+strconv.Itoa(prevlen)+" bytes, previous entry has "+strconv.Itoa(it.prevSize))
	}

	e := p + prevlenSize // offset of the encoding byte
	if e >= end {
		return it.fail(p, "entry encoding runs into the terminator")
	}
	enc := zl[e]
	hdr, dataLen := 1, 0 // encoding bytes, data bytes after them
	isInt := true
	switch {
	case enc < 0x40:
		dataLen = int(enc & 0x3F)
		isInt = false
	case enc < 0x80:
		if end-e < 2 {
			return it.fail(e, "14-bit string length runs into the terminator")
		}
		hdr, dataLen = 2, int(enc&0x3F)<<8|int(zl[e+1])
		isInt = false
	case enc < 0xC0:
		// Redis masks the low six bits of this encoding; so do we.
		if end-e < 5 {
			return it.fail(e, "32-bit string length runs into the terminator")
		}
		hdr, dataLen = 5, lenFromU32(binary.BigEndian.Uint32(zl[e+1:]))
		isInt = false
	case enc == encInt8:
		dataLen = 1
	case enc == encInt16:
		dataLen = 2
	case enc == encInt24:
		dataLen = 3
	case enc == encInt32:
		dataLen = 4
	case enc == encInt64:
		dataLen = 8
	case enc >= encImm0 && enc <= encImm12:
		it.val = int64(enc&0x0F) - 1
	default:
		return it.fail(e, "invalid ziplist encoding byte 0x"+strconv.FormatUint(uint64(enc), 16))
	}
	data := e + hdr
	if dataLen > end-data {
		return it.fail(p, "entry with "+strconv.Itoa(dataLen)+" data bytes runs past the end of the ziplist")
	}
	if isInt {
		if dataLen > 0 {
			it.val = readIntLE(zl[data : data+dataLen])
		}
	} else {
		it.strStart, it.strEnd = data, data+dataLen
	}
	it.isInt = isInt
	it.off = p
	it.pos = data + dataLen
	it.prevSize = it.pos - p
	it.index++
	return true
}

// finish runs the end-of-ziplist checks once the terminator is reached.
func (it *Iterator) finish() {
	count := it.index + 1
	it.pos = len(it.zl)
	wantTail := headerSize
	if count > 0 {
		wantTail = it.off
	}
	switch {
	case it.headerCount != UnknownCount && count != it.headerCount:
		it.err = &codec.FormatError{Offset: 8, Reason: "ziplist header counts " + strconv.Itoa(it.headerCount) + " entries, found " + strconv.Itoa(count)}
	case it.tail != wantTail:
		it.err = &codec.FormatError{Offset: 4, Reason: "ziplist tail offset " + strconv.Itoa(it.tail) + ", last entry is at " + strconv.Itoa(wantTail)}
	}
}

func (it *Iterator) fail(offset int, reason string) bool {
	it.err = &codec.FormatError{Offset: offset, Reason: reason}
	it.pos = len(it.zl)
	return false
}

// readIntLE sign-extends the little-endian integer in b (1, 2, 3, 4 or 8 bytes).
func readIntLE(b []byte) int64 {
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	shift := 64 - 8*uint(len(b))
	return int64(u<<shift) >> shift
}

// Err returns the error that stopped the iteration, or nil if it reached the
// end of a well-formed ziplist (or has not finished yet).
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
// entry. The slice aliases the ziplist; its capacity ends with the string.
func (it *Iterator) Str() []byte {
	if it.isInt {
		return nil
	}
	return it.zl[it.strStart:it.strEnd:it.strEnd]
}

// AppendText appends the current entry as Redis would return it: the string
// bytes, or the decimal text of an integer entry.
func (it *Iterator) AppendText(dst []byte) []byte {
	if it.isInt {
		return codec.AppendInt(dst, it.val)
	}
	return append(dst, it.zl[it.strStart:it.strEnd]...)
}

// Offset returns the byte offset of the current entry (its prevlen) within
// the ziplist.
func (it *Iterator) Offset() int { return it.off }

// Index returns the zero-based position of the current entry (-1 before the
// first call to Next).
func (it *Iterator) Index() int { return it.index }

// HeaderCount returns zllen from the header; UnknownCount (65535) means the
// ziplist did not record the count.
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
