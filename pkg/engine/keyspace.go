package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math/bits"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// The keyspace of a database is built to hold millions of small strings in
// little more memory than their bytes, with almost nothing for the garbage
// collector to scan:
//
//   - An arena of large []byte chunks holds one entry per key, back to back
//     in the order they were written. A chunk is never reallocated: the arena
//     grows by adding chunks (doubling in size up to maxChunk), so growth makes
//     no garbage. An entry is
//
//     flags (1 byte: fRef, fTTL, fHasTTL, fDead)
//     key length (uvarint)
//     value length (uvarint), or for fRef the object index (uint32 LE)
//     expiry (int64 LE Unix ms), when fTTL
//     key bytes
//     value bytes (inline strings)
//
//     A plain string up to maxInline bytes is stored inline (an "inline
//     string"). Every other value, and a string that a command changes in
//     place (APPEND, SETRANGE, SETBIT...), is an *object in the side slice objs,
//     and the entry holds its index (a "reference"); the object holds its TTL.
//
//     Entries start at multiples of 4 bytes, so that a location (chunk index,
//     offset/4) fits in locBits bits.
//
//   - An open-addressing hash table (linear probing, backward-shift deletion,
//     at most 80% full) maps a key to its entry: a slot is the entry's
//     location plus one (0 is an empty slot) in the low locBits bits, and the
//     top hashBits bits of the key's hash above them. A key's home slot is
//     the top bits of its hash, so the slots are in hash order (but for the
//     wrap-around at the end): the stored bits give a slot's home without
//     touching the key, and growing (up to 1<<hashBits slots) walks the old
//     table in order and fills the new one in order, which keeps both in the
//     cache. Beyond that size, and after a compaction, the table is rebuilt
//     from the arena, hashing the keys again. The stored bits below those of
//     the home also spare most key comparisons.
//
//   - Overwriting or deleting a key marks its entry dead and counts its bytes;
//     an entry whose new encoding has the same size is overwritten in place.
//     When dead bytes exceed half the live ones, the arena is compacted in
//     place, keeping the order of the live entries, and the chunks left empty
//     are dropped: the arena stays within about 1.5 times its live bytes.
//
// Each walks the arenas, so the export order is the order in which entries
// were last written (a key moves to the end when it is overwritten by a value
// of another size, gets its first TTL, or becomes an object), a function of
// the commands applied alone: the hash seed, random per process, never shows.
//
// Commands that need a mutable *object call Engine.lookup or lookupKind,
// which turn an inline string into an object first ("promotion": APPEND,
// SETRANGE, SETBIT, BITFIELD, INCRBYFLOAT, the HyperLogLog commands); type
// checks and reads use Engine.view, which does not. SET and its variants,
// MSET, INCR/DECR, DEL, GETDEL, GETEX, the EXPIRE family, PERSIST, RENAME,
// MOVE, COPY and RESTORE work on entries directly through slot indices, and
// keep inline strings inline. A slot index is valid until the next call that
// changes the database (an insertion may grow the table, a deletion shifts
// slots, and both may compact the arena).

// Entry flags.
const (
	fRef    = 1 << 0 // the value is objs[index]
	fTTL    = 1 << 1 // the entry has an 8-byte expiry field
	fHasTTL = 1 << 2 // ... which holds the key's expiry (PERSIST clears only this)
	fDead   = 1 << 7 // overwritten or deleted
)

const (
	alignBits = 2  // entries start at multiples of 4 bytes
	offBits   = 21 // bits of a location that are the offset in a chunk / 4
	offMask   = 1<<offBits - 1
	locBits   = 38 // bits of a slot that are the location (+1)
	locMask   = 1<<locBits - 1
	hashBits  = 64 - locBits // bits of a slot that are the top of the key's hash
	maxChunks = 1<<(locBits-offBits) - 1
	minChunk  = 4 << 10
	maxChunk  = 2 << 20 // <= maxEntryOffset; the last chunk of a database is partly empty
	// An entry of bigEntry bytes or more gets a chunk of its own (at offset 0).
	bigEntry = maxChunk / 4
	// maxInline is the longest string stored in the arena; longer ones are
	// objects, so that changing or dropping them costs no arena bytes.
	maxInline = 64 << 10
	// compactMin is the dead bytes below which the arena is never compacted.
	compactMin = 256 << 10
	minSlots   = 8
)

var hashSeed = maphash.MakeSeed()

// homeBits is the largest table size (log2) whose home slots the stored hash
// bits give; a variable so that tests can take the other path.
var homeBits uint = hashBits

