package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"sort"
)

// A sorted set keeps its elements in (score, member) order in packed blocks:
// each element is its score (8 bytes, the float64's bits, little-endian) and
// its member as a packed element. While the set is small (Redis's listpack
// encoding) there is a single block and no index: a member is found by a walk,
// as Redis walks its listpack. Past zset-max-listpack-entries elements, or
// once a member is longer than zset-max-listpack-value, it takes the skiplist
// encoding's place: blocks of at most zblockBytes, found by binary search
// on their first elements, plus a dict from member to score. A rank is the
// sum of the counts of the blocks before: Redis's skiplist answers in
// O(log n), this in O(n / elements per block), with one pointer per block
// instead of three per element.

// zel is an element: its member aliases a block.
type zel struct {
	score  float64
	member []byte
}

// zless reports whether (s1, m1) sorts before (s2, m2).
func zless(s1 float64, m1 []byte, s2 float64, m2 []byte) bool {
	return s1 < s2 || s1 == s2 && bytes.Compare(m1, m2) < 0
}

// cmpZel orders elements by (score, member).
func cmpZel(a, b zel) int {
	switch {
	case zless(a.score, a.member, b.score, b.member):
		return -1
	case zless(b.score, b.member, a.score, a.member):
		return 1
	}
	return 0
}

func appendZel(p []byte, score float64, member []byte) []byte {
	p = grow(p, 8+elemSize(len(member)))
	p = binary.LittleEndian.AppendUint64(p, math.Float64bits(score))
	return appendElem(p, member)
}

func zelAt(p []byte, off int) (zel, int) {
	s := math.Float64frombits(binary.LittleEndian.Uint64(p[off:]))
	m, next := elemAt(p, off+8)
	return zel{s, m}, next
}

// zblockBytes is the size past which a block of a large sorted set splits.
const zblockBytes = 2048

type zblock struct {
	data []byte
	n    int
}

// zorder is the ordered part of a sorted set.
type zorder struct {
	blocks []zblock
	n      int
}

// blockFor is the index of the block where (score, member) is or would go:
// the last one whose first element is not after it (0 when none is).
func (z *zorder) blockFor(score float64, member []byte) int {
	if z.n == 0 {
		return 0
	}
	i := sort.Search(len(z.blocks), func(i int) bool {
		f, _ := zelAt(z.blocks[i].data, 0)
		return zless(score, member, f.score, f.member)
	})
	return max(i-1, 0)
}

// seek returns, in block bi, the offset and index of the first element not
// before (score, member), and whether it is that element.
func (z *zorder) seek(bi int, score float64, member []byte) (off, idx int, found bool) {
	b := z.blocks[bi].data
	for off < len(b) {
		el, next := zelAt(b, off)
		if !zless(el.score, el.member, score, member) {
			return off, idx, el.score == score && string(el.member) == string(member)
		}
		off, idx = next, idx+1
	}
	return off, idx, false
}

// insert adds an element known to be absent.
func (z *zorder) insert(score float64, member []byte, split bool) {
	if len(z.blocks) == 0 {
		z.blocks = append(z.blocks, zblock{})
	}
	bi := z.blockFor(score, member)
	off, _, _ := z.seek(bi, score, member)
	b := &z.blocks[bi]
	el := appendZel(make([]byte, 0, 8+elemSize(len(member))), score, member)
	b.data = splice(b.data, off, off, el)
	b.n++
	z.n++
	if split && len(b.data) > zblockBytes && b.n > 1 {
		z.split(bi)
	}
}

// split cuts block bi in two halves.
func (z *zorder) split(bi int) {
	b := z.blocks[bi]
	off, idx := 0, 0
	for idx < b.n/2 {
		_, off = zelAt(b.data, off)
		idx++
	}
	left := zblock{data: append(make([]byte, 0, off+off/8), b.data[:off]...), n: idx}
	right := zblock{data: append(make([]byte, 0, len(b.data)-off+(len(b.data)-off)/8), b.data[off:]...), n: b.n - idx}
	z.blocks = append(z.blocks, zblock{})
	copy(z.blocks[bi+2:], z.blocks[bi+1:])
	z.blocks[bi], z.blocks[bi+1] = left, right
}

