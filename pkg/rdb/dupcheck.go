package rdb

import (
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

// elemDups follows the elements of the current plain set, sorted set or hash.
type elemDups struct {
	off      int64 // the value's offset: state belongs to that value
	seen     dupSet
	prevEnd  int64  // where the element being read began
	dupOff   int64  // the first repeat, when not yet refused
	dupElem  []byte //
	longElem bool   // a field or value longer than hash-max-listpack-value
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
	if r.dups == nil {
		r.dups = &elemDups{seen: newDupSet(), off: -1}
	}
	d := r.dups
	if d.off != v.off {
		d.off, d.dupOff, d.dupElem, d.longElem = v.off, -1, d.dupElem[:0], false
		d.seen.reset()
		d.prevEnd = -1
	}
	start := d.prevEnd
	d.prevEnd = r.src.offset()
	if start < 0 {
		start = v.off
	}
	if !d.seen.add(el.Member) && d.dupOff < 0 {
		d.dupOff, d.dupElem = start, append(d.dupElem[:0], el.Member...)
	}
	if v.t != TypeHash {
		if d.dupOff >= 0 {
			return r.dupErr(d.dupOff, v.t.Kind().String(), d.dupElem, "Redis refuses any repeat here")
		}
		return nil
	}
	if len(el.Member) > redisMaxListpackValue || len(el.Value) > redisMaxListpackValue {
		d.longElem = true
	}
	total := v.count + 1 + v.remaining
	switch {
	case d.dupOff < 0:
		return nil
	case total > redisMaxHashListpack:
		return r.dupErr(d.dupOff, "hash", d.dupElem, "the hash has "+strconv.FormatUint(total, 10)+
			" fields, more than hash-max-listpack-entries ("+strconv.Itoa(redisMaxHashListpack)+"), so Redis builds a dictionary and refuses the repeat")
	case d.longElem:
		return r.dupErr(d.dupOff, "hash", d.dupElem, "a field or value is longer than hash-max-listpack-value ("+
			strconv.Itoa(redisMaxListpackValue)+"), so Redis builds a dictionary and refuses the repeat")
	}
	return nil
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
	if r.dups == nil {
		r.dups = &elemDups{seen: newDupSet(), off: -1}
	}
	r.dups.seen.reset()
	r.dups.off = -1 // the element state is not this value's any more
	return &r.dups.seen
}
