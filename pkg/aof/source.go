package aof

import (
	"bytes"
	"io"
)

// source is the Reader's own buffer over the input. Parsing works on slices of
// the window buf[pos:end], so reading an argument copies nothing; a slice handed
// out stays valid until the next read, which may compact or grow the window.
type source struct {
	r     io.Reader
	buf   []byte
	pos   int   // next unread byte
	end   int   // end of buffered data
	base  int64 // input offset of buf[0]
	rerr  error // sticky error from r (io.EOF included)
	whole bool  // buf is the entire input (NewReaderBytes): never refilled or moved
	empty int   // consecutive reads that returned nothing and no error
}

const (
	// The window starts small, so that checking many small files costs little,
	// and doubles while reads keep filling it, up to fullBufSize.
	initialBufSize = 32 << 10
	fullBufSize    = 1 << 20
	minReadSize    = 64 << 10
	// A window grown for one huge argument is dropped at the next compaction
	// that finds little unread data, so memory follows the largest live argument.
	maxIdleBufSize = 4 << 20
	// Reads in a row that may return (0, nil) before fill gives up.
	maxEmptyReads = 100
)

func (s *source) init(r io.Reader, base int64) {
	s.r = r
	s.base = base
	s.buf = make([]byte, initialBufSize)
}

func (s *source) initBytes(data []byte, base int64) {
	s.base = base
	s.buf = data
	s.end = len(data)
	s.whole = true
	s.rerr = io.EOF
}

// offset is the input offset of the next unread byte.
func (s *source) offset() int64 { return s.base + int64(s.pos) }

// fill makes at least n bytes available at pos. It returns io.ErrUnexpectedEOF
// when the input ends first, or the reader's error. The buffer grows only as
// data actually arrives, so a huge claimed length in a short input costs nothing.
func (s *source) fill(n int) error {
	if s.end-s.pos >= n {
		return nil
	}
	if s.whole {
		return io.ErrUnexpectedEOF
	}
	s.compact(n)
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
		if k < 0 || k > len(s.buf)-s.end {
			k, err = 0, io.ErrShortBuffer // a broken io.Reader; never trust it with our slice
		}
		if k == 0 && err == nil {
			// io.Reader allows (0, nil) but a reader that keeps returning it
			// would hang us; give up as bufio does.
			if s.empty++; s.empty >= maxEmptyReads {
				err = io.ErrNoProgress
			}
		} else {
			s.empty = 0
		}
		s.end += k
		if s.end == len(s.buf) && len(s.buf) < fullBufSize {
			s.grow(2 * len(s.buf)) // the input keeps up: read in bigger gulps
		}
		if err != nil {
			s.rerr = err
		}
	}
	return nil
}

func (s *source) grow(size int) {
	grown := make([]byte, size)
	copy(grown, s.buf[s.pos:s.end])
	s.base += int64(s.pos)
	s.end -= s.pos
	s.pos = 0
	s.buf = grown
}

// compact moves the unread tail to the front of the buffer, shrinking a buffer
// that was grown for one big argument once it is no longer needed.
func (s *source) compact(need int) {
	if s.pos == 0 {
		return
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
}

// skip consumes n bytes without holding them in memory all at once.
func (s *source) skip(n int64) error {
	for {
		avail := int64(s.end - s.pos)
		if avail >= n {
			s.pos += int(n)
			return nil
		}
		n -= avail
		s.pos = s.end
		if err := s.fill(1); err != nil {
			return err
		}
	}
}

// line returns the bytes from pos up to and including the first '\n', looking
// at no more than max bytes. If there is no '\n' in the first max bytes it
// returns those max bytes with complete=false; if the input ends first, it
// returns what is left (possibly nothing) with complete=false and err set to
// io.ErrUnexpectedEOF (or the read error). Nothing is consumed.
func (s *source) line(max int) (b []byte, complete bool, err error) {
	searched := 0
	for {
		window := s.buf[s.pos+searched : min(s.end, s.pos+max)]
		if i := bytes.IndexByte(window, '\n'); i >= 0 {
			n := searched + i + 1
			return s.buf[s.pos : s.pos+n : s.pos+n], true, nil
		}
		searched += len(window)
		if searched >= max {
			return s.buf[s.pos : s.pos+max : s.pos+max], false, nil
		}
		if err := s.fill(searched + 1); err != nil {
			return s.buf[s.pos:s.end:s.end], false, err
		}
	}
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
