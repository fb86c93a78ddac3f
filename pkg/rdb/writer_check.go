package rdb

import (
	"encoding/binary"
	"fmt"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/lzf"
)

// Raw byte chunks a Writer copies as they are (module values and aux
// records, key metadata) are checked with the Reader's own rules first, so
// that nothing written fails verify: a chunk from JSON or another caller
// could otherwise corrupt the record and everything after it.

// rawWalker walks a raw chunk with the Reader's length and string encodings.
type rawWalker struct {
	raw []byte
	p   int
}

func (r *rawWalker) readLen() (uint64, bool) {
	raw, p := r.raw, r.p
	if p >= len(raw) {
		return 0, false
	}
	b := raw[p]
	switch b >> 6 {
	case 0:
		r.p++
		return uint64(b & 0x3F), true
	case 1:
		if p+2 > len(raw) {
			return 0, false
		}
		r.p += 2
		return uint64(b&0x3F)<<8 | uint64(raw[p+1]), true
	case 2:
		switch b {
		case 0x80:
			if p+5 > len(raw) {
				return 0, false
			}
			r.p += 5
			return uint64(binary.BigEndian.Uint32(raw[p+1:])), true
		case 0x81:
			if p+9 > len(raw) {
				return 0, false
			}
			r.p += 9
			return binary.BigEndian.Uint64(raw[p+1:]), true
		}
	}
	return 0, false
}

// skip moves past n bytes, false when fewer are left.
func (r *rawWalker) skip(n uint64) bool {
	if n > uint64(len(r.raw)-r.p) {
		return false
	}
	r.p += int(n)
	return true
}

// skipString moves past one RDB string, checking an LZF one as the Reader
// does (Reader.checkLZF), without decompressing it.
func (r *rawWalker) skipString(what string) error {
	if r.p >= len(r.raw) {
		return fmt.Errorf("%s is truncated", what)
	}
	if r.raw[r.p]>>6 != 3 {
		n, ok := r.readLen()
		if !ok || !r.skip(n) {
			return fmt.Errorf("%s length is malformed", what)
		}
		return nil
	}
	enc := r.raw[r.p] & 0x3F
	r.p++
	switch enc {
	case 0, 1, 2: // 8, 16, 32-bit integers
		if !r.skip(1 << enc) {
			return fmt.Errorf("%s is truncated", what)
		}
		return nil
	case 3:
		clen, ok1 := r.readLen()
		ulen, ok2 := r.readLen()
		// The Reader's rules (readLZF): possible lengths, then data that
		// decompresses to exactly ulen bytes.
		if !ok1 || !ok2 || clen > ulen+64 || (clen > 0 && ulen > uint64(lzf.MaxExpansion(int(min(clen, 1<<40))))) || (clen == 0) != (ulen == 0) {
			return fmt.Errorf("%s: LZF lengths are malformed", what)
		}
		start := r.p
		if !r.skip(clen) {
			return fmt.Errorf("%s: LZF data is truncated", what)
		}
		if err := lzf.Check(r.raw[start:r.p], int(ulen)); err != nil {
			return fmt.Errorf("%s: LZF: %v", what, err)
		}
		return nil
	}
	return fmt.Errorf("%s has unknown encoding %d", what, enc)
}

// moduleOpcodes walks a module opcode stream up to and including its EOF
// opcode (Reader.readModuleOpcodes).
func (r *rawWalker) moduleOpcodes() error {
	for {
		op, ok := r.readLen()
		if !ok {
			return fmt.Errorf("module opcode stream is malformed at byte %d", r.p)
		}
		switch op {
		case 0:
			return nil
		case 1, 2:
			if _, ok := r.readLen(); !ok {
				return fmt.Errorf("module integer is malformed at byte %d", r.p)
			}
		case 3:
			ok = r.skip(4)
		case 4:
			ok = r.skip(8)
		case 5:
			if err := r.skipString("module string"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown module opcode %d", op)
		}
		if !ok {
			return fmt.Errorf("module opcode stream is truncated")
		}
	}
}

// end refuses bytes after the walk.
func (r *rawWalker) end(what string) error {
	if r.p != len(r.raw) {
		return fmt.Errorf("%s has %d bytes after its end", what, len(r.raw)-r.p)
	}
	return nil
}

// checkModuleRaw checks that raw is a well-formed module opcode stream
// ending with its EOF opcode, so that a value cannot corrupt what follows.
func checkModuleRaw(raw []byte) error {
	r := &rawWalker{raw: raw}
	if err := r.moduleOpcodes(); err != nil {
		return err
	}
	return r.end("module opcode stream")
}

// checkKeyMetaRaw checks key metadata as Reader.readKeyMeta reads it: a
// class count of at most 64, then per class a 4-byte spec and a module
// opcode stream.
func checkKeyMetaRaw(raw []byte) error {
	r := &rawWalker{raw: raw}
	n, ok := r.readLen()
	switch {
	case !ok:
		return fmt.Errorf("key metadata class count is malformed")
	case n > 64:
		return fmt.Errorf("key metadata has %d classes; at most 64 exist", n)
	}
	for ; n > 0; n-- {
		if !r.skip(4) {
			return fmt.Errorf("key metadata class spec is truncated")
		}
		if err := r.moduleOpcodes(); err != nil {
			return fmt.Errorf("key metadata: %w", err)
		}
	}
	return r.end("key metadata")
}
