package engine

import (
	"encoding/binary"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Hash commands (t_hash.c): HSET, HMSET, HSETNX, HDEL, HINCRBY,
// HINCRBYFLOAT, and the field-expiration commands of Redis 7.4: HEXPIRE,
// HPEXPIRE, HEXPIREAT, HPEXPIREAT, HPERSIST.

// hash is a hash value. While small it is packed (Redis's listpack
// encoding): (field, value, expiry) triplets in insertion order, the expiry a
// uvarint (0: none). Past hash-max-listpack-entries fields, or once a field
// or value is longer than hash-max-listpack-value, it becomes a dict (the
// hashtable encoding), for good, as in Redis (t_hash.c hashTypeConvert).
type hash struct {
	pk []byte
	n  int   // fields in pk
	d  *dict // the large form; pk is unused then
	// ex: a field of the packed form has had an expiry (Redis 7.4 keeps such
	// a hash as "listpackex").
	ex bool
}

// Redis's default hash-max-listpack-entries and hash-max-listpack-value.
const (
	hashListpackEntries = 512
	hashListpackValue   = 64
)

func newHash() *object { return &object{kind: rdb.KindHash, hash: &hash{}} }

func (h *hash) len() int {
	if h.d != nil {
		return h.d.len()
	}
	return h.n
}

// packedFind returns where the triplet of field starts and ends in pk. (A
// hand-inlined walk: this is the inner loop of HSET on small hashes.)
func (h *hash) packedFind(field []byte) (start, end int, ok bool) {
	p := h.pk
	for off := 0; off < len(p); {
		start := off
		fl, fs := int(p[off]), off+1
		if fl >= 0x80 {
			fl, fs = elemLenSlow(p, off)
		}
		off = fs + fl
		vl, vs := int(p[off]), off+1
		if vl >= 0x80 {
			vl, vs = elemLenSlow(p, off)
		}
		off = vs + vl
		for p[off] >= 0x80 {
			off++
		}
		off++
		if fl == len(field) && string(p[fs:fs+fl]) == string(field) {
			return start, off, true
		}
	}
	return 0, 0, false
}

// get returns a field's value and expiry (0: none).
func (h *hash) get(field []byte) ([]byte, int64, bool) {
	if h.d != nil {
		return h.d.get(field)
	}
	start, _, ok := h.packedFind(field)
	if !ok {
		return nil, 0, false
	}
	_, p := elemAt(h.pk, start)
	v, p := elemAt(h.pk, p)
	ttl, _ := uvarintAt(h.pk, p)
	return v, int64(ttl), true
}

func (h *hash) has(field []byte) bool {
	_, _, ok := h.get(field)
	return ok
}

// each calls fn for every field in order until it returns false; fn must not
// change h.
func (h *hash) each(fn func(field, value []byte, expireAt int64) bool) {
	if h.d != nil {
		h.d.each(fn)
		return
	}
	for off := 0; off < len(h.pk); {
		f, p := elemAt(h.pk, off)
		v, p := elemAt(h.pk, p)
		ttl, p := uvarintAt(h.pk, p)
		off = p
		if !fn(f, v, int64(ttl)) {
			return
		}
	}
}

// convert turns a packed hash into a dict (hashTypeConvert).
func (h *hash) convert() {
	if h.d != nil {
		return
	}
	d := newDict(h.n)
	d.reserve(0, len(h.pk)+3*h.n)
	h.each(func(f, v []byte, ttl int64) bool {
		d.set(f, v, ttl)
		return true
	})
	h.d, h.pk, h.n = d, nil, 0
}

// fits reports whether a field or value of b's length may be in a packed hash.
func fitsHashPack(b []byte) bool { return len(b) <= hashListpackValue }

func packTriplet(field, value []byte, ttl int64) []byte {
	p := make([]byte, 0, elemSize(len(field))+elemSize(len(value))+binary.MaxVarintLen64)
	p = appendElem(p, field)
	p = appendElem(p, value)
	return binary.AppendUvarint(p, uint64(ttl))
}

// set stores a value (hashTypeSet, which converts first when the field or the
// value is too long for the packed form, and after adding when there are
// too many fields); keepTTL keeps an existing field's TTL (HINCRBY*),
// otherwise an overwritten field loses it (HSET). It reports whether the field
// is new.
func (h *hash) set(field, value []byte, keepTTL bool) bool {
	if h.d == nil && (!fitsHashPack(field) || !fitsHashPack(value)) {
		h.convert()
	}
	if h.d != nil {
		var ttl int64
		if keepTTL {
			_, ttl, _ = h.d.get(field)
		}
		return h.d.set(field, value, ttl)
	}
	start, end, ok := h.packedFind(field)
	if ok {
		var ttl int64
		if keepTTL {
			_, p := elemAt(h.pk, start)
			_, p = elemAt(h.pk, p)
			t, _ := uvarintAt(h.pk, p)
			ttl = int64(t)
		}
		h.pk = splice(h.pk, start, end, packTriplet(field, value, ttl))
		return false
	}
	h.pk = append(h.pk, packTriplet(field, value, 0)...)
	h.n++
	if h.n > hashListpackEntries {
		h.convert()
	}
	return true
}

// del removes a field and reports whether it was there.
func (h *hash) del(field []byte) bool {
	if h.d != nil {
		return h.d.del(field)
	}
	start, end, ok := h.packedFind(field)
	if !ok {
		return false
	}
	h.pk = splice(h.pk, start, end)
	h.n--
	return true
}

// setTTL sets the expiry of an existing field (0: none).
func (h *hash) setTTL(field []byte, ttl int64) {
	if h.d != nil {
		h.d.setTTL(field, ttl)
		return
	}
	start, end, ok := h.packedFind(field)
	if !ok {
		return
	}
	if ttl != 0 {
		h.ex = true
	}
	f, p := elemAt(h.pk, start)
	v, _ := elemAt(h.pk, p)
	h.pk = splice(h.pk, start, end, packTriplet(f, v, ttl))
}

// purgeExpired deletes the fields whose TTL is at or before now.
func (h *hash) purgeExpired(now int64) {
	var gone [][]byte
	h.each(func(f, _ []byte, ttl int64) bool {
		if ttl != 0 && ttl <= now {
			gone = append(gone, clone(f))
		}
		return true
	})
	for _, f := range gone {
		h.del(f)
	}
}

func (h *hash) dup() *hash {
	n := &hash{n: h.n, ex: h.ex}
	if h.d != nil {
		n.d = h.d.dup()
	} else {
		n.pk = clone(h.pk)
	}
	return n
}

// hashFromFields builds a hash as Redis loads one from an RDB file: packed
// when it has at most hash-max-listpack-entries fields, none longer than
// hash-max-listpack-value (nor any value), else a dict. Fields are copied.
func hashFromFields(fields []rdb.HashField) *hash {
	h := &hash{}
	packed := len(fields) <= hashListpackEntries
	for _, f := range fields {
		if !fitsHashPack(f.Field) || !fitsHashPack(f.Value) {
			packed = false
			break
		}
	}
	if !packed {
		h.d = newDict(len(fields))
		for _, f := range fields {
			h.d.set(f.Field, f.Value, f.ExpireAtMs)
		}
		return h
	}
	for _, f := range fields {
		if start, end, ok := h.packedFind(f.Field); ok { // a repeated field: the last wins
			h.pk = splice(h.pk, start, end)
			h.n--
		}
		h.pk = append(h.pk, packTriplet(f.Field, f.Value, f.ExpireAtMs)...)
		h.n++
		if f.ExpireAtMs != 0 {
			h.ex = true
		}
	}
	return h
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
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindHash)
	if err != nil {
		return err
	}
	if o == nil && len(a) > 4 {
		db.add(a[1], &object{kind: rdb.KindHash, hash: buildHash(a[2:], e.argIndex(len(a)/2))})
		return nil
	}
	if o == nil {
		o = newHash()
		db.add(a[1], o)
	}
	h := o.hash
	h.tryConversion(a[2:])
	if h.d != nil {
		h.d.reserve((len(a)-2)/2, argBytes(a[2:]))
	}
	for i := 2; i < len(a); i += 2 {
		h.set(a[i], a[i+1], false)
	}
	return nil
}

