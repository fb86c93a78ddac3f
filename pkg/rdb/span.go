package rdb

import "math"

// Spans is the side of a Reader that parallel decoders use, apart from the
// methods every caller needs: over an in-memory input (NewReaderBytes) it
// frames a key's value into a ValueSpan (Skip, SkipListPart) rather than
// decoding it, and a ValueReader decodes the span, possibly on another
// goroutine, while the Reader moves on. Spans moves the Reader as its own
// methods do: use it on the Reader's goroutine, between Next and the next
// Next.
type Spans struct{ r *Reader }

// Spans returns the Reader's span side.
func (r *Reader) Spans() Spans { return Spans{r} }

// Skip moves past the current key's value and describes it in span, for a
// value reader to decode. It frames the value rather than decoding it where
// the encoding allows (strings, inner blobs, quicklist nodes: only lengths are
// read) and checks it otherwise. It returns false, and leaves the Reader at the
// start of the value as if Skip had not been called, when the Reader is not
// over an in-memory input, when elements of the value were already read, when
// the value takes more than limit bytes (limit <= 0: no limit), or when the
// value is damaged: the caller then reads it as usual (NextElem, SkipValue),
// which reports the damage as it always does.
func (s Spans) Skip(span *ValueSpan, limit int) bool { return s.r.skipSpan(span, limit) }

// SkipListPart frames the next quicklist nodes of the current key's value, a
// list, about limit bytes of them (at least one node), into span, for a value
// reader to decode (ValueReader.Open: NextElem then delivers the elements of
// those nodes). Called again, it frames the following nodes; last reports
// that the value is done. Elements of a huge list can so be decoded on several
// goroutines.
//
// It returns false, leaving the Reader where it was (nodes framed by earlier
// calls stay skipped), when the value is not a quicklist, when the Reader is
// not over an in-memory input or is Strict (an empty list is only known from
// all the parts), when elements were read otherwise, when the list has no
// nodes, or when the next node is damaged: the caller then goes on with
// NextElem, which reports the damage as it always does.
func (s Spans) SkipListPart(span *ValueSpan, limit int) (ok, last bool) {
	return s.r.skipListPart(span, limit)
}

// ValueReader returns a reader of the values that Skip and SkipListPart
// locate, over the same in-memory input and file format as the Reader. It is
// independent of the Reader: another goroutine may use it while the Reader
// moves on. It reports no warnings and has no checksum; the Reader still
// checks the whole file.
func (s Spans) ValueReader() *ValueReader { return &ValueReader{r: s.r.valueReader()} }

// ValueReader decodes values located by Spans, one at a time.
type ValueReader struct{ r *Reader }

// Open positions the value reader at the value of span and returns the
// Reader to read it with: NextElem, ReadValue, SkipValue, ElemContainer and
// CopyRawValue then read that value, with the errors (offsets, key) a
// sequential read would report. It is the same Reader at every call; what
// lies outside the span (Next, Header, Checksum) is not its business.
//
// Errors are sticky here too: once a value failed, Open leaves the error in
// place and every read returns it, as after any failure of a Reader.
func (v *ValueReader) Open(span *ValueSpan) *Reader {
	v.r.openSpan(span)
	return v.r
}

// ValueSpan locates a key's value in an in-memory input (NewReaderBytes), so
// that a ValueReader can decode it, possibly on another goroutine, while the
// Reader that found it moves on.
type ValueSpan struct {
	// Entry is the key record. Its Key and KeyMeta belong to the span.
	Entry      Entry
	start, end int // the value's bytes in the input
	t          Type
	key, meta  []byte // storage of Entry.Key and Entry.KeyMeta, reused
	nodes      uint64 // for a part of a list (SkipListPart): its quicklist nodes
	part       bool
}

// Size is the number of bytes the value takes in the file.
func (s *ValueSpan) Size() int { return s.end - s.start }

