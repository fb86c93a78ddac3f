package rdb

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
)

// source is the Reader's own buffer over the input. Parsing works on slices of
// the window buf[pos:end], so most reads copy nothing. Consumed bytes are handed
// to "sinks" (the CRC worker, a raw-value capture) just before the window is
// compacted, which is why a slice returned by a read stays valid only until the
// next read.
type source struct {
	r     io.Reader
	buf   []byte
	pos   int   // next unread byte
	end   int   // end of buffered data
	base  int64 // input offset of buf[0]
	sent  int   // bytes of buf[0:sent] already handed to the sinks
	rerr  error // sticky error from r (io.EOF included)
	empty int   // consecutive reads that returned nothing

	progress atomic.Int64   // input offset handed to the sinks, for Reader.Progress
	whole    bool           // buf is the entire input (NewReaderBytes): never refilled or moved
	consumed func(int64)    // ReaderOptions.Consumed
	crc      *crcWorker     // nil when the format has no checksum or the input is whole
	ahead    *aheadCRC      // the checksum of a whole input
	captures []*captureSink // nested: a raw-value copy may contain a module value
}

const (
	// The window starts small, so that checking many small files costs little,
	// and doubles while reads keep filling it, up to fullBufSize.
	initialBufSize = 64 << 10
	fullBufSize    = 1 << 20
	minReadSize    = 64 << 10
	// Buffers grown for a huge element are dropped at the next compaction.
	maxIdleBufSize = 8 << 20
)

func (s *source) init(r io.Reader, base int64) {
	s.r = r
	s.base = base
	s.buf = make([]byte, initialBufSize)
}

// initBytes makes the whole input the window: nothing is copied, and the CRC
// worker hashes sub-slices of data directly.
func (s *source) initBytes(data []byte, base int64) {
	s.base = base
	s.buf = data
	s.end = len(data)
	s.whole = true
	s.rerr = io.EOF
}

// maybeFlush hands consumed bytes to the CRC worker every megabyte when the
// window is the whole input (otherwise compaction does it), so the checksum
// keeps pace with the parse.
func (s *source) maybeFlush() {
	// Small enough to inline: it runs once per record and per element.
	if s.pos-s.sent >= crcChunkSize && s.whole {
		s.flushChunk()
	}
}

func (s *source) flushChunk() {
	s.flushSinks()
	if s.consumed != nil && s.ahead == nil { // else the checksum goroutine calls it
		s.consumed(s.base + int64(s.sent))
	}
}

// offset is the input offset of the next unread byte.
func (s *source) offset() int64 { return s.base + int64(s.pos) }

// fill makes at least n bytes available at pos. It returns io.ErrUnexpectedEOF
// when the input ends first, or the reader's error. The buffer grows only as
// data actually arrives, so a huge claimed length in a short file costs nothing.
func (s *source) fill(n int) error {
	if s.end-s.pos >= n {
		return nil
	}
	if s.whole {
		return io.ErrUnexpectedEOF
	}
	if err := s.compact(n); err != nil {
		return err
	}
	for s.end-s.pos < n {
		if s.rerr != nil {
			if s.rerr == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return s.rerr
		}
		if s.end == len(s.buf) {
			// Full of unread data and still short: grow, at most doubling, so the
			// allocation tracks bytes really read.
			s.grow(min(2*len(s.buf), max(n, len(s.buf)+minReadSize)))
		}
		k, err := s.r.Read(s.buf[s.end:])
		s.end += k
		if s.end == len(s.buf) && len(s.buf) < fullBufSize {
			// The input keeps up: read in bigger gulps.
			s.grow(2 * len(s.buf))
		}
		if err != nil {
			s.rerr = err
		} else if k == 0 {
			// A reader that keeps returning nothing would spin here forever.
			if s.empty++; s.empty >= 100 {
				s.rerr = io.ErrNoProgress
			}
		} else {
			s.empty = 0
		}
	}
	return nil
}

