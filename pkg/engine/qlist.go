package engine

// qlist is a list value: its elements packed in blocks of about lblockBytes
// (as Redis keeps a list in a quicklist of listpacks), the blocks in a deque
// with room at the front, so that pushes and pops at both ends are O(1)
// amortized and a list of a million elements is a few hundred pointer-free
// byte slices. Indexing walks the block counts from the nearer end, as a
// quicklist does.
//
// lpBytes follows what the list would take as one Redis listpack, for Redis
// 7.2's choice between the listpack and quicklist encodings; packed is that
// choice (see Engine.listGrowing and listShrinking).
type qlist struct {
	bs      []lblock // blocks; bs[lo:] are in use
	lo      int
	n       int
	lpBytes int  // the listpack size of the elements (lpEntrySize), header included
	packed  bool // Redis 7.2+ would hold it listpack-encoded
}

type lblock struct {
	data []byte // packed elements
	n    int
}

// lblockBytes is the size past which a block takes no more elements.
const lblockBytes = 4096

// listpack sizes (listpack.c): the header and end byte, and the
// list-max-listpack-size -2 limit of 8 KiB.
const (
	lpHeaderBytes = 7
	lpNodeLimit   = 8192
)

// lpEntrySize is the bytes element s takes in a Redis listpack: integers in
// 1 to 9 bytes, strings with a 1, 2 or 5 byte header, plus the back length.
func lpEntrySize(s []byte) int {
	n := 0
	if v, ok := parseInt(s); ok {
		switch {
		case v >= 0 && v <= 127:
			n = 1
		case v >= -4096 && v <= 4095:
			n = 2
		case v >= -32768 && v <= 32767:
			n = 3
		case v >= -8388608 && v <= 8388607:
			n = 4
		case v >= -2147483648 && v <= 2147483647:
			n = 5
		default:
			n = 9
		}
	} else {
		switch l := len(s); {
		case l < 64:
			n = 1 + l
		case l < 4096:
			n = 2 + l
		default:
			n = 5 + l
		}
	}
	switch {
	case n < 128:
		return n + 1
	case n < 16384:
		return n + 2
	case n < 2097152:
		return n + 3
	case n < 268435456:
		return n + 4
	}
	return n + 5
}

func newQlist() *qlist { return &qlist{lpBytes: lpHeaderBytes} }

func (l *qlist) len() int { return l.n }

func (l *qlist) blocks() []lblock { return l.bs[l.lo:] }

// pushBack appends v (copied).
func (l *qlist) pushBack(v []byte) {
	bs := l.blocks()
	if len(bs) == 0 || len(bs[len(bs)-1].data)+elemSize(len(v)) > lblockBytes && bs[len(bs)-1].n > 0 {
		if len(bs) > 0 {
			bs[len(bs)-1].data = fit(bs[len(bs)-1].data)
		}
		// A list that fills a block will likely fill the next.
		c := elemSize(len(v)) * 4
		if len(bs) > 0 {
			c = lblockBytes
		}
		l.bs = append(l.bs, lblock{data: make([]byte, 0, min(lblockBytes, c))})
		bs = l.blocks()
	}
	b := &bs[len(bs)-1]
	b.data = appendElem(b.data, v)
	b.n++
	l.n++
	l.lpBytes += lpEntrySize(v)
}

// reserve makes room at the tail for about bytes more bytes of elements.
func (l *qlist) reserve(bytes int) {
	bs := l.blocks()
	if len(bs) == 0 {
		l.bs = append(l.bs, lblock{})
		bs = l.blocks()
	}
	b := &bs[len(bs)-1]
	b.data = grow(b.data, min(bytes, lblockBytes-len(b.data)))
}

// pushFront prepends v (copied).
func (l *qlist) pushFront(v []byte) {
	bs := l.blocks()
	if len(bs) == 0 || len(bs[0].data)+elemSize(len(v)) > lblockBytes && bs[0].n > 0 {
		if l.lo == 0 {
			grown := make([]lblock, len(bs)+max(4, len(bs)), 2*len(bs)+max(4, len(bs)))
			l.lo = len(grown) - len(bs)
			copy(grown[l.lo:], bs)
			l.bs = grown
		}
		if len(bs) > 0 {
			bs[0].data = fit(bs[0].data)
		}
		l.lo--
		l.bs[l.lo] = lblock{}
		bs = l.blocks()
	}
	b := &bs[0]
	el := appendElem(make([]byte, 0, elemSize(len(v))), v)
	b.data = splice(b.data, 0, 0, el)
	b.n++
	l.n++
	l.lpBytes += lpEntrySize(v)
}

// dropBlock removes block i of the blocks in use.
func (l *qlist) dropBlock(i int) {
	bs := l.blocks()
	if i == 0 {
		l.bs[l.lo] = lblock{}
		l.lo++
	} else {
		copy(bs[i:], bs[i+1:])
		l.bs[len(l.bs)-1] = lblock{}
		l.bs = l.bs[:len(l.bs)-1]
	}
	if l.lo == len(l.bs) {
		l.bs, l.lo = nil, 0
	}
}

