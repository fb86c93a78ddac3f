package engine

import (
	"math"
	"slices"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Hash commands (t_hash.c): HSET, HMSET, HSETNX, HDEL, HINCRBY,
// HINCRBYFLOAT, and the field-expiration commands of Redis 7.4: HEXPIRE,
// HPEXPIRE, HEXPIREAT, HPEXPIREAT, HPERSIST.

// hfield is a hash field's value and absolute expiry (0 = none).
type hfield struct {
	value    []byte
	expireAt int64
}

type hash struct {
	fields map[string]*hfield
}

func newHash() *object { return &object{kind: rdb.KindHash, hash: &hash{fields: map[string]*hfield{}}} }

func (h *hash) len() int { return len(h.fields) }

// purgeExpired deletes the fields whose TTL is at or before now.
func (h *hash) purgeExpired(now int64) {
	for f, v := range h.fields {
		if v.expireAt != 0 && v.expireAt <= now {
			delete(h.fields, f)
		}
	}
}

func (h *hash) dup() *hash {
	n := &hash{fields: make(map[string]*hfield, len(h.fields))}
	for f, v := range h.fields {
		n.fields[f] = &hfield{value: clone(v.value), expireAt: v.expireAt}
	}
	return n
}

// set stores a value; keepTTL keeps an existing field's TTL (HINCRBY*),
// otherwise an overwritten field loses it (HSET).
func (h *hash) set(field, value []byte, keepTTL bool) {
	if f := h.fields[string(field)]; f != nil {
		f.value = clone(value)
		if !keepTTL {
			f.expireAt = 0
		}
		return
	}
	h.fields[string(field)] = &hfield{value: clone(value)}
}

// sortedFields returns the field names in bytewise order.
func (h *hash) sortedFields() []string {
	names := make([]string, 0, len(h.fields))
	for f := range h.fields {
		names = append(names, f)
	}
	slices.Sort(names)
	return names
}

func registerHashes() {
	register("hset", -4, func(e *Engine, a [][]byte) error { return e.hset(a, "hset") })
	register("hmset", -4, func(e *Engine, a [][]byte) error { return e.hset(a, "hmset") })
	register("hsetnx", 4, cmdHSetNX)
	register("hdel", -3, cmdHDel)
	register("hincrby", 4, cmdHIncrBy)
	register("hincrbyfloat", 4, cmdHIncrByFloat)
	register("hexpire", -6, func(e *Engine, a [][]byte) error { return e.hexpire(a, e.now(), true, "hexpire") })
	register("hpexpire", -6, func(e *Engine, a [][]byte) error { return e.hexpire(a, e.now(), false, "hpexpire") })
	register("hexpireat", -6, func(e *Engine, a [][]byte) error { return e.hexpire(a, 0, true, "hexpireat") })
	register("hpexpireat", -6, func(e *Engine, a [][]byte) error { return e.hexpire(a, 0, false, "hpexpireat") })
	register("hpersist", -5, cmdHPersist)
}

// hashForWrite is hashTypeLookupWriteOrCreate: the hash of key, created
// (and stored) when missing.
func (e *Engine) hashForWrite(key []byte) (*hash, error) {
	db := e.db()
	o, err := e.lookupKind(db, key, rdb.KindHash)
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = newHash()
		db.add(key, o)
	}
	return o.hash, nil
}

func (e *Engine) hset(a [][]byte, name string) error {
	if len(a)%2 == 1 {
		return errArity(name)
	}
	h, err := e.hashForWrite(a[1])
	if err != nil {
		return err
	}
	for i := 2; i < len(a); i += 2 {
		h.set(a[i], a[i+1], false)
	}
	return nil
}

func cmdHSetNX(e *Engine, a [][]byte) error {
	h, err := e.hashForWrite(a[1])
	if err != nil {
		return err
	}
	if h.fields[string(a[2])] == nil {
		h.set(a[2], a[3], false)
	}
	return nil
}

func cmdHDel(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindHash)
	if o == nil {
		return err
	}
	for _, f := range a[2:] {
		delete(o.hash.fields, string(f))
		if o.hash.len() == 0 {
			db.remove(a[1])
			break
		}
	}
	return nil
}