// DB is one numbered database: a keyspace.
type DB struct {
	slots  []uint64 // the hash table; len is 1<<(64-shift)
	shift  uint     // a hash's home slot is h>>shift
	n      int      // keys held
	chunks [][]byte // the arena; len is the used part, cap the chunk size
	alloc  int64    // bytes of chunks allocated
	live   int64    // bytes of live entries
	dead   int64    // bytes of dead entries
	objs   []*object
	free   []uint32 // unused indices of objs
	// compactDue: a compaction is owed, run by settle after the command.
	compactDue bool
}

func newDB() *DB {
	return &DB{slots: make([]uint64, minSlots), shift: uint(64 - bits.TrailingZeros(minSlots))}
}

// Len is the number of keys held, expired ones included.
func (d *DB) Len() int { return d.n }

// entry is a decoded entry header.
type entry struct {
	c     []byte // its chunk
	off   int    // where it starts in c
	flags byte
	klen  int
	vlen  int    // inline value bytes
	idx   uint32 // object index of a reference
	kpos  int    // where the key starts in c; the expiry field is the 8 bytes before it
}

func uvarint(b []byte) (int, int) {
	if b[0] < 0x80 {
		return int(b[0]), 1
	}
	v, n := binary.Uvarint(b)
	return int(v), n
}

func uvarintLen(v int) int { return (bits.Len64(uint64(v)|1) + 6) / 7 }

func parseEntry(c []byte, off int) entry {
	en := entry{c: c, off: off, flags: c[off]}
	p := off + 1
	kl, n := uvarint(c[p:])
	en.klen = kl
	p += n
	if en.flags&fRef != 0 {
		en.idx = binary.LittleEndian.Uint32(c[p:])
		p += 4
	} else {
		vl, n := uvarint(c[p:])
		en.vlen = vl
		p += n
	}
	if en.flags&fTTL != 0 {
		p += 8
	}
	en.kpos = p
	return en
}

func (en *entry) key() []byte { return en.c[en.kpos : en.kpos+en.klen : en.kpos+en.klen] }

func (en *entry) val() []byte {
	s := en.kpos + en.klen
	return en.c[s : s+en.vlen : s+en.vlen]
}

// end is where the next entry starts.
func (en *entry) end() int  { return alignUp(en.kpos + en.klen + en.vlen) }
func (en *entry) size() int { return en.end() - en.off }

func alignUp(n int) int { return (n + 1<<alignBits - 1) &^ (1<<alignBits - 1) }

// ttl is the expiry of an inline string.
func (en *entry) ttl() (bool, int64) {
	if en.flags&fHasTTL == 0 {
		return false, 0
	}
	return true, int64(binary.LittleEndian.Uint64(en.c[en.kpos-8:]))
}

// entrySize is the bytes of an entry, padding included.
func entrySize(klen, vlen int, ref, ttl bool) int {
	n := 1 + uvarintLen(klen) + klen
	if ref {
		n += 4
	} else {
		n += uvarintLen(vlen) + vlen
	}
	if ttl {
		n += 8
	}
	return alignUp(n)
}

// putEntry encodes an entry into b, which has exactly its size.
func putEntry(b []byte, flags byte, key, val []byte, idx uint32, exp int64) {
	b[0] = flags
	p := 1 + binary.PutUvarint(b[1:], uint64(len(key)))
	if flags&fRef != 0 {
		binary.LittleEndian.PutUint32(b[p:], idx)
		p += 4
	} else {
		p += binary.PutUvarint(b[p:], uint64(len(val)))
	}
	if flags&fTTL != 0 {
		binary.LittleEndian.PutUint64(b[p:], uint64(exp))
		p += 8
	}
	p += copy(b[p:], key)
	copy(b[p:], val)
}

func (d *DB) at(loc uint64) entry {
	return parseEntry(d.chunks[loc>>offBits], int(loc&offMask)<<alignBits)
}

// maxEntryOffset bounds where in a chunk an entry may start.
const maxEntryOffset = 1 << (offBits + alignBits)

func makeLoc(chunk, off int) uint64 { return uint64(chunk)<<offBits | uint64(off>>alignBits) }

func slotLoc(s uint64) uint64 { return s&locMask - 1 }

func makeSlot(h, loc uint64) uint64 { return h>>locBits<<locBits | (loc + 1) }

func (d *DB) entryAt(slot int) entry { return d.at(slotLoc(d.slots[slot])) }