// buildHash is HSET of several field-value pairs to a new key: the fields in
// the order of their first appearance with their last value, packed when
// they all fit (hashTypeTryConversion looks at every argument first, and
// the count is checked as they are added), else a dict.
func buildHash(pairs [][]byte, index *argIndex) *hash {
	n := len(pairs) / 2
	packed := true
	for _, b := range pairs {
		if !fitsHashPack(b) {
			packed = false
			break
		}
	}
	type fv struct{ f, v []byte }
	uniq := make([]fv, 0, n)
	for i := 0; i < len(pairs); i += 2 {
		f, v := pairs[i], pairs[i+1]
		if at := index.lookup(f); at >= 0 {
			uniq[at].v = v
			continue
		}
		index.add(f)
		uniq = append(uniq, fv{f, v})
	}
	h := &hash{}
	if !packed || len(uniq) > hashListpackEntries {
		h.d = newDict(len(uniq))
		h.d.reserve(len(uniq), argBytes(pairs))
		for _, x := range uniq {
			h.d.set(x.f, x.v, 0)
		}
		return h
	}
	size := 0
	for _, x := range uniq {
		size += elemSize(len(x.f)) + elemSize(len(x.v)) + 1
	}
	h.pk = make([]byte, 0, size)
	for _, x := range uniq {
		h.pk = appendElem(h.pk, x.f)
		h.pk = appendElem(h.pk, x.v)
		h.pk = append(h.pk, 0)
	}
	h.n = len(uniq)
	return h
}

// tryConversion is hashTypeTryConversion: a packed hash becomes a dict when
// any of the command's fields or values is too long for it, whether or not it
// ends up stored.
func (h *hash) tryConversion(args [][]byte) {
	if h.d != nil {
		return
	}
	for _, b := range args {
		if !fitsHashPack(b) {
			h.convert()
			return
		}
	}
}

func cmdHSetNX(e *Engine, a [][]byte) error {
	h, err := e.hashForWrite(a[1])
	if err != nil {
		return err
	}
	h.tryConversion(a[2:4])
	if !h.has(a[2]) {
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
		o.hash.del(f)
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
	if cur, _, ok := h.get(a[2]); ok {
		if v, ok = parseInt(cur); !ok {
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
	if curb, _, ok := h.get(a[2]); ok {
		cur, ok := parseLongDouble(curb)
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
		_, cur, ok := h.get(fb)
		if !ok {
			continue
		}
		if cur == 0 {
			if cond == condXX || cond == condGT {
				continue
			}
		} else if cond == condGT && cur >= expire || cond == condLT && cur <= expire || cond == condNX {
			continue
		}
		if e.live() && expire <= e.now() {
			h.del(fb)
			deleted = true
			continue
		}
		h.setTTL(fb, expire)
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
		if _, cur, ok := o.hash.get(fb); ok && cur != 0 && cur >= now {
			o.hash.setTTL(fb, 0)
		}
	}
	return nil
}
