package rdb

// Segments: keys encoded apart from the Writer, on goroutines of their own,
// and spliced into its output in order. Encoding values (LZF above all,
// listpacks, stream nodes) is most of what writing a big dataset costs, and a
// key's bytes depend on nothing but the key, its value, the options and the
// database of the key written before it (a SELECTDB when that changes): so
// runs of keys can be encoded at the same time and joined in their order,
// giving the file, byte for byte, that one Writer would write.
//
// A SegmentWriter is a Writer that writes key records only, into memory: no
// magic, no AUX fields, no checksum, and no SELECTDB before its first key,
// whose database it notes instead. WriteSegment writes that SELECTDB when the
// output is in another database, as the Writer would have, then the
// segment's bytes.

// SegmentWriter encodes a run of keys, with the options of the Writer that
// made it, for Writer.WriteSegment. Segment writers are independent of each
// other and of their Writer: each may be used on a goroutine of its own. Its
// memory is the encoded keys of one segment (Reset keeps it for the next),
// plus a Writer's for a value being written.
type SegmentWriter struct {
	w       *Writer
	firstDB int // database of the first key; valid once w.dbSet
}

// NewSegmentWriter returns a SegmentWriter with w's options. Its values are
// compressed on the goroutine that writes them (CompressWorkers is not
// used).
func (w *Writer) NewSegmentWriter() *SegmentWriter {
	opts := w.opts
	opts.CompressWorkers = 0
	sw := NewWriter(nil, opts)
	sw.started, sw.auxDone, sw.out.seg = true, true, true
	s := &SegmentWriter{w: sw}
	sw.seg = s
	return s
}

// WriteKey encodes a key and its whole value as Writer.WriteKey does. Errors
// are sticky until Reset, and WriteSegment returns them.
func (s *SegmentWriter) WriteKey(e *Entry, v *Value) error { return s.w.WriteKey(e, v) }

// Len is the number of bytes encoded since the last Reset.
func (s *SegmentWriter) Len() int { return len(s.w.out.buf) }

// Reset empties s for the next segment, keeping its memory (up to a limit).
func (s *SegmentWriter) Reset() {
	w := s.w
	if cap(w.out.buf) > 64<<20 {
		w.out.buf = nil
	}
	w.out.buf, w.out.err = w.out.buf[:0], nil
	w.err = nil
	w.dropped = [featureCount]uint64{}
	w.db, w.dbSet = 0, false
	w.key.active = false
	for i := range w.spools {
		w.spools[i].reset() // an error removing a scratch file was reported already
	}
}

// WriteSegment writes the keys s encoded, as if they had been written to w
// with WriteKey at this point, and returns the first error s met, if any
// (then w fails with it). The caller Resets s to reuse it.
func (w *Writer) WriteSegment(s *SegmentWriter) error {
	if w.err != nil {
		return w.err
	}
	sw := s.w
	for f, n := range sw.dropped {
		w.dropped[f] += n
	}
	if sw.err != nil {
		return w.fail(sw.err)
	}
	if !sw.dbSet {
		return nil // no key: nothing written, not even the header
	}
	if err := w.beginRecord(); err != nil {
		return err
	}
	o := &w.out
	if s.firstDB != w.db || !w.dbSet {
		o.buf = append(o.buf, opSelectDB)
		o.buf = appendLen(o.buf, uint64(s.firstDB))
	}
	w.db, w.dbSet = sw.db, true
	if err := o.splice(sw.out.buf); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// splice writes b, encoded already, after what is buffered: straight out
// when nothing waits to be compressed.
func (o *output) splice(b []byte) error {
	if o.par != nil && (len(o.par.pending) > 0 || len(o.par.cur.jobs) > 0) {
		o.buf = append(o.buf, b...)
		return o.maybeFlush()
	}
	if len(o.buf) > 0 {
		o.emit(o.buf)
		o.buf = o.buf[:0]
	}
	o.emit(b)
	return o.err
}
