package engine

import (
	"bytes"
	"encoding/binary"
	"slices"
	"sort"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Set commands (t_set.c): SADD, SREM, SMOVE, SPOP, SINTERSTORE, SUNIONSTORE,
// SDIFFSTORE.
//
// SPOP picks members at random on a server and is logged as SREM of the
// chosen members (or DEL when the whole set goes), so a replay never
// executes a real random SPOP. When asked to, the engine pops the smallest
// members (bytewise): deterministic, but not what any given server chose.
//
// A set has Redis's three encodings, chosen as the emulated version chooses
// them: an intset (sorted integers of 2, 4 or 8 bytes, for sets of at most
// set-max-intset-entries integers), from Redis 7.2 a packed list of members
// (listpack, at most set-max-listpack-entries members of at most
// set-max-listpack-value bytes), and a dict (hashtable) for the rest.

type setEnc uint8

const (
	setIntset setEnc = iota
	setListpack
	setDict
)

type set struct {
	enc setEnc
	pk  []byte // intset: values of width w, ascending; listpack: packed members
	w   int    // intset value width in bytes: 2, 4 or 8
	n   int    // members in pk
	d   *dict
}

// Redis's defaults: set-max-intset-entries, set-max-listpack-entries and
// set-max-listpack-value.
const (
	setIntsetEntries   = 512
	setListpackEntries = 128
	setListpackValue   = 64
)

func newSetObject(s *set) *object { return &object{kind: rdb.KindSet, set: s} }

// newSetFor is setTypeCreate: the empty set that can hold first, for a command
// about to add about hint members. Before 7.2 there is no listpack, and no
// hint.
func (e *Engine) newSetFor(first []byte, hint int) *set {
	_, isInt := parseInt(first)
	if e.version() < 702 {
		if isInt {
			return &set{enc: setIntset, w: 2}
		}
		return &set{enc: setDict, d: newDict(0)}
	}
	switch {
	case isInt && hint <= setIntsetEntries:
		return &set{enc: setIntset, w: 2}
	case hint <= setListpackEntries:
		return &set{enc: setListpack}
	}
	return &set{enc: setDict, d: newDict(hint)}
}

func (s *set) len() int {
	if s.enc == setDict {
		return s.d.len()
	}
	return s.n
}

// intWidth is the intset width of v.
func intWidth(v int64) int {
	switch {
	case v >= -1<<15 && v < 1<<15:
		return 2
	case v >= -1<<31 && v < 1<<31:
		return 4
	}
	return 8
}

func (s *set) intAt(i int) int64 {
	switch s.w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(s.pk[2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(s.pk[4*i:])))
	}
	return int64(binary.LittleEndian.Uint64(s.pk[8*i:]))
}

func putInt(b []byte, w int, v int64) {
	switch w {
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, uint64(v))
	}
}

// intSearch returns the position of v in the intset, or where it would go.
func (s *set) intSearch(v int64) (int, bool) {
	i := sort.Search(s.n, func(i int) bool { return s.intAt(i) >= v })
	return i, i < s.n && s.intAt(i) == v
}

// intAdd is intsetAdd (upgrading the width when v needs more).
func (s *set) intAdd(v int64) bool {
	if w := intWidth(v); w > s.w {
		np := make([]byte, (s.n+1)*w)
		off := 0
		if v >= 0 {
			for i := 0; i < s.n; i++ {
				putInt(np[i*w:], w, s.intAt(i))
			}
			off = s.n
		} else {
			for i := 0; i < s.n; i++ {
				putInt(np[(i+1)*w:], w, s.intAt(i))
			}
		}
		putInt(np[off*w:], w, v)
		s.pk, s.w = np, w
		s.n++
		return true
	}
	i, ok := s.intSearch(v)
	if ok {
		return false
	}
	var b [8]byte
	putInt(b[:], s.w, v)
	s.pk = splice(s.pk, i*s.w, i*s.w, b[:s.w])
	s.n++
	return true
}

// packedFind returns where member starts and ends in a listpack set.
func (s *set) packedFind(m []byte) (int, int, bool) {
	for off := 0; off < len(s.pk); {
		el, next := elemAt(s.pk, off)
		if string(el) == string(m) {
			return off, next, true
		}
		off = next
	}
	return 0, 0, false
}

func (s *set) has(m []byte) bool {
	switch s.enc {
	case setIntset:
		v, ok := parseInt(m)
		if !ok {
			return false
		}
		_, ok = s.intSearch(v)
		return ok
	case setListpack:
		_, _, ok := s.packedFind(m)
		return ok
	}
	return s.d.has(m)
}

