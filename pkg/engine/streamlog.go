package engine

import (
	"encoding/binary"
	"sort"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// slog is the entries of a stream in ID order, packed into blocks of about
// sblockBytes (as Redis keeps them in listpacks under a radix tree), each
// block found by binary search on its first ID. An entry is
//
//	flags (1 byte: sameFields)
//	ID ms minus the block's first ms, ID seq (uvarints)
//	with sameFields: the values (packed elements), one per field of the
//	block's master fields
//	otherwise: the number of fields and values (uvarint), then fields and
//	values alternating (packed elements)
//
// The master fields are the field names of the block's first entry: entries
// with the same names (most, in most streams) store only their values, as
// Redis's stream listpacks do. XDEL removes an entry from its block, and an
// emptied block goes; trimming drops whole blocks from the head. Blocks are
// pointer-free.
type slog struct {
	blocks []sblock
	n      int
	hint   seekHint
}

// seekHint is where the last seek ended: the entry at off in block bi has ID
// id. A seek for an ID not less than that in the same block starts its walk
// there rather than at the block's first entry, which makes a run of seeks in
// ascending order (XCLAIM after XCLAIM of the entries a group read, as an AOF
// holds them) cost a step each rather than half a block. Appending keeps it
// valid (no entry moves); removing entries clears it.
type seekHint struct {
	bi, off int
	id      rdb.StreamID
	ok      bool
}

type sblock struct {
	data   []byte
	first  rdb.StreamID // the ID of its first entry
	n      int
	master []byte // the master field names, packed
	nm     int    // how many
}

// sblockBytes is the size past which appending starts a new block.
const sblockBytes = 4096

const sameFields = 1 << 0

// sentry is a decoded entry header: its ID, the number of fields and values,
// and where they start and end in its block.
type sentry struct {
	id    rdb.StreamID
	nf    int
	same  bool
	fpos  int
	start int
	end   int
}

func (b *sblock) entryAt(off int) sentry {
	d := b.data
	e := sentry{start: off, same: d[off]&sameFields != 0}
	dms, p := uvarintAt(d, off+1)
	seq, p := uvarintAt(d, p)
	e.id = rdb.StreamID{Ms: b.first.Ms + dms, Seq: seq}
	if e.same {
		e.nf = 2 * b.nm
		e.fpos = p
		for i := 0; i < b.nm; i++ {
			_, p = elemAt(d, p)
		}
	} else {
		nf, q := uvarintAt(d, p)
		e.nf, p = int(nf), q
		e.fpos = p
		for i := 0; i < e.nf; i++ {
			_, p = elemAt(d, p)
		}
	}
	e.end = p
	return e
}

// appendFields appends the entry's fields and values, alternating, to dst
// (aliasing the block).
func (b *sblock) appendFields(dst [][]byte, e sentry) [][]byte {
	p := e.fpos
	if !e.same {
		for i := 0; i < e.nf; i++ {
			var f []byte
			f, p = elemAt(b.data, p)
			dst = append(dst, f)
		}
		return dst
	}
	m := 0
	for i := 0; i < b.nm; i++ {
		var name, val []byte
		name, m = elemAt(b.master, m)
		val, p = elemAt(b.data, p)
		dst = append(dst, name, val)
	}
	return dst
}

// sameNames reports whether fields (alternating names and values) has the
// block's master names.
func (b *sblock) sameNames(fields [][]byte) bool {
	if len(fields) != 2*b.nm {
		return false
	}
	m := 0
	for i := 0; i < len(fields); i += 2 {
		var name []byte
		name, m = elemAt(b.master, m)
		if string(name) != string(fields[i]) {
			return false
		}
	}
	return true
}

func (l *slog) len() int { return l.n }

// add appends an entry whose ID is greater than all others'. A block takes
// entries while it stays within sblockBytes (a size class of Go's allocator).
func (l *slog) add(id rdb.StreamID, fields [][]byte) {
	size := 1 + 3*binary.MaxVarintLen64
	for _, f := range fields {
		size += elemSize(len(f))
	}
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1].data)+size > sblockBytes && l.blocks[len(l.blocks)-1].n > 0 {
		if len(l.blocks) > 0 {
			l.blocks[len(l.blocks)-1].data = fit(l.blocks[len(l.blocks)-1].data)
		}
		nb := sblock{first: id, nm: len(fields) / 2}
		if len(l.blocks) > 0 {
			// A stream that fills a block will likely fill the next.
			nb.data = make([]byte, 0, sblockBytes)
		}
		for i := 0; i+1 < len(fields); i += 2 {
			nb.master = appendElem(nb.master, fields[i])
		}
		nb.master = fit(nb.master)
		l.blocks = append(l.blocks, nb)
	}
	l.blocks[len(l.blocks)-1].appendEntry(id, fields)
	l.n++
}