// remove deletes an element and reports whether it was there.
func (z *zorder) remove(score float64, member []byte) bool {
	if z.n == 0 {
		return false
	}
	bi := z.blockFor(score, member)
	off, _, found := z.seek(bi, score, member)
	if !found {
		return false
	}
	b := &z.blocks[bi]
	_, end := zelAt(b.data, off)
	b.data = splice(b.data, off, end)
	b.n--
	z.n--
	z.settle(bi)
	return true
}

// settle drops block bi when empty and merges it into a neighbour when both
// fit in one block.
func (z *zorder) settle(bi int) {
	b := z.blocks[bi]
	if b.n == 0 {
		if len(z.blocks) == 1 {
			z.blocks = nil
			return
		}
		z.blocks = append(z.blocks[:bi], z.blocks[bi+1:]...)
		return
	}
	if len(b.data) >= zblockBytes/4 || len(z.blocks) == 1 {
		return
	}
	for _, nb := range []int{bi + 1, bi - 1} {
		if nb < 0 || nb >= len(z.blocks) || len(z.blocks[nb].data)+len(b.data) > zblockBytes {
			continue
		}
		l, r := min(bi, nb), max(bi, nb)
		z.blocks[l].data = append(z.blocks[l].data, z.blocks[r].data...)
		z.blocks[l].n += z.blocks[r].n
		z.blocks = append(z.blocks[:r], z.blocks[r+1:]...)
		return
	}
}

// locate returns the block and offset of the element of rank r (0-based, < n).
func (z *zorder) locate(r int) (bi, off int) {
	if r >= z.n/2 {
		// Count from the end.
		left := z.n
		for bi = len(z.blocks) - 1; bi > 0 && left-z.blocks[bi].n > r; bi-- {
			left -= z.blocks[bi].n
		}
		r -= left - z.blocks[bi].n
	} else {
		for ; r >= z.blocks[bi].n; bi++ {
			r -= z.blocks[bi].n
		}
	}
	b := z.blocks[bi].data
	for ; r > 0; r-- {
		_, off = zelAt(b, off)
	}
	return bi, off
}

// at returns the element of rank r.
func (z *zorder) at(r int) zel {
	bi, off := z.locate(r)
	el, _ := zelAt(z.blocks[bi].data, off)
	return el
}

// rangeOf returns the elements of ranks [from, to), ascending; members
// alias the blocks.
func (z *zorder) rangeOf(from, to int) []zel {
	if from >= to {
		return nil
	}
	out := make([]zel, 0, to-from)
	bi, off := z.locate(from)
	for len(out) < to-from {
		b := z.blocks[bi].data
		if off >= len(b) {
			bi, off = bi+1, 0
			continue
		}
		var el zel
		el, off = zelAt(b, off)
		out = append(out, el)
	}
	return out
}

// each calls fn for the elements from rank from on, ascending, until it returns
// false.
func (z *zorder) each(from int, fn func(zel) bool) {
	if from >= z.n {
		return
	}
	bi, off := z.locate(from)
	for ; bi < len(z.blocks); bi, off = bi+1, 0 {
		b := z.blocks[bi].data
		for off < len(b) {
			var el zel
			el, off = zelAt(b, off)
			if !fn(el) {
				return
			}
		}
	}
}

// firstRank is the rank of the first element for which before is false,
// before being true for a prefix of the order (n when it is true for all).
func (z *zorder) firstRank(before func(zel) bool) int {
	if z.n == 0 {
		return 0
	}
	bi := sort.Search(len(z.blocks), func(i int) bool {
		f, _ := zelAt(z.blocks[i].data, 0)
		return !before(f)
	})
	bi = max(bi-1, 0)
	r := 0
	for i := 0; i < bi; i++ {
		r += z.blocks[i].n
	}
	for ; bi < len(z.blocks); bi++ {
		b := z.blocks[bi].data
		for off := 0; off < len(b); {
			var el zel
			el, off = zelAt(b, off)
			if !before(el) {
				return r
			}
			r++
		}
	}
	return r
}

// rankOf is the rank of a present element.
func (z *zorder) rankOf(score float64, member []byte) int {
	return z.firstRank(func(el zel) bool { return zless(el.score, el.member, score, member) })
}

