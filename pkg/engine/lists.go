package engine

import (
	"bytes"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// List commands (t_list.c): LPUSH, RPUSH, LPUSHX, RPUSHX, LINSERT, LSET,
// LREM, LTRIM, LPOP, RPOP, RPOPLPUSH, LMOVE, LMPOP and the blocking forms,
// which a replay executes like the non-blocking ones (Redis logs them so).

// deque is a ring buffer of elements: O(1) push and pop at both ends and
// O(1) indexing, so that huge lists replay in linear time.
type deque struct {
	buf  [][]byte
	head int
	n    int
}

func (d *deque) len() int { return d.n }

// packed reports whether the list is one listpack (Redis 7.2+'s small lists).
func (d *deque) packed() bool { return false }

func (d *deque) at(i int) []byte { return d.buf[(d.head+i)%len(d.buf)] }

func (d *deque) set(i int, v []byte) { d.buf[(d.head+i)%len(d.buf)] = v }

func (d *deque) grow() {
	if d.n < len(d.buf) {
		return
	}
	nb := make([][]byte, max(8, 2*len(d.buf)))
	for i := 0; i < d.n; i++ {
		nb[i] = d.at(i)
	}
	d.buf, d.head = nb, 0
}

func (d *deque) pushBack(v []byte) {
	d.grow()
	d.buf[(d.head+d.n)%len(d.buf)] = v
	d.n++
}

func (d *deque) pushFront(v []byte) {
	d.grow()
	d.head = (d.head - 1 + len(d.buf)) % len(d.buf)
	d.buf[d.head] = v
	d.n++
}

func (d *deque) popFront() []byte {
	v := d.buf[d.head]
	d.buf[d.head] = nil
	d.head = (d.head + 1) % len(d.buf)
	d.n--
	return v
}

func (d *deque) popBack() []byte {
	i := (d.head + d.n - 1) % len(d.buf)
	v := d.buf[i]
	d.buf[i] = nil
	d.n--
	return v
}

// slice returns the elements head to tail (shared, not copied).
func (d *deque) slice() [][]byte {
	out := make([][]byte, d.n)
	for i := range out {
		out[i] = d.at(i)
	}
	return out
}

// reset replaces the contents with elems.
func (d *deque) reset(elems [][]byte) {
	d.buf, d.head, d.n = elems, 0, len(elems)
}

func (d *deque) dup() *deque {
	s := d.slice()
	for i, v := range s {
		s[i] = clone(v)
	}
	return &deque{buf: s, n: len(s)}
}

func newList() *object { return &object{kind: rdb.KindList, list: &deque{}} }

func registerLists() {
	register("lpush", -3, func(e *Engine, a [][]byte) error { return e.push(a, true, false) })
	register("rpush", -3, func(e *Engine, a [][]byte) error { return e.push(a, false, false) })
	register("lpushx", -3, func(e *Engine, a [][]byte) error { return e.push(a, true, true) })
	register("rpushx", -3, func(e *Engine, a [][]byte) error { return e.push(a, false, true) })
	register("linsert", 5, cmdLInsert)
	register("lset", 4, cmdLSet)
	register("lrem", 4, cmdLRem)
	register("ltrim", 4, cmdLTrim)
	register("lpop", -2, func(e *Engine, a [][]byte) error { return e.pop(a, true) })
	register("rpop", -2, func(e *Engine, a [][]byte) error { return e.pop(a, false) })
	register("rpoplpush", 3, func(e *Engine, a [][]byte) error { return e.lmove(a[1], a[2], false, true) })
	register("brpoplpush", 4, func(e *Engine, a [][]byte) error { return e.lmove(a[1], a[2], false, true) })
	register("lmove", 5, cmdLMove)
	register("blmove", 6, cmdLMove)
	register("lmpop", -4, func(e *Engine, a [][]byte) error { return e.lmpop(a, 1) })
	register("blmpop", -5, func(e *Engine, a [][]byte) error { return e.lmpop(a, 2) })
	register("blpop", -3, func(e *Engine, a [][]byte) error { return e.bpop(a, true) })
	register("brpop", -3, func(e *Engine, a [][]byte) error { return e.bpop(a, false) })
}

func (e *Engine) push(a [][]byte, head, xx bool) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindList)
	if err != nil {
		return err
	}
	if o == nil {
		if xx {
			return nil
		}
		o = newList()
		db.add(a[1], o)
	}
	for _, v := range a[2:] {
		if head {
			o.list.pushFront(clone(v))
		} else {
			o.list.pushBack(clone(v))
		}
	}
	return nil
}

