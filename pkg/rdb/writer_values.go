package rdb

import (
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/persist"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/intset"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/ziplist"
)

// arena holds copies of buffered elements.
type arena struct {
	data []byte
	ends []int
}

func (a *arena) add(b []byte) {
	a.data = append(a.data, b...)
	a.ends = append(a.ends, len(a.data))
}

func (a *arena) get(i int) []byte {
	start := 0
	if i > 0 {
		start = a.ends[i-1]
	}
	return a.data[start:a.ends[i]:a.ends[i]]
}

func (a *arena) len() int { return len(a.ends) }

func (a *arena) reset() {
	if cap(a.data) > 1<<20 {
		a.data = nil
	}
	a.data, a.ends = a.data[:0], a.ends[:0]
}

// wantElem checks an element's kind.
func (w *Writer) wantElem(el *Elem, want ElemKind) error {
	if el == nil || el.Kind != want {
		got := "nil"
		if el != nil {
			got = el.Kind.String()
		}
		return w.keyErr(w.key.kind.String(), ErrInvalidValue, "expected a "+want.String()+" element, got "+got)
	}
	return nil
}

// checkDup reports a repeated member or field. Buffered (small) values are
// always checked; big ones unless NoDuplicateCheck.
func (w *Writer) checkDup(b []byte, what string, big bool) error {
	if big && w.opts.NoDuplicateCheck || w.opts.UniqueElements {
		return nil
	}
	if !w.dups.add(b) {
		return w.keyErr(w.key.kind.String(), ErrDuplicate, what+" "+QuoteBytes(b)+" appears twice")
	}
	return nil
}

func (w *Writer) emptyErr() error {
	return w.keyErr(w.key.kind.String(), ErrInvalidValue, "empty "+w.key.kind.String()+" (Redis drops empty collections when loading)")
}

// knownCount is the announced count, or have when it was not announced.
func (w *Writer) knownCount(have int) uint64 {
	if w.key.count != UnknownCount {
		return w.key.count
	}
	return uint64(have)
}

// spoolStr appends an RDB string to spool slot i (spoolItems, ...).
func (w *Writer) spoolStr(i int, parts ...[]byte) error {
	w.scratch = w.scratch[:0]
	for _, p := range parts {
		w.scratch = w.str.appendStr(w.scratch, p)
	}
	if err := w.spools[i].write(w.scratch); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// ---- strings and modules

type stringEnc struct{}

func (stringEnc) start(*Writer) error { return nil }

func (stringEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemString); err != nil {
		return err
	}
	if w.key.headerDone {
		return w.keyErr("string", ErrInvalidValue, "a string has exactly one element")
	}
	w.beginValue(TypeString)
	if err := w.emitStr(el.Member); err != nil {
		return w.ioErr(err)
	}
	return nil
}

func (stringEnc) end(w *Writer) error {
	if !w.key.headerDone {
		return w.keyErr("string", ErrInvalidValue, "no string value given")
	}
	return nil
}

type moduleEnc struct{}

func (moduleEnc) start(*Writer) error { return nil }

func (moduleEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemModule); err != nil {
		return err
	}
	m := el.Module
	if m == nil || w.key.headerDone {
		return w.keyErr("module value", ErrInvalidValue, "a module key has exactly one non-nil module element")
	}
	if err := checkModuleRaw(m.Raw); err != nil {
		return w.keyErr("module value", ErrInvalidValue, err.Error())
	}
	w.beginValue(TypeModule2)
	w.out.buf = appendLen(w.out.buf, m.ID)
	if err := w.out.write(m.Raw); err != nil {
		return w.ioErr(err)
	}
	return nil
}

func (moduleEnc) end(w *Writer) error {
	if !w.key.headerDone {
		return w.keyErr("module value", ErrInvalidValue, "no module value given")
	}
	return nil
}

// ---- lists

// optimizationLevel are the node sizes of negative list-max-listpack-size.
var optimizationLevel = [...]int{4096, 8192, 16384, 32768, 65536}

const sizeSafetyLimit = 8192

func negFillLimit(fill int) int {
	off := -(int64(fill)) - 1
	if off >= int64(len(optimizationLevel)) || off < 0 {
		off = int64(len(optimizationLevel)) - 1
	}
	return optimizationLevel[off]
}

