package engine

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Sorted-set commands (t_zset.c, geo.c): ZADD, ZINCRBY, ZREM, ZREMRANGEBY*,
// ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms, ZUNIONSTORE,
// ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE, GEOADD.

func newZSet() *object { return &object{kind: rdb.KindZSet, zset: newZSetValue()} }

func registerZSets() {
	register("zadd", -4, func(e *Engine, a [][]byte) error {
		p := e.prepared
		e.prepared = nil
		return e.zadd(a, false, p)
	})
	zaddCommand = commands["zadd"]
	register("zincrby", 4, func(e *Engine, a [][]byte) error { return e.zadd(a, true, nil) })
	register("zrem", -3, cmdZRem)
	register("zremrangebyscore", 4, func(e *Engine, a [][]byte) error { return e.zremRange(a, rangeScore) })
	register("zremrangebyrank", 4, func(e *Engine, a [][]byte) error { return e.zremRange(a, rangeRank) })
	register("zremrangebylex", 4, func(e *Engine, a [][]byte) error { return e.zremRange(a, rangeLex) })
	register("zpopmin", -2, func(e *Engine, a [][]byte) error { return e.zpopCmd(a, true) })
	register("zpopmax", -2, func(e *Engine, a [][]byte) error { return e.zpopCmd(a, false) })
	register("bzpopmin", -3, func(e *Engine, a [][]byte) error { return e.bzpop(a, true) })
	register("bzpopmax", -3, func(e *Engine, a [][]byte) error { return e.bzpop(a, false) })
	register("zmpop", -4, func(e *Engine, a [][]byte) error { return e.zmpop(a, 1) })
	register("bzmpop", -5, func(e *Engine, a [][]byte) error { return e.zmpop(a, 2) })
	register("zunionstore", -4, func(e *Engine, a [][]byte) error { return e.zsetOpStore(a, setUnion, "zunionstore") })
	register("zinterstore", -4, func(e *Engine, a [][]byte) error { return e.zsetOpStore(a, setInter, "zinterstore") })
	register("zdiffstore", -4, func(e *Engine, a [][]byte) error { return e.zsetOpStore(a, setDiff, "zdiffstore") })
	register("zrangestore", -5, cmdZRangeStore)
	register("geoadd", -5, cmdGeoAdd)
}

// zaddFlags are ZADD's options (CH changes only the reply).
type zaddFlags struct{ nx, xx, ch, incr, gt, lt bool }

// parseZAddFlags reads ZADD's options, returning where the score-member
// pairs start.
func parseZAddFlags(a [][]byte) (zaddFlags, int) {
	var f zaddFlags
	idx := 2
	for ; idx < len(a); idx++ {
		switch opt := a[idx]; {
		case is(opt, "NX"):
			f.nx = true
		case is(opt, "XX"):
			f.xx = true
		case is(opt, "CH"):
			f.ch = true
		case is(opt, "INCR"):
			f.incr = true
		case is(opt, "GT"):
			f.gt = true
		case is(opt, "LT"):
			f.lt = true
		default:
			return f, idx
		}
	}
	return f, idx
}

