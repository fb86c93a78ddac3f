package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/intset"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/ziplist"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/zipmap"
)

// ebExpireTimeMax is the largest hash-field expiry Redis accepts (2^48-1 ms).
const ebExpireTimeMax = 1<<48 - 1

// valueState walks the value of the current key one element at a time.
type valueState struct {
	t         Type
	off       int64  // offset of the value's first byte
	phase     uint8  // 0 = nothing read yet
	remaining uint64 // items (elements, nodes) left to read from the file
	count     uint64 // elements delivered so far
	minExpire int64  // hash types 24/25

	blob     blobIter
	blobOff  int64 // offset of the current inner blob's string header
	blobSize int   // its decoded length (ElemContainer)

	// Strict order check of sorted-set blobs.
	havePrev   bool
	prevScore  float64
	prevMember []byte

	// Strict order check of listpack-ex triplets.
	prevExpire int64
	sawNoTTL   bool

	st *streamState // allocated for the first stream, reused after
}

// blobKind selects the inner iterator in use.
type blobKind uint8

const (
	blobNone blobKind = iota
	blobListpack
	blobZiplist
	blobIntset
	blobZipmap
)

// blobIter is a tagged union of the inner-blob iterators; a struct rather than an
// interface so that walking allocates nothing.
type blobIter struct {
	kind blobKind
	lp   listpack.Iterator
	zl   ziplist.Iterator
	is   intset.Set
	isI  int
	zm   zipmap.Iterator
}

func (b *blobIter) next() bool {
	switch b.kind {
	case blobListpack:
		return b.lp.Next()
	case blobZiplist:
		return b.zl.Next()
	case blobIntset:
		if b.isI < b.is.Len() {
			b.isI++
			return true
		}
	}
	return false
}

func (b *blobIter) err() error {
	switch b.kind {
	case blobListpack:
		return b.lp.Err()
	case blobZiplist:
		return b.zl.Err()
	}
	return nil
}

// isInt reports whether the current entry is an integer, and its value.
func (b *blobIter) isInt() (int64, bool) {
	switch b.kind {
	case blobListpack:
		if b.lp.IsInt() {
			return b.lp.Int(), true
		}
	case blobZiplist:
		if b.zl.IsInt() {
			return b.zl.Int(), true
		}
	case blobIntset:
		return b.is.At(b.isI - 1), true
	}
	return 0, false
}

// member returns the current entry as bytes: a sub-slice of the blob for
// strings, or the decimal rendering of an integer in *scratch, which keeps the
// memory for the next one. Listpacks, the bulk of big values, come first.
func (b *blobIter) member(scratch *[]byte) []byte {
	if b.kind == blobListpack {
		if b.lp.IsInt() {
			*scratch = strconv.AppendInt((*scratch)[:0], b.lp.Int(), 10)
			return *scratch
		}
		return b.lp.Str()
	}
	if v, ok := b.isInt(); ok {
		*scratch = strconv.AppendInt((*scratch)[:0], v, 10)
		return *scratch
	}
	return b.text(nil)
}

// text returns the current entry as bytes: a sub-slice of the blob for strings,
// or the decimal rendering appended to dst for integers.
func (b *blobIter) text(dst []byte) []byte {
	if v, ok := b.isInt(); ok {
		return strconv.AppendInt(dst[:0], v, 10)
	}
	switch b.kind {
	case blobListpack:
		return b.lp.Str()
	case blobZiplist:
		return b.zl.Str()
	}
	return nil
}

func (r *Reader) startValue(t Type) {
	v := &r.val
	// Reset field by field: this runs once per key and the struct is large.
	v.t, v.off, v.phase, v.remaining, v.count, v.minExpire = t, r.src.Offset(), 0, 0, 0, 0
	v.blob.kind, v.havePrev, v.prevMember, v.prevExpire, v.sawNoTTL = blobNone, false, v.prevMember[:0], 0, false
	if t.Kind() == KindStream {
		if v.st == nil {
			v.st = &streamState{}
		}
		v.st.reset()
	}
	r.inValue = true
}