// each calls fn for every member in the encoding's order (an intset's
// ascending) until it returns false. An intset member is formatted in a
// buffer valid during the call only; fn must not change s.
func (s *set) each(fn func(m []byte) bool) {
	switch s.enc {
	case setIntset:
		var buf [20]byte
		for i := 0; i < s.n; i++ {
			if !fn(strconv.AppendInt(buf[:0], s.intAt(i), 10)) {
				return
			}
		}
	case setListpack:
		for off := 0; off < len(s.pk); {
			var el []byte
			el, off = elemAt(s.pk, off)
			if !fn(el) {
				return
			}
		}
	default:
		s.d.each(func(k, _ []byte, _ int64) bool { return fn(k) })
	}
}

// members returns the members in the encoding's order (copies for an intset,
// aliases otherwise).
func (s *set) members() [][]byte {
	out := make([][]byte, 0, s.len())
	if s.enc == setIntset {
		for i := 0; i < s.n; i++ {
			out = append(out, strconv.AppendInt(nil, s.intAt(i), 10))
		}
		return out
	}
	s.each(func(m []byte) bool {
		out = append(out, m)
		return true
	})
	return out
}

// sortedMembers returns the members sorted bytewise.
func (s *set) sortedMembers() [][]byte {
	out := s.members()
	slices.SortFunc(out, bytes.Compare)
	return out
}

// toDict converts to the dict encoding (setTypeConvert).
func (s *set) toDict(hint int) {
	d := newDict(max(hint, s.len()))
	d.reserve(0, len(s.pk)+3*s.n)
	s.each(func(m []byte) bool {
		d.set(m, nil, 0)
		return true
	})
	*s = set{enc: setDict, d: d}
}

// toListpack converts an intset to a listpack.
func (s *set) toListpack() {
	var pk []byte
	s.each(func(m []byte) bool {
		pk = appendElem(pk, m)
		return true
	})
	*s = set{enc: setListpack, pk: pk, n: s.n}
}

// add is setTypeAdd; lp allows the listpack encoding (Redis 7.2+).
func (s *set) add(m []byte, lp bool) bool {
	switch s.enc {
	case setIntset:
		if v, ok := parseInt(m); ok {
			if !s.intAdd(v) {
				return false
			}
			if s.n > setIntsetEntries {
				s.toDict(0)
			}
			return true
		}
		if lp && s.n < setListpackEntries && len(m) <= setListpackValue {
			s.toListpack()
		} else {
			s.toDict(s.n + 1)
		}
	case setListpack:
		if _, _, ok := s.packedFind(m); ok {
			return false
		}
		if s.n < setListpackEntries && len(m) <= setListpackValue {
			s.pk = appendElem(s.pk, m)
			s.n++
			return true
		}
		s.toDict(s.n + 1)
	}
	if s.enc == setListpack {
		s.pk = appendElem(s.pk, m)
		s.n++
		return true
	}
	return s.d.set(m, nil, 0)
}

// maybeConvert is setTypeMaybeConvert (7.2+): a command about to add hint
// members converts a small set that cannot hold them.
func (s *set) maybeConvert(hint int) {
	if s.enc == setListpack && hint > setListpackEntries || s.enc == setIntset && hint > setIntsetEntries {
		s.toDict(hint)
	}
}

// rem removes a member and reports whether it was there.
func (s *set) rem(m []byte) bool {
	switch s.enc {
	case setIntset:
		v, ok := parseInt(m)
		if !ok {
			return false
		}
		i, ok := s.intSearch(v)
		if !ok {
			return false
		}
		s.pk = splice(s.pk, i*s.w, (i+1)*s.w)
		s.n--
		return true
	case setListpack:
		start, end, ok := s.packedFind(m)
		if !ok {
			return false
		}
		s.pk = splice(s.pk, start, end)
		s.n--
		return true
	}
	return s.d.del(m)
}

func (s *set) dup() *set {
	n := *s
	if s.enc == setDict {
		n.d = s.d.dup()
	} else {
		n.pk = clone(s.pk)
	}
	return &n
}

