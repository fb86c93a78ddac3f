package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math"
)

// dict is the large form of hashes, sets and a sorted set's member index
// (Redis's hashtable encoding): an open-addressing hash table (linear probing,
// backward-shift deletion, at most 80% full) over one byte slice holding the
// entries back to back. Nothing in it is a pointer, so a hash of a million
// fields is two allocations the garbage collector does not scan.
//
// An entry is
//
//	flags (1 byte: dictTTL, dictDead)
//	key length, value length (uvarints)
//	key bytes, value bytes
//	expiry (int64 LE), when dictTTL
//
// A slot is 0 (empty) or the entry's offset + 1 (so the entries take at
// most 4 GiB), with the top byte of the key's hash beside it in tags: a
// probe compares a key only when its tag matches. Moving a slot (deletion,
// resizing) hashes its key again.
//
// Replacing a value by one of the same length writes it in place; otherwise
// the entry is appended anew and the old one marked dead. Dead bytes beyond
// half the live ones are squeezed out (compact), which rebuilds the slots.
// Iteration (each) follows the byte slice: the order in which entries were
// last appended, a function of the commands alone.
type dict struct {
	data  []byte
	slots []uint32
	tags  []uint8
	n     int // live entries
	dead  int // bytes of dead entries
}

const (
	dictTTL  = 1 << 0
	dictDead = 1 << 7

	dictMinSize = 8
	// dictCompactMin is the dead bytes below which a dict is not compacted.
	dictCompactMin = 1 << 10
)

func newDict(hint int) *dict {
	size := dictMinSize
	for size*4 < hint*5 {
		size *= 2
	}
	return &dict{slots: make([]uint32, size), tags: make([]uint8, size)}
}

func (d *dict) len() int { return d.n }

func dictHash(key []byte) uint64 { return maphash.Bytes(hashSeed, key) }

// dent is a decoded dict entry.
type dent struct {
	off   int // where it starts in data
	flags byte
	kpos  int // where the key starts
	klen  int
	vlen  int
}

func (d *dict) at(off int) dent {
	e := dent{off: off, flags: d.data[off]}
	p := off + 1
	kl, w := uvarint(d.data[p:])
	p += w
	vl, w := uvarint(d.data[p:])
	p += w
	e.kpos, e.klen, e.vlen = p, kl, vl
	return e
}

func (e dent) key(d *dict) []byte { return d.data[e.kpos : e.kpos+e.klen : e.kpos+e.klen] }

func (e dent) val(d *dict) []byte {
	s := e.kpos + e.klen
	return d.data[s : s+e.vlen : s+e.vlen]
}

func (e dent) end() int {
	n := e.kpos + e.klen + e.vlen
	if e.flags&dictTTL != 0 {
		n += 8
	}
	return n
}

// ttl is the entry's expiry, 0 for none.
func (e dent) ttl(d *dict) int64 {
	if e.flags&dictTTL == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(d.data[e.kpos+e.klen+e.vlen:]))
}

func dictTag(h uint64) uint8 { return uint8(h >> 56) }

// put makes slot i point to the entry at off, of a key of hash h.
func (d *dict) put(i int, h uint64, off int) {
	d.slots[i], d.tags[i] = uint32(off+1), dictTag(h)
}

func slotOff(s uint32) int { return int(s) - 1 }

// home is the home slot of the key in slot i.
func (d *dict) home(i int) int {
	e := d.at(slotOff(d.slots[i]))
	return int(dictHash(e.key(d))) & (len(d.slots) - 1)
}

// find returns the slot holding key, or the empty slot where it would go.
func (d *dict) find(key []byte, h uint64) (int, bool) {
	mask := len(d.slots) - 1
	tag := dictTag(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return i, false
		}
		if d.tags[i] == tag {
			e := d.at(slotOff(s))
			if string(e.key(d)) == string(key) {
				return i, true
			}
		}
	}
}

// lookup returns the entry of key.
func (d *dict) lookup(key []byte) (dent, bool) {
	i, ok := d.find(key, dictHash(key))
	if !ok {
		return dent{}, false
	}
	return d.at(slotOff(d.slots[i])), true
}

// get returns the value and expiry of key.
func (d *dict) get(key []byte) ([]byte, int64, bool) {
	e, ok := d.lookup(key)
	if !ok {
		return nil, 0, false
	}
	return e.val(d), e.ttl(d), true
}

func (d *dict) has(key []byte) bool {
	_, ok := d.find(key, dictHash(key))
	return ok
}

// appendEntry appends an entry and returns its offset.
func (d *dict) appendEntry(key, val []byte, ttl int64) int {
	off := len(d.data)
	if off >= math.MaxUint32-1 {
		panic("engine: a hash, set or sorted set holds over 4 GiB")
	}
	var flags byte
	need := 1 + elemSize(len(key)) + elemSize(len(val))
	if ttl != 0 {
		flags |= dictTTL
		need += 8
	}
	d.data = grow(d.data, need)
	d.data = append(d.data, flags)
	d.data = binary.AppendUvarint(d.data, uint64(len(key)))
	d.data = binary.AppendUvarint(d.data, uint64(len(val)))
	d.data = append(d.data, key...)
	d.data = append(d.data, val...)
	if ttl != 0 {
		d.data = binary.LittleEndian.AppendUint64(d.data, uint64(ttl))
	}
	return off
}