// NextElem returns the next element of the current key's value, or io.EOF when
// the value is exhausted (or when the last record was not a key).
func (r *Reader) NextElem() (*Elem, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.inValue {
		return nil, io.EOF
	}
	el, err := r.nextElem()
	if err != nil {
		if err == io.EOF {
			r.inValue = false
			return nil, io.EOF
		}
		return nil, r.fail(err)
	}
	return el, nil
}

// stringValue names a string value in errors.
const stringValue = "string value"

// skipValue reads (and checks) whatever is left of the current value. While
// skipping, elements that nobody will see are not rendered (integers stay
// integers), which is most of the cost of walking a big list or set.
func (r *Reader) skipValue() error {
	if v := &r.val; v.t == TypeString && v.phase == 0 {
		// The most common record by far: no element to build.
		v.phase = 1
		if err := r.skipString(stringValue); err != nil {
			return err
		}
		v.count++
		r.inValue = false
		return nil
	}
	if v := &r.val; v.phase == 0 {
		switch v.t {
		case TypeListQuicklist, TypeListQuicklist2, TypeListZiplist, TypeSetListpack, TypeSetIntset,
			TypeHashListpack, TypeHashZiplist:
			return r.skipBlobs()
		case TypeZSetListpack:
			return r.skipZSetListpack()
		}
	}
	switch r.val.t {
	case TypeSet, TypeZSet, TypeZSet2, TypeHash:
		return r.skipPlain()
	}
	r.skipping = true
	defer func() { r.skipping = false }()
	for {
		if _, err := r.nextElem(); err != nil {
			if err == io.EOF {
				r.inValue = false
				return nil
			}
			return err
		}
	}
}

// ElemCount is the number of elements delivered so far for the current value
// (for streams: entries).
func (r *Reader) ElemCount() uint64 { return r.val.count }

// SkipValue reads (and checks) the rest of the current value and returns its
// element count (for streams: entries). Offset is then the end of the key record.
func (r *Reader) SkipValue() (uint64, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.inValue {
		if err := r.skipValue(); err != nil {
			return 0, r.fail(err)
		}
	}
	return r.val.count, nil
}

func (r *Reader) nextElem() (*Elem, error) {
	r.src.maybeFlush() // keeps Progress moving inside a huge key
	if r.spanEnd > 0 && r.src.Pos+r.spanGrowth > r.spanEnd {
		return nil, errSpanTooBig
	}
	v := &r.val
	el := &r.elem
	*el = Elem{Fields: el.Fields[:0]}
	var err error
	switch v.t {
	case TypeString:
		if v.phase != 0 {
			return nil, io.EOF
		}
		v.phase = 1
		if el.Member, err = r.readString("string value"); err != nil {
			return nil, err
		}
		el.Kind = ElemString
	case TypeList, TypeSet:
		if err = r.startCounted("element count"); err != nil {
			return nil, err
		}
		if v.remaining == 0 {
			return nil, r.endCollection()
		}
		v.remaining--
		if el.Member, err = r.readString("element"); err != nil {
			return nil, err
		}
		el.Kind = ElemMember
	case TypeZSet, TypeZSet2:
		if err = r.startCounted("member count"); err != nil {
			return nil, err
		}
		if v.remaining == 0 {
			return nil, r.endCollection()
		}
		v.remaining--
		if el.Member, err = r.readStringCopy("member", &r.scratchA); err != nil {
			return nil, err
		}
		if el.Score, err = r.readScore(v.t == TypeZSet2); err != nil {
			return nil, err
		}
		el.Kind = ElemZMember
	case TypeHash:
		if err = r.startCounted("field count"); err != nil {
			return nil, err
		}
		if v.remaining == 0 {
			return nil, r.endCollection()
		}
		v.remaining--
		if el.Member, err = r.readStringCopy("field", &r.scratchA); err != nil {
			return nil, err
		}
		if el.Value, err = r.readString("value"); err != nil {
			return nil, err
		}
		el.Kind = ElemField
	case TypeListZiplist, TypeSetListpack, TypeSetIntset:
		return r.nextSingleBlob()
	case TypeZSetZiplist, TypeZSetListpack, TypeHashZiplist, TypeHashListpack, TypeHashZipmap,
		TypeHashListpackEx, TypeHashListpackExPreGA:
		return r.nextPairBlob()
	case TypeListQuicklist, TypeListQuicklist2:
		return r.nextQuicklist()
	case TypeHashMetadata, TypeHashMetadataPreGA, TypeValkeyHash2:
		return r.nextHashWithTTL()
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3, TypeStreamListpacks4:
		return r.nextStream()
	case TypeModule2:
		if v.phase != 0 {
			return nil, io.EOF
		}
		v.phase = 1
		m, err := r.readModule(false)
		if err != nil {
			return nil, err
		}
		el.Kind, el.Module = ElemModule, m
	default:
		return nil, r.corrupt(v.off, "value", "no decoder for type "+v.t.String())
	}
	if r.opts.Strict {
		if err := r.checkElemDup(el); err != nil {
			return nil, err
		}
	}
	v.count++
	return el, nil
}

