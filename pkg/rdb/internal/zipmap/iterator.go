package zipmap

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

const (
	// UnknownCount is the zmlen value Redis writes once a zipmap holds 254
	// or more pairs; it and any larger zmlen mean the pairs must be counted.
	UnknownCount = 254

	bigLen = 254  // length byte announcing a u32le length
	end    = 0xFF // end marker
)

// Iterator walks the key/value pairs of a zipmap in order. The zero value is
// an exhausted iterator.
type Iterator struct {
	zm          []byte
	pos         int // offset of the next pair
	off         int // offset of the current pair
	count       int
	headerCount int
	keyStart    int
	keyEnd      int
	valStart    int
	valEnd      int
	err         error
}

// NewIterator checks that zm has a header and ends with the end marker, and
// returns an iterator positioned before the first pair. zm is not copied.
func NewIterator(zm []byte) (Iterator, error) {
	if len(zm) < 2 {
		return Iterator{}, &codec.FormatError{Offset: 0, Reason: "zipmap of " + strconv.Itoa(len(zm)) + " bytes is shorter than its 2-byte minimum"}
	}
	if zm[len(zm)-1] != end {
		return Iterator{}, &codec.FormatError{Offset: len(zm) - 1, Reason: "zipmap does not end with 0xFF"}
	}
	return Iterator{zm: zm, pos: 1, off: -1, headerCount: int(zm[0])}, nil
}

// readLen decodes the length at zm[p]. It reports the length, the offset just
// after it, and false if the 5-byte form runs into the end marker.
func (it *Iterator) readLen(p int) (n, next int, ok bool) {
	last := len(it.zm) - 1
	if b := it.zm[p]; b < bigLen {
		return int(b), p + 1, true
	}
	if last-p < 5 {
		return 0, 0, false
	}
	return lenFromU32(binary.LittleEndian.Uint32(it.zm[p+1:])), p + 5, true
}

// Next advances to the next pair and reports whether there is one. It returns
// false at the end marker or on the first malformed pair; Err tells the two
// apart.
func (it *Iterator) Next() bool {
	zm := it.zm
	p := it.pos
	last := len(zm) - 1 // offset of the end marker
	if p > last {
		return false
	}
	if zm[p] == end {
		if p != last {
			return it.fail(p, "zipmap end marker before the last byte")
		}
		it.pos = len(zm)
		// Redis 2.x (the only writer of zipmaps) treated any zmlen >= 254 as
		// "count by walking"; a real file in the corpus has 255.
		if it.headerCount < UnknownCount && it.count != it.headerCount {
			return it.fail(0, "zipmap header counts "+strconv.Itoa(it.headerCount)+" pairs, found "+strconv.Itoa(it.count))
		}
		return false
	}

	klen, k, ok := it.readLen(p)
	if !ok {
		return it.fail(p, "key length runs into the end marker")
	}
	if klen > last-k {
		return it.fail(p, "key of "+strconv.Itoa(klen)+" bytes runs past the end of the zipmap")
	}
	v := k + klen // offset of the value length
	if v >= last {
		return it.fail(p, "key is not followed by a value")
	}
	if zm[v] == end {
		return it.fail(v, "value length 0xFF is not valid")
	}
	vlen, free, ok := it.readLen(v)
	if !ok {
		return it.fail(v, "value length runs into the end marker")
	}
	if free >= last {
		return it.fail(v, "free byte runs into the end marker")
	}
	padding := int(zm[free])
	data := free + 1
	if vlen > last-data || padding > last-data-vlen {
		return it.fail(v, "value of "+strconv.Itoa(vlen)+" bytes and "+strconv.Itoa(padding)+" free bytes runs past the end of the zipmap")
	}

	it.off = p
	it.keyStart, it.keyEnd = k, k+klen
	it.valStart, it.valEnd = data, data+vlen
	it.pos = data + vlen + padding
	it.count++
	return true
}

func (it *Iterator) fail(offset int, reason string) bool {
	it.err = &codec.FormatError{Offset: offset, Reason: reason}
	it.pos = len(it.zm)
	return false
}

// Key returns the current key. The slice aliases the zipmap.
func (it *Iterator) Key() []byte { return it.zm[it.keyStart:it.keyEnd:it.keyEnd] }

// Value returns the current value. The slice aliases the zipmap.
func (it *Iterator) Value() []byte { return it.zm[it.valStart:it.valEnd:it.valEnd] }

// Err returns the error that stopped the iteration, or nil if it reached the
// end of a well-formed zipmap (or has not finished yet).
func (it *Iterator) Err() error { return it.err }

// Offset returns the byte offset of the current pair (its key length).
func (it *Iterator) Offset() int { return it.off }

// HeaderCount returns zmlen; UnknownCount (254) or more means the zipmap did
// not record the count.
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