// keyIs reports whether the entry at loc holds key.
func (d *DB) keyIs(loc uint64, key []byte) bool {
	c := d.chunks[loc>>offBits]
	p := int(loc&offMask) << alignBits
	flags := c[p]
	p++
	kl, n := uvarint(c[p:])
	if kl != len(key) {
		return false
	}
	p += n
	if flags&fRef != 0 {
		p += 4
	} else {
		_, n = uvarint(c[p:])
		p += n
	}
	if flags&fTTL != 0 {
		p += 8
	}
	return string(c[p:p+kl]) == string(key)
}

func hashKey(key []byte) uint64 { return maphash.Bytes(hashSeed, key) }

// find returns the slot holding key, or else the empty slot where it would go,
// and the key's hash.
func (d *DB) find(key []byte) (slot int, h uint64, ok bool) {
	h = hashKey(key)
	mask := uint64(len(d.slots) - 1)
	top := h >> locBits
	for i := h >> d.shift; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			return int(i), h, false
		}
		if s>>locBits == top && d.keyIs(slotLoc(s), key) {
			return int(i), h, true
		}
	}
}

// emptySlot is the slot where a key of hash h, known to be absent, goes.
func (d *DB) emptySlot(h uint64) int {
	mask := uint64(len(d.slots) - 1)
	i := h >> d.shift
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	return int(i)
}

func newSlots(n int) []uint64 { return make([]uint64, n) }

// home is the home slot of the key in slot value s.
func (d *DB) home(s uint64) uint64 {
	if 64-d.shift <= homeBits {
		return s >> locBits >> (d.shift - locBits)
	}
	en := d.at(slotLoc(s))
	return hashKey(en.key()) >> d.shift
}

// reserve makes room for one more key; it returns the slot for a key of hash h
// that find reported absent at slot.
func (d *DB) reserve(slot int, h uint64) int {
	if (d.n+1)*5 <= len(d.slots)*4 {
		return slot
	}
	d.grow()
	return d.emptySlot(h)
}

// grow doubles the table.
func (d *DB) grow() {
	if 64-d.shift+1 > homeBits {
		d.rebuild(len(d.slots) * 2)
		return
	}
	old := d.slots
	d.slots, d.shift = newSlots(2*len(old)), d.shift-1
	mask := uint64(len(d.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := s >> locBits >> (d.shift - locBits)
		for d.slots[i] != 0 {
			i = (i + 1) & mask
		}
		d.slots[i] = s
	}
}

// rebuild refills a table of size slots from the arena.
func (d *DB) rebuild(size int) {
	if size == len(d.slots) {
		clear(d.slots)
	} else {
		d.slots = nil // let the GC have the old table before the new one exists
		d.slots = newSlots(size)
		d.shift = uint(64 - bits.TrailingZeros(uint(size)))
	}
	mask := uint64(size - 1)
	for ci, c := range d.chunks {
		for off := 0; off < len(c); {
			en := parseEntry(c, off)
			if en.flags&fDead == 0 {
				h := hashKey(en.key())
				i := h >> d.shift
				for d.slots[i] != 0 {
					i = (i + 1) & mask
				}
				d.slots[i] = makeSlot(h, makeLoc(ci, off))
			}
			off = en.end()
		}
	}
}

// grab reserves n bytes at the end of the arena, counted live, and returns
// them with their location.
func (d *DB) grab(n int) ([]byte, uint64) {
	last := len(d.chunks) - 1
	// An entry must start where a location can point: a chunk made for one
	// big entry can be longer than that.
	if last < 0 || n > cap(d.chunks[last])-len(d.chunks[last]) || len(d.chunks[last]) >= maxEntryOffset {
		size := n
		if n < bigEntry {
			size = max(int(min(max(d.alloc, minChunk), maxChunk)), n)
		}
		if len(d.chunks) >= maxChunks {
			panic("engine: keyspace arena exhausted")
		}
		d.chunks = append(d.chunks, make([]byte, 0, size))
		d.alloc += int64(size)
		last++
	}
	c := d.chunks[last]
	off := len(c)
	c = c[:off+n]
	d.chunks[last] = c
	d.live += int64(n)
	return c[off : off+n : off+n], makeLoc(last, off)
}

func (d *DB) appendInline(key, val []byte, ttlField, hasTTL bool, exp int64) uint64 {
	var flags byte
	if ttlField {
		flags |= fTTL
		if hasTTL {
			flags |= fHasTTL
		}
	}
	b, loc := d.grab(entrySize(len(key), len(val), false, ttlField))
	putEntry(b, flags, key, val, 0, exp)
	return loc
}

func (d *DB) appendRef(key []byte, idx uint32) uint64 {
	b, loc := d.grab(entrySize(len(key), 0, true, false))
	putEntry(b, fRef, key, nil, idx, 0)
	return loc
}

func (d *DB) newObj(o *object) uint32 {
	if n := len(d.free); n > 0 {
		idx := d.free[n-1]
		d.free = d.free[:n-1]
		d.objs[idx] = o
		return idx
	}
	if uint64(len(d.objs)) >= 1<<32-1 {
		panic("engine: too many objects")
	}
	d.objs = append(d.objs, o)
	return uint32(len(d.objs) - 1)
}

// kill marks the entry at loc dead and releases its object index.
func (d *DB) kill(loc uint64) {
	en := d.at(loc)
	en.c[en.off] |= fDead
	sz := int64(en.size())
	d.live -= sz
	d.dead += sz
	if en.flags&fRef != 0 {
		d.objs[en.idx] = nil
		d.free = append(d.free, en.idx)
	}
}

// point makes slot refer to the entry at loc, keeping its tag.
func (d *DB) point(slot int, loc uint64) {
	d.slots[slot] = d.slots[slot]&^locMask | (loc + 1)
}

// insert puts a new entry in slot (from reserve) for a key of hash h.
func (d *DB) insert(slot int, h, loc uint64) {
	d.slots[slot] = makeSlot(h, loc)
	d.n++
}

// removeSlot deletes the key in slot.
func (d *DB) removeSlot(slot int) {
	d.kill(slotLoc(d.slots[slot]))
	mask := len(d.slots) - 1
	i := slot
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := d.slots[j]
		if s == 0 {
			break
		}
		home := int(d.home(s))
		if (j-home)&mask >= (j-i)&mask {
			d.slots[i] = s
			i = j
		}
	}
	d.slots[i] = 0
	d.n--
	d.maybeCompact()
}

