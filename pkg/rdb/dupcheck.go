package rdb

import (
	"hash/maphash"
	"math/bits"
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
// hash: a digest of each (where it began), radix-sorted and compared once the
// last one is read, which costs far less than a set of them. Memory is 40
// bytes an element, a fraction of what the loading server needs for it.
type elemDups struct {
	off      int64 // the value's offset: state belongs to that value
	seeds    [2]maphash.Seed
	elems    []elemDigest
	keys     []uint64 // the radix sort's two buffers
	prevEnd  int64    // where the element being read began
	longElem bool     // a field or value longer than hash-max-listpack-value
	gaveUp   bool     // the value outgrew ReaderOptions.MaxRepeatCheck
	blob     dupSet
}

// elemDupBytes is what the check keeps per element: a digest and its radix
// sort key.
const elemDupBytes = 40

// defaultMaxRepeatCheck is ReaderOptions.MaxRepeatCheck's default: 40 MiB of
// digests, a collection far bigger than any listpack.
const defaultMaxRepeatCheck = 1 << 20

// repeatCheckLimit is how many elements of one value the repeat check
// follows; 0: no limit.
func (r *Reader) repeatCheckLimit() int {
	switch n := r.opts.MaxRepeatCheck; {
	case n < 0:
		return 0
	case n == 0:
		return defaultMaxRepeatCheck
	default:
		return n
	}
}

type elemDigest struct {
	sum [2]uint64 // two independent seeded hashes: 128 bits
	off int64
}

func (r *Reader) elemDups() *elemDups {
	if r.dups == nil {
		r.dups = &elemDups{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, blob: newDupSet(), off: -1}
	}
	return r.dups
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
		if cap(d.elems) > 1<<20 {
			d.elems, d.keys = nil, nil // a big value's memory is not kept for the next
		}
		d.off, d.elems, d.longElem, d.prevEnd, d.gaveUp = v.off, d.elems[:0], false, -1, false
	}
	if d.gaveUp {
		if v.remaining == 0 {
			d.off = -1
		}
		return nil
	}
	if limit := r.repeatCheckLimit(); limit > 0 && len(d.elems) >= limit {
		// Memory stays bounded by the budget, not by the largest key: a
		// collection this big goes unchecked, and the caller is told.
		d.gaveUp, d.elems, d.keys = true, nil, nil
		r.warn(v.off, v.t.Kind().String(), "more than "+strconv.Itoa(limit)+
			" elements: not checked for repeated elements (which Redis refuses here), as that would take "+
			strconv.Itoa(elemDupBytes)+" bytes an element; ReaderOptions.MaxRepeatCheck raises the limit")
		if v.remaining == 0 {
			d.off = -1
		}
		return nil
	}
	start := d.prevEnd
	d.prevEnd = r.src.Offset()
	if start < 0 {
		start = v.off
	}
	d.elems = append(d.elems, elemDigest{sum: [2]uint64{maphash.Bytes(d.seeds[0], el.Member), maphash.Bytes(d.seeds[1], el.Member)}, off: start})
	if v.t == TypeHash && (len(el.Member) > redisMaxListpackValue || len(el.Value) > redisMaxListpackValue) {
		d.longElem = true
	}
	if v.remaining > 0 {
		return nil
	}
	// The last element: a repeat? Equal digests are neighbours once sorted;
	// of two equal elements the later is named.
	first, second := d.findRepeat()
	total := len(d.elems)
	d.off = -1
	switch {
	case second < 0:
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

// findRepeat returns the offsets of two elements with equal digests (the
// earlier, the later), or -1s.
func (d *elemDups) findRepeat() (first, second int64) {
	e := d.elems
	first, second = -1, -1
	note := func(a, b elemDigest) {
		if a.sum == b.sum {
			a, b = min2(a, b)
			if second < 0 || b.off < second {
				first, second = a.off, b.off
			}
		}
	}
	if len(e) <= 64 {
		for i := range e {
			for j := i + 1; j < len(e); j++ {
				note(e[i], e[j])
			}
		}
		return first, second
	}
	// Each element's key is its first hash with its index in the low bits;
	// an LSD radix sort of the keys (8 bytes each, 11 bits a pass: the
	// counts stay in the first-level cache) brings equal hashes together,
	// linear where a comparison sort of millions of elements is not.
	ib := bits.Len(uint(len(e)))
	if cap(d.keys) < 2*len(e) {
		d.keys = make([]uint64, 2*len(e))
	}
	src, dst := d.keys[:len(e)], d.keys[len(e):2*len(e)]
	for i, x := range e {
		src[i] = x.sum[0]>>ib<<ib | uint64(i)
	}
	const digit = 11
	var counts [1 << digit]int
	for shift := ib; shift < 64; shift += digit {
		clear(counts[:])
		for _, k := range src {
			counts[k>>shift&(1<<digit-1)]++
		}
		at := 0
		for i, c := range counts {
			counts[i] = at
			at += c
		}
		for _, k := range src {
			b := k >> shift & (1<<digit - 1)
			dst[counts[b]] = k
			counts[b]++
		}
		src, dst = dst, src
	}
	// Equal hash prefixes are neighbours; a run of them is compared whole.
	mask := uint64(1)<<ib - 1
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j]>>ib == src[i]>>ib {
			j++
		}
		for a := i; a < j; a++ {
			for b := a + 1; b < j; b++ {
				note(e[src[a]&mask], e[src[b]&mask])
			}
		}
		i = j
	}
	return first, second
}

// min2 orders two digests by offset.
func min2(a, b elemDigest) (elemDigest, elemDigest) {
	if b.off < a.off {
		return b, a
	}
	return a, b
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