// exceedsLimit is quicklistNodeExceedsLimit (Redis 7.2+).
func exceedsLimit(fill, newSz, newCount int) bool {
	if fill < 0 {
		return newSz > negFillLimit(fill)
	}
	limit := fill
	if fill == 0 {
		limit = 1
	}
	if newSz > sizeSafetyLimit {
		return true
	}
	return newCount > limit
}

// allowInsertOld is _quicklistNodeAllowInsert of Redis 3.2-7.0 after its size
// estimate.
func allowInsertOld(fill, newSz, count int) bool {
	if fill < 0 {
		off := -(int64(fill)) - 1
		if off >= 0 && off < int64(len(optimizationLevel)) && newSz <= optimizationLevel[off] {
			return true
		}
	}
	if newSz > sizeSafetyLimit {
		return false
	}
	return count < fill
}

// listEnc builds quicklist nodes as RPUSH would fill them on the target.
type listEnc struct {
	zl      ziplist.Builder
	lp      listpack.Builder
	ziplist bool // version ≤ 9: type 14 of ziplists
	lpPhase bool // version ≥ 11: still a single listpack-encoded list
	open    bool // the tail node is in the builder
	count   int  // elements in the tail node
	nodes   uint64
}

func (l *listEnc) start(w *Writer) error {
	l.zl.Reset()
	l.lp.Reset()
	l.ziplist = w.opts.Version < 10
	l.lpPhase = w.opts.Version >= 11
	l.open, l.count, l.nodes = false, 0, 0
	return nil
}

func (l *listEnc) tailSize() int {
	if l.ziplist {
		return l.zl.Size()
	}
	return l.lp.Size()
}

func (l *listEnc) isLarge(w *Writer, n int) bool {
	if l.ziplist {
		return false
	}
	if t := w.enc.ListPackedThreshold; t > 0 {
		return int64(n) >= t
	}
	fill := w.enc.ListMaxListpackSize
	if fill >= 0 {
		return n > sizeSafetyLimit
	}
	return n > negFillLimit(fill)
}

func (l *listEnc) allowInsert(w *Writer, n int) bool {
	fill := w.enc.ListMaxListpackSize
	sz := l.tailSize()
	switch v := w.opts.Version; {
	case v <= 9:
		overhead := 5
		if n < 254 {
			overhead = 1
		}
		switch {
		case n < 64:
			overhead++
		case n < 16384:
			overhead += 2
		default:
			overhead += 5
		}
		return allowInsertOld(fill, sz+n+overhead, l.count)
	case v == 10:
		return allowInsertOld(fill, sz+n+8, l.count)
	}
	return !exceedsLimit(fill, sz+n+8, l.count+1)
}

func (l *listEnc) appendTail(b []byte) {
	if l.ziplist {
		l.zl.AppendString(b)
	} else {
		l.lp.AppendString(b)
	}
	l.open = true
	l.count++
}

// nodeBytes encodes the tail node (container and blob).
func (l *listEnc) nodeBytes(w *Writer, dst []byte) []byte {
	if l.ziplist {
		return w.str.appendStr(dst, l.zl.Bytes())
	}
	dst = appendLen(dst, 2) // QUICKLIST_NODE_CONTAINER_PACKED
	return w.str.appendStr(dst, l.lp.Bytes())
}

func (l *listEnc) finishTail(w *Writer) error {
	if !l.open {
		return nil
	}
	w.scratch = l.nodeBytes(w, w.scratch[:0])
	if err := w.spools[spoolItems].write(w.scratch); err != nil {
		return w.ioErr(err)
	}
	l.nodes++
	l.zl.Reset()
	l.lp.Reset()
	l.open, l.count = false, 0
	return nil
}

func (l *listEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemMember); err != nil {
		return err
	}
	b := el.Member
	n := len(b)
	if l.lpPhase {
		if !exceedsLimit(w.enc.ListMaxListpackSize, l.lp.Size()+n, l.count+1) {
			l.appendTail(b)
			return nil
		}
		l.lpPhase = false // converted to a quicklist: the listpack is its first node
	}
	if l.isLarge(w, n) {
		if err := l.finishTail(w); err != nil {
			return err
		}
		w.scratch = appendLen(w.scratch[:0], 1) // QUICKLIST_NODE_CONTAINER_PLAIN
		w.scratch = w.str.appendStr(w.scratch, b)
		if err := w.spools[spoolItems].write(w.scratch); err != nil {
			return w.ioErr(err)
		}
		l.nodes++
		return nil
	}
	if l.open && l.allowInsert(w, n) {
		l.appendTail(b)
		return nil
	}
	if err := l.finishTail(w); err != nil {
		return err
	}
	l.appendTail(b)
	return nil
}

