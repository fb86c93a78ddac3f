package engine

import (
	"encoding/binary"
	"slices"
)

// Packed forms. A small collection is one pointer-free byte slice, as Redis
// keeps it in a listpack: its elements back to back, each a uvarint length
// and its bytes ("packed elements"). Hashes pack (field, value, expiry)
// triplets, sorted sets (score, member) pairs in order, lists and sets their
// elements; the large forms (dict.go, zorder.go, qlist.go, stream blocks)
// reuse the same element encoding in their blocks.

// appendElem appends b as a packed element.
func appendElem(p, b []byte) []byte {
	p = binary.AppendUvarint(p, uint64(len(b)))
	return append(p, b...)
}

// elemAt decodes the packed element at off: its bytes (aliasing p) and where
// the next one starts.
func elemAt(p []byte, off int) ([]byte, int) {
	n, w := uvarint(p[off:])
	s := off + w
	return p[s : s+n : s+n], s + n
}

// elemSize is the packed size of an element of n bytes.
func elemSize(n int) int { return uvarintLen(n) + n }

// uvarintAt decodes a uvarint at off and returns it with the next offset.
func uvarintAt(p []byte, off int) (uint64, int) {
	if p[off] < 0x80 {
		return uint64(p[off]), off + 1
	}
	v, w := binary.Uvarint(p[off:])
	return v, off + w
}

// splice replaces p[from:to] with repl, in place when p has the room.
func splice(p []byte, from, to int, repl ...[]byte) []byte {
	n := 0
	for _, r := range repl {
		n += len(r)
	}
	delta := n - (to - from)
	if delta > 0 {
		p = slices.Grow(p, delta)
	}
	old := len(p)
	p = p[:old+max(delta, 0)]
	copy(p[to+delta:], p[to:old])
	p = p[:old+delta]
	at := from
	for _, r := range repl {
		at += copy(p[at:], r)
	}
	return p
}

// packedElems returns the elements of a packed list (aliasing p).
func packedElems(p []byte, n int) [][]byte {
	out := make([][]byte, 0, n)
	for off := 0; off < len(p); {
		var el []byte
		el, off = elemAt(p, off)
		out = append(out, el)
	}
	return out
}
