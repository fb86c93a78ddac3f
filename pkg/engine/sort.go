package engine

import (
	"bytes"
	"math"
	"slices"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// SORT (sort.c sortCommandGeneric). Only SORT ... STORE changes the dataset
// (and is what an AOF carries); without STORE the command is checked and
// does nothing. The result stored is deterministic in Redis except for ALPHA
// with a BY pattern whose weights tie (equal or missing), where Redis's
// order depends on its set/hash iteration order and qsort; the engine then
// keeps the source order (list order, zset score order, set members
// bytewise).

func registerSort() {
	register("sort", -2, cmdSort)
}

type sortItem struct {
	obj    []byte
	score  float64
	cmpobj []byte
	hasCmp bool
}

func cmdSort(e *Engine, a [][]byte) error {
	var desc, alpha, dontsort bool
	limitStart, limitCount := int64(0), int64(-1)
	var sortby, store []byte
	var gets [][]byte
	for j := 2; j < len(a); j++ {
		left := len(a) - j - 1
		switch {
		case is(a[j], "ASC"):
			desc = false
		case is(a[j], "DESC"):
			desc = true
		case is(a[j], "ALPHA"):
			alpha = true
		case is(a[j], "LIMIT") && left >= 2:
			var err error
			if limitStart, err = argLong(a[j+1]); err != nil {
				return err
			}
			if limitCount, err = argLong(a[j+2]); err != nil {
				return err
			}
			j += 2
		case is(a[j], "STORE") && left >= 1:
			store = a[j+1]
			j++
		case is(a[j], "BY") && left >= 1:
			sortby = a[j+1]
			dontsort = bytes.IndexByte(cString(sortby), '*') < 0
			j++
		case is(a[j], "GET") && left >= 1:
			gets = append(gets, a[j+1])
			j++
		default:
			return ErrSyntax
		}
	}
	db := e.db()
	o := e.view(db, a[1])
	kind := rdb.KindList
	if o != nil {
		kind = o.kind
		if kind != rdb.KindList && kind != rdb.KindSet && kind != rdb.KindZSet {
			return ErrWrongType
		}
	}
	if dontsort && kind == rdb.KindSet && store != nil {
		dontsort, alpha, sortby = false, true, nil
	}
	if kind == rdb.KindZSet {
		o.zset.toSkiplist() // sort.c converts the zset it sorts, for good
	}
	var elems [][]byte
	if o != nil {
		switch kind {
		case rdb.KindList:
			elems = o.list.slice()
		case rdb.KindSet:
			elems = o.set.sortedMembers()
		case rdb.KindZSet:
			o.zset.o.each(0, func(x zel) bool {
				elems = append(elems, x.member)
				return true
			})
		}
	}
	n := int64(len(elems))
	start := min(max(limitStart, 0), n)
	limitCount = min(max(limitCount, -1), n)
	end := n - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}
	if dontsort && kind != rdb.KindSet {
		if desc {
			slices.Reverse(elems)
		}
		if end >= start {
			elems = elems[start : end+1]
		} else {
			elems = nil
		}
		end -= start
		start = 0
	}
	items := make([]sortItem, len(elems))
	convErr := false
	for i, el := range elems {
		items[i].obj = el
		if dontsort {
			continue
		}
		byval := el
		if sortby != nil {
			v, ok := e.sortLookup(db, sortby, el)
			if !ok {
				continue
			}
			byval = v
		}
		if alpha {
			if sortby != nil {
				items[i].cmpobj, items[i].hasCmp = byval, true
			}
		} else {
			f, ok := sortScore(byval)
			if !ok {
				convErr = true
			}
			items[i].score = f
		}
	}
	if !dontsort {
		slices.SortStableFunc(items, func(x, y sortItem) int {
			var c int
			switch {
			case !alpha:
				switch {
				case x.score > y.score:
					c = 1
				case x.score < y.score:
					c = -1
				default:
					c = bytes.Compare(x.obj, y.obj)
				}
			case sortby != nil:
				switch {
				case !x.hasCmp || !y.hasCmp:
					if x.hasCmp == y.hasCmp {
						c = 0
					} else if !x.hasCmp {
						c = -1
					} else {
						c = 1
					}
				default:
					c = bytes.Compare(x.cmpobj, y.cmpobj)
				}
			default:
				c = bytes.Compare(x.obj, y.obj)
			}
			if desc {
				return -c
			}
			return c
		})
	}
	if convErr {
		return &Error{"ERR One or more scores can't be converted into double"}
	}
	if store == nil {
		return nil
	}
	out := newList()
	for j := start; j <= end; j++ {
		el := items[j].obj
		if len(gets) == 0 {
			out.list.pushBack(el)
			continue
		}
		for _, g := range gets {
			v, _ := e.sortLookup(db, g, el)
			out.list.pushBack(v)
		}
	}
	if out.list.len() > 0 {
		e.listLoaded(out.list)
		e.setKey(db, store, out, false)
	} else {
		e.del(db, store)
	}
	return nil
}

// cString is b as C's string functions see it: up to the first NUL.
func cString(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// sortLookup is lookupKeyByPattern: "#" is the element itself, otherwise the
// first '*' is replaced by the element and the key's string value is
// returned, or the hash field after "->".
func (e *Engine) sortLookup(db *DB, pattern, subst []byte) ([]byte, bool) {
	if len(pattern) > 0 && pattern[0] == '#' && (len(pattern) == 1 || pattern[1] == 0) {
		return subst, true
	}
	cpat := cString(pattern)
	p := bytes.IndexByte(cpat, '*')
	if p < 0 {
		return nil, false
	}
	var field []byte
	hasField := false
	if f := bytes.Index(cpat[p+1:], []byte("->")); f >= 0 {
		f += p + 1
		if f+2 < len(cpat) {
			field, hasField = pattern[f+2:], true
		}
	}
	post := pattern[p+1:]
	if hasField {
		post = pattern[p+1 : len(pattern)-len(field)-2]
	}
	key := make([]byte, 0, p+len(subst)+len(post))
	key = append(append(append(key, pattern[:p]...), subst...), post...)
	o := e.view(db, key)
	if o == nil {
		return nil, false
	}
	if hasField {
		if o.kind != rdb.KindHash {
			return nil, false
		}
		v, ttl, ok := o.hash.get(field)
		if !ok || (e.live() && ttl != 0 && ttl <= e.now()) {
			return nil, false
		}
		return v, true
	}
	if o.kind != rdb.KindString {
		return nil, false
	}
	return o.str, true
}

// sortScore is SORT's strtod of a weight: leading white space and a NUL
// end the conversion as in C; trailing garbage, NaN and ERANGE are errors,
// the empty string is 0. Redis also fails when errno holds an ERANGE left
// by an earlier command (sort.c does not clear it), which the engine cannot
// know.
func sortScore(b []byte) (float64, bool) {
	b = cString(b)
	if len(b) == 0 {
		return 0, true
	}
	s := bytes.TrimLeft(b, " \t\n\v\f\r")
	if len(s) == 0 {
		return 0, false
	}
	f, ok := parseFloat(s)
	if ok && f != 0 && math.Abs(f) < 0x1p-1022 {
		return f, false // glibc's ERANGE for a subnormal result
	}
	return f, ok
}
