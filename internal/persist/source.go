package persist

import (
	"bytes"
	"io"
)

// Source is a reader's own buffer over its input. Parsing works on slices of
// the window Buf[Pos:End], so most reads copy nothing; a slice handed out stays
// valid until the next read, which may compact or grow the window.
//
// The fields are exported for the parsers' fast paths (pkg/rdb and pkg/aof
// index Buf directly); only Source's methods move the window.
type Source struct {
	Buf   []byte
	Pos   int   // next unread byte
	End   int   // end of buffered data
	Base  int64 // input offset of Buf[0]
	Whole bool  // Buf is the entire input (InitBytes): never refilled or moved

	// BeforeCompact, when set, is called before the window moves, while
	// Buf[:Pos] still holds the bytes consumed since the last move: a
	// checksum or a capture takes them then. An error stops the read that
	// needed the move and is returned by it.
	BeforeCompact func() error

	r       io.Reader
	readErr error // sticky error from r (io.EOF included)
	empty   int   // consecutive reads that returned nothing and no error
	maxIdle int
}

const (
	// FullSize is the size the window doubles up to while reads keep filling
	// it; a window grown past it for one huge item is dropped at the next
	// compaction that finds little unread data.
	FullSize    = 1 << 20
	minReadSize = 64 << 10
	// Reads in a row that may return (0, nil) before Fill gives up, as bufio
	// does.
	maxEmptyReads = 100
)

// Init makes the Source read from r, whose first byte is at input offset
// base. The window starts at initial bytes (small, so that checking many
// small files costs little); a window grown past maxIdle for a huge item is
// shrunk once that item has been consumed, so that memory follows the largest
// live item.
func (s *Source) Init(r io.Reader, base int64, initial, maxIdle int) {
	s.r = r
	s.Base = base
	s.Buf = make([]byte, initial)
	s.maxIdle = maxIdle
}

// InitBytes makes the whole input the window: nothing is copied, and data must
// not change while the Source is in use.
func (s *Source) InitBytes(data []byte, base int64) {
	s.Base = base
	s.Buf = data
	s.End = len(data)
	s.Whole = true
	s.readErr = io.EOF
}

// Offset is the input offset of the next unread byte.
func (s *Source) Offset() int64 { return s.Base + int64(s.Pos) }

// Fill makes at least n bytes available at Pos. It returns io.ErrUnexpectedEOF
// when the input ends first, or the reader's error. The buffer grows only as
// data actually arrives, so a huge claimed length in a short input costs
// nothing.
func (s *Source) Fill(n int) error {
	if s.End-s.Pos >= n {
		return nil
	}
	if s.Whole {
		return io.ErrUnexpectedEOF
	}
	if err := s.compact(n); err != nil {
		return err
	}
	for s.End-s.Pos < n {
		if s.readErr != nil {
			if s.readErr == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return s.readErr
		}
		if s.End == len(s.Buf) {
			// Full of unread data and still short: grow, at most doubling,
			// so the allocation tracks bytes really read.
			s.grow(min(2*len(s.Buf), max(n, len(s.Buf)+minReadSize)))
		}
		k, err := s.r.Read(s.Buf[s.End:])
		if k < 0 || k > len(s.Buf)-s.End {
			k, err = 0, io.ErrShortBuffer // a broken io.Reader: never trust it with our slice
		}
		if k == 0 && err == nil {
			// io.Reader allows (0, nil), but a reader that keeps returning it
			// would spin here forever.
			if s.empty++; s.empty >= maxEmptyReads {
				err = io.ErrNoProgress
			}
		} else {
			s.empty = 0
		}
		s.End += k
		if s.End == len(s.Buf) && len(s.Buf) < FullSize {
			s.grow(2 * len(s.Buf)) // the input keeps up: read in bigger gulps
		}
		if err != nil {
			s.readErr = err
		}
	}
	return nil
}