// zadd is zaddGenericCommand; incr is ZINCRBY. prep, when not nil, is what
// Prepare worked out from a (the scores, parsed, and their order).
func (e *Engine) zadd(a [][]byte, zincrby bool, prep *Prepared) error {
	fl, idx := parseZAddFlags(a)
	nx, xx, gt, lt := fl.nx, fl.xx, fl.gt, fl.lt
	incr := zincrby || fl.incr
	elements := len(a) - idx
	if elements%2 != 0 || elements == 0 {
		return ErrSyntax
	}
	elements /= 2
	if nx && xx {
		return &Error{"ERR XX and NX options at the same time are not compatible"}
	}
	if gt && nx || lt && nx || gt && lt {
		return &Error{"ERR GT, LT, and/or NX options at the same time are not compatible"}
	}
	if incr && elements > 1 {
		return &Error{"ERR INCR option supports a single increment-element pair"}
	}
	var scores []float64
	var order []int32
	if prep != nil && len(prep.scores) == elements {
		scores, order = prep.scores, prep.order
	} else {
		scores = make([]float64, elements)
		for j := range scores {
			var err error
			if scores[j], err = argFloat(a[idx+2*j]); err != nil {
				return err
			}
		}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindZSet)
	if err != nil {
		return err
	}
	maxLen := 0
	for j := range scores {
		maxLen = max(maxLen, len(a[idx+2*j+1]))
	}
	if o == nil {
		if xx {
			return nil
		}
		skiplist := e.newZSetSkiplist(elements, len(a[idx+1]), maxLen)
		if !incr && elements > 1 {
			if z := buildZSet(a[idx:], scores, order, skiplist, nx, gt, lt, e.argIndex(elements)); z.len() > 0 {
				db.add(a[1], &object{kind: rdb.KindZSet, zset: z})
			}
			return nil
		}
		o = newZSet()
		if skiplist {
			o.zset.toSkiplist()
		}
		db.add(a[1], o)
	} else if e.zsetMustConvert(elements, maxLen) {
		o.zset.toSkiplist()
	}
	z := o.zset
	if z.d != nil && elements > 1 {
		size := 0
		for j := range scores {
			size += 11 + len(a[idx+2*j+1])
		}
		z.d.reserve(elements, size)
		if !nx && !xx && !gt && !lt && !incr && elements >= 32 && elements*8 >= z.len() {
			members := make([][]byte, elements)
			for j := range members {
				members[j] = a[idx+2*j+1]
			}
			z.addMany(members, scores, order, e.argIndex(elements))
			return nil
		}
	}
	for j, score := range scores {
		m := a[idx+2*j+1]
		cur, exists := z.score(m)
		if exists {
			if nx {
				continue
			}
			if incr {
				score += cur
				if math.IsNaN(score) {
					return &Error{"ERR resulting score is not a number (NaN)"}
				}
			}
			if lt && score >= cur || gt && score <= cur {
				continue
			}
			z.set(m, score)
		} else if !xx {
			z.set(m, score)
		}
	}
	if z.len() == 0 { // only a new key under NX/GT/LT with nothing added
		db.remove(a[1])
	}
	return nil
}

// buildZSet is ZADD of several pairs (score, member alternating in pairs,
// scores parsed) to a new key, without INCR: the members are applied in
// order as zsetAdd would apply them (duplicates, NX/GT/LT, the conversion to
// a skiplist at the member that needs it, and -0 stored as 0 before it), then
// sorted once, rather than inserted one by one into the order. order, when
// not nil, is the pairs' indexes sorted by score and member (Prepare): when no
// member repeats, that is the sorted order of the elements, and no sort is
// needed.
func buildZSet(pairs [][]byte, scores []float64, order []int32, skiplist, nx, gt, lt bool, index *argIndex) *zset {
	els := make([]zel, 0, len(scores))
	for j, score := range scores {
		m := pairs[2*j+1]
		if i := index.lookup(m); i >= 0 {
			cur := els[i].score
			if nx || lt && score >= cur || gt && score <= cur {
				continue
			}
			if score == 0 && !skiplist {
				score = 0
			}
			els[i].score = score
			continue
		}
		if !skiplist && (len(els)+1 > zsetListpackEntries || len(m) > zsetListpackValue) {
			skiplist = true
		}
		if score == 0 && !skiplist {
			score = 0
		}
		index.add(m)
		els = append(els, zel{score, m})
	}
	// When no member repeats, els[j] is pair j, and order sorts them (only
	// -0 may have become 0, which compares the same).
	presorted := len(order) == len(els) && len(els) == len(scores)
	if !presorted {
		slices.SortFunc(els, cmpZel)
	}
	z := newZSetValue()
	if skiplist {
		z.d = newDict(len(els))
		size := 0
		for _, el := range els {
			size += 11 + len(el.member)
		}
		z.d.reserve(0, size)
	} else {
		size := 0
		for _, el := range els {
			size += 8 + elemSize(len(el.member))
		}
		z.o.blocks = []zblock{{data: make([]byte, 0, size)}}
	}
	for k := range els {
		el := els[k]
		if presorted {
			el = els[order[k]]
		}
		if skiplist {
			z.o.insertLast(el.score, el.member)
			z.d.set(el.member, scoreBytes(el.score), 0)
		} else {
			b := &z.o.blocks[0]
			b.data = appendZel(b.data, el.score, el.member)
			b.n++
			z.o.n++
		}
	}
	return z
}

