package rdb

import (
	"bytes"
	"hash/maphash"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/ziplist"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/zipmap"
)

// Duplicate elements: what Redis refuses to load, and only that (strict mode,
// that is verify). Redis 7.0's rdbLoadObject, with its default
// sanitize-dump-payload no, checks packed values for repeated fields only
// where it has to build a dictionary anyway:
//
//   - plain sets and sorted sets, zipmaps, hash and sorted-set ziplists:
//     always ("Duplicate set members detected", "Duplicate zset fields
//     detected", "Hash zipmap with dup elements", "Hash/Zset ziplist
//     integrity check failed");
//   - hash and sorted-set listpacks (and 7.2's set listpacks, 7.4's hash
//     listpacks with field TTLs): only past the listpack limits it converts
//     them at, where the conversion meets the repeat and the server aborts
//     ("Listpack corruption detected" or an assertion). The limits are the
//     server's built-in defaults (config.c), which Debian's 7.0.15 reports:
//     hash-max-listpack-entries 512 (the redis.conf of Redis's source tree
//     sets 128), zset- and set-max-listpack-entries 128;
//   - intsets: only past set-max-intset-entries (default 512), likewise;
//     but the Reader refuses any intset whose values do not ascend strictly
//     (intset.Parse), repeats included, before this check is reached;
//   - plain hashes: past hash-max-listpack-entries (512), or when a field or
//     value is longer than hash-max-listpack-value (64), for the same reason.
//
// Below those limits the server loads the value, repeat and all, so verify
// says nothing. TestDuplicateElementsAsRedis and ...AsRedis74 load a crafted
// file for each rule into Debian's 7.0.15 and the 7.4-era build. The limits are the defaults: a server configured with others
// judges differently (a warning would not help: the file is what it is).
const (
	redisMaxHashListpack  = 512 // hash-max-listpack-entries
	redisMaxListpack      = 128 // zset-max-listpack-entries, set-max-listpack-entries
	redisMaxListpackValue = 64  // hash-max-listpack-value
)

// elemDups follows the elements of the current plain set, sorted set or
// hash in an open-addressing table of one 64-bit hash per element. Two equal
// hashes are compared exactly before a repeat is declared: on an in-memory
// input (NewReaderBytes) the earlier element is read again from where it
// lies, so no verdict rests on a hash; on a stream, whose earlier bytes are
// gone, by a second independent hash (128 bits in all, as the blob check
// does). Memory is at most 40 bytes an element (the table at least 3/8 full:
// 12 bytes a slot; the element's offset), 48 on a stream (the second hash),
// a fraction of what the loading server needs for it.
type elemDups struct {
	off      int64 // the value's offset: state belongs to that value
	seeds    [2]maphash.Seed
	slots    []uint64 // hashes; 0: empty (a hash of 0 is stored as 1)
	slotElem []uint32 // the element whose hash is in the slot
	offs     []int64  // each element's offset (where it began)
	sums2    []uint64 // on a stream: each element's second hash
	n        int      // elements seen
	first    int64    // the first repeat found (the earlier element), or -1
	second   int64    // ... and its repeat, or -1
	prevEnd  int64    // where the element being read began
	longElem bool     // a field or value longer than hash-max-listpack-value
	gaveUp   bool     // the value outgrew ReaderOptions.MaxRepeatCheck
	reread   *Reader  // reads an earlier element again (in-memory input)
	blob     dupSet
}

// elemHashMask keeps all of an element's hash; tests keep two bits of it, so
// that nearly every element collides and the exact comparison decides.
var elemHashMask = ^uint64(0)

// elemDupBytes bounds what the check keeps per element.
const elemDupBytes = 40

// defaultMaxRepeatCheck is ReaderOptions.MaxRepeatCheck's default: 40 MiB of
// table, a collection far bigger than any listpack.
const defaultMaxRepeatCheck = 1 << 20

// repeatCheckLimit is how many elements of one value the repeat check
// follows. Without a limit (a negative MaxRepeatCheck), that is still what
// the table can number, 2^32-1.
func (r *Reader) repeatCheckLimit() int {
	switch n := r.opts.MaxRepeatCheck; {
	case n < 0:
		return math.MaxUint32
	case n == 0:
		return defaultMaxRepeatCheck
	default:
		return n
	}
}

func (r *Reader) elemDups() *elemDups {
	if r.dups == nil {
		r.dups = &elemDups{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, blob: newDupSet(), off: -1}
	}
	return r.dups
}