// appendEntry encodes an entry at the end of the block.
func (b *sblock) appendEntry(id rdb.StreamID, fields [][]byte) {
	need := 1 + 3*binary.MaxVarintLen64
	for _, f := range fields {
		need += elemSize(len(f))
	}
	b.data = grow(b.data, need)
	same := b.sameNames(fields)
	var flags byte
	if same {
		flags = sameFields
	}
	b.data = append(b.data, flags)
	b.data = binary.AppendUvarint(b.data, id.Ms-b.first.Ms)
	b.data = binary.AppendUvarint(b.data, id.Seq)
	if same {
		for i := 1; i < len(fields); i += 2 {
			b.data = appendElem(b.data, fields[i])
		}
	} else {
		b.data = binary.AppendUvarint(b.data, uint64(len(fields)))
		for _, f := range fields {
			b.data = appendElem(b.data, f)
		}
	}
	b.n++
}

// seek returns the block and offset of the first entry whose ID is not less
// than id (len(blocks) when there is none), and whether it is id.
func (l *slog) seek(id rdb.StreamID) (bi, off int, found bool) {
	return l.seekFrom(id, nil)
}

// seekHinted is seek starting from the hint where it can, and leaving the
// hint where it ended. It changes l, unlike seek, which may run on several
// goroutines at once (the export's workers).
func (l *slog) seekHinted(id rdb.StreamID) (bi, off int, found bool) {
	return l.seekFrom(id, &l.hint)
}

func (l *slog) seekFrom(id rdb.StreamID, h *seekHint) (bi, off int, found bool) {
	bi = sort.Search(len(l.blocks), func(i int) bool { return id.Less(l.blocks[i].first) })
	bi = max(bi-1, 0)
	off = 0
	if h != nil && h.ok && h.bi == bi && !id.Less(h.id) {
		off = h.off // the entries before it have smaller IDs than h.id
	}
	for ; bi < len(l.blocks); bi, off = bi+1, 0 {
		blk := &l.blocks[bi]
		for off < len(blk.data) {
			e := blk.entryAt(off)
			if !e.id.Less(id) {
				if h != nil {
					*h = seekHint{bi: bi, off: off, id: e.id, ok: true}
				}
				return bi, off, e.id == id
			}
			off = e.end
		}
	}
	return len(l.blocks), 0, false
}

func (l *slog) exists(id rdb.StreamID) bool {
	_, _, ok := l.seekHinted(id)
	return ok
}

// firstID is the ID of the first entry (0-0 when empty).
func (l *slog) firstID() rdb.StreamID {
	if l.n == 0 {
		return rdb.StreamID{}
	}
	return l.blocks[0].first
}

// lastID is the ID of the last entry (0-0 when empty).
func (l *slog) lastEntryID() rdb.StreamID {
	if l.n == 0 {
		return rdb.StreamID{}
	}
	b := &l.blocks[len(l.blocks)-1]
	var e sentry
	for off := 0; off < len(b.data); off = e.end {
		e = b.entryAt(off)
	}
	return e.id
}