// removeRange deletes the elements of ranks [from, to), calling gone for each
// first.
func (z *zorder) removeRange(from, to int, gone func(zel)) {
	for to > from {
		bi, off := z.locate(from)
		b := &z.blocks[bi]
		end, k := off, 0
		for end < len(b.data) && k < to-from {
			var el zel
			el, end = zelAt(b.data, end)
			if gone != nil {
				gone(el)
			}
			k++
		}
		b.data = splice(b.data, off, end)
		b.n -= k
		z.n -= k
		to -= k
		z.settle(bi)
	}
}

func (z *zorder) dup() zorder {
	n := zorder{blocks: make([]zblock, len(z.blocks)), n: z.n}
	for i, b := range z.blocks {
		n.blocks[i] = zblock{data: clone(b.data), n: b.n}
	}
	return n
}

// zset is a sorted-set value: its ordered elements and, in the skiplist
// encoding, the member index (member -> score bits).
type zset struct {
	o zorder
	d *dict
}

// Redis's default zset-max-listpack-entries and zset-max-listpack-value.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

func newZSetValue() *zset { return &zset{} }

func (z *zset) len() int { return z.o.n }

// skiplist reports whether Redis would hold the zset skiplist-encoded: only
// then does a score of -0 stay -0.
func (z *zset) skiplist() bool { return z.d != nil }

func scoreBytes(s float64) []byte {
	return binary.LittleEndian.AppendUint64(make([]byte, 0, 8), math.Float64bits(s))
}

// score returns the score of member.
func (z *zset) score(member []byte) (float64, bool) {
	if z.d != nil {
		v, _, ok := z.d.get(member)
		if !ok {
			return 0, false
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(v)), true
	}
	if z.o.n == 0 {
		return 0, false
	}
	b := z.o.blocks[0].data
	for off := 0; off < len(b); {
		at := off
		ml, ms := int(b[off+8]), off+9
		if ml >= 0x80 {
			ml, ms = elemLenSlow(b, off+8)
		}
		off = ms + ml
		if ml == len(member) && string(b[ms:off]) == string(member) {
			return math.Float64frombits(binary.LittleEndian.Uint64(b[at:])), true
		}
	}
	return 0, false
}

// toSkiplist converts a listpack-encoded zset (zsetConvert).
func (z *zset) toSkiplist() {
	if z.d != nil {
		return
	}
	old := z.o
	z.o = zorder{}
	z.d = newDict(old.n)
	bytes := 0
	for _, b := range old.blocks {
		bytes += len(b.data)
	}
	z.d.reserve(0, bytes+3*old.n)
	old.each(0, func(el zel) bool {
		z.o.insertLast(el.score, el.member)
		z.d.set(el.member, scoreBytes(el.score), 0)
		return true
	})
}

// insertLast appends an element that sorts after all others. Blocks are
// filled to zblockBytes (a size class of Go's allocator).
func (z *zorder) insertLast(score float64, member []byte) {
	if len(z.blocks) == 0 || len(z.blocks[len(z.blocks)-1].data)+8+elemSize(len(member)) > zblockBytes && z.blocks[len(z.blocks)-1].n > 0 {
		if len(z.blocks) > 0 {
			z.blocks[len(z.blocks)-1].data = fit(z.blocks[len(z.blocks)-1].data)
		}
		z.blocks = append(z.blocks, zblock{data: make([]byte, 0, zblockBytes)})
	}
	b := &z.blocks[len(z.blocks)-1]
	b.data = appendZel(b.data, score, member)
	b.n++
	z.n++
}

// toListpack converts a skiplist-encoded zset back (zsetConvertToListpackIfNeeded,
// loading): a listpack holds integral scores as integers, so -0 becomes 0.
func (z *zset) toListpack() {
	if z.d == nil {
		return
	}
	var b zblock
	z.o.each(0, func(el zel) bool {
		s := el.score
		if s == 0 {
			s = 0
		}
		b.data = appendZel(b.data, s, el.member)
		b.n++
		return true
	})
	z.o = zorder{blocks: []zblock{b}, n: b.n}
	z.d = nil
}

