package intset

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
)

const headerSize = 8

// Set is a parsed intset: a view of the values in the original blob.
type Set struct {
	values []byte // length×width bytes
	width  int
	n      int
}

// Parse validates b as an intset and returns a view of it. It returns a
// *codec.FormatError if the encoding is not 2, 4 or 8, if the length does not
// account for exactly the bytes of b, or if a value is not greater than the
// one before it (the error points at that value).
func Parse(b []byte) (Set, error) {
	if len(b) < headerSize {
		return Set{}, &codec.FormatError{Offset: 0, Reason: "intset of " + strconv.Itoa(len(b)) + " bytes is shorter than its 8-byte header"}
	}
	width := binary.LittleEndian.Uint32(b)
	if width != 2 && width != 4 && width != 8 {
		return Set{}, &codec.FormatError{Offset: 0, Reason: "intset encoding " + strconv.FormatUint(uint64(width), 10) + " is not 2, 4 or 8"}
	}
	n := binary.LittleEndian.Uint32(b[4:])
	// 64-bit arithmetic: n×width cannot overflow and is compared, never
	// allocated.
	if uint64(n)*uint64(width) != uint64(len(b)-headerSize) {
		return Set{}, &codec.FormatError{Offset: 4, Reason: "intset header announces " + strconv.FormatUint(uint64(n), 10) +
			" values of " + strconv.FormatUint(uint64(width), 10) + " bytes, blob holds " + strconv.Itoa(len(b)-headerSize) + " bytes of values"}
	}
	s := Set{values: b[headerSize:], width: int(width), n: int(n)}
	if i := s.firstUnordered(); i >= 0 {
		return Set{}, &codec.FormatError{Offset: headerSize + i*s.width, Reason: "intset value " + strconv.Itoa(i) + " (" +
			strconv.FormatInt(s.At(i), 10) + ") is not greater than the one before it (" + strconv.FormatInt(s.At(i-1), 10) + ")"}
	}
	return s, nil
}

// firstUnordered returns the index of the first value not greater than its
// predecessor, or -1. One loop per width keeps the common check tight.
func (s Set) firstUnordered() int {
	v := s.values
	switch s.width {
	case 2:
		for i := 2; i+2 <= len(v); i += 2 {
			if int16(binary.LittleEndian.Uint16(v[i:])) <= int16(binary.LittleEndian.Uint16(v[i-2:])) {
				return i / 2
			}
		}
	case 4:
		for i := 4; i+4 <= len(v); i += 4 {
			if int32(binary.LittleEndian.Uint32(v[i:])) <= int32(binary.LittleEndian.Uint32(v[i-4:])) {
				return i / 4
			}
		}
	default:
		for i := 8; i+8 <= len(v); i += 8 {
			if int64(binary.LittleEndian.Uint64(v[i:])) <= int64(binary.LittleEndian.Uint64(v[i-8:])) {
				return i / 8
			}
		}
	}
	return -1
}

// Len returns the number of values.
func (s Set) Len() int { return s.n }

// At returns the i-th value in ascending order. It panics if i is out of
// range, like a slice index.
func (s Set) At(i int) int64 {
	switch s.width {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(s.values[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(s.values[4*i:])))
	default:
		return int64(binary.LittleEndian.Uint64(s.values[8*i:]))
	}
}

// Build writes an intset holding sorted into dst[:0], growing it only if
// needed, and returns it. It uses the narrowest width that holds every value,
// as Redis does (2 for an empty set). sorted must be strictly ascending; Build
// does not check, and Parse rejects the result if it is not.
func Build(dst []byte, sorted []int64) []byte {
	width := 2
	for _, v := range sorted {
		if v < math.MinInt32 || v > math.MaxInt32 {
			width = 8
			break
		}
		if v < math.MinInt16 || v > math.MaxInt16 {
			width = 4
		}
	}
	size := headerSize + width*len(sorted)
	out := dst[:0]
	if cap(out) < size {
		out = make([]byte, 0, size)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(width))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(sorted)))
	switch width {
	case 2:
		for _, v := range sorted {
			out = binary.LittleEndian.AppendUint16(out, uint16(v))
		}
	case 4:
		for _, v := range sorted {
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		}
	default:
		for _, v := range sorted {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}