// setFromValue builds a set as Redis loads one of the given RDB type: an
// intset or (7.2+) a listpack stays what it is unless it has too many members;
// other types go through setFromMembers.
func (e *Engine) setFromValue(v *rdb.Value) *set {
	switch {
	case v.Encoded == rdb.TypeSetListpack && e.version() >= 702:
		s := &set{enc: setListpack}
		for _, m := range v.Set {
			if _, _, dup := s.packedFind(m); !dup {
				s.pk = appendElem(s.pk, m)
				s.n++
			}
		}
		if s.n > setListpackEntries {
			s.toDict(s.n)
		}
		return s
	case v.Encoded == rdb.TypeSetIntset:
		s := &set{enc: setIntset, w: 2}
		for _, m := range v.Set {
			n, ok := parseInt(m)
			if !ok {
				return e.setFromMembers(v.Set)
			}
			s.intAdd(n)
		}
		if s.n > setIntsetEntries {
			s.toDict(s.n)
		}
		return s
	}
	return e.setFromMembers(v.Set)
}

// setFromMembers builds a set as Redis loads one from an RDB file (rdbLoadObject):
// a dict beyond set-max-intset-entries members, else an intset that turns
// into a listpack (7.2+, while it fits) or a dict at the first member that is
// not an integer. Members are copied.
func (e *Engine) setFromMembers(members [][]byte) *set {
	lp := e.version() >= 702
	if len(members) > setIntsetEntries {
		s := &set{enc: setDict, d: newDict(len(members))}
		for _, m := range members {
			s.d.set(m, nil, 0)
		}
		return s
	}
	s := &set{enc: setIntset, w: 2}
	maxLen := 0
	for _, m := range members {
		maxLen = max(maxLen, len(m))
		if s.enc == setIntset {
			if v, ok := parseInt(m); ok {
				s.intAdd(v)
				continue
			}
			if lp && s.n < setListpackEntries && maxLen <= setListpackValue {
				s.toListpack()
			} else {
				s.toDict(len(members))
			}
		}
		if s.enc == setListpack {
			if s.n < setListpackEntries && len(m) <= setListpackValue {
				if _, _, ok := s.packedFind(m); !ok {
					s.pk = appendElem(s.pk, m)
					s.n++
				}
				continue
			}
			s.toDict(len(members))
		}
		s.d.set(m, nil, 0)
	}
	return s
}

