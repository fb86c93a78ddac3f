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

// argIndex finds arguments again: ZADD and HSET of many pairs look each
// member up among the earlier ones. It is an open-addressing table of
// positions in the caller's list of keys (no copy of them), reused from
// command to command, so that it costs no allocation.
type argIndex struct {
	slots []uint32 // position + 1 of a key in keys; 0 empty
	tags  []uint8
	keys  [][]byte
}

// argIndex returns the engine's index, emptied, for up to n keys.
func (e *Engine) argIndex(n int) *argIndex {
	x := e.scratch
	if x == nil || len(x.slots) > 1<<16 && len(x.slots) > 4*n {
		x = &argIndex{}
		e.scratch = x
	}
	size := 16
	for size*3 < n*4 {
		size *= 2
	}
	if len(x.slots) < size {
		x.slots, x.tags = make([]uint32, size), make([]uint8, size)
	} else {
		clear(x.slots)
	}
	x.keys = x.keys[:0]
	return x
}

// lookup returns the index given to key, -1 when absent.
func (x *argIndex) lookup(key []byte) int {
	h := dictHash(key)
	mask := len(x.slots) - 1
	for i := int(h) & mask; x.slots[i] != 0; i = (i + 1) & mask {
		if x.tags[i] == dictTag(h) && string(x.keys[x.slots[i]-1]) == string(key) {
			return int(x.slots[i] - 1)
		}
	}
	return -1
}

// add gives key (known to be absent) the next index: the number of keys
// added before it.
func (x *argIndex) add(key []byte) {
	h := dictHash(key)
	mask := len(x.slots) - 1
	j := int(h) & mask
	for x.slots[j] != 0 {
		j = (j + 1) & mask
	}
	x.keys = append(x.keys, key)
	x.slots[j], x.tags[j] = uint32(len(x.keys)), dictTag(h)
}