// start makes the state that of a new value of about n elements.
func (d *elemDups) start(off int64, n uint64) {
	if cap(d.offs) > 1<<20 {
		// A big value's memory is not kept for the next.
		d.offs, d.sums2, d.slots, d.slotElem = nil, nil, nil, nil
	}
	d.off, d.offs, d.sums2, d.n, d.longElem, d.prevEnd, d.gaveUp = off, d.offs[:0], d.sums2[:0], 0, false, -1, false
	d.first, d.second = -1, -1
	size := 16
	for uint64(size)*3/4 < min(n, 1<<12) {
		size *= 2
	}
	if cap(d.slots) >= size {
		d.slots, d.slotElem = d.slots[:size], d.slotElem[:size]
		clear(d.slots)
	} else {
		d.slots, d.slotElem = make([]uint64, size), make([]uint32, size)
	}
}

// grow doubles the table.
func (d *elemDups) grow() {
	old, oldElem := d.slots, d.slotElem
	d.slots, d.slotElem = make([]uint64, 2*len(old)), make([]uint32, 2*len(old))
	mask := len(d.slots) - 1
	for i, h := range old {
		if h == 0 {
			continue
		}
		p := int(h) & mask
		for d.slots[p] != 0 {
			p = (p + 1) & mask
		}
		d.slots[p], d.slotElem[p] = h, oldElem[i]
	}
}

// checkElemDup is the strict check of one element of a plain collection,
// called after it was read.
func (r *Reader) checkElemDup(el *Elem) error {
	v := &r.val
	switch v.t {
	case TypeSet, TypeZSet, TypeZSet2, TypeHash:
	default:
		return nil
	}
	d := r.elemDups()
	if d.off != v.off {
		d.start(v.off, v.remaining+1)
	}
	r.repeatElem(d, r.repeatCheckLimit(), el.Member, el.Value)
	if v.remaining > 0 {
		return nil
	}
	return r.repeatVerdict(d)
}

// repeatElem enters one element of the plain collection d follows, read
// up to where the reader is now: member, and for a hash its value. limit is
// repeatCheckLimit's.
func (r *Reader) repeatElem(d *elemDups, limit int, member, value []byte) {
	if d.gaveUp {
		return
	}
	v := &r.val
	if limit > 0 && d.n >= limit {
		// Memory stays bounded by the budget, not by the largest key: a
		// collection this big goes unchecked, and the caller is told.
		d.gaveUp, d.offs, d.sums2, d.slots, d.slotElem = true, nil, nil, nil, nil
		r.warn(v.off, v.t.Kind().String(), "more than "+strconv.Itoa(limit)+
			" elements: not checked for repeated elements (which Redis refuses here), as that would take "+
			strconv.Itoa(elemDupBytes)+" bytes an element; ReaderOptions.MaxRepeatCheck raises the limit")
		return
	}
	start := d.prevEnd
	d.prevEnd = r.src.Offset()
	if start < 0 {
		start = v.off
	}
	d.n++
	if v.t == TypeHash && (len(member) > redisMaxListpackValue || len(value) > redisMaxListpackValue) {
		d.longElem = true
	}
	if d.second < 0 {
		r.noteElem(d, member, start)
	}
}

// repeatVerdict ends the check of a plain collection after its last
// element: of two equal elements the later is named, the first repeat in
// file order.
func (r *Reader) repeatVerdict(d *elemDups) error {
	v := &r.val
	first, second, total := d.first, d.second, d.n
	d.off = -1
	switch {
	case second < 0 || d.gaveUp:
		return nil
	case v.t != TypeHash:
		return r.elemDupErr(second, first, v.t.Kind().String(), "Redis refuses any repeat here")
	case total > redisMaxHashListpack:
		return r.elemDupErr(second, first, "hash", "the hash has "+strconv.Itoa(total)+
			" fields, more than hash-max-listpack-entries ("+strconv.Itoa(redisMaxHashListpack)+"), so Redis builds a dictionary and refuses the repeat")
	case d.longElem:
		return r.elemDupErr(second, first, "hash", "a field or value is longer than hash-max-listpack-value ("+
			strconv.Itoa(redisMaxListpackValue)+"), so Redis builds a dictionary and refuses the repeat")
	}
	return nil
}

// noteElem enters the element member, which began at off, in the table, or
// records it as the first repeat.
func (r *Reader) noteElem(d *elemDups, member []byte, off int64) {
	h := maphash.Bytes(d.seeds[0], member) & elemHashMask
	if h == 0 {
		h = 1
	}
	var h2 uint64
	if !r.src.Whole {
		h2 = maphash.Bytes(d.seeds[1], member)
	}
	idx := len(d.offs)
	if 8*(idx+1) > 6*len(d.slots) {
		d.grow()
	}
	mask := len(d.slots) - 1
	for p := int(h) & mask; ; p = (p + 1) & mask {
		s := d.slots[p]
		if s == 0 {
			d.slots[p], d.slotElem[p] = h, uint32(idx)
			d.offs = append(d.offs, off)
			if !r.src.Whole {
				d.sums2 = append(d.sums2, h2)
			}
			return
		}
		if s == h && r.sameElem(d, int(d.slotElem[p]), member, h2) {
			d.first, d.second = d.offs[d.slotElem[p]], off
			return
		}
	}
}

