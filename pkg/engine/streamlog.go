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
//	ID ms, ID seq (uvarints)
//	number of fields and values (uvarint)
//	fields and values (packed elements)
//
// XDEL removes an entry from its block, and an emptied block goes; trimming
// drops whole blocks from the head. Blocks are pointer-free.
type slog struct {
	blocks []sblock
	n      int
}

type sblock struct {
	data  []byte
	first rdb.StreamID // the ID of its first entry
	n     int
}

// sblockBytes is the size past which appending starts a new block.
const sblockBytes = 4096

// sentry is a decoded entry header: its ID, the number of fields and values,
// and where they start and end in its block.
type sentry struct {
	id    rdb.StreamID
	nf    int
	fpos  int
	start int
	end   int
}

func sentryAt(b []byte, off int) sentry {
	ms, p := uvarintAt(b, off)
	seq, p := uvarintAt(b, p)
	nf, p := uvarintAt(b, p)
	e := sentry{id: rdb.StreamID{Ms: ms, Seq: seq}, nf: int(nf), fpos: p, start: off}
	for i := 0; i < int(nf); i++ {
		_, p = elemAt(b, p)
	}
	e.end = p
	return e
}

// fields decodes the fields and values of an entry (aliasing b).
func (e sentry) fields(b []byte) [][]byte {
	out := make([][]byte, e.nf)
	p := e.fpos
	for i := range out {
		out[i], p = elemAt(b, p)
	}
	return out
}

func (l *slog) len() int { return l.n }

// add appends an entry whose ID is greater than all others'.
func (l *slog) add(id rdb.StreamID, fields [][]byte) {
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1].data) >= sblockBytes {
		if len(l.blocks) > 0 {
			l.blocks[len(l.blocks)-1].data = fit(l.blocks[len(l.blocks)-1].data)
		}
		l.blocks = append(l.blocks, sblock{first: id})
	}
	b := &l.blocks[len(l.blocks)-1]
	need := 3 * binary.MaxVarintLen64
	for _, f := range fields {
		need += elemSize(len(f))
	}
	b.data = grow(b.data, need)
	b.data = binary.AppendUvarint(b.data, id.Ms)
	b.data = binary.AppendUvarint(b.data, id.Seq)
	b.data = binary.AppendUvarint(b.data, uint64(len(fields)))
	for _, f := range fields {
		b.data = appendElem(b.data, f)
	}
	b.n++
	l.n++
}

// seek returns the block and offset of the first entry whose ID is not less
// than id (len(blocks) when there is none), and whether it is id.
func (l *slog) seek(id rdb.StreamID) (bi, off int, found bool) {
	bi = sort.Search(len(l.blocks), func(i int) bool { return id.Less(l.blocks[i].first) })
	bi = max(bi-1, 0)
	for ; bi < len(l.blocks); bi++ {
		b := l.blocks[bi].data
		for off = 0; off < len(b); {
			e := sentryAt(b, off)
			if !e.id.Less(id) {
				return bi, off, e.id == id
			}
			off = e.end
		}
	}
	return len(l.blocks), 0, false
}

func (l *slog) exists(id rdb.StreamID) bool {
	_, _, ok := l.seek(id)
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
	b := l.blocks[len(l.blocks)-1].data
	var e sentry
	for off := 0; off < len(b); off = e.end {
		e = sentryAt(b, off)
	}
	return e.id
}

// remove deletes the entry id and reports whether it was there.
func (l *slog) remove(id rdb.StreamID) bool {
	bi, off, ok := l.seek(id)
	if !ok {
		return false
	}
	b := &l.blocks[bi]
	e := sentryAt(b.data, off)
	b.data = splice(b.data, off, e.end)
	b.n--
	l.n--
	if b.n == 0 {
		l.blocks = append(l.blocks[:bi], l.blocks[bi+1:]...)
	} else if off == 0 {
		b.first = sentryAt(b.data, 0).id
	}
	return true
}

// trimHead removes the first k entries.
func (l *slog) trimHead(k int) {
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
		off = sentryAt(b.data, off).end
	}
	b.data = splice(b.data, 0, off)
	b.n -= k
	l.n -= k
	b.first = sentryAt(b.data, 0).id
}

// countBefore is the number of entries whose ID is less than id.
func (l *slog) countBefore(id rdb.StreamID) int {
	bi, off, _ := l.seek(id)
	n := 0
	for i := 0; i < bi; i++ {
		n += l.blocks[i].n
	}
	if bi < len(l.blocks) {
		b := l.blocks[bi].data
		for p := 0; p < off; n++ {
			p = sentryAt(b, p).end
		}
	}
	return n
}

// each calls fn for the entries from the first whose ID is not less than from,
// in ID order, until it returns false; b is the entry's block. fn must not
// change l.
func (l *slog) each(from rdb.StreamID, fn func(e sentry, b []byte) bool) {
	bi, off, _ := l.seek(from)
	for ; bi < len(l.blocks); bi, off = bi+1, 0 {
		b := l.blocks[bi].data
		for off < len(b) {
			e := sentryAt(b, off)
			if !fn(e, b) {
				return
			}
			off = e.end
		}
	}
}

// eachRev calls fn for the entries whose ID is not greater than from, in
// descending ID order, until it returns false.
func (l *slog) eachRev(from rdb.StreamID, fn func(e sentry, b []byte) bool) {
	bi := sort.Search(len(l.blocks), func(i int) bool { return from.Less(l.blocks[i].first) }) - 1
	var offs []sentry
	for ; bi >= 0; bi-- {
		b := l.blocks[bi].data
		offs = offs[:0]
		for off := 0; off < len(b); {
			e := sentryAt(b, off)
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
		n.blocks[i] = sblock{data: clone(b.data), first: b.first, n: b.n}
	}
	return n
}