func cmdLInsert(e *Engine, a [][]byte) error {
	var after bool
	switch {
	case is(a[2], "AFTER"):
		after = true
	case is(a[2], "BEFORE"):
	default:
		return ErrSyntax
	}
	o, err := e.lookupKind(e.db(), a[1], rdb.KindList)
	if o == nil {
		return err
	}
	l := o.list
	for i := 0; i < l.len(); i++ {
		if bytes.Equal(l.at(i), a[3]) {
			pos := i
			if after {
				pos++
			}
			s := l.slice()
			s = append(s[:pos], append([][]byte{clone(a[4])}, s[pos:]...)...)
			l.reset(s)
			return nil
		}
	}
	return nil
}

func cmdLSet(e *Engine, a [][]byte) error {
	db := e.db()
	o := e.view(db, a[1])
	if o == nil {
		return ErrNoSuchKey
	}
	if o.kind != rdb.KindList {
		return ErrWrongType
	}
	idx, err := argLong(a[2])
	if err != nil {
		return err
	}
	n := int64(o.list.len())
	if idx < 0 {
		idx += n
	}
	if idx < 0 || idx >= n {
		return ErrOutOfRange
	}
	o.list.set(int(idx), clone(a[3]))
	return nil
}

func cmdLRem(e *Engine, a [][]byte) error {
	toremove, err := argLong(a[2])
	if err != nil {
		return err
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindList)
	if o == nil {
		return err
	}
	s := o.list.slice()
	keep := make([]bool, len(s))
	removed := int64(0)
	fromTail := toremove < 0
	if fromTail {
		toremove = -toremove // LONG_MIN stays negative in C and removes all; so does this
	}
	for k := range s {
		i := k
		if fromTail {
			i = len(s) - 1 - k
		}
		if toremove != 0 && removed == toremove || !bytes.Equal(s[i], a[3]) {
			keep[i] = true
			continue
		}
		removed++
	}
	out := s[:0]
	for i, v := range s {
		if keep[i] {
			out = append(out, v)
		}
	}
	o.list.reset(out)
	if o.list.len() == 0 {
		db.remove(a[1])
	}
	return nil
}

func cmdLTrim(e *Engine, a [][]byte) error {
	start, err := argLong(a[2])
	if err != nil {
		return err
	}
	end, err := argLong(a[3])
	if err != nil {
		return err
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindList)
	if o == nil {
		return err
	}
	llen := int64(o.list.len())
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	var ltrim, rtrim int64
	if start > end || start >= llen {
		ltrim, rtrim = llen, 0
	} else {
		if end >= llen {
			end = llen - 1
		}
		ltrim, rtrim = start, llen-end-1
	}
	for ; ltrim > 0; ltrim-- {
		o.list.popFront()
	}
	for ; rtrim > 0; rtrim-- {
		o.list.popBack()
	}
	if o.list.len() == 0 {
		db.remove(a[1])
	}
	return nil
}

func (e *Engine) pop(a [][]byte, head bool) error {
	name := "rpop"
	if head {
		name = "lpop"
	}
	if len(a) > 3 {
		return errArity(name)
	}
	count := int64(1)
	if len(a) == 3 {
		var err error
		if count, err = argPositive(a[2]); err != nil {
			return err
		}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindList)
	if o == nil {
		return err
	}
	e.popN(db, a[1], o, head, count)
	return nil
}

// popN removes up to count elements from one end and deletes the key when
// the list becomes empty.
func (e *Engine) popN(db *DB, key []byte, o *object, head bool, count int64) {
	for ; count > 0 && o.list.len() > 0; count-- {
		if head {
			o.list.popFront()
		} else {
			o.list.popBack()
		}
	}
	if o.list.len() == 0 {
		db.remove(key)
	}
}

// listEnd is getListPositionFromObjectOrReply: true for LEFT.
func listEnd(b []byte) (bool, error) {
	switch {
	case is(b, "LEFT"):
		return true, nil
	case is(b, "RIGHT"):
		return false, nil
	}
	return false, ErrSyntax
}