// skipPlain is skipValue for a plain set, sorted set or hash: nextElem's
// reads and checks, in the same order and with the same errors, in one loop
// that builds no Elem. These are the values with the most elements a byte
// (the element count is read once, then each element is a length and its
// bytes), where nextElem's work per call, its dispatch and the Elem it
// clears, cost as much as the reading.
func (r *Reader) skipPlain() error {
	v := &r.val
	countWhat, memberWhat := "element count", "element"
	switch v.t {
	case TypeZSet, TypeZSet2:
		countWhat, memberWhat = "member count", "member"
	case TypeHash:
		countWhat, memberWhat = "field count", "field"
	}
	var d *elemDups
	limit := 0
	if r.opts.Strict {
		d, limit = r.elemDups(), r.repeatCheckLimit()
	}
	for first := true; ; first = false {
		r.src.maybeFlush() // keeps Progress moving inside a huge key
		if r.spanEnd > 0 && r.src.Pos+r.spanGrowth > r.spanEnd {
			return errSpanTooBig
		}
		if first {
			if err := r.startCounted(countWhat); err != nil {
				return err
			}
		}
		if v.remaining == 0 {
			if err := r.endCollection(); err != io.EOF {
				return err
			}
			r.inValue = false
			return nil
		}
		v.remaining--
		var member, value []byte
		var err error
		if v.t == TypeSet {
			member, err = r.readString(memberWhat)
		} else {
			member, err = r.readStringCopy(memberWhat, &r.scratchA)
		}
		if err != nil {
			return err
		}
		switch v.t {
		case TypeZSet, TypeZSet2:
			_, err = r.readScore(v.t == TypeZSet2)
		case TypeHash:
			value, err = r.readString("value")
		}
		if err != nil {
			return err
		}
		if d != nil {
			if d.off != v.off {
				d.start(v.off, v.remaining+1)
			}
			r.repeatElem(d, limit, member, value)
			if v.remaining == 0 {
				if err := r.repeatVerdict(d); err != nil {
					return err
				}
			}
		}
		v.count++
	}
}

// startCounted reads the element count of a plain collection on first use.
func (r *Reader) startCounted(what string) error {
	v := &r.val
	if v.phase != 0 {
		return nil
	}
	v.phase = 1
	n, err := r.readLen(what)
	v.remaining = n
	return err
}

// endCollection finishes a collection: Redis refuses (or silently drops) empty
// ones, so in strict mode they are an error.
func (r *Reader) endCollection() error {
	v := &r.val
	if v.count == 0 && r.opts.Strict {
		return r.corrupt(v.off, "value", "empty "+v.t.Kind().String()+" (encoding "+v.t.String()+"); Redis never saves empty collections and drops them on load")
	}
	v.phase = 0xFF
	return io.EOF
}