// grow replaces the window with one of size bytes holding the unread data.
func (s *Source) grow(size int) {
	grown := make([]byte, size)
	copy(grown, s.Buf[s.Pos:s.End])
	s.Base += int64(s.Pos)
	s.End -= s.Pos
	s.Pos = 0
	s.Buf = grown
}

// compact moves the unread tail to the front of the buffer, shrinking a
// buffer that was grown for one big item once it is no longer needed.
func (s *Source) compact(need int) error {
	if s.BeforeCompact != nil {
		if err := s.BeforeCompact(); err != nil {
			return err
		}
	}
	if s.Pos == 0 {
		return nil
	}
	unread := s.End - s.Pos
	if len(s.Buf) > s.maxIdle && unread < FullSize && need <= FullSize {
		small := make([]byte, FullSize)
		copy(small, s.Buf[s.Pos:s.End])
		s.Buf = small
	} else {
		copy(s.Buf, s.Buf[s.Pos:s.End])
	}
	s.Base += int64(s.Pos)
	s.End = unread
	s.Pos = 0
	return nil
}

// ReadByte consumes one byte. The fast path is small enough to inline.
func (s *Source) ReadByte() (byte, error) {
	if s.Pos < s.End {
		b := s.Buf[s.Pos]
		s.Pos++
		return b, nil
	}
	return s.readByteSlow()
}

func (s *Source) readByteSlow() (byte, error) {
	if err := s.Fill(1); err != nil {
		return 0, err
	}
	b := s.Buf[s.Pos]
	s.Pos++
	return b, nil
}

// Next consumes n bytes and returns them; the slice is valid until the next
// read. The fast path is small enough to inline.
func (s *Source) Next(n int) ([]byte, error) {
	if p := s.Pos; s.End-p >= n {
		s.Pos = p + n
		return s.Buf[p : p+n : p+n], nil
	}
	return s.nextSlow(n)
}

func (s *Source) nextSlow(n int) ([]byte, error) {
	if err := s.Fill(n); err != nil {
		return nil, err
	}
	b := s.Buf[s.Pos : s.Pos+n : s.Pos+n]
	s.Pos += n
	return b, nil
}

// Skip consumes n bytes without holding them in memory all at once.
func (s *Source) Skip(n int64) error {
	for {
		avail := int64(s.End - s.Pos)
		if avail >= n {
			s.Pos += int(n)
			return nil
		}
		n -= avail
		s.Pos = s.End
		if err := s.Fill(1); err != nil {
			return err
		}
	}
}

// Line returns the bytes from Pos up to and including the first '\n', looking
// at no more than max bytes. If there is no '\n' in the first max bytes it
// returns those max bytes with complete=false; if the input ends first, it
// returns what is left (possibly nothing) with complete=false and err set to
// io.ErrUnexpectedEOF (or the read error). Nothing is consumed.
func (s *Source) Line(max int) (b []byte, complete bool, err error) {
	searched := 0
	for {
		window := s.Buf[s.Pos+searched : min(s.End, s.Pos+max)]
		if i := bytes.IndexByte(window, '\n'); i >= 0 {
			n := searched + i + 1
			return s.Buf[s.Pos : s.Pos+n : s.Pos+n], true, nil
		}
		searched += len(window)
		if searched >= max {
			return s.Buf[s.Pos : s.Pos+max : s.Pos+max], false, nil
		}
		if err := s.Fill(searched + 1); err != nil {
			return s.Buf[s.Pos:s.End:s.End], false, err
		}
	}
}

// Rest returns the unread input: buffered bytes, then the underlying reader
// (or its sticky error).
func (s *Source) Rest() io.Reader {
	if s.Whole {
		return bytes.NewReader(s.Buf[s.Pos:s.End])
	}
	left := append([]byte(nil), s.Buf[s.Pos:s.End]...)
	if s.readErr != nil {
		if s.readErr == io.EOF {
			return bytes.NewReader(left)
		}
		return io.MultiReader(bytes.NewReader(left), errReader{s.readErr})
	}
	return io.MultiReader(bytes.NewReader(left), s.r)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
