package engine

import (
	"bytes"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// List commands (t_list.c): LPUSH, RPUSH, LPUSHX, RPUSHX, LINSERT, LSET,
// LREM, LTRIM, LPOP, RPOP, RPOPLPUSH, LMOVE, LMPOP and the blocking forms,
// which a replay executes like the non-blocking ones (Redis logs them so).

func newList() *object { return &object{kind: rdb.KindList, list: newQlist()} }

// newListFor is a new list as Redis 7.2+ creates one for a push: a listpack.
func (e *Engine) newListFor() *object {
	o := newList()
	o.list.packed = e.version() >= 702
	return o
}

// listGrowing is listTypeTryConversionAppend: a listpack-encoded list about
// to take args becomes a quicklist when its listpack would pass 8 KiB
// (list-max-listpack-size -2), counting the arguments' raw lengths.
func (e *Engine) listGrowing(l *qlist, args ...[]byte) {
	if !l.packed {
		return
	}
	add := 0
	for _, a := range args {
		add += len(a)
	}
	if l.lpBytes+add > lpNodeLimit {
		l.packed = false
	}
}

// listShrinking is listTypeTryConversion(LIST_CONV_SHRINKING) on Redis 7.2+:
// a quicklist that has shrunk to half a node becomes a listpack again. (Redis
// requires its quicklist to be one node then; the engine does not keep
// Redis's node boundaries and assumes so.)
func (e *Engine) listShrinking(l *qlist) {
	if e.version() >= 702 && !l.packed && l.lpBytes <= lpNodeLimit/2 {
		l.packed = true
	}
}

// listLoaded is the encoding Redis 7.2+ gives a list it builds as a quicklist
// (loading, SORT ... STORE): a listpack when it fits one node.
func (e *Engine) listLoaded(l *qlist) {
	l.packed = e.version() >= 702 && l.lpBytes <= lpNodeLimit
}

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
		o = e.newListFor()
		db.add(a[1], o)
	}
	e.listGrowing(o.list, a[2:]...)
	if !head && len(a) > 3 {
		o.list.reserve(argBytes(a[2:]) + len(a))
	}
	for _, v := range a[2:] {
		if head {
			o.list.pushFront(v)
		} else {
			o.list.pushBack(v)
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
	pos, i := -1, 0
	l.each(0, func(el []byte) bool {
		if bytes.Equal(el, a[3]) {
			pos = i
			return false
		}
		i++
		return true
	})
	if pos < 0 {
		return nil
	}
	if after {
		pos++
	}
	e.listGrowing(l, a[4])
	l.insert(pos, a[4])
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
	e.listGrowing(o.list, a[3])
	o.list.set(int(idx), a[3])
	e.listShrinking(o.list)
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
	if removed > 0 {
		o.list.keep(func(i int, _ []byte) bool { return keep[i] })
		e.listShrinking(o.list)
	}
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
	o.list.drop(true, int(ltrim))
	o.list.drop(false, int(rtrim))
	e.listShrinking(o.list)
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
	o.list.drop(head, int(min(count, int64(o.list.len()))))
	e.listShrinking(o.list)
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
	v := so.list.pop(fromHead)
	e.listShrinking(so.list)
	if do == nil {
		do = e.newListFor()
		db.add(dst, do)
	}
	e.listGrowing(do.list, v)
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