// newZSetSkiplist is how ZADD creates a zset of elements members, the first
// firstLen bytes long, the longest maxLen: skiplist-encoded when Redis 7.0
// finds the first member too long for a listpack, when 7.2 also finds the
// command has too many members, or when Valkey finds any member too long
// (zsetTypeCreate).
func (e *Engine) newZSetSkiplist(elements, firstLen, maxLen int) bool {
	switch {
	case e.valkey():
		return elements > zsetListpackEntries || maxLen > zsetListpackValue
	case e.version() >= 702:
		return elements > zsetListpackEntries || firstLen > zsetListpackValue
	}
	return firstLen > zsetListpackValue
}

// zsetMustConvert is zsetTypeMaybeConvert (7.2+): ZADD of elements members,
// the longest maxLen, converts a listpack that cannot hold them first.
func (e *Engine) zsetMustConvert(elements, maxLen int) bool {
	switch {
	case e.valkey():
		return elements > zsetListpackEntries || maxLen > zsetListpackValue
	case e.version() >= 702:
		return elements > zsetListpackEntries
	}
	return false
}

func cmdZRem(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindZSet)
	if o == nil {
		return err
	}
	for _, m := range a[2:] {
		o.zset.remove(m)
		if o.zset.len() == 0 {
			db.remove(a[1])
			break
		}
	}
	return nil
}

const (
	rangeRank = iota
	rangeScore
	rangeLex
)

// scoreRange is zrangespec.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r scoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r scoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

