package rdb

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/rdbtool/rdbtool/internal/persist"
)

// source is the Reader's buffer over the input (persist.Source, the window
// pkg/aof reads from too) with what only an RDB needs: consumed bytes are
// handed to "sinks" (the CRC worker, a raw-value capture) just before the
// window is compacted, which is why a slice returned by a read stays valid
// only until the next read.
type source struct {
	persist.Source
	sent int // bytes of Buf[0:sent] already handed to the sinks

	progress atomic.Int64   // input offset handed to the sinks, for Reader.Progress
	consumed func(int64)    // ReaderOptions.Consumed
	crc      *crcWorker     // nil when the format has no checksum or the input is whole
	ahead    *aheadCRC      // the checksum of a whole input
	captures []*captureSink // nested: a raw-value copy may contain a module value
}

const (
	// The window starts small, so that checking many small files costs
	// little, and doubles while reads keep filling it.
	initialBufSize = 64 << 10
	// Buffers grown for a huge element are dropped at the next compaction.
	maxIdleBufSize = 8 << 20
)

// init makes the source read from r.
func (s *source) init(r io.Reader, base int64) {
	s.Init(r, base, initialBufSize, maxIdleBufSize)
	s.BeforeCompact = s.beforeCompact
}

// beforeCompact hands the consumed bytes to the sinks before the window moves
// them away; the window then starts at what was Pos, all of it unsent.
func (s *source) beforeCompact() error {
	if err := s.flushSinks(); err != nil {
		return err
	}
	s.sent = 0
	return nil
}

// maybeFlush hands consumed bytes to the CRC worker every megabyte when the
// window is the whole input (otherwise compaction does it), so the checksum
// keeps pace with the parse.
func (s *source) maybeFlush() {
	// Small enough to inline: it runs once per record and per element.
	if s.Pos-s.sent >= crcChunkSize && s.Whole {
		s.flushChunk()
	}
}

func (s *source) flushChunk() {
	s.flushSinks()
	if s.consumed != nil && s.ahead == nil { // else the checksum goroutine calls it
		s.consumed(s.Base + int64(s.sent))
	}
}

// noteProgress publishes the consumed offset for Reader.Progress.
func (s *source) noteProgress() { s.progress.Store(s.Base + int64(s.sent)) }

// flushSinks hands Buf[sent:Pos] to the CRC worker and the capture.
func (s *source) flushSinks() error {
	if s.sent >= s.Pos {
		return nil
	}
	chunk := s.Buf[s.sent:s.Pos]
	s.sent = s.Pos
	s.noteProgress()
	if s.Whole {
		if s.ahead != nil {
			s.ahead.advance(s.Pos)
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
	if s.Whole {
		// The bytes stay where they are: take them as one slice at the end.
		// (Flushing would not do: after Spans.Skip rewinds, the bytes already
		// handed to the checksum are read again.)
		c.from = s.Pos
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
	if s.Whole {
		c := s.captures[len(s.captures)-1]
		s.captures = s.captures[:len(s.captures)-1]
		return c.write(s.Buf[c.from:s.Pos])
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
		return s.ahead.sum(s.Pos)
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