// remove deletes key, if present (expired or not).
func (d *DB) remove(key []byte) {
	if slot, _, ok := d.find(key); ok {
		d.removeSlot(slot)
	}
}

// maybeCompact compacts the arena once dead entries take more than half as
// much room as live ones (and at least compactMin bytes), so that the arena
// stays under 1.5 times its live bytes at little cost: each compaction moves
// the live bytes once, after at least half as many bytes died.
//
// It only notes that a compaction is due; settle runs it between commands.
// Compaction moves entries, and a command may hold slices of values it has
// read (BITOP's sources, SORT's BY values) across a lazy expiry that deletes
// a key.
func (d *DB) maybeCompact() {
	if d.dead < compactMin || d.dead*2 <= d.live {
		return
	}
	d.compactDue = true
}

// settle runs the compaction a command made due.
func (d *DB) settle() {
	if d.compactDue {
		d.compactDue = false
		d.compact()
	}
}

// compact moves the live entries to the front of the arena, in order, within
// the chunks it has (a write position never passes the read position, as
// entries only move towards the start), drops the chunks left empty and
// rebuilds the table (shrinking it if it is mostly empty). Slot indices
// change.
func (d *DB) compact() {
	w, wo := 0, 0 // where the next live entry goes: chunk, offset
	for r := range d.chunks {
		c := d.chunks[r]
		for off := 0; off < len(c); {
			en := parseEntry(c, off)
			end := en.end()
			if en.flags&fDead == 0 {
				n := end - off
				for wo+n > cap(d.chunks[w]) || wo >= maxEntryOffset { // w < r here: chunk r itself has room
					d.chunks[w] = d.chunks[w][:wo]
					w, wo = w+1, 0
				}
				dst := d.chunks[w][:wo+n] // within its capacity
				copy(dst[wo:], c[off:end])
				d.chunks[w] = dst
				wo += n
			}
			off = end
		}
	}
	d.chunks[w] = d.chunks[w][:wo]
	kept := d.chunks[:0]
	d.alloc = 0
	for i, c := range d.chunks {
		if i <= w && (len(c) > 0 || i == w) {
			kept = append(kept, c)
			d.alloc += int64(cap(c))
		}
	}
	clear(d.chunks[len(kept):]) // the GC may take the rest
	d.chunks = kept
	d.dead = 0
	size := len(d.slots)
	for size > minSlots && d.n*8 < size {
		size /= 2
	}
	d.rebuild(size)
}