// strtod is C's strtod as zslParseRange uses it: leading white space
// allowed, the rest must be consumed, an empty string is 0, overflow is
// ±inf; only NaN is refused.
func strtod(b []byte) (float64, bool) {
	s := string(b)
	if s == "" {
		return 0, true
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" {
		return 0, false
	}
	t2, ok := cFloatSyntax(t)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(t2, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

func parseScoreRange(minb, maxb []byte) (scoreRange, bool) {
	var r scoreRange
	var ok bool
	parse := func(b []byte) (float64, bool, bool) {
		if len(b) > 0 && b[0] == '(' {
			v, ok := strtod(b[1:])
			return v, true, ok
		}
		v, ok := strtod(b)
		return v, false, ok
	}
	if r.min, r.minex, ok = parse(minb); !ok {
		return r, false
	}
	if r.max, r.maxex, ok = parse(maxb); !ok {
		return r, false
	}
	return r, true
}

// lexBound is one end of a zlexrangespec: inf -1 is "-", +1 is "+".
type lexBound struct {
	inf int
	val []byte
	ex  bool
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+':
		return lexBound{inf: 1, ex: true}, len(b) == 1
	case '-':
		return lexBound{inf: -1, ex: true}, len(b) == 1
	case '(':
		return lexBound{val: b[1:], ex: true}, true
	case '[':
		return lexBound{val: b[1:]}, true
	}
	return lexBound{}, false
}

// cmpLex compares v with a bound (sdscmplex with the shared min/max strings).
func cmpLex(v []byte, b lexBound) int {
	switch b.inf {
	case -1:
		return 1
	case 1:
		return -1
	}
	return bytes.Compare(v, b.val)
}

type lexRange struct{ min, max lexBound }

func (r lexRange) gteMin(v []byte) bool {
	c := cmpLex(v, r.min)
	if r.min.inf == 1 {
		return false
	}
	if r.min.ex {
		return c > 0
	}
	return c >= 0
}

func (r lexRange) lteMax(v []byte) bool {
	if r.max.inf == -1 {
		return false
	}
	c := cmpLex(v, r.max)
	if r.max.ex {
		return c < 0
	}
	return c <= 0
}

func parseLexRange(minb, maxb []byte) (lexRange, bool) {
	lo, ok1 := parseLexBound(minb)
	hi, ok2 := parseLexBound(maxb)
	return lexRange{lo, hi}, ok1 && ok2
}

var (
	errScoreRange = &Error{"ERR min or max is not a float"}
	errLexRange   = &Error{"ERR min or max not valid string range item"}
)

// inScore returns the ranks [from, to) of the elements within a score range.
func (z *zset) inScore(r scoreRange) (int, int) {
	from := z.o.firstRank(func(el zel) bool { return !r.gteMin(el.score) })
	to := from
	z.o.each(from, func(el zel) bool {
		if !r.lteMax(el.score) {
			return false
		}
		to++
		return true
	})
	return from, to
}

// inLex returns the ranks [from, to) of the elements within a lex range,
// walked ascending, or descending when rev. Lex ranges assume that all
// scores are equal; when they are not, the answer depends on the encoding,
// and this is the listpack's (every small zset): the range is empty unless
// the last member is >= min and the first <= max, then the walk starts at the
// first member (from the chosen end) inside the range and stops at the first
// one outside it.
func (z *zset) inLex(r lexRange, rev bool) (int, int) {
	n := z.len()
	if n == 0 || !r.gteMin(z.o.at(n-1).member) || !r.lteMax(z.o.at(0).member) {
		return 0, 0
	}
	if rev {
		els := z.elems(true)
		i := 0
		for i < n && !r.lteMax(els[i].member) {
			i++
		}
		j := i
		for j < n && r.gteMin(els[j].member) {
			j++
		}
		return n - j, n - i
	}
	from := 0
	for from < n && !r.gteMin(z.o.at(from).member) {
		from++
	}
	to := from
	z.o.each(from, func(el zel) bool {
		if !r.lteMax(el.member) {
			return false
		}
		to++
		return true
	})
	return from, to
}

// rankRange normalizes start/end as Redis does; ok false means empty.
func rankRange(start, end, llen int64) (int64, int64, bool) {
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= llen {
		return 0, 0, false
	}
	if end >= llen {
		end = llen - 1
	}
	return start, end, true
}

func (e *Engine) zremRange(a [][]byte, kind int) error {
	var start, end int64
	var sr scoreRange
	var lr lexRange
	var err error
	var ok bool
	switch kind {
	case rangeRank:
		if start, err = argLong(a[2]); err != nil {
			return err
		}
		if end, err = argLong(a[3]); err != nil {
			return err
		}
	case rangeScore:
		if sr, ok = parseScoreRange(a[2], a[3]); !ok {
			return errScoreRange
		}
	case rangeLex:
		if lr, ok = parseLexRange(a[2], a[3]); !ok {
			return errLexRange
		}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindZSet)
	if o == nil {
		return err
	}
	z := o.zset
	var from, to int
	switch kind {
	case rangeRank:
		s, en, ok := rankRange(start, end, int64(z.len()))
		if !ok {
			return nil
		}
		from, to = int(s), int(en)+1
	case rangeScore:
		from, to = z.inScore(sr)
	case rangeLex:
		from, to = z.inLex(lr, false)
	}
	z.removeRange(from, to)
	if z.len() == 0 {
		db.remove(a[1])
	}
	return nil
}

func min64(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

// zpop removes up to count members from the low (min) or high end.
func (e *Engine) zpop(db *DB, key []byte, o *object, min bool, count int64) {
	z := o.zset
	k := int(min64(count, int64(z.len())))
	if min {
		z.removeRange(0, k)
	} else {
		z.removeRange(z.len()-k, z.len())
	}
	if z.len() == 0 {
		db.remove(key)
	}
}

// zpopFirst is genericZpopCommand over keys: the first existing key is
// popped (after its type check); missing keys are skipped.
func (e *Engine) zpopFirst(keys [][]byte, min bool, count int64) error {
	db := e.db()
	k, o, err := e.firstExisting(db, keys, rdb.KindZSet)
	if o != nil {
		e.zpop(db, k, o, min, count)
	}
	return err
}

func (e *Engine) zpopCmd(a [][]byte, min bool) error {
	if len(a) > 3 {
		return ErrSyntax
	}
	count := int64(1)
	if len(a) == 3 {
		var err error
		if count, err = argPositive(a[2]); err != nil {
			return err
		}
	}
	return e.zpopFirst(a[1:2], min, count)
}

func (e *Engine) bzpop(a [][]byte, min bool) error {
	if _, ok := parseFloat(a[len(a)-1]); !ok {
		return &Error{"ERR timeout is not a float or out of range"}
	}
	return e.zpopFirst(a[1:len(a)-1], min, 1)
}

func (e *Engine) zmpop(a [][]byte, numkeysIdx int) error {
	var min bool
	keys, count, err := mpopArgs(a, numkeysIdx, func(w []byte) error {
		switch {
		case is(w, "MIN"):
			min = true
		case is(w, "MAX"):
		default:
			return ErrSyntax
		}
		return nil
	})
	if err != nil {
		return err
	}
	return e.zpopFirst(keys, min, count)
}

// zsetOpStore is zunionInterDiffGenericCommand with a destination key.
func (e *Engine) zsetOpStore(a [][]byte, op int, name string) error {
	db := e.db()
	res, err := e.zsetOp(a[2:], op, name, func(k []byte) *object { return e.view(db, k) })
	if err != nil {
		return err
	}
	if res == nil {
		e.del(db, a[1])
		return nil
	}
	e.setKey(db, a[1], &object{kind: rdb.KindZSet, zset: res}, false)
	return nil
}

// zsetOp computes ZUNION, ZINTER or ZDIFF of a (numkeys, the keys, then
// WEIGHTS and AGGREGATE), the sources found by lookup: nil when the result is
// empty.
func (e *Engine) zsetOp(a [][]byte, op int, name string, lookup func([]byte) *object) (*zset, error) {
	setnum, err := argLong(a[0])
	if err != nil {
		return nil, err
	}
	if setnum < 1 {
		return nil, errorf("ERR at least 1 input key is needed for '%s' command", name)
	}
	if setnum > int64(len(a)-1) {
		return nil, ErrSyntax
	}
	type src struct {
		z      *zset
		set    *set
		weight float64
		id     *object
	}
	srcs := make([]src, setnum)
	for i := range srcs {
		srcs[i].weight = 1
		o := lookup(a[1+i])
		if o == nil {
			continue
		}
		switch o.kind {
		case rdb.KindZSet:
			srcs[i].z = o.zset
		case rdb.KindSet:
			srcs[i].set = o.set
		default:
			return nil, ErrWrongType
		}
		srcs[i].id = o
	}
	const (
		aggSum = iota
		aggMin
		aggMax
	)
	agg := aggSum
	for j := 1 + int(setnum); j < len(a); {
		rem := len(a) - j
		switch {
		case op != setDiff && rem >= int(setnum)+1 && is(a[j], "WEIGHTS"):
			j++
			for i := range srcs {
				w, ok := parseFloat(a[j])
				if !ok {
					return nil, &Error{"ERR weight value is not a float"}
				}
				srcs[i].weight = w
				j++
			}
		case op != setDiff && rem >= 2 && is(a[j], "AGGREGATE"):
			j++
			switch {
			case is(a[j], "SUM"):
				agg = aggSum
			case is(a[j], "MIN"):
				agg = aggMin
			case is(a[j], "MAX"):
				agg = aggMax
			default:
				return nil, ErrSyntax
			}
			j++
		default:
			return nil, ErrSyntax
		}
	}
	length := func(s src) int {
		if s.z != nil {
			return s.z.len()
		}
		if s.set != nil {
			return s.set.len()
		}
		return 0
	}
	find := func(s src, m string) (float64, bool) {
		if s.z != nil {
			return s.z.score([]byte(m))
		}
		if s.set != nil {
			return 1, s.set.has([]byte(m))
		}
		return 0, false
	}
	// each visits a source's members in its own order; the order changes no
	// result (aggregation follows the source order, not the member order).
	each := func(s src, fn func(m string, score float64)) {
		if s.z != nil {
			s.z.o.each(0, func(x zel) bool {
				fn(string(x.member), x.score)
				return true
			})
			return
		}
		if s.set != nil {
			s.set.each(func(m []byte) bool {
				fn(string(m), 1)
				return true
			})
		}
	}
	aggregate := func(target *float64, v float64) {
		switch agg {
		case aggSum:
			*target += v
			if math.IsNaN(*target) {
				*target = 0
			}
		case aggMin:
			if v < *target {
				*target = v
			}
		case aggMax:
			if v > *target {
				*target = v
			}
		}
	}
	if op != setDiff {
		sort.SliceStable(srcs, func(i, j int) bool { return length(srcs[i]) < length(srcs[j]) })
	}
	// zunionInterDiffGenericCommand builds a skiplist, then converts it when
	// it fits a listpack.
	res := newZSetValue()
	res.toSkiplist()
	switch op {
	case setInter:
		if length(srcs[0]) > 0 {
			each(srcs[0], func(m string, sc float64) {
				score := srcs[0].weight * sc
				if math.IsNaN(score) {
					score = 0
				}
				for _, s := range srcs[1:] {
					if s.id == srcs[0].id {
						aggregate(&score, sc*s.weight)
					} else if v, ok := find(s, m); ok {
						aggregate(&score, v*s.weight)
					} else {
						return
					}
				}
				res.set([]byte(m), score)
			})
		}
	case setUnion:
		acc := map[string]float64{}
		var order []string
		for _, s := range srcs {
			each(s, func(m string, sc float64) {
				score := s.weight * sc
				if math.IsNaN(score) {
					score = 0
				}
				if cur, ok := acc[m]; ok {
					aggregate(&cur, score)
					acc[m] = cur
				} else {
					acc[m] = score
					order = append(order, m)
				}
			})
		}
		for _, m := range order {
			res.set([]byte(m), acc[m])
		}
	case setDiff:
		if srcs[0].id != nil {
			each(srcs[0], func(m string, sc float64) {
				for _, s := range srcs[1:] {
					if _, ok := find(s, m); ok {
						return
					}
				}
				res.set([]byte(m), sc)
			})
		}
	}
	if res.len() == 0 {
		return nil, nil
	}
	if res.fitsListpack() {
		res.toListpack()
	}
	return res, nil
}

// zrangeSpec is what zrangeGenericCommand parses: the range (by rank,
// score or lex), its direction, LIMIT and WITHSCORES.
type zrangeSpec struct {
	kind          int
	rev           bool
	offset, limit int64
	withScores    bool
	start, end    int64
	sr            scoreRange
	lr            lexRange
}

// parseZRange parses a ZRANGE-like command whose min is a[at] (ZRANGE,
// ZRANGESTORE); kind is the range kind the command name implies (-1 for
// ZRANGE itself, which takes BYSCORE and BYLEX), rev its direction, and
// scores whether WITHSCORES is allowed.
func parseZRange(a [][]byte, at, kind int, rev, scores bool) (zrangeSpec, error) {
	sp := zrangeSpec{kind: kind, rev: rev, limit: -1}
	named := kind != -1
	for j := at + 2; j < len(a); j++ {
		left := len(a) - j - 1
		switch {
		case scores && is(a[j], "WITHSCORES"):
			sp.withScores = true
		case is(a[j], "LIMIT") && left >= 2:
			var err error
			if sp.offset, err = argLong(a[j+1]); err != nil {
				return sp, err
			}
			if sp.limit, err = argLong(a[j+2]); err != nil {
				return sp, err
			}
			j += 2
		case !named && !sp.rev && is(a[j], "REV"):
			sp.rev = true
		case !named && sp.kind == -1 && is(a[j], "BYLEX"):
			sp.kind = rangeLex
		case !named && sp.kind == -1 && is(a[j], "BYSCORE"):
			sp.kind = rangeScore
		default:
			return sp, ErrSyntax
		}
	}
	if sp.kind == -1 {
		sp.kind = rangeRank
	}
	if sp.limit != -1 && sp.kind == rangeRank {
		return sp, &Error{"ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"}
	}
	if sp.withScores && sp.kind == rangeLex {
		return sp, &Error{"ERR syntax error, WITHSCORES not supported in combination with BYLEX"}
	}
	minIdx, maxIdx := at, at+1
	if sp.rev && sp.kind != rangeRank {
		minIdx, maxIdx = maxIdx, minIdx
	}
	var ok bool
	switch sp.kind {
	case rangeRank:
		var err error
		if sp.start, err = argLong(a[minIdx]); err != nil {
			return sp, err
		}
		if sp.end, err = argLong(a[maxIdx]); err != nil {
			return sp, err
		}
	case rangeScore:
		if sp.sr, ok = parseScoreRange(a[minIdx], a[maxIdx]); !ok {
			return sp, errScoreRange
		}
	case rangeLex:
		if sp.lr, ok = parseLexRange(a[minIdx], a[maxIdx]); !ok {
			return sp, errLexRange
		}
	}
	return sp, nil
}

// pick returns the elements of z the range selects, in reply order.
func (sp zrangeSpec) pick(z *zset) []zel {
	if sp.kind == rangeRank {
		s, en, ok := rankRange(sp.start, sp.end, int64(z.len()))
		if !ok {
			return nil
		}
		if sp.rev {
			s, en = int64(z.len())-1-en, int64(z.len())-1-s
		}
		picked := z.o.rangeOf(int(s), int(en)+1)
		if sp.rev {
			slices.Reverse(picked)
		}
		return picked
	}
	var from, to int
	if sp.kind == rangeScore {
		from, to = z.inScore(sp.sr)
	} else {
		from, to = z.inLex(sp.lr, sp.rev)
	}
	in := z.o.rangeOf(from, to)
	if sp.rev {
		slices.Reverse(in)
	}
	if sp.offset < 0 || sp.offset >= int64(len(in)) {
		return nil
	}
	in = in[sp.offset:]
	if sp.limit >= 0 && int64(len(in)) > sp.limit {
		in = in[:sp.limit]
	}
	return in
}

func cmdZRangeStore(e *Engine, a [][]byte) error {
	sp, err := parseZRange(a, 3, -1, false, false)
	if err != nil {
		return err
	}
	db := e.db()
	o, err := e.lookupKind(db, a[2], rdb.KindZSet)
	if err != nil {
		return err
	}
	var picked []zel
	if o != nil {
		picked = sp.pick(o.zset)
	}
	if len(picked) == 0 {
		e.del(db, a[1])
		return nil
	}
	// zrangeResultBeginStore: a skiplist when a rank range has more members
	// than a listpack holds, else a listpack that converts as members come.
	res := newZSetValue()
	if sp.kind == rangeRank && len(picked) > zsetListpackEntries {
		res.toSkiplist()
	}
	for _, x := range picked {
		res.set(x.member, x.score)
	}
	e.setKey(db, a[1], &object{kind: rdb.KindZSet, zset: res}, false)
	return nil
}

// Geo encoding (geohash.h): 26 steps per axis, a 52-bit interleaved score.
const (
	geoLatMin  = -85.05112878
	geoLatMax  = 85.05112878
	geoLongMin = -180
	geoLongMax = 180
	geoStep    = 26
)

func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<s[i]) & b[i]
		y = (y | y<<s[i]) & b[i]
	}
	return x | y<<1
}