func (s *source) grow(size int) {
	grown := make([]byte, size)
	copy(grown, s.buf[:s.end])
	s.buf = grown
}

// compact hands consumed bytes to the sinks and moves the unread tail to the
// front of the buffer.
func (s *source) compact(need int) error {
	if err := s.flushSinks(); err != nil {
		return err
	}
	if s.pos == 0 {
		return nil
	}
	unread := s.end - s.pos
	if len(s.buf) > maxIdleBufSize && unread < fullBufSize && need <= fullBufSize {
		small := make([]byte, fullBufSize)
		copy(small, s.buf[s.pos:s.end])
		s.buf = small
	} else {
		copy(s.buf, s.buf[s.pos:s.end])
	}
	s.base += int64(s.pos)
	s.end = unread
	s.pos = 0
	s.sent = 0
	return nil
}

// noteProgress publishes the consumed offset for Reader.Progress.
func (s *source) noteProgress() { s.progress.Store(s.base + int64(s.sent)) }

// flushSinks hands buf[sent:pos] to the CRC worker and the capture.
func (s *source) flushSinks() error {
	if s.sent >= s.pos {
		return nil
	}
	chunk := s.buf[s.sent:s.pos]
	s.sent = s.pos
	s.noteProgress()
	if s.whole {
		if s.ahead != nil {
			s.ahead.advance(s.pos)
		}
		return nil // captures take their slice when they stop
	}
	if s.crc != nil {
		s.crc.feed(chunk)
	}
	var err error
	for _, c := range s.captures {
		if werr := c.write(chunk); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// readByte consumes one byte. The fast path is small enough to inline.
func (s *source) readByte() (byte, error) {
	if s.pos < s.end {
		b := s.buf[s.pos]
		s.pos++
		return b, nil
	}
	return s.readByteSlow()
}

func (s *source) readByteSlow() (byte, error) {
	if err := s.fill(1); err != nil {
		return 0, err
	}
	b := s.buf[s.pos]
	s.pos++
	return b, nil
}

// read consumes n bytes and returns them; the slice is valid until the next read.
func (s *source) read(n int) ([]byte, error) {
	if p := s.pos; s.end-p >= n {
		s.pos = p + n
		return s.buf[p : p+n : p+n], nil
	}
	return s.readSlow(n)
}

func (s *source) readSlow(n int) ([]byte, error) {
	if err := s.fill(n); err != nil {
		return nil, err
	}
	b := s.buf[s.pos : s.pos+n : s.pos+n]
	s.pos += n
	return b, nil
}

// skip consumes n bytes without keeping them in memory all at once.
func (s *source) skip(n int64) error {
	for n > 0 {
		avail := int64(s.end - s.pos)
		if avail == 0 {
			if err := s.fill(1); err != nil {
				return err
			}
			continue
		}
		k := min(avail, n)
		s.pos += int(k)
		n -= k
	}
	return nil
}

// rest returns the unread input: buffered bytes, then the underlying reader.
func (s *source) rest() io.Reader {
	if s.whole {
		return bytes.NewReader(s.buf[s.pos:s.end])
	}
	left := append([]byte(nil), s.buf[s.pos:s.end]...)
	if s.rerr != nil {
		if s.rerr == io.EOF {
			return bytes.NewReader(left)
		}
		return io.MultiReader(bytes.NewReader(left), errReader{s.rerr})
	}
	return io.MultiReader(bytes.NewReader(left), s.r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// captureSink copies consumed bytes to a writer (CopyRawValue) or a bounded
// buffer (module values), from the moment it is installed.
type captureSink struct {
	w     io.Writer
	buf   []byte
	limit int64
	n     int64
	err   error
	from  int // whole input: where the capture starts in buf
}

func (c *captureSink) write(p []byte) error {
	if c.err != nil {
		return c.err
	}
	c.n += int64(len(p))
	if c.w != nil {
		if _, err := c.w.Write(p); err != nil {
			c.err = err
		}
		return c.err
	}
	if c.n > c.limit {
		c.err = ErrValueTooLarge
		return c.err
	}
	c.buf = append(c.buf, p...)
	return nil
}

// startCapture begins copying every byte consumed from now on.
func (s *source) startCapture(c *captureSink) error {
	if s.whole {
		// The bytes stay where they are: take them as one slice at the end.
		// (Flushing would not do: after SkipSpan rewinds, the bytes already
		// handed to the checksum are read again.)
		c.from = s.pos
		s.captures = append(s.captures, c)
		return nil
	}
	if err := s.flushSinks(); err != nil {
		return err
	}
	s.captures = append(s.captures, c)
	return nil
}

// stopCapture flushes what was consumed and detaches the capture.
func (s *source) stopCapture() error {
	if s.whole {
		c := s.captures[len(s.captures)-1]
		s.captures = s.captures[:len(s.captures)-1]
		return c.write(s.buf[c.from:s.pos])
	}
	err := s.flushSinks()
	c := s.captures[len(s.captures)-1]
	s.captures = s.captures[:len(s.captures)-1]
	if c.err != nil {
		return c.err
	}
	return err
}

// crcWorker computes the CRC-64 on its own goroutine. Chunks are copies made
// from a small fixed pool, so memory is bounded and a slow worker applies
// back-pressure to the parser instead of queueing without limit.
type crcWorker struct {
	work chan []byte // chunks to hash, returned to free afterwards
	free chan []byte
	done chan struct{} // closed when run has returned; crc is then final
	crc  uint64
	once sync.Once
	made int // chunks allocated so far, at most crcChunks
}

const (
	crcChunkSize = 1 << 20
	crcChunks    = 4
)

func newCRCWorker() *crcWorker {
	w := &crcWorker{
		work: make(chan []byte, crcChunks),
		free: make(chan []byte, crcChunks),
		done: make(chan struct{}),
	}
	go w.run()
	return w
}

func (w *crcWorker) run() {
	var crc uint64
	for chunk := range w.work {
		crc = UpdateCRC64(crc, chunk)
		w.free <- chunk[:0]
	}
	w.crc = crc
	close(w.done)
}

func (w *crcWorker) feed(p []byte) {
	for len(p) > 0 {
		var chunk []byte
		if w.made < crcChunks {
			// Chunks are made on demand: a small file needs one small chunk.
			select {
			case chunk = <-w.free:
			default:
				w.made++
				chunk = make([]byte, 0, min(crcChunkSize, max(len(p), 4096)))
			}
		} else {
			chunk = <-w.free
		}
		if want := min(len(p), crcChunkSize); cap(chunk) < want {
			chunk = make([]byte, 0, want) // a small early chunk, outgrown
		}
		k := min(len(p), cap(chunk))
		chunk = append(chunk, p[:k]...)
		p = p[k:]
		w.work <- chunk
	}
}

// checksum stops the checksum goroutine and returns the CRC-64 of the input
// up to pos.
func (s *source) checksum() uint64 {
	if s.ahead != nil {
		return s.ahead.sum(s.pos)
	}
	return s.crc.sum()
}

// stopChecksum ends the checksum goroutine, if any, and waits for it.
func (s *source) stopChecksum() {
	if s.ahead != nil {
		s.ahead.stop()
	}
	if s.crc != nil {
		s.crc.stop()
	}
}

// sum stops the worker and returns the CRC of everything fed.
func (w *crcWorker) sum() uint64 {
	w.stop()
	return w.crc
}

// stop ends the goroutine and waits for it, so that no chunk (which may be a
// slice of a caller's memory-mapped file) is touched after it returns. Safe to
// call more than once.
func (w *crcWorker) stop() {
	w.once.Do(func() { close(w.work) })
	<-w.done
}