func (l *listEnc) end(w *Writer) error {
	if w.key.n == 0 {
		return w.emptyErr()
	}
	t := TypeListQuicklist2
	if l.ziplist {
		t = TypeListQuicklist
	}
	w.beginValue(t)
	total := l.nodes
	if l.open {
		total++
	}
	w.out.buf = appendLen(w.out.buf, total)
	if err := w.spools[spoolItems].copyTo(&w.out); err != nil {
		return w.ioErr(err)
	}
	if l.open {
		w.out.buf = l.nodeBytes(w, w.out.buf)
	}
	if err := w.out.maybeFlush(); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// ---- sets

type setEnc struct {
	a       arena
	ints    []int64
	allInts bool
	maxLen  int
	big     bool
	direct  bool // big, count known: written straight to the output
	lp      listpack.Builder
	blob    []byte
}

func (s *setEnc) start(w *Writer) error {
	s.a.reset()
	s.ints, s.allInts, s.maxLen, s.big, s.direct = s.ints[:0], true, 0, false, false
	if c := w.key.count; c != UnknownCount && c > uint64(w.enc.SetMaxIntsetEntries) &&
		(w.opts.Version < 11 || c > uint64(w.enc.SetMaxListpackEntries)) {
		return s.goBig(w)
	}
	return nil
}

func (s *setEnc) useIntset(w *Writer, n uint64) bool {
	return s.allInts && n <= uint64(w.enc.SetMaxIntsetEntries)
}

func (s *setEnc) useListpack(w *Writer, n uint64) bool {
	return w.opts.Version >= 11 && n <= uint64(w.enc.SetMaxListpackEntries) && s.maxLen <= w.enc.SetMaxListpackValue
}

func (s *setEnc) goBig(w *Writer) error {
	s.big = true
	if w.key.count != UnknownCount {
		s.direct = true
		w.beginValue(TypeSet)
		w.out.buf = appendLen(w.out.buf, w.key.count)
		for i := 0; i < s.a.len(); i++ {
			if err := w.emitStr(s.a.get(i)); err != nil {
				return w.ioErr(err)
			}
		}
	} else {
		for i := 0; i < s.a.len(); i++ {
			if err := w.spoolStr(spoolItems, s.a.get(i)); err != nil {
				return err
			}
		}
	}
	s.a.reset()
	return nil
}

func (s *setEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemMember); err != nil {
		return err
	}
	b := el.Member
	if err := w.checkDup(b, "member", s.big); err != nil {
		return err
	}
	if s.big {
		if s.direct {
			if err := w.emitStr(b); err != nil {
				return w.ioErr(err)
			}
			return nil
		}
		return w.spoolStr(spoolItems, b)
	}
	s.a.add(b)
	s.maxLen = max(s.maxLen, len(b))
	if s.allInts {
		if v, ok := codec.ParseCanonicalInt(b); ok {
			s.ints = append(s.ints, v)
		} else {
			s.allInts = false
		}
	}
	n := w.knownCount(s.a.len())
	if !s.useIntset(w, n) && !s.useListpack(w, n) {
		return s.goBig(w)
	}
	return nil
}

func (s *setEnc) end(w *Writer) error {
	n := w.key.n
	if n == 0 {
		return w.emptyErr()
	}
	if s.big {
		if !s.direct {
			w.beginValue(TypeSet)
			w.out.buf = appendLen(w.out.buf, n)
			if err := w.spools[spoolItems].copyTo(&w.out); err != nil {
				return w.ioErr(err)
			}
		}
		return nil
	}
	if s.useIntset(w, n) {
		slices.Sort(s.ints)
		s.blob = intset.Build(s.blob, s.ints)
		w.beginValue(TypeSetIntset)
		return w.emitBlob(s.blob)
	}
	s.lp.Reset()
	for i := 0; i < s.a.len(); i++ {
		s.lp.AppendString(s.a.get(i))
	}
	w.beginValue(TypeSetListpack)
	return w.emitBlob(s.lp.Bytes())
}

