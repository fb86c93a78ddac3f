package engine

import (
	"bytes"
	"maps"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Keyspace commands (db.c, expire.c): SELECT, DEL, UNLINK, the EXPIRE family,
// PERSIST, RENAME, RENAMENX, MOVE, COPY, SWAPDB, FLUSHDB, FLUSHALL.

func registerKeys() {
	register("select", 2, cmdSelect)
	register("del", -2, cmdDel)
	register("unlink", -2, cmdDel)
	register("expire", -3, func(e *Engine, a [][]byte) error { return e.expire(a, e.now(), true, "expire") })
	register("pexpire", -3, func(e *Engine, a [][]byte) error { return e.expire(a, e.now(), false, "pexpire") })
	register("expireat", -3, func(e *Engine, a [][]byte) error { return e.expire(a, 0, true, "expireat") })
	register("pexpireat", -3, func(e *Engine, a [][]byte) error { return e.expire(a, 0, false, "pexpireat") })
	register("persist", 2, cmdPersist)
	register("rename", 3, func(e *Engine, a [][]byte) error { return e.rename(a, false) })
	register("renamenx", 3, func(e *Engine, a [][]byte) error { return e.rename(a, true) })
	register("move", 3, cmdMove)
	register("copy", -3, cmdCopy)
	register("swapdb", 3, cmdSwapDB)
	register("flushdb", -1, cmdFlushDB)
	register("flushall", -1, cmdFlushAll)
}

// argDB parses a database index (getIntFromObjectOrReply, then selectDb's
// range check).
func (e *Engine) argDB(b []byte, msg string) (int, error) {
	v, err := argInt32(b, msg)
	if err != nil {
		return 0, err
	}
	if v < 0 || v >= int64(len(e.dbs)) {
		return 0, ErrDBIndex
	}
	return int(v), nil
}

func cmdSelect(e *Engine, a [][]byte) error {
	id, err := e.argDB(a[1], "")
	if err != nil {
		return err
	}
	e.cur = id
	return nil
}

func cmdDel(e *Engine, a [][]byte) error {
	db := e.db()
	for _, k := range a[1:] {
		e.del(db, k)
	}
	return nil
}

// expire is expireGenericCommand: basetime is added to the argument (0 for
// the absolute forms), seconds multiplies it by 1000.
func (e *Engine) expire(a [][]byte, basetime int64, seconds bool, name string) error {
	var nx, xx, gt, lt bool
	for _, opt := range a[3:] {
		switch {
		case is(opt, "NX"):
			nx = true
		case is(opt, "XX"):
			xx = true
		case is(opt, "GT"):
			gt = true
		case is(opt, "LT"):
			lt = true
		default:
			return errorf("ERR Unsupported option %s", opt)
		}
	}
	if nx && (xx || gt || lt) {
		return &Error{"ERR NX and XX, GT or LT options at the same time are not compatible"}
	}
	if gt && lt {
		return &Error{"ERR GT and LT options at the same time are not compatible"}
	}
	when, err := argInt(a[2])
	if err != nil {
		return err
	}
	errTime := errorf("ERR invalid expire time in '%s' command", name)
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return errTime
		}
		when *= 1000
	}
	if when > math.MaxInt64-basetime {
		return errTime
	}
	when += basetime
	db := e.db()
	o := e.lookup(db, a[1])
	if o == nil {
		return nil
	}
	switch {
	case nx && o.hasTTL, xx && !o.hasTTL:
		return nil
	case gt && (!o.hasTTL || when <= o.expireAt):
		return nil
	case lt && o.hasTTL && when >= o.expireAt:
		return nil
	}
	if e.live() && when <= e.now() {
		delete(db.keys, string(a[1]))
		return nil
	}
	o.hasTTL, o.expireAt = true, when
	return nil
}

func cmdPersist(e *Engine, a [][]byte) error {
	if o := e.lookup(e.db(), a[1]); o != nil {
		o.hasTTL, o.expireAt = false, 0
	}
	return nil
}

func (e *Engine) rename(a [][]byte, nx bool) error {
	db := e.db()
	o := e.lookup(db, a[1])
	if o == nil {
		return ErrNoSuchKey
	}
	if bytes.Equal(a[1], a[2]) {
		return nil
	}
	if e.lookup(db, a[2]) != nil && nx {
		return nil
	}
	delete(db.keys, string(a[1]))
	db.keys[string(a[2])] = o // the TTL travels with the object
	return nil
}

func cmdMove(e *Engine, a [][]byte) error {
	v, err := e.argDB(a[2], "")
	if err != nil {
		return err
	}
	src, dst := e.db(), e.dbs[v]
	if src == dst {
		return ErrSameObject
	}
	o := e.lookup(src, a[1])
	if o == nil || e.lookup(dst, a[1]) != nil {
		return nil
	}
	dst.add(a[1], o)
	delete(src.keys, string(a[1]))
	return nil
}

func cmdCopy(e *Engine, a [][]byte) error {
	src, dst := e.db(), e.db()
	replace := false
	for j := 3; j < len(a); j++ {
		switch {
		case is(a[j], "REPLACE"):
			replace = true
		case is(a[j], "DB") && j+1 < len(a):
			id, err := e.argDB(a[j+1], "")
			if err != nil {
				return err
			}
			dst = e.dbs[id]
			j++
		default:
			return ErrSyntax
		}
	}
	if src == dst && bytes.Equal(a[1], a[2]) {
		return ErrSameObject
	}
	o := e.lookup(src, a[1])
	if o == nil {
		return nil
	}
	if e.lookup(dst, a[2]) != nil && !replace {
		return nil
	}
	dst.keys[string(a[2])] = o.dup()
	return nil
}

// dup is a deep copy (COPY's xxxTypeDup), TTL included.
func (o *object) dup() *object {
	n := &object{kind: o.kind, expireAt: o.expireAt, hasTTL: o.hasTTL}
	switch o.kind {
	case rdb.KindString:
		n.str = clone(o.str)
	case rdb.KindList:
		n.list = o.list.dup()
	case rdb.KindSet:
		n.set = maps.Clone(o.set)
	case rdb.KindZSet:
		n.zset = o.zset.dup()
	case rdb.KindHash:
		n.hash = o.hash.dup()
	case rdb.KindStream:
		n.stream = o.stream.dup()
	}
	return n
}

func cmdSwapDB(e *Engine, a [][]byte) error {
	id1, err := e.argDB(a[1], "invalid first DB index")
	if err != nil {
		return err
	}
	id2, err := e.argDB(a[2], "invalid second DB index")
	if err != nil {
		return err
	}
	e.dbs[id1], e.dbs[id2] = e.dbs[id2], e.dbs[id1]
	return nil
}

func flushArgs(a [][]byte) error {
	if len(a) == 1 || len(a) == 2 && (is(a[1], "SYNC") || is(a[1], "ASYNC")) {
		return nil
	}
	return ErrSyntax
}

func cmdFlushDB(e *Engine, a [][]byte) error {
	if err := flushArgs(a); err != nil {
		return err
	}
	e.dbs[e.cur] = &DB{keys: map[string]*object{}}
	return nil
}

// cmdFlushAll empties every database; function libraries stay (EMPTYDB_NOFUNCTIONS).
func cmdFlushAll(e *Engine, a [][]byte) error {
	if err := flushArgs(a); err != nil {
		return err
	}
	for i := range e.dbs {
		e.dbs[i] = &DB{keys: map[string]*object{}}
	}
	return nil
}