func cmdLMove(e *Engine, a [][]byte) error {
	from, err := listEnd(a[3])
	if err != nil {
		return err
	}
	to, err := listEnd(a[4])
	if err != nil {
		return err
	}
	return e.lmove(a[1], a[2], from, to)
}

// lmove is lmoveGenericCommand; fromHead/toHead are the LEFT ends.
func (e *Engine) lmove(src, dst []byte, fromHead, toHead bool) error {
	db := e.db()
	so, err := e.lookupKind(db, src, rdb.KindList)
	if so == nil {
		return err
	}
	do, err := e.lookupKind(db, dst, rdb.KindList)
	if err != nil {
		return err
	}
	var v []byte
	if fromHead {
		v = so.list.popFront()
	} else {
		v = so.list.popBack()
	}
	if do == nil {
		do = newList()
		db.add(dst, do)
	}
	if toHead {
		do.list.pushFront(v)
	} else {
		do.list.pushBack(v)
	}
	if so.list.len() == 0 {
		db.remove(src)
	}
	return nil
}

// argRange is getRangeLongFromObjectOrReply with a message.
func argRange(b []byte, lo, hi int64, msg string) (int64, error) {
	v, ok := parseInt(b)
	if !ok || v < lo || v > hi {
		return 0, &Error{"ERR " + msg}
	}
	return v, nil
}

// mpopArgs parses the arguments LMPOP and ZMPOP share, numkeys key...
// where [COUNT count] from index numkeysIdx, in Redis's order of checks; where
// parses the end to pop from. count defaults to 1.
func mpopArgs(a [][]byte, numkeysIdx int, where func([]byte) error) (keys [][]byte, count int64, err error) {
	numkeys, err := argRange(a[numkeysIdx], 1, math.MaxInt64, "numkeys should be greater than 0")
	if err != nil {
		return nil, 0, err
	}
	whereIdx := int64(numkeysIdx) + numkeys + 1
	if whereIdx >= int64(len(a)) {
		return nil, 0, ErrSyntax
	}
	if err := where(a[whereIdx]); err != nil {
		return nil, 0, err
	}
	count = -1
	for j := int(whereIdx) + 1; j < len(a); j++ {
		if count == -1 && is(a[j], "COUNT") && j+1 < len(a) {
			j++
			if count, err = argRange(a[j], 1, math.MaxInt64, "count should be greater than 0"); err != nil {
				return nil, 0, err
			}
			continue
		}
		return nil, 0, ErrSyntax
	}
	if count == -1 {
		count = 1
	}
	return a[numkeysIdx+1 : whereIdx], count, nil
}

// lmpop is lmpopGenericCommand; numkeysIdx is 1 (LMPOP) or 2 (BLMPOP).
func (e *Engine) lmpop(a [][]byte, numkeysIdx int) error {
	var head bool
	keys, count, err := mpopArgs(a, numkeysIdx, func(w []byte) (err error) {
		head, err = listEnd(w)
		return err
	})
	if err != nil {
		return err
	}
	db := e.db()
	k, o, err := e.firstExisting(db, keys, rdb.KindList)
	if o != nil {
		e.popN(db, k, o, head, count)
	}
	return err
}

// bpop is BLPOP/BRPOP run without blocking: the first non-empty list loses
// one element. Redis logs these as LPOP/RPOP; a raw stream may carry them.
func (e *Engine) bpop(a [][]byte, head bool) error {
	if _, ok := parseFloat(a[len(a)-1]); !ok {
		return &Error{"ERR timeout is not a float or out of range"}
	}
	db := e.db()
	k, o, err := e.firstExisting(db, a[1:len(a)-1], rdb.KindList)
	if o != nil {
		e.popN(db, k, o, head, 1)
	}
	return err
}

// firstExisting returns the first of keys that exists, once its type is
// checked against kind (ErrWrongType), or a nil object when none exists: how
// LMPOP, BLPOP, ZMPOP and BZPOPMIN pick their key.
func (e *Engine) firstExisting(db *DB, keys [][]byte, kind rdb.Kind) ([]byte, *object, error) {
	for _, k := range keys {
		o := e.view(db, k)
		if o == nil {
			continue
		}
		if o.kind != kind {
			return nil, nil, ErrWrongType
		}
		return k, o, nil
	}
	return nil, nil, nil
}