func (r *Reader) readScore(binaryScore bool) (float64, error) {
	off := r.src.Offset()
	if binaryScore {
		b, err := r.src.Next(8)
		if err != nil {
			return 0, r.errAt(off, "score", err, "expected 8-byte double")
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if math.IsNaN(f) {
			return 0, r.corrupt(off, "score", "NaN score")
		}
		return f, nil
	}
	n, err := r.src.ReadByte()
	if err != nil {
		return 0, r.errAt(off, "score", err, "expected a score length byte")
	}
	switch n {
	case 253:
		return 0, r.corrupt(off, "score", "NaN score")
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.src.Next(int(n))
	if err != nil {
		return 0, r.errAt(off, "score", err, "expected "+strconv.Itoa(int(n))+" bytes of score text")
	}
	return r.parseScore(off, b)
}

func (r *Reader) parseScore(off int64, b []byte) (float64, error) {
	f, err := codec.ParseFloat(b)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(f) {
		return 0, r.corrupt(off, "score", "not a number: "+strconv.Quote(string(b)))
	}
	return f, nil
}

// openBlob reads an inner blob string and starts its iterator.
func (r *Reader) openBlob(kind blobKind, what string) error {
	r.src.maybeFlush()
	v := &r.val
	v.blobOff = r.src.Offset()
	b, err := r.readString(what)
	if err != nil {
		return err
	}
	v.blobSize = len(b)
	v.blob.kind = kind
	switch kind {
	case blobListpack:
		v.blob.lp, err = listpack.NewIterator(b)
	case blobZiplist:
		v.blob.zl, err = ziplist.NewIterator(b)
	case blobIntset:
		v.blob.is, err = intset.Parse(b)
		v.blob.isI = 0
		if err == nil && v.blob.is.Len() == 0 {
			return r.corrupt(v.blobOff, what, "empty intset")
		}
	case blobZipmap:
		v.blob.zm, err = zipmap.NewIterator(b)
	}
	if err != nil {
		return r.blobErr(what, err)
	}
	if r.opts.Strict {
		return r.checkBlobDups(b)
	}
	return nil
}

// blobErr turns an inner codec error into a ParseError at the blob's offset.
func (r *Reader) blobErr(what string, err error) error {
	detail := err.Error()
	var fe *codec.FormatError
	if errors.As(err, &fe) {
		detail = "at byte " + strconv.Itoa(fe.Offset) + " of the blob: " + fe.Reason
	}
	return r.corrupt(r.val.blobOff, what, detail)
}

func blobKindOf(t Type) (blobKind, string) {
	switch t {
	case TypeListZiplist, TypeZSetZiplist, TypeHashZiplist:
		return blobZiplist, "ziplist"
	case TypeSetIntset:
		return blobIntset, "intset"
	case TypeHashZipmap:
		return blobZipmap, "zipmap"
	}
	return blobListpack, "listpack"
}

// nextSingleBlob walks blobs of single elements: list ziplist, set listpack, intset.
func (r *Reader) nextSingleBlob() (*Elem, error) {
	v := &r.val
	kind, what := blobKindOf(v.t)
	if v.phase == 0 {
		v.phase = 1
		if err := r.openBlob(kind, what); err != nil {
			return nil, err
		}
	}
	if v.phase != 1 {
		return nil, io.EOF
	}
	if !v.blob.next() {
		if err := v.blob.err(); err != nil {
			return nil, r.blobErr(what, err)
		}
		return nil, r.endCollection()
	}
	el := &r.elem
	el.Kind = ElemMember
	if !r.skipping {
		el.Member = v.blob.member(&r.scratchA)
	}
	v.count++
	return el, nil
}

// nextPairBlob walks blobs of (member, score), (field, value) and
// (field, value, expire) groups.
func (r *Reader) nextPairBlob() (*Elem, error) {
	v := &r.val
	kind, what := blobKindOf(v.t)
	if v.phase == 0 {
		if v.t == TypeHashListpackEx {
			var err error
			if v.minExpire, err = r.readMs64("hash minimum field expiry"); err != nil {
				return nil, err
			}
		}
		v.phase = 1
		if err := r.openBlob(kind, what); err != nil {
			return nil, err
		}
	}
	if v.phase != 1 {
		return nil, io.EOF
	}
	if kind == blobZipmap {
		return r.nextZipmap()
	}
	el := &r.elem
	if !v.blob.next() {
		if err := v.blob.err(); err != nil {
			return nil, r.blobErr(what, err)
		}
		return nil, r.endCollection()
	}
	// Sorted sets keep their members while skipping: strict mode checks order.
	render := !r.skipping || v.t == TypeZSetZiplist || v.t == TypeZSetListpack
	if render {
		el.Member = v.blob.member(&r.scratchA)
	}
	if !v.blob.next() {
		if err := v.blob.err(); err != nil {
			return nil, r.blobErr(what, err)
		}
		return nil, r.corrupt(v.blobOff, what, "odd number of entries: member without its pair")
	}
	switch v.t {
	case TypeZSetZiplist, TypeZSetListpack:
		el.Kind = ElemZMember
		if iv, ok := v.blob.isInt(); ok {
			el.Score = float64(iv)
		} else {
			s, err := r.parseScore(v.blobOff, v.blob.text(nil))
			if err != nil {
				return nil, err
			}
			el.Score = s
		}
		if r.opts.Strict {
			if err := r.checkZSetOrder(what, el); err != nil {
				return nil, err
			}
		}
	default:
		el.Kind = ElemField
		if render {
			el.Value = v.blob.text(r.scratchB[:0])
			if _, isInt := v.blob.isInt(); isInt {
				r.scratchB = el.Value
			}
		}
		if v.t == TypeHashListpackEx || v.t == TypeHashListpackExPreGA {
			if !v.blob.next() {
				if err := v.blob.err(); err != nil {
					return nil, r.blobErr(what, err)
				}
				return nil, r.corrupt(v.blobOff, what, "field without its expiry entry")
			}
			exp, ok := v.blob.isInt()
			if !ok || exp < 0 || exp > ebExpireTimeMax {
				return nil, r.corrupt(v.blobOff, what, "field expiry must be an integer between 0 and 2^48-1")
			}
			if r.opts.Strict {
				if err := r.checkTTLOrder(what, exp); err != nil {
					return nil, err
				}
			}
			el.ExpireAtMs = exp
		}
	}
	v.count++
	return el, nil
}

func (r *Reader) nextZipmap() (*Elem, error) {
	v := &r.val
	if !v.blob.zm.Next() {
		if err := v.blob.zm.Err(); err != nil {
			return nil, r.blobErr("zipmap", err)
		}
		return nil, r.endCollection()
	}
	el := &r.elem
	el.Kind, el.Member, el.Value = ElemField, v.blob.zm.Key(), v.blob.zm.Value()
	v.count++
	return el, nil
}

// checkZSetOrder enforces ascending (score, member) order inside a blob.
func (r *Reader) checkZSetOrder(what string, el *Elem) error {
	v := &r.val
	if v.havePrev && !zsetAscends(v.prevScore, v.prevMember, el.Score, el.Member) {
		return r.zsetOrderErr(what, el.Member, el.Score)
	}
	v.havePrev, v.prevScore = true, el.Score
	v.prevMember = append(v.prevMember[:0], el.Member...)
	return nil
}

// zsetAscends reports whether (score, member) comes after (prevScore,
// prevMember) in a sorted set's order.
func zsetAscends(prevScore float64, prevMember []byte, score float64, member []byte) bool {
	return score > prevScore || score == prevScore && bytes.Compare(member, prevMember) > 0
}

func (r *Reader) zsetOrderErr(what string, member []byte, score float64) error {
	return r.corrupt(r.val.blobOff, what, "member "+QuoteBytes(member)+" with score "+strconv.FormatFloat(score, 'g', -1, 64)+" is out of order (sorted-set blobs are ascending by score, then member)")
}

// skipZSetListpack is skipValue for a sorted-set listpack: nextPairBlob's
// reads and checks, in the same order and with the same errors, in one loop.
// A member is a slice of the listpack (or an integer's digits in one of two
// buffers, taken in turn), so the one before it, which the order check
// compares with, needs no copy.
func (r *Reader) skipZSetListpack() error {
	v := &r.val
	const what = "listpack"
	r.src.maybeFlush()
	// The reader stays where the listpack ends until the value is done: one
	// look at the span limit, before the listpack, is nextElem's for every
	// element.
	if r.spanEnd > 0 && r.src.Pos+r.spanGrowth > r.spanEnd {
		return errSpanTooBig
	}
	v.phase = 1
	if err := r.openBlob(blobListpack, what); err != nil {
		return err
	}
	lp := &v.blob.lp
	var digits [2][]byte
	turn := 0
	var prevMember []byte
	var prevScore float64
	for {
		if !lp.Next() {
			if err := lp.Err(); err != nil {
				return r.blobErr(what, err)
			}
			if err := r.endCollection(); err != io.EOF {
				return err
			}
			r.inValue = false
			return nil
		}
		var member []byte
		if lp.IsInt() {
			digits[turn] = strconv.AppendInt(digits[turn][:0], lp.Int(), 10)
			member, turn = digits[turn], 1-turn
		} else {
			member = lp.Str()
		}
		if !lp.Next() {
			if err := lp.Err(); err != nil {
				return r.blobErr(what, err)
			}
			return r.corrupt(v.blobOff, what, "odd number of entries: member without its pair")
		}
		var score float64
		if lp.IsInt() {
			score = float64(lp.Int())
		} else {
			s, err := r.parseScore(v.blobOff, lp.Str())
			if err != nil {
				return err
			}
			score = s
		}
		if r.opts.Strict {
			if v.count > 0 && !zsetAscends(prevScore, prevMember, score, member) {
				return r.zsetOrderErr(what, member, score)
			}
			prevMember, prevScore = member, score
		}
		v.count++
	}
}

// checkTTLOrder enforces the listpack-ex layout: fields with a TTL first, by
// ascending expiry, then fields without one.
func (r *Reader) checkTTLOrder(what string, exp int64) error {
	v := &r.val
	if exp == 0 {
		v.sawNoTTL = true
		return nil
	}
	if v.sawNoTTL || exp < v.prevExpire {
		return r.corrupt(v.blobOff, what, "field expiries out of order (fields with a TTL come first, by ascending expiry)")
	}
	v.prevExpire = exp
	return nil
}

// nextQuicklist walks quicklist nodes (types 14 and 18).
func (r *Reader) nextQuicklist() (*Elem, error) {
	v := &r.val
	el := &r.elem
	if v.phase == 0 {
		v.phase = 1
		n, err := r.readLen("quicklist node count")
		if err != nil {
			return nil, err
		}
		v.remaining = n
	}
	if v.phase != 1 {
		return nil, io.EOF
	}
	for {
		if v.blob.kind != blobNone {
			if v.blob.next() {
				el.Kind = ElemMember
				if !r.skipping {
					el.Member = v.blob.member(&r.scratchA)
				}
				v.count++
				return el, nil
			}
			if err := v.blob.err(); err != nil {
				return nil, r.blobErr("quicklist node", err)
			}
			v.blob.kind = blobNone
		}
		if v.remaining == 0 {
			return nil, r.endCollection()
		}
		v.remaining--
		if v.t == TypeListQuicklist {
			if err := r.openBlob(blobZiplist, "quicklist ziplist node"); err != nil {
				return nil, err
			}
			continue
		}
		off := r.src.Offset()
		container, err := r.readLen("quicklist node container")
		if err != nil {
			return nil, err
		}
		switch container {
		case 1: // PLAIN: the node is one element
			b, err := r.readString("quicklist plain node")
			if err != nil {
				return nil, err
			}
			if len(b) == 0 {
				return nil, r.corrupt(off, "quicklist plain node", "empty node")
			}
			el.Kind, el.Member = ElemMember, b
			v.count++
			return el, nil
		case 2: // PACKED: a listpack
			if err := r.openBlob(blobListpack, "quicklist listpack node"); err != nil {
				return nil, err
			}
		default:
			return nil, r.corrupt(off, "quicklist node container", "container "+strconv.FormatUint(container, 10)+"; expected 1 (plain) or 2 (packed)")
		}
	}
}

// nextHashWithTTL walks hashes stored field by field with expiries: Redis types
// 24 and 22 (7.4 RC) and Valkey's HASH_2.
func (r *Reader) nextHashWithTTL() (*Elem, error) {
	v := &r.val
	el := &r.elem
	if v.phase == 0 {
		if v.t == TypeHashMetadata {
			var err error
			if v.minExpire, err = r.readMs64("hash minimum field expiry"); err != nil {
				return nil, err
			}
		}
		if err := r.startCounted("field count"); err != nil {
			return nil, err
		}
	}
	if v.remaining == 0 {
		return nil, r.endCollection()
	}
	v.remaining--
	var err error
	off := r.src.Offset()
	switch v.t {
	case TypeHashMetadata, TypeHashMetadataPreGA:
		ttl, err := r.readLen("field expiry")
		if err != nil {
			return nil, err
		}
		if ttl != 0 {
			exp := ttl
			if v.t == TypeHashMetadata {
				exp = ttl + uint64(v.minExpire) - 1
			}
			if exp > ebExpireTimeMax {
				return nil, r.corrupt(off, "field expiry", "expiry beyond 2^48-1 ms")
			}
			el.ExpireAtMs = int64(exp)
		}
		if el.Member, err = r.readStringCopy("field", &r.scratchA); err != nil {
			return nil, err
		}
		if el.Value, err = r.readString("value"); err != nil {
			return nil, err
		}
	default: // Valkey HASH_2: field, value, absolute expiry (-1 = none)
		if el.Member, err = r.readStringCopy("field", &r.scratchA); err != nil {
			return nil, err
		}
		if el.Value, err = r.readStringCopy("value", &r.scratchB); err != nil {
			return nil, err
		}
		exp, err := r.readMs64("field expiry")
		if err != nil {
			return nil, err
		}
		if exp != -1 {
			if exp < 0 || exp > ebExpireTimeMax {
				return nil, r.corrupt(off, "field expiry", "expiry out of range")
			}
			el.ExpireAtMs = exp
		}
	}
	el.Kind = ElemField
	v.count++
	return el, nil
}

// skipBlobs reads a value made of inner blobs that nobody will look at: each
// blob is still walked entry by entry, which checks it completely, but in a
// tight loop, without producing elements. Sorted sets and hashes with field
// TTLs take the element path, which checks their order.
func (r *Reader) skipBlobs() error {
	v := &r.val
	v.phase = 0xFF
	countBlob := func(kind blobKind, what string) (uint64, error) {
		if err := r.openBlob(kind, what); err != nil {
			return 0, err
		}
		var n uint64
		switch kind {
		case blobIntset:
			n = uint64(v.blob.is.Len())
		case blobListpack:
			for v.blob.lp.Next() {
				n++
			}
		case blobZiplist:
			for v.blob.zl.Next() {
				n++
			}
		}
		if err := v.blob.err(); err != nil {
			return 0, r.blobErr(what, err)
		}
		v.blob.kind = blobNone
		return n, nil
	}
	switch v.t {
	case TypeListQuicklist, TypeListQuicklist2:
		nodes, err := r.readLen("quicklist node count")
		if err != nil {
			return err
		}
		for ; nodes > 0; nodes-- {
			r.src.maybeFlush()
			if v.t == TypeListQuicklist {
				n, err := countBlob(blobZiplist, "quicklist ziplist node")
				if err != nil {
					return err
				}
				v.count += n
				continue
			}
			off := r.src.Offset()
			container, err := r.readLen("quicklist node container")
			if err != nil {
				return err
			}
			switch container {
			case 1:
				b, err := r.readString("quicklist plain node")
				if err != nil {
					return err
				}
				if len(b) == 0 {
					return r.corrupt(off, "quicklist plain node", "empty node")
				}
				v.count++
			case 2:
				n, err := countBlob(blobListpack, "quicklist listpack node")
				if err != nil {
					return err
				}
				v.count += n
			default:
				return r.corrupt(off, "quicklist node container", "container "+strconv.FormatUint(container, 10)+"; expected 1 (plain) or 2 (packed)")
			}
		}
	default:
		kind, what := blobKindOf(v.t)
		n, err := countBlob(kind, what)
		if err != nil {
			return err
		}
		if v.t == TypeHashListpack || v.t == TypeHashZiplist {
			if n%2 != 0 {
				return r.corrupt(v.blobOff, what, "odd number of entries: member without its pair")
			}
			n /= 2
		}
		v.count = n
	}
	r.inValue = false
	if v.count == 0 && r.opts.Strict {
		return r.corrupt(v.off, "value", "empty "+v.t.Kind().String()+" (encoding "+v.t.String()+"); Redis never saves empty collections and drops them on load")
	}
	return nil
}
