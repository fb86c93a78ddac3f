package engine

import (
	"bytes"
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
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return errorf("ERR invalid expire time in '%s' command", name)
		}
		when *= 1000
	}
	if when > math.MaxInt64-basetime {
		return errorf("ERR invalid expire time in '%s' command", name)
	}
	when += basetime
	db := e.db()
	slot, _, ok := e.find(db, a[1])
	if !ok {
		return nil
	}
	has, at := db.ttlAt(slot)
	switch {
	case nx && has, xx && !has:
		return nil
	case gt && (!has || when <= at):
		return nil
	case lt && has && when >= at:
		return nil
	}
	if e.live() && when <= e.now() {
		db.removeSlot(slot)
		return nil
	}
	db.setTTLAt(slot, true, when)
	return nil
}

func cmdPersist(e *Engine, a [][]byte) error {
	db := e.db()
	if slot, _, ok := e.find(db, a[1]); ok {
		db.setTTLAt(slot, false, 0)
	}
	return nil
}

func (e *Engine) rename(a [][]byte, nx bool) error {
	db := e.db()
	if !e.exists(db, a[1]) {
		return ErrNoSuchKey
	}
	if bytes.Equal(a[1], a[2]) {
		return nil
	}
	if e.exists(db, a[2]) && nx {
		return nil
	}
	copyKey(db, a[1], db, a[2], true) // the TTL travels with the value
	db.remove(a[1])
	return nil
}

// copyKey stores under key in dst the value and TTL of srcKey, which src
// holds: an inline string stays one, an object is moved (share) or copied.
func copyKey(src *DB, srcKey []byte, dst *DB, key []byte, share bool) {
	slot, _, _ := src.find(srcKey)
	en := src.entryAt(slot)
	dslot, h, ok := dst.find(key)
	if en.flags&fRef == 0 {
		has, at := en.ttl()
		dst.putString(dslot, h, ok, key, en.val(), has, at)
		return
	}
	o := src.objs[en.idx]
	if !share {
		o = o.dup()
	}
	dst.putObject(dslot, h, ok, key, o)
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
	if !e.exists(src, a[1]) || e.exists(dst, a[1]) {
		return nil
	}
	copyKey(src, a[1], dst, a[1], true)
	src.remove(a[1])
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
	if !e.exists(src, a[1]) {
		return nil
	}
	if e.exists(dst, a[2]) && !replace {
		return nil
	}
	copyKey(src, a[1], dst, a[2], false)
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
		n.set = o.set.dup()
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
	e.dbs[e.cur] = newDB()
	return nil
}

// cmdFlushAll empties every database; function libraries stay (EMPTYDB_NOFUNCTIONS).
func cmdFlushAll(e *Engine, a [][]byte) error {
	if err := flushArgs(a); err != nil {
		return err
	}
	for i := range e.dbs {
		e.dbs[i] = newDB()
	}
	return nil
}