// geoScore is geohashEncodeWGS84 + geohashAlign52Bits.
func geoScore(long, lat float64) float64 {
	latOff := (lat - geoLatMin) / (geoLatMax - geoLatMin) * (1 << geoStep)
	longOff := (long - geoLongMin) / float64(geoLongMax-geoLongMin) * (1 << geoStep)
	return float64(interleave64(uint32(latOff), uint32(longOff)))
}

// cmdGeoAdd is geoaddCommand: options NX, XX, CH, then triplets, executed as
// the ZADD it turns into.
func cmdGeoAdd(e *Engine, a [][]byte) error {
	idx := 2
	nx, xx := false, false
loop:
	for ; idx < len(a); idx++ {
		switch {
		case is(a[idx], "NX"):
			nx = true
		case is(a[idx], "XX"):
			xx = true
		case is(a[idx], "CH"):
		default:
			break loop
		}
	}
	if (len(a)-idx)%3 != 0 || nx && xx {
		return ErrSyntax
	}
	z := [][]byte{[]byte("zadd")}
	z = append(z, a[1:idx]...)
	for i := idx; i < len(a); i += 3 {
		long, ok1 := parseFloat(a[i])
		if !ok1 {
			return ErrNotFloat
		}
		lat, ok2 := parseFloat(a[i+1])
		if !ok2 {
			return ErrNotFloat
		}
		if long < geoLongMin || long > geoLongMax || lat < geoLatMin || lat > geoLatMax {
			return errorf("ERR invalid longitude,latitude pair %s,%s", cFixed6(long), cFixed6(lat))
		}
		z = append(z, strconv.AppendFloat(nil, geoScore(long, lat), 'f', -1, 64), a[i+2])
	}
	return e.zadd(z, false, nil)
}

// cFixed6 is C's "%f".
func cFixed6(f float64) string { return fmt.Sprintf("%f", f) }