func cmdHIncrBy(e *Engine, a [][]byte) error {
	incr, err := argInt(a[3])
	if err != nil {
		return err
	}
	h, err := e.hashForWrite(a[1])
	if err != nil {
		return err
	}
	var v int64
	if f := h.fields[string(a[2])]; f != nil {
		var ok bool
		if v, ok = parseInt(f.value); !ok {
			return &Error{"ERR hash value is not an integer"}
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		return ErrOverflow
	}
	h.set(a[2], formatInt(v+incr), true)
	return nil
}

func cmdHIncrByFloat(e *Engine, a [][]byte) error {
	incr, ok := parseLongDouble(a[3])
	if !ok {
		return ErrNotFloat
	}
	if incr.IsInf() {
		return &Error{"ERR value is NaN or Infinity"}
	}
	h, err := e.hashForWrite(a[1])
	if err != nil {
		return err
	}
	v := incr
	if f := h.fields[string(a[2])]; f != nil {
		cur, ok := parseLongDouble(f.value)
		if !ok {
			return &Error{"ERR hash value is not a float"}
		}
		if v, ok = addLongDouble(cur, incr); !ok {
			return &Error{"ERR increment would produce NaN or Infinity"}
		}
	}
	h.set(a[2], formatLongDouble(v), true)
	return nil
}

// hfeMaxAbsTimeMs is HFE_MAX_ABS_TIME_MSEC: EB_EXPIRE_TIME_MAX >> 2.
const hfeMaxAbsTimeMs = (1<<48 - 1) >> 2

// hexpire is hexpireGenericCommand.
func (e *Engine) hexpire(a [][]byte, basetime int64, seconds bool, name string) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindHash)
	if err != nil {
		return err
	}
	expire, err := argInt(a[2])
	if err != nil {
		return err
	}
	if expire < 0 {
		return &Error{"ERR invalid expire time, must be >= 0"}
	}
	bad := errorf("ERR invalid expire time in '%s' command", name)
	if seconds {
		if expire > hfeMaxAbsTimeMs/1000 {
			return bad
		}
		expire *= 1000
	}
	if expire > hfeMaxAbsTimeMs-basetime {
		return bad
	}
	expire += basetime
	const (
		condNone = iota
		condNX
		condXX
		condGT
		condLT
	)
	cond, at := condNone, 4
	switch {
	case is(a[3], "NX"):
		cond, at = condNX, 5
	case is(a[3], "XX"):
		cond, at = condXX, 5
	case is(a[3], "GT"):
		cond, at = condGT, 5
	case is(a[3], "LT"):
		cond, at = condLT, 5
	}
	if at >= len(a) || !is(a[at-1], "FIELDS") {
		return &Error{"ERR Mandatory argument FIELDS is missing or not at the right position"}
	}
	n, err := argRange(a[at], 1, math.MaxInt64, "Parameter `numFields` should be greater than 0")
	if err != nil {
		return err
	}
	if n != int64(len(a)-at-1) {
		return &Error{"ERR The `numfields` parameter must match the number of arguments"}
	}
	if o == nil {
		return nil
	}
	h := o.hash
	deleted := false
	for _, fb := range a[at+1:] {
		f := h.fields[string(fb)]
		if f == nil {
			continue
		}
		if f.expireAt == 0 {
			if cond == condXX || cond == condGT {
				continue
			}
		} else if cond == condGT && f.expireAt >= expire || cond == condLT && f.expireAt <= expire || cond == condNX {
			continue
		}
		if e.live() && expire <= e.now() {
			delete(h.fields, string(fb))
			deleted = true
			continue
		}
		f.expireAt = expire
	}
	if deleted && h.len() == 0 {
		db.remove(a[1])
	}
	return nil
}

func cmdHPersist(e *Engine, a [][]byte) error {
	o, err := e.lookupKind(e.db(), a[1], rdb.KindHash)
	if err != nil {
		return err
	}
	if !is(a[2], "FIELDS") {
		return &Error{"ERR Mandatory argument FIELDS is missing or not at the right position"}
	}
	n, err := argRange(a[3], 1, math.MaxInt64, "Number of fields must be a positive integer")
	if err != nil {
		return err
	}
	if n != int64(len(a)-4) {
		return &Error{"ERR The `numfields` parameter must match the number of arguments"}
	}
	if o == nil {
		return nil
	}
	now := e.now()
	for _, fb := range a[4:] {
		if f := o.hash.fields[string(fb)]; f != nil && f.expireAt != 0 && f.expireAt >= now {
			f.expireAt = 0
		}
	}
	return nil
}
