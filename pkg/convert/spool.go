package convert

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"os"

	"github.com/rdbtool/rdbtool/internal/scratch"
)

// spool holds a sequence of records (rendered JSON fragments) that must be
// written in another order or form than they are read in: a sorted set stored
// in descending order, a hash whose form depends on its last field. Records stay
// in memory up to a budget and then move to a temporary file, so the memory a
// huge key costs is bounded.
//
// A record is framed as u32le length, payload, u32le length, so it can be
// walked in both directions.
type spool struct {
	mem    []byte
	n      int // records held
	budget int
	dir    string
	file   *os.File
	size   int64 // bytes in file; the file holds the oldest records
}

func newSpool(budget int, dir string) *spool { return &spool{budget: budget, dir: dir} }

func (s *spool) reset() {
	s.mem, s.n = s.mem[:0], 0
	if s.file != nil {
		scratch.Remove(s.file)
		s.file, s.size = nil, 0
	}
}

func (s *spool) add(rec []byte) error {
	s.n++
	s.mem = binary.LittleEndian.AppendUint32(s.mem, uint32(len(rec)))
	s.mem = append(s.mem, rec...)
	s.mem = binary.LittleEndian.AppendUint32(s.mem, uint32(len(rec)))
	if len(s.mem) < s.budget {
		return nil
	}
	if s.file == nil {
		f, err := scratch.New(s.dir, "rdbtool-spool-*") // nameless: nothing left behind on a kill
		if err != nil {
			return err
		}
		s.file = f
	}
	if _, err := s.file.Write(s.mem); err != nil {
		return err
	}
	s.size += int64(len(s.mem))
	s.mem = s.mem[:0]
	return nil
}

// each calls fn for every record, in insertion order or reversed. The slice
// passed to fn is valid only during the call.
func (s *spool) each(reverse bool, fn func(rec []byte) error) error {
	if reverse {
		if err := walk(s.mem, true, fn); err != nil {
			return err
		}
		if s.file != nil {
			return walkFileBackward(s.file, s.size, fn)
		}
		return nil
	}
	if s.file != nil {
		if err := walkFileForward(s.file, s.size, fn); err != nil {
			return err
		}
	}
	return walk(s.mem, false, fn)
}

var errSpool = errors.New("spool: damaged record")

func walk(b []byte, reverse bool, fn func([]byte) error) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return errSpool
		}
		var n int
		if reverse {
			n = int(binary.LittleEndian.Uint32(b[len(b)-4:]))
		} else {
			n = int(binary.LittleEndian.Uint32(b))
		}
		if len(b) < 8+n {
			return errSpool
		}
		var rec []byte
		if reverse {
			rec, b = b[len(b)-4-n:len(b)-4], b[:len(b)-8-n]
		} else {
			rec, b = b[4:4+n], b[8+n:]
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

func walkFileForward(f *os.File, size int64, fn func([]byte) error) error {
	br := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<20)
	var hdr [4]byte
	var rec []byte
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n := int(binary.LittleEndian.Uint32(hdr[:]))
		if cap(rec) < n+4 {
			rec = make([]byte, n+4)
		}
		rec = rec[:n+4]
		if _, err := io.ReadFull(br, rec); err != nil {
			return errSpool
		}
		if err := fn(rec[:n]); err != nil {
			return err
		}
	}
}

// walkFileBackward reads the file from its end in 1 MiB blocks.
func walkFileBackward(f *os.File, size int64, fn func([]byte) error) error {
	const block = 1 << 20
	var carry []byte // unconsumed bytes that end where the previous block began
	end := size
	for end > 0 || len(carry) > 0 {
		for len(carry) < 8 || len(carry) < 8+int(binary.LittleEndian.Uint32(carry[len(carry)-4:])) {
			if end == 0 {
				return errSpool
			}
			start := max(0, end-block)
			chunk := make([]byte, end-start, int(end-start)+len(carry))
			if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
				return err
			}
			carry = append(chunk, carry...)
			end = start
		}
		n := int(binary.LittleEndian.Uint32(carry[len(carry)-4:]))
		if err := fn(carry[len(carry)-4-n : len(carry)-4]); err != nil {
			return err
		}
		carry = carry[:len(carry)-8-n]
	}
	return nil
}