// remove deletes the entry id and reports whether it was there.
func (l *slog) remove(id rdb.StreamID) bool {
	bi, off, ok := l.seek(id)
	if !ok {
		return false
	}
	l.hint = seekHint{}
	b := &l.blocks[bi]
	e := b.entryAt(off)
	if b.n == 1 {
		l.blocks = append(l.blocks[:bi], l.blocks[bi+1:]...)
	} else {
		b.cut(off, e.end)
	}
	l.n--
	return true
}

// trimHead removes the first k entries.
func (l *slog) trimHead(k int) {
	l.hint = seekHint{}
	i := 0
	for i < len(l.blocks) && l.blocks[i].n <= k {
		k -= l.blocks[i].n
		l.n -= l.blocks[i].n
		i++
	}
	clear(l.blocks[:i])
	l.blocks = l.blocks[i:]
	if k == 0 {
		if len(l.blocks) == 0 {
			l.blocks = nil
		}
		return
	}
	b := &l.blocks[0]
	off := 0
	for j := 0; j < k; j++ {
		off = b.entryAt(off).end
	}
	b.cut(0, off)
	l.n -= k
}

// cut removes the entries in data[from:to] (not all of them), keeping the
// others' IDs right when the first ID changes (they are stored relative to it).
func (b *sblock) cut(from, to int) {
	removed := 0
	for off := from; off < to; removed++ {
		off = b.entryAt(off).end
	}
	if from > 0 {
		b.data = splice(b.data, from, to)
		b.n -= removed
		return
	}
	// The first entry goes: re-encode the rest against the new first ms.
	rest := b.data[to:]
	old := *b
	*b = sblock{master: old.master, nm: old.nm}
	var fields [][]byte
	for off := 0; off < len(rest); {
		e := old.entryAt(to + off)
		if b.n == 0 {
			b.first = e.id
		}
		fields = old.appendFields(fields[:0], e)
		b.appendEntry(e.id, fields)
		off = e.end - to
	}
	b.data = fit(b.data)
}

// countBefore is the number of entries whose ID is less than id.
func (l *slog) countBefore(id rdb.StreamID) int {
	bi, off, _ := l.seek(id)
	n := 0
	for i := 0; i < bi; i++ {
		n += l.blocks[i].n
	}
	if bi < len(l.blocks) {
		b := &l.blocks[bi]
		for p := 0; p < off; n++ {
			p = b.entryAt(p).end
		}
	}
	return n
}

// each calls fn for the entries from the first whose ID is not less than from,
// in ID order, until it returns false; b is the entry's block. fn must not
// change l.
func (l *slog) each(from rdb.StreamID, fn func(e sentry, b *sblock) bool) {
	bi, off, _ := l.seek(from)
	for ; bi < len(l.blocks); bi, off = bi+1, 0 {
		b := &l.blocks[bi]
		for off < len(b.data) {
			e := b.entryAt(off)
			if !fn(e, b) {
				return
			}
			off = e.end
		}
	}
}

// eachRev calls fn for the entries whose ID is not greater than from, in
// descending ID order, until it returns false.
func (l *slog) eachRev(from rdb.StreamID, fn func(e sentry, b *sblock) bool) {
	bi := sort.Search(len(l.blocks), func(i int) bool { return from.Less(l.blocks[i].first) }) - 1
	var offs []sentry
	for ; bi >= 0; bi-- {
		b := &l.blocks[bi]
		offs = offs[:0]
		for off := 0; off < len(b.data); {
			e := b.entryAt(off)
			if from.Less(e.id) {
				break
			}
			offs = append(offs, e)
			off = e.end
		}
		for i := len(offs) - 1; i >= 0; i-- {
			if !fn(offs[i], b) {
				return
			}
		}
	}
}

func (l *slog) dup() slog {
	n := slog{blocks: make([]sblock, len(l.blocks)), n: l.n}
	for i, b := range l.blocks {
		n.blocks[i] = sblock{data: clone(b.data), first: b.first, n: b.n, master: b.master, nm: b.nm}
	}
	return n
}