// pop removes the head (or tail) element and returns a copy of it.
func (l *qlist) pop(head bool) []byte {
	bs := l.blocks()
	i := 0
	if !head {
		i = len(bs) - 1
	}
	b := &bs[i]
	var v []byte
	if head {
		el, end := elemAt(b.data, 0)
		v = clone(el)
		b.data = splice(b.data, 0, end)
	} else {
		off := 0
		for k := 0; k < b.n-1; k++ {
			_, off = elemAt(b.data, off)
		}
		el, _ := elemAt(b.data, off)
		v = clone(el)
		b.data = b.data[:off]
	}
	b.n--
	l.n--
	l.lpBytes -= lpEntrySize(v)
	if b.n == 0 {
		l.dropBlock(i)
	}
	return v
}

// locate returns the block (index among those in use) and offset of element
// i, walking from the nearer end.
func (l *qlist) locate(i int) (bi, off int) {
	bs := l.blocks()
	if i >= l.n/2 {
		left := l.n
		for bi = len(bs) - 1; left-bs[bi].n > i; bi-- {
			left -= bs[bi].n
		}
		i -= left - bs[bi].n
	} else {
		for ; i >= bs[bi].n; bi++ {
			i -= bs[bi].n
		}
	}
	for ; i > 0; i-- {
		_, off = elemAt(bs[bi].data, off)
	}
	return bi, off
}

// at returns element i (aliasing the list).
func (l *qlist) at(i int) []byte {
	bi, off := l.locate(i)
	el, _ := elemAt(l.blocks()[bi].data, off)
	return el
}

// set replaces element i with v (copied).
func (l *qlist) set(i int, v []byte) {
	bi, off := l.locate(i)
	b := &l.blocks()[bi]
	old, end := elemAt(b.data, off)
	l.lpBytes += lpEntrySize(v) - lpEntrySize(old)
	b.data = splice(b.data, off, end, appendElem(nil, v))
}

// insert puts v (copied) before element i (at the end when i == n).
func (l *qlist) insert(i int, v []byte) {
	switch {
	case i == 0:
		l.pushFront(v)
		return
	case i == l.n:
		l.pushBack(v)
		return
	}
	bi, off := l.locate(i)
	b := &l.blocks()[bi]
	b.data = splice(b.data, off, off, appendElem(nil, v))
	b.n++
	l.n++
	l.lpBytes += lpEntrySize(v)
	if len(b.data) > 2*lblockBytes && b.n > 1 {
		l.split(bi)
	}
}

// split cuts block bi (of those in use) in two.
func (l *qlist) split(bi int) {
	b := l.blocks()[bi]
	off := 0
	for k := 0; k < b.n/2; k++ {
		_, off = elemAt(b.data, off)
	}
	left := lblock{data: clone(b.data[:off]), n: b.n / 2}
	right := lblock{data: clone(b.data[off:]), n: b.n - b.n/2}
	l.bs = append(l.bs, lblock{})
	bs := l.blocks()
	copy(bs[bi+2:], bs[bi+1:])
	bs[bi], bs[bi+1] = left, right
}

// each calls fn for the elements from index from on, head to tail, until it
// returns false; fn must not change l.
func (l *qlist) each(from int, fn func(el []byte) bool) {
	if from >= l.n {
		return
	}
	bi, off := l.locate(from)
	bs := l.blocks()
	for ; bi < len(bs); bi, off = bi+1, 0 {
		b := bs[bi].data
		for off < len(b) {
			var el []byte
			el, off = elemAt(b, off)
			if !fn(el) {
				return
			}
		}
	}
}

// slice returns the elements head to tail (aliasing the list).
func (l *qlist) slice() [][]byte {
	out := make([][]byte, 0, l.n)
	l.each(0, func(el []byte) bool {
		out = append(out, el)
		return true
	})
	return out
}

// keep rebuilds the list with the elements for which fn is true.
func (l *qlist) keep(fn func(i int, el []byte) bool) {
	var out qlist
	out.lpBytes = lpHeaderBytes
	i := 0
	l.each(0, func(el []byte) bool {
		if fn(i, el) {
			out.pushBack(el)
		}
		i++
		return true
	})
	out.packed = l.packed
	*l = out
}

func (l *qlist) dup() *qlist {
	bs := l.blocks()
	n := &qlist{bs: make([]lblock, len(bs)), n: l.n, lpBytes: l.lpBytes, packed: l.packed}
	for i, b := range bs {
		n.bs[i] = lblock{data: clone(b.data), n: b.n}
	}
	return n
}

// drop removes k elements from the head (or the tail).
func (l *qlist) drop(head bool, k int) {
	for k > 0 {
		bs := l.blocks()
		i := 0
		if !head {
			i = len(bs) - 1
		}
		b := &bs[i]
		if b.n <= k {
			off := 0
			for off < len(b.data) {
				var el []byte
				el, off = elemAt(b.data, off)
				l.lpBytes -= lpEntrySize(el)
			}
			k -= b.n
			l.n -= b.n
			l.dropBlock(i)
			continue
		}
		// Part of a block: elements [0, cut) go from the head, [cut, n)
		// from the tail.
		cut := k
		if !head {
			cut = b.n - k
		}
		off, cutOff := 0, 0
		for j := 0; j < b.n; j++ {
			el, next := elemAt(b.data, off)
			if j < cut == head {
				l.lpBytes -= lpEntrySize(el)
			}
			if j == cut-1 {
				cutOff = next
			}
			off = next
		}
		if head {
			b.data = splice(b.data, 0, cutOff)
		} else {
			b.data = b.data[:cutOff]
		}
		b.n -= k
		l.n -= k
		k = 0
	}
}