// fitsListpack reports whether the zset could be listpack-encoded.
func (z *zset) fitsListpack() bool {
	if z.len() > zsetListpackEntries {
		return false
	}
	fits := true
	z.o.each(0, func(el zel) bool {
		fits = len(el.member) <= zsetListpackValue
		return fits
	})
	return fits
}

// set adds member or moves it to score (zsetAdd). A new member that does not
// fit a listpack converts the zset first; a listpack keeps an integral
// score as an integer, so -0 is stored as 0 there.
func (z *zset) set(member []byte, score float64) {
	old, ok := z.score(member)
	if !ok && z.d == nil && (z.len()+1 > zsetListpackEntries || len(member) > zsetListpackValue) {
		z.toSkiplist()
	}
	if score == 0 && z.d == nil {
		score = 0
	}
	if ok {
		if old == score {
			return
		}
		z.o.remove(old, member)
	}
	z.o.insert(score, member, z.d != nil)
	if z.d != nil {
		z.d.set(member, scoreBytes(score), 0)
	}
}

func (z *zset) remove(member []byte) bool {
	s, ok := z.score(member)
	if !ok {
		return false
	}
	z.o.remove(s, member)
	if z.d != nil {
		z.d.del(member)
	}
	return true
}

// removeRange deletes the elements of ranks [from, to).
func (z *zset) removeRange(from, to int) {
	var gone func(zel)
	if z.d != nil {
		gone = func(el zel) { z.d.del(el.member) }
	}
	z.o.removeRange(from, to, gone)
}

func (z *zset) dup() *zset {
	n := &zset{o: z.o.dup()}
	if z.d != nil {
		n.d = z.d.dup()
	}
	return n
}

// elems returns all elements, ascending, or descending when rev.
func (z *zset) elems(rev bool) []zel {
	out := z.o.rangeOf(0, z.o.n)
	if rev {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// addMany is ZADD without options of many members to a skiplist-encoded set:
// new members are sorted and merged with the order in one pass (rather than
// inserted one by one), existing ones move one by one; the last score given
// to a member wins. index finds repeated members. order, when not nil, is
// the members' indexes sorted by score and member (Prepare), which spares the
// sort of the new ones when no member repeats.
func (z *zset) addMany(members [][]byte, scores []float64, order []int32, index *argIndex) {
	last := make([]float64, 0, len(members))
	uniq := members[:0:0]
	for j, m := range members {
		if i := index.lookup(m); i >= 0 {
			last[i] = scores[j]
			continue
		}
		index.add(m)
		uniq = append(uniq, m)
		last = append(last, scores[j])
	}
	// With no repeats, uniq[j] is members[j], and order sorts them.
	presorted := len(order) == len(members) && len(uniq) == len(members)
	var isNew []bool
	if presorted {
		isNew = make([]bool, len(uniq))
	}
	var fresh []zel
	for i, m := range uniq {
		s := last[i]
		if old, ok := z.score(m); ok {
			if old != s {
				z.o.remove(old, m)
				z.o.insert(s, m, true)
				z.d.set(m, scoreBytes(s), 0)
			}
			continue
		}
		if presorted {
			isNew[i] = true
			continue
		}
		fresh = append(fresh, zel{s, m})
	}
	if presorted {
		for _, j := range order {
			if isNew[j] {
				fresh = append(fresh, zel{last[j], uniq[j]})
			}
		}
	} else {
		slices.SortFunc(fresh, cmpZel)
	}
	if len(fresh) == 0 {
		return
	}
	var merged zorder
	next := 0
	z.o.each(0, func(el zel) bool {
		for next < len(fresh) && zless(fresh[next].score, fresh[next].member, el.score, el.member) {
			merged.insertLast(fresh[next].score, fresh[next].member)
			next++
		}
		merged.insertLast(el.score, el.member)
		return true
	})
	for ; next < len(fresh); next++ {
		merged.insertLast(fresh[next].score, fresh[next].member)
	}
	if n := len(merged.blocks); n > 0 {
		merged.blocks[n-1].data = fit(merged.blocks[n-1].data)
	}
	z.o = merged
	for _, el := range fresh {
		z.d.set(el.member, scoreBytes(el.score), 0)
	}
}