// set stores key with val and expiry ttl (0: none) and reports whether the
// key is new.
func (d *dict) set(key, val []byte, ttl int64) bool {
	h := dictHash(key)
	i, ok := d.find(key, h)
	if ok {
		e := d.at(slotOff(d.slots[i]))
		if e.vlen == len(val) && (ttl == 0) == (e.flags&dictTTL == 0) {
			copy(d.data[e.kpos+e.klen:], val)
			if ttl != 0 {
				binary.LittleEndian.PutUint64(d.data[e.kpos+e.klen+e.vlen:], uint64(ttl))
			}
			return false
		}
		d.kill(e)
		d.put(i, h, d.appendEntry(key, val, ttl))
		d.maybeCompact()
		return false
	}
	if (d.n+1)*5 > len(d.slots)*4 {
		d.resize(len(d.slots) * 2)
		i, _ = d.find(key, h)
	}
	d.put(i, h, d.appendEntry(key, val, ttl))
	d.n++
	return true
}

// reserve makes room for n more entries of about bytes bytes in all.
func (d *dict) reserve(n, bytes int) {
	if (d.n+n)*5 > len(d.slots)*4 {
		size := len(d.slots)
		for (d.n+n)*5 > size*4 {
			size *= 2
		}
		d.resize(size)
	}
	if need := len(d.data) + bytes + 3*n; need > cap(d.data) {
		d.data = growTo(d.data, need) // what the command adds, no more
	}
}

// setTTL changes the expiry of key (present) to ttl (0: none).
func (d *dict) setTTL(key []byte, ttl int64) {
	h := dictHash(key)
	i, ok := d.find(key, h)
	if !ok {
		return
	}
	e := d.at(slotOff(d.slots[i]))
	if e.flags&dictTTL != 0 {
		if ttl != 0 {
			binary.LittleEndian.PutUint64(d.data[e.kpos+e.klen+e.vlen:], uint64(ttl))
			return
		}
	} else if ttl == 0 {
		return
	}
	val := e.val(d)
	key = e.key(d)
	// Appending may move data: copy what the new entry needs first.
	kv := make([]byte, 0, len(key)+len(val))
	kv = append(append(kv, key...), val...)
	d.kill(e)
	d.put(i, h, d.appendEntry(kv[:len(key)], kv[len(key):], ttl))
	d.maybeCompact()
}

func (d *dict) kill(e dent) {
	d.data[e.off] |= dictDead
	d.dead += e.end() - e.off
}

// del removes key and reports whether it was there.
func (d *dict) del(key []byte) bool {
	i, ok := d.find(key, dictHash(key))
	if !ok {
		return false
	}
	d.kill(d.at(slotOff(d.slots[i])))
	mask := len(d.slots) - 1
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		if d.slots[j] == 0 {
			break
		}
		if (j-d.home(j))&mask >= (j-i)&mask {
			d.slots[i], d.tags[i] = d.slots[j], d.tags[j]
			i = j
		}
	}
	d.slots[i], d.tags[i] = 0, 0
	d.n--
	d.maybeCompact()
	return true
}

func (d *dict) maybeCompact() {
	if d.dead >= dictCompactMin && d.dead*2 > len(d.data)-d.dead {
		d.compact()
	}
}

// compact drops the dead entries, keeping the order of the live ones, and
// rebuilds the table (shrinking it when mostly empty).
func (d *dict) compact() {
	live := len(d.data) - d.dead
	nd := make([]byte, 0, live+live/8)
	for off := 0; off < len(d.data); {
		e := d.at(off)
		end := e.end()
		if e.flags&dictDead == 0 {
			nd = append(nd, d.data[off:end]...)
		}
		off = end
	}
	d.data, d.dead = nd, 0
	size := len(d.slots)
	for size > dictMinSize && d.n*8 < size {
		size /= 2
	}
	d.resize(size)
}

// resize rebuilds the table with size slots from the entries.
func (d *dict) resize(size int) {
	d.slots, d.tags = make([]uint32, size), make([]uint8, size)
	mask := size - 1
	for off := 0; off < len(d.data); {
		e := d.at(off)
		if e.flags&dictDead == 0 {
			h := dictHash(e.key(d))
			i := int(h) & mask
			for d.slots[i] != 0 {
				i = (i + 1) & mask
			}
			d.put(i, h, off)
		}
		off = e.end()
	}
}

// each calls fn for the live entries in order until it returns false. fn must
// not change d.
func (d *dict) each(fn func(key, val []byte, ttl int64) bool) {
	for off := 0; off < len(d.data); {
		e := d.at(off)
		off = e.end()
		if e.flags&dictDead == 0 && !fn(e.key(d), e.val(d), e.ttl(d)) {
			return
		}
	}
}

// slotEntry returns the entry in slot i, if any (SCAN's cursor walks slots).
func (d *dict) slotEntry(i int) (dent, bool) {
	s := d.slots[i]
	if s == 0 {
		return dent{}, false
	}
	return d.at(slotOff(s)), true
}

func (d *dict) dup() *dict {
	n := &dict{data: make([]byte, 0, len(d.data)-d.dead)}
	d.each(func(k, v []byte, ttl int64) bool {
		n.appendEntry(k, v, ttl)
		return true
	})
	n.n = d.n
	n.resize(len(d.slots))
	return n
}