func registerSets() {
	register("sadd", -3, cmdSAdd)
	register("srem", -3, cmdSRem)
	register("smove", 4, cmdSMove)
	register("spop", -2, cmdSPop)
	register("sinterstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setInter) })
	register("sunionstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setUnion) })
	register("sdiffstore", -3, func(e *Engine, a [][]byte) error { return e.setOpStore(a, setDiff) })
}

func cmdSAdd(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if err != nil {
		return err
	}
	lp := e.version() >= 702
	if o == nil && len(a) > 3 {
		db.add(a[1], newSetObject(e.buildSet(a[2:])))
		return nil
	}
	if o == nil {
		o = newSetObject(e.newSetFor(a[2], len(a)-2))
		db.add(a[1], o)
	} else if lp {
		o.set.maybeConvert(len(a) - 2)
	}
	if o.set.enc == setDict {
		o.set.d.reserve(len(a)-2, argBytes(a[2:]))
	}
	for _, m := range a[2:] {
		o.set.add(m, lp)
	}
	return nil
}

// buildSet is SADD of several members to a new key, with the encodings
// setTypeAdd would go through adding them one by one: while they are
// integers the set is an intset, built at once from the sorted integers (a
// dict past set-max-intset-entries of them); from the first other member on,
// members are added one by one (conversions included) to that intset.
func (e *Engine) buildSet(members [][]byte) *set {
	lp := e.version() >= 702
	s := e.newSetFor(members[0], len(members))
	i := 0
	if s.enc == setIntset {
		var ints []int64
		for ; i < len(members); i++ {
			v, ok := parseInt(members[i])
			if !ok {
				break
			}
			ints = append(ints, v)
		}
		slices.Sort(ints)
		ints = slices.Compact(ints)
		for _, v := range ints {
			s.w = max(s.w, intWidth(v))
		}
		s.pk = make([]byte, len(ints)*s.w)
		for j, v := range ints {
			putInt(s.pk[j*s.w:], s.w, v)
		}
		s.n = len(ints)
		if s.n > setIntsetEntries {
			s.toDict(len(members))
		}
	}
	if s.enc == setDict && i < len(members) {
		s.d.reserve(len(members)-i, argBytes(members[i:]))
	}
	for _, m := range members[i:] {
		s.add(m, lp)
	}
	return s
}

// argBytes is the total length of args.
func argBytes(args [][]byte) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

func cmdSRem(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if o == nil {
		return err
	}
	for _, m := range a[2:] {
		o.set.rem(m)
		if o.set.len() == 0 {
			db.remove(a[1])
			break
		}
	}
	return nil
}

func cmdSMove(e *Engine, a [][]byte) error {
	db := e.db()
	src := e.view(db, a[1])
	dst := e.view(db, a[2])
	if src == nil {
		return nil
	}
	if src.kind != rdb.KindSet || dst != nil && dst.kind != rdb.KindSet {
		return ErrWrongType
	}
	if src == dst {
		return nil
	}
	m := a[3]
	if !src.set.rem(m) {
		return nil
	}
	if src.set.len() == 0 {
		db.remove(a[1])
	}
	if dst == nil {
		dst = newSetObject(e.newSetFor(m, 1))
		db.add(a[2], dst)
	}
	dst.set.add(m, e.version() >= 702)
	return nil
}

func cmdSPop(e *Engine, a [][]byte) error {
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
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindSet)
	if o == nil || count == 0 {
		return err
	}
	if count >= int64(o.set.len()) {
		db.remove(a[1])
		return nil
	}
	for _, m := range o.set.sortedMembers()[:count] {
		o.set.rem(m)
	}
	return nil
}

const (
	setInter = iota
	setUnion
	setDiff
)

// setOpStore is sinterGenericCommand / sunionDiffGenericCommand with a
// destination: every source is type-checked first; an empty result deletes
// the destination, anything else replaces it (without TTL). The result is
// built as Redis builds it: an intset to which the members are added in the
// sources' order, converting as they come (7.2's SINTERSTORE starts from the
// first source's encoding and ends as an intset when it can).
func (e *Engine) setOpStore(a [][]byte, op int) error {
	db := e.db()
	sets := make([]*set, 0, len(a)-2)
	missing := false
	for _, k := range a[2:] {
		o, err := e.lookupKind(db, k, rdb.KindSet)
		if err != nil {
			return err
		}
		if o == nil {
			missing = true
			sets = append(sets, nil)
			continue
		}
		sets = append(sets, o.set)
	}
	lp := e.version() >= 702
	res := &set{enc: setIntset, w: 2}
	switch op {
	case setInter:
		if missing {
			break
		}
		sort.SliceStable(sets, func(i, j int) bool { return sets[i].len() < sets[j].len() })
		if lp {
			switch sets[0].enc {
			case setIntset:
			default:
				res = &set{enc: setListpack}
			}
		}
		onlyInts := true
		sets[0].each(func(m []byte) bool {
			for _, s := range sets[1:] {
				if s != sets[0] && !s.has(m) {
					return true
				}
			}
			if _, ok := parseInt(m); !ok {
				onlyInts = false
			}
			res.add(m, lp)
			return true
		})
		if lp && onlyInts && res.enc != setIntset && res.len() <= setIntsetEntries {
			ints := &set{enc: setIntset, w: 2}
			res.each(func(m []byte) bool {
				v, _ := parseInt(m)
				ints.intAdd(v)
				return true
			})
			res = ints
		}
	case setUnion:
		for _, s := range sets {
			if s == nil {
				continue
			}
			s.each(func(m []byte) bool {
				res.add(m, lp)
				return true
			})
		}
	case setDiff:
		if sets[0] == nil {
			break
		}
		// Redis picks one of two algorithms by the sizes; they give the same
		// members, but the second adds all of the first set before removing,
		// which may leave the result in a larger encoding.
		one, two := 0, 0
		same := false
		for _, s := range sets[1:] {
			if s == sets[0] {
				same = true
			}
		}
		for _, s := range sets {
			if s != nil {
				one += sets[0].len()
				two += s.len()
			}
		}
		if same {
			break
		}
		if one/2 > two {
			sets[0].each(func(m []byte) bool {
				res.add(m, lp)
				return true
			})
			for _, s := range sets[1:] {
				if s == nil {
					continue
				}
				s.each(func(m []byte) bool {
					res.rem(m)
					return res.len() > 0
				})
				if res.len() == 0 {
					break
				}
			}
			break
		}
		sets[0].each(func(m []byte) bool {
			for _, s := range sets[1:] {
				if s != nil && s.has(m) {
					return true
				}
			}
			res.add(m, lp)
			return true
		})
	}
	if res.len() == 0 {
		e.del(db, a[1])
		return nil
	}
	e.setKey(db, a[1], newSetObject(res), false)
	return nil
}