// sameElem reports whether earlier element i equals member (whose second
// hash is h2 on a stream).
func (r *Reader) sameElem(d *elemDups, i int, member []byte, h2 uint64) bool {
	if !r.src.Whole {
		return d.sums2[i] == h2
	}
	if d.reread == nil {
		d.reread = r.valueReader()
	}
	rr := d.reread
	rr.err, rr.val.t = nil, r.val.t
	rr.src.Pos = int(d.offs[i] - rr.src.Base)
	if d.offs[i] == d.off {
		// The first element: its offset is the value's, before the count.
		if _, err := rr.readLen(""); err != nil {
			return false // read once already: cannot happen
		}
	}
	earlier, err := rr.readString("")
	return err == nil && bytes.Equal(earlier, member)
}

func (r *Reader) elemDupErr(off, earlier int64, what, why string) error {
	of := "the one at offset " + strconv.FormatInt(earlier, 10)
	if earlier == r.val.off {
		of = "the value's first element" // whose own offset is not kept
	}
	return r.corrupt(off, what, "this element repeats "+of+"; "+why)
}

func (r *Reader) dupErr(off int64, what string, elem []byte, why string) error {
	return r.corrupt(off, what, "element "+QuoteBytes(elem)+" appears twice; "+why)
}

// checkBlobDups is the strict check of a packed value's blob b, called when
// it is opened.
func (r *Reader) checkBlobDups(b []byte) error {
	v := &r.val
	group, limit := 2, redisMaxHashListpack // entries per element; 0: always refused
	switch v.t {
	case TypeHashZiplist, TypeZSetZiplist, TypeHashZipmap:
		limit = 0
	case TypeHashListpack:
	case TypeZSetListpack:
		limit = redisMaxListpack
	case TypeHashListpackEx, TypeHashListpackExPreGA:
		group = 3
	case TypeSetListpack:
		group, limit = 1, redisMaxListpack
	default:
		return nil
	}
	what := v.t.String()
	if v.t == TypeHashZipmap {
		it, err := zipmap.NewIterator(b)
		if err != nil {
			return nil // the element walk reports it
		}
		seen := r.blobDupSet()
		for it.Next() {
			if !seen.add(it.Key()) {
				return r.dupErr(v.blobOff, what, it.Key(), "Redis refuses any repeat in a zipmap")
			}
		}
		return nil
	}
	isZiplist := v.t == TypeHashZiplist || v.t == TypeZSetZiplist
	var lp listpack.Iterator
	var zl ziplist.Iterator
	var err error
	if isZiplist {
		zl, err = ziplist.NewIterator(b)
	} else {
		lp, err = listpack.NewIterator(b)
		// A listpack's header counts its entries below 65535: most are
		// judged without a walk.
		if n := lp.HeaderCount(); err == nil && n != listpack.UnknownCount && n/group <= limit {
			return nil
		}
	}
	if err != nil {
		return nil // the element walk reports it
	}
	entries := 0
	seen := r.blobDupSet()
	var scratch []byte
	var dup []byte
	for {
		var ok bool
		var text []byte
		if isZiplist {
			if ok = zl.Next(); ok && entries%group == 0 {
				text = zl.AppendText(scratch[:0])
			}
		} else if ok = lp.Next(); ok && entries%group == 0 {
			text = lp.AppendText(scratch[:0])
		}
		if !ok {
			break
		}
		if entries%group == 0 {
			scratch = text
			if !seen.add(text) && dup == nil {
				dup = append([]byte{}, text...)
				if limit == 0 {
					break
				}
			}
		}
		entries++
	}
	if dup == nil {
		return nil
	}
	if limit == 0 {
		return r.dupErr(v.blobOff, what, dup, "Redis refuses any repeat in a ziplist")
	}
	if n := entries / group; n > limit {
		return r.dupErr(v.blobOff, what, dup, "the value has "+strconv.Itoa(n)+" elements, more than the "+
			strconv.Itoa(limit)+" Redis keeps in a listpack, so it converts the value and aborts on the repeat")
	}
	return nil
}

// blobDupSet is the digest set for one blob, reused.
func (r *Reader) blobDupSet() *dupSet {
	d := r.elemDups()
	d.blob.reset()
	return &d.blob
}
