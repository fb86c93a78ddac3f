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
	p = grow(p, elemSize(len(b)))
	p = binary.AppendUvarint(p, uint64(len(b)))
	return append(p, b...)
}

// grow makes room for n more bytes. Past a few hundred bytes it grows by a
// quarter, not by Go's half to double: a packed value keeps little spare room
// (Redis reallocates its listpacks to the byte, within jemalloc's size
// classes), at the price of copying each byte about four times as it grows.
// Commands that add many elements reserve their room first.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	c := len(b) + n
	if len(b) >= 256 {
		c += c / 4
	} else {
		c = max(c, 2*len(b), 16)
	}
	return growTo(b, c)
}

// growTo returns b with a capacity of at least c (rounded up to its
// allocation's size class, which Go would waste otherwise).
func growTo(b []byte, c int) []byte {
	return slices.Grow(b[:len(b):len(b)], c-len(b))
}

// elemAt decodes the packed element at off: its bytes (aliasing p) and where
// the next one starts.
func elemAt(p []byte, off int) ([]byte, int) {
	n, s := int(p[off]), off+1
	if n >= 0x80 {
		n, s = elemLenSlow(p, off)
	}
	return p[s : s+n : s+n], s + n
}

// elemLenSlow decodes a length of more than one byte at off: the length and
// where the element's bytes start.
func elemLenSlow(p []byte, off int) (int, int) {
	v, w := binary.Uvarint(p[off:])
	return int(v), off + w
}

// elemSize is the packed size of an element of n bytes.
func elemSize(n int) int { return uvarintLen(n) + n }

// uvarintAt decodes a uvarint at off and returns it with the next offset.
func uvarintAt(p []byte, off int) (uint64, int) {
	if p[off] < 0x80 {
		return uint64(p[off]), off + 1
	}
	v, next := elemLenSlow(p, off)
	return uint64(v), next
}

// splice replaces p[from:to] with repl, in place when p has the room.
func splice(p []byte, from, to int, repl ...[]byte) []byte {
	n := 0
	for _, r := range repl {
		n += len(r)
	}
	delta := n - (to - from)
	if delta > 0 {
		p = grow(p, delta)
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

// fit returns b without spare capacity (but what its allocation's size class
// rounds up), copying it if need be: a block that will take no more elements
// keeps no room for them.
func fit(b []byte) []byte {
	if cap(b)-len(b) <= 64 {
		return b
	}
	return append([]byte(nil), b...)
}

// argIndex finds arguments again: an empty dict for n keys, reused from
// command to command (ZADD and HSET of many pairs look up each member among
// the earlier ones), so that it costs no allocation. Keys map to their index,
// 4 bytes little-endian.
type argIndex struct{ d *dict }

func (e *Engine) argIndex(n int) argIndex {
	if e.scratch == nil || len(e.scratch.slots) > 1<<16 {
		e.scratch = newDict(n)
	}
	e.scratch.reset()
	e.scratch.reserve(n, 0)
	return argIndex{e.scratch}
}

// lookup returns the index of key, -1 when absent.
func (x argIndex) lookup(key []byte) int {
	v, _, ok := x.d.get(key)
	if !ok {
		return -1
	}
	return int(binary.LittleEndian.Uint32(v))
}

func (x argIndex) add(key []byte, i int) {
	var v [4]byte
	binary.LittleEndian.PutUint32(v[:], uint32(i))
	x.d.set(key, v[:], 0)
}