// eachEntry calls fn for the live entries of the arena, in arena order: the
// order of the memory, so a pass over every key reads it sequentially. The
// entry is passed by value: a pointer to it would escape, an allocation per
// key.
func (d *DB) eachEntry(fn func(en entry)) {
	for _, c := range d.chunks {
		for off := 0; off < len(c); {
			en := parseEntry(c, off)
			off = en.end()
			if en.flags&fDead == 0 {
				fn(en)
			}
		}
	}
}

// kindAt is the type of the key in slot.
func (d *DB) kindAt(slot int) rdb.Kind {
	en := d.entryAt(slot)
	if en.flags&fRef != 0 {
		return d.objs[en.idx].kind
	}
	return rdb.KindString
}

// ttlAt is the expiry of the key in slot.
func (d *DB) ttlAt(slot int) (bool, int64) {
	en := d.entryAt(slot)
	if en.flags&fRef != 0 {
		o := d.objs[en.idx]
		return o.hasTTL, o.expireAt
	}
	return en.ttl()
}

// setTTLAt sets (or with has false, removes) the expiry of the key in slot.
// An inline string without an expiry field moves to the end of the arena.
func (d *DB) setTTLAt(slot int, has bool, at int64) {
	if !has {
		at = 0
	}
	loc := slotLoc(d.slots[slot])
	en := d.at(loc)
	switch {
	case en.flags&fRef != 0:
		o := d.objs[en.idx]
		o.hasTTL, o.expireAt = has, at
	case en.flags&fTTL != 0:
		en.c[en.off] = en.c[en.off]&^fHasTTL | fHasTTL*b2u8(has)
		binary.LittleEndian.PutUint64(en.c[en.kpos-8:], uint64(at))
	case has:
		nloc := d.appendInline(en.key(), en.val(), true, true, at)
		d.kill(loc)
		d.point(slot, nloc)
		d.maybeCompact()
	}
}

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// objectAt returns the object of the key in slot, turning an inline string
// into an object first (it moves to the end of the arena).
func (d *DB) objectAt(slot int) *object {
	loc := slotLoc(d.slots[slot])
	en := d.at(loc)
	if en.flags&fRef != 0 {
		return d.objs[en.idx]
	}
	o := newString(clone(en.val()))
	o.hasTTL, o.expireAt = en.ttl()
	nloc := d.appendRef(en.key(), d.newObj(o))
	d.kill(loc)
	d.point(slot, nloc)
	d.maybeCompact()
	return o
}

// putString stores val as key's string value with the given expiry; slot, h
// and found are find's answer for key.
func (d *DB) putString(slot int, h uint64, found bool, key, val []byte, hasTTL bool, exp int64) {
	if len(val) > maxInline {
		o := newString(clone(val))
		o.hasTTL, o.expireAt = hasTTL, exp
		d.putObject(slot, h, found, key, o)
		return
	}
	if !hasTTL {
		exp = 0
	}
	if !found {
		slot = d.reserve(slot, h)
		d.insert(slot, h, d.appendInline(key, val, hasTTL, hasTTL, exp))
		return
	}
	loc := slotLoc(d.slots[slot])
	en := d.at(loc)
	if en.flags&fRef == 0 {
		// The same encoded size (the key is the same): overwrite in place.
		ttlField := hasTTL || en.flags&fTTL != 0
		if entrySize(len(key), len(val), false, ttlField) == en.size() {
			flags := en.flags &^ (fHasTTL | fTTL)
			if ttlField {
				flags |= fTTL | fHasTTL*b2u8(hasTTL)
			}
			putEntry(en.c[en.off:en.end()], flags, key, val, 0, exp)
			return
		}
	}
	nloc := d.appendInline(key, val, hasTTL, hasTTL, exp)
	d.kill(loc)
	d.point(slot, nloc)
	d.maybeCompact()
}

// putObject stores o as key's value; slot, h and found are find's answer for
// key. A key that already holds an object keeps its place in the arena.
func (d *DB) putObject(slot int, h uint64, found bool, key []byte, o *object) {
	if !found {
		slot = d.reserve(slot, h)
		d.insert(slot, h, d.appendRef(key, d.newObj(o)))
		return
	}
	loc := slotLoc(d.slots[slot])
	if en := d.at(loc); en.flags&fRef != 0 {
		d.objs[en.idx] = o
		return
	}
	nloc := d.appendRef(key, d.newObj(o))
	d.kill(loc)
	d.point(slot, nloc)
	d.maybeCompact()
}

// add stores o under key (db.c dbAdd, for a key known not to exist; any
// value is replaced). The TTL is o's.
func (d *DB) add(key []byte, o *object) {
	slot, h, ok := d.find(key)
	d.putObject(slot, h, ok, key, o)
}