func (w *Writer) emitBlob(b []byte) error {
	if err := w.emitStr(b); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// ---- sorted sets

type zsetEnc struct {
	a      arena
	scores []float64
	order  []int
	maxLen int
	big    bool
	direct bool
	lp     listpack.Builder
	zl     ziplist.Builder
	tmp    []byte
}

func (z *zsetEnc) start(w *Writer) error {
	z.a.reset()
	z.scores, z.maxLen, z.big, z.direct = z.scores[:0], 0, false, false
	if c := w.key.count; c != UnknownCount && c > uint64(w.enc.ZSetMaxListpackEntries) {
		return z.goBig(w)
	}
	return nil
}

func (w *Writer) zsetBigType() Type {
	if w.opts.Version < 8 {
		return TypeZSet
	}
	return TypeZSet2
}

func (w *Writer) appendBigScore(dst []byte, f float64) []byte {
	if w.opts.Version < 8 {
		return appendRDBTextScore(dst, f)
	}
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func (z *zsetEnc) goBig(w *Writer) error {
	z.big = true
	if w.key.count != UnknownCount {
		z.direct = true
		w.beginValue(w.zsetBigType())
		w.out.buf = appendLen(w.out.buf, w.key.count)
	}
	for i := 0; i < z.a.len(); i++ {
		if err := z.writeBig(w, z.a.get(i), z.scores[i]); err != nil {
			return err
		}
	}
	z.a.reset()
	return nil
}

func (z *zsetEnc) writeBig(w *Writer, m []byte, score float64) error {
	if z.direct {
		if err := w.emitStr(m); err != nil {
			return w.ioErr(err)
		}
		w.out.buf = w.appendBigScore(w.out.buf, score)
		return nil
	}
	w.scratch = w.str.appendStr(w.scratch[:0], m)
	w.scratch = w.appendBigScore(w.scratch, score)
	if err := w.spools[spoolItems].write(w.scratch); err != nil {
		return w.ioErr(err)
	}
	return nil
}

func (z *zsetEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemZMember); err != nil {
		return err
	}
	if math.IsNaN(el.Score) {
		return w.keyErr("zset", ErrInvalidValue, "member "+QuoteBytes(el.Member)+" has a NaN score")
	}
	if err := w.checkDup(el.Member, "member", z.big); err != nil {
		return err
	}
	if z.big {
		return z.writeBig(w, el.Member, el.Score)
	}
	z.a.add(el.Member)
	z.scores = append(z.scores, el.Score)
	z.maxLen = max(z.maxLen, len(el.Member))
	if w.knownCount(z.a.len()) > uint64(w.enc.ZSetMaxListpackEntries) || z.maxLen > w.enc.ZSetMaxListpackValue {
		return z.goBig(w)
	}
	return nil
}

func (z *zsetEnc) end(w *Writer) error {
	n := w.key.n
	if n == 0 {
		return w.emptyErr()
	}
	if z.big {
		if !z.direct {
			w.beginValue(w.zsetBigType())
			w.out.buf = appendLen(w.out.buf, n)
			if err := w.spools[spoolItems].copyTo(&w.out); err != nil {
				return w.ioErr(err)
			}
		}
		return nil
	}
	z.order = z.order[:0]
	for i := 0; i < z.a.len(); i++ {
		z.order = append(z.order, i)
	}
	slices.SortFunc(z.order, func(a, b int) int { return persist.CompareZ(z.scores[a], z.a.get(a), z.scores[b], z.a.get(b)) })
	v := w.opts.Version
	if v <= 9 {
		z.zl.Reset()
		for _, i := range z.order {
			z.zl.AppendString(z.a.get(i))
			z.tmp = appendD2String62(z.tmp[:0], z.scores[i])
			z.zl.AppendString(z.tmp)
		}
		w.beginValue(TypeZSetZiplist)
		return w.emitBlob(z.zl.Bytes())
	}
	z.lp.Reset()
	for _, i := range z.order {
		z.lp.AppendString(z.a.get(i))
		f := z.scores[i]
		if ll, ok := double2ll(f); ok && !(f == 0 && math.Signbit(f)) {
			z.lp.AppendInt(ll)
			continue
		}
		switch {
		case f == 0: // -0: kept as text (Redis 7 stores integer 0)
			z.tmp = append(z.tmp[:0], "-0"...)
		case math.IsInf(f, 1):
			z.tmp = append(z.tmp[:0], "inf"...)
		case math.IsInf(f, -1):
			z.tmp = append(z.tmp[:0], "-inf"...)
		case v == 10:
			z.tmp = appendG17(z.tmp[:0], f)
		default:
			z.tmp = appendFpconv(z.tmp[:0], f)
		}
		z.lp.AppendString(z.tmp)
	}
	w.beginValue(TypeZSetListpack)
	return w.emitBlob(z.lp.Bytes())
}

// appendD2String62 renders a score as Redis ≤ 6.2's d2string (ziplist zsets).
func appendD2String62(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	if v, ok := small2ll(f); ok {
		return strconv.AppendInt(dst, v, 10)
	}
	return appendG17(dst, f)
}

// ---- hashes

type hashEnc struct {
	a          arena // field, value, field, value, ...
	exp        []int64
	maxLen     int
	anyTTL     bool
	minExp     int64
	big        bool
	direct     bool // big, no TTL possible, count known
	neutral    bool // big on a TTL-capable target: spooled until the type is known
	ttlCapable bool
	lp         listpack.Builder
	zl         ziplist.Builder
	order      []int
	rf, rv     []byte
}

func (h *hashEnc) start(w *Writer) error {
	h.a.reset()
	h.exp, h.maxLen, h.anyTTL, h.minExp = h.exp[:0], 0, false, 0
	h.big, h.direct, h.neutral = false, false, false
	h.ttlCapable = w.valkey80() || (w.opts.Version >= 12 && !w.opts.Valkey)
	if c := w.key.count; c != UnknownCount && c > uint64(w.enc.HashMaxListpackEntries) {
		return h.goBig(w)
	}
	return nil
}

func (h *hashEnc) goBig(w *Writer) error {
	h.big = true
	switch {
	case h.ttlCapable:
		h.neutral = true
	case w.key.count != UnknownCount:
		h.direct = true
		w.beginValue(TypeHash)
		w.out.buf = appendLen(w.out.buf, w.key.count)
	}
	for i := 0; i < len(h.exp); i++ {
		if err := h.writeBig(w, h.a.get(2*i), h.a.get(2*i+1), h.exp[i]); err != nil {
			return err
		}
	}
	h.a.reset()
	h.exp = h.exp[:0]
	return nil
}

func (h *hashEnc) writeBig(w *Writer, f, v []byte, exp int64) error {
	switch {
	case h.neutral:
		w.scratch = binary.AppendUvarint(w.scratch[:0], uint64(len(f)))
		w.scratch = append(w.scratch, f...)
		w.scratch = binary.AppendUvarint(w.scratch, uint64(len(v)))
		w.scratch = append(w.scratch, v...)
		w.scratch = binary.AppendVarint(w.scratch, exp)
		if err := w.spools[spoolItems].write(w.scratch); err != nil {
			return w.ioErr(err)
		}
		return nil
	case h.direct:
		if err := w.emitStr(f); err != nil {
			return w.ioErr(err)
		}
		if err := w.emitStr(v); err != nil {
			return w.ioErr(err)
		}
		return nil
	}
	return w.spoolStr(spoolItems, f, v)
}

func (h *hashEnc) elem(w *Writer, el *Elem) error {
	if err := w.wantElem(el, ElemField); err != nil {
		return err
	}
	exp := el.ExpireAtMs
	if exp != 0 {
		if exp < 0 || exp > ebExpireTimeMax {
			return w.keyErr("hash field", ErrInvalidValue, "field "+QuoteBytes(el.Member)+" has expiry "+strconv.FormatInt(exp, 10)+" (must be 1 .. 2^48-1 ms)")
		}
		if !h.ttlCapable {
			if !w.opts.DropFieldTTLs {
				return w.keyErr("hash field TTLs", w.unsupported("hash field TTLs", "RDB 12 (Redis 7.4) or VALKEY080", FeatureFieldTTLs), "")
			}
			w.dropped[FeatureFieldTTLs]++
			exp = 0
		}
	}
	if err := w.checkDup(el.Member, "field", h.big); err != nil {
		return err
	}
	if exp != 0 {
		if !h.anyTTL || exp < h.minExp {
			h.minExp = exp
		}
		h.anyTTL = true
	}
	if h.big {
		return h.writeBig(w, el.Member, el.Value, exp)
	}
	h.a.add(el.Member)
	h.a.add(el.Value)
	h.exp = append(h.exp, exp)
	h.maxLen = max(h.maxLen, len(el.Member), len(el.Value))
	if w.knownCount(len(h.exp)) > uint64(w.enc.HashMaxListpackEntries) || h.maxLen > w.enc.HashMaxListpackValue {
		return h.goBig(w)
	}
	return nil
}

func (h *hashEnc) end(w *Writer) error {
	n := w.key.n
	if n == 0 {
		return w.emptyErr()
	}
	o := &w.out
	switch {
	case h.neutral:
		return h.endNeutral(w, n)
	case h.big:
		if !h.direct {
			w.beginValue(TypeHash)
			o.buf = appendLen(o.buf, n)
			if err := w.spools[spoolItems].copyTo(o); err != nil {
				return w.ioErr(err)
			}
		}
		return nil
	case h.anyTTL && w.valkey80():
		w.beginValue(TypeValkeyHash2)
		o.buf = appendLen(o.buf, n)
		for i := range h.exp {
			if err := h.emitValkeyField(w, h.a.get(2*i), h.a.get(2*i+1), h.exp[i]); err != nil {
				return err
			}
		}
		return nil
	case h.anyTTL:
		// HASH_LISTPACK_EX: fields with a TTL first by ascending expiry
		// (ties in the order given), then the others.
		h.order = h.order[:0]
		for i := range h.exp {
			h.order = append(h.order, i)
		}
		key := func(i int) uint64 {
			if h.exp[i] == 0 {
				return math.MaxUint64
			}
			return uint64(h.exp[i])
		}
		slices.SortStableFunc(h.order, func(a, b int) int {
			ka, kb := key(a), key(b)
			switch {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return 0
		})
		h.lp.Reset()
		for _, i := range h.order {
			h.lp.AppendString(h.a.get(2 * i))
			h.lp.AppendString(h.a.get(2*i + 1))
			h.lp.AppendInt(h.exp[i])
		}
		w.beginValue(TypeHashListpackEx)
		o.buf = appendMs64(o.buf, h.minExp)
		return w.emitBlob(h.lp.Bytes())
	case w.opts.Version <= 9:
		h.zl.Reset()
		for i := 0; i < h.a.len(); i++ {
			h.zl.AppendString(h.a.get(i))
		}
		w.beginValue(TypeHashZiplist)
		return w.emitBlob(h.zl.Bytes())
	}
	h.lp.Reset()
	for i := 0; i < h.a.len(); i++ {
		h.lp.AppendString(h.a.get(i))
	}
	w.beginValue(TypeHashListpack)
	return w.emitBlob(h.lp.Bytes())
}

func (h *hashEnc) emitValkeyField(w *Writer, f, v []byte, exp int64) error {
	if err := w.emitStr(f); err != nil {
		return w.ioErr(err)
	}
	if err := w.emitStr(v); err != nil {
		return w.ioErr(err)
	}
	if exp == 0 {
		exp = -1
	}
	w.out.buf = appendMs64(w.out.buf, exp)
	return nil
}

// endNeutral writes a big hash spooled in the neutral form, now that it is
// known whether any field has a TTL.
func (h *hashEnc) endNeutral(w *Writer, n uint64) error {
	o := &w.out
	t := TypeHash
	switch {
	case h.anyTTL && w.valkey80():
		t = TypeValkeyHash2
	case h.anyTTL:
		t = TypeHashMetadata
	}
	w.beginValue(t)
	if t == TypeHashMetadata {
		o.buf = appendMs64(o.buf, h.minExp)
	}
	o.buf = appendLen(o.buf, n)
	r, err := w.spools[spoolItems].reader()
	if err != nil {
		return w.ioErr(err)
	}
	br := r.(byteReader)
	for i := uint64(0); i < n; i++ {
		var exp int64
		h.rf, err = readNeutral(br, h.rf)
		if err == nil {
			h.rv, err = readNeutral(br, h.rv)
		}
		if err == nil {
			exp, err = binary.ReadVarint(br)
		}
		if err != nil {
			return w.ioErr(err)
		}
		switch t {
		case TypeValkeyHash2:
			if err := h.emitValkeyField(w, h.rf, h.rv, exp); err != nil {
				return err
			}
			continue
		case TypeHashMetadata:
			ttl := uint64(0)
			if exp != 0 {
				ttl = uint64(exp-h.minExp) + 1
			}
			o.buf = appendLen(o.buf, ttl)
		}
		if err := w.emitStr(h.rf); err != nil {
			return w.ioErr(err)
		}
		if err := w.emitStr(h.rv); err != nil {
			return w.ioErr(err)
		}
	}
	return nil
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

func readNeutral(r byteReader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err = io.ReadFull(r, buf)
	return buf, err
}