// skipSpan is Spans.Skip.
func (r *Reader) skipSpan(span *ValueSpan, limit int) bool {
	if !r.src.Whole || !r.inValue || r.val.phase != 0 || r.err != nil {
		return false
	}
	start, t := r.src.Pos, r.val.t
	if limit > 0 && r.opts.Warn != nil && t != TypeString && !deepType(t) {
		// Walking the value may warn, and walking it again after giving up
		// would warn twice.
		return false
	}
	r.spanGrowth = 0
	// Stop walking a value as soon as it is too big: walking it whole
	// would cost as much as reading it, and map its pages for nothing.
	// Without a limit, spanEnd still marks a span's walk (frameStep).
	r.spanEnd = math.MaxInt
	if limit > 0 {
		r.spanEnd = start + min(limit, r.src.End-start)
	}
	defer func() { r.spanEnd = 0 }()
	var err error
	if t == TypeString || deepType(t) {
		err = r.frameRaw()
	} else {
		err = r.skipValue()
	}
	if err != nil || (limit > 0 && r.src.Pos-start+r.spanGrowth > limit) {
		r.src.Pos = start
		r.startValue(t)
		return false
	}
	span.setEntry(&r.entry)
	span.start, span.end, span.t = start, r.src.Pos, t
	span.part, span.nodes = false, 0
	r.inValue = false
	return true
}

// setEntry copies e into the span, with its own copies of the key and metadata.
func (s *ValueSpan) setEntry(e *Entry) {
	s.Entry = *e
	s.key = append(s.key[:0], e.Key...)
	s.Entry.Key = s.key
	if e.KeyMeta != nil {
		s.meta = append(s.meta[:0], e.KeyMeta...)
		s.Entry.KeyMeta = s.meta
	}
}

// valueReader returns a Reader over the same in-memory input and file format
// as r that reads values located by skipSpan, one at a time (openSpan).
func (r *Reader) valueReader() *Reader {
	vr := &Reader{opts: r.opts}
	vr.opts.Consumed, vr.opts.Warn, vr.opts.Workers = nil, nil, 0
	vr.hdr, vr.hdrDone = r.hdr, true
	vr.src.InitBytes(r.src.Buf, r.src.Base)
	return vr
}

// openSpan positions a value reader at the value of span: NextElem,
// ReadValue and SkipValue then read that value, with the errors (offsets,
// key) a sequential read would report. After an error it does nothing: the
// error stays, as every Reader's does.
func (r *Reader) openSpan(span *ValueSpan) {
	if r.err != nil {
		return
	}
	// Nothing before the span needs handing to sinks: a value reader has no
	// checksum.
	r.src.Pos, r.src.sent = span.start, span.start
	r.db = span.Entry.DB
	// What reading a value uses of the key record (errors name the key):
	// cheaper than copying the whole Entry for every small value.
	e := &r.entry
	e.Kind, e.DB, e.Key, e.Type, e.Offset = EntryKey, span.Entry.DB, span.Entry.Key, span.Entry.Type, span.Entry.Offset
	r.startValue(span.t)
	if span.part {
		r.val.phase, r.val.remaining = 1, span.nodes
	}
}

// maxPartNode bounds the decoded size of the one node a list part may
// exceed its limit with; a bigger node is left to the caller, who streams it.
const maxPartNode = 8 << 20

// skipListPart is Spans.SkipListPart.
func (r *Reader) skipListPart(span *ValueSpan, limit int) (ok, last bool) {
	v := &r.val
	if !r.src.Whole || !r.inValue || r.err != nil || r.opts.Strict ||
		(v.t != TypeListQuicklist && v.t != TypeListQuicklist2) {
		return false, false
	}
	if v.phase == 0 {
		start := r.src.Pos
		n, err := r.readLen("")
		if err != nil || n == 0 {
			r.src.Pos = start
			return false, false
		}
		v.phase, v.remaining = 1, n
	} else if v.phase != 1 || v.blob.kind != blobNone || v.count != 0 {
		return false, false // elements were read: parts would lose them
	}
	r.src.maybeFlush() // the checksum and the page release keep pace
	start, nodes := r.src.Pos, uint64(0)
	r.spanGrowth = 0
	for v.remaining > 0 && (nodes == 0 || r.src.Pos-start+r.spanGrowth < limit) {
		err := r.frameRawNode(v.t)
		if err == nil && nodes == 0 && r.src.Pos-start+r.spanGrowth > maxPartNode {
			err = errSpanTooBig // one huge node: decoded where it streams
		}
		if err != nil {
			r.src.Pos = start
			v.remaining += nodes
			return false, false
		}
		nodes++
		v.remaining--
	}
	span.setEntry(&r.entry)
	span.start, span.end, span.t = start, r.src.Pos, v.t
	span.part, span.nodes = true, nodes
	if v.remaining == 0 {
		v.phase = 0xFF
		r.inValue = false
		return true, true
	}
	return true, false
}
