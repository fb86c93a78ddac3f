package rdb

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/lzf"
)

// ReaderOptions tune a Reader. The zero value is usable.
type ReaderOptions struct {
	// MaxElementSize bounds any single item read into memory: a string, an inner
	// blob (listpack, ziplist, intset, zipmap) after decompression, a module
	// value. Larger items fail with ErrValueTooLarge. Default 1 GiB (Redis's own
	// limit for a single string is 512 MB).
	MaxElementSize int64
	// Strict enables the checks that go beyond decoding: empty collections,
	// element order in intsets and sorted-set blobs, stream ID order and counters,
	// consumer-group and PEL consistency. rdbtool verify turns it on.
	Strict bool
	// BaseOffset is added to every reported offset, for an RDB embedded in a
	// larger stream.
	BaseOffset int64
	// Consumed, when set with NewReaderBytes, is called about every megabyte
	// with the offset up to which the input has been parsed. A caller that
	// memory-maps a file uses it to drop the pages behind the reader from its
	// resident set. It is called from one goroutine at a time and never after
	// Close returns: from the checksum goroutine when the file has a
	// checksum (so that the system calls of releasing pages stay off the
	// parser's path), else from the goroutine calling Next. Workers may still
	// be checking values of the last few megabytes; the checksum goroutine
	// runs up to 2 MiB ahead of the parser, taking the page faults and cache
	// misses of first reads off it.
	Consumed func(offset int64)
	// Warn, when set, is told about oddities that real servers have written and
	// that Redis loads, such as a stream whose length disagrees with its
	// entries. The reader carries on after calling it.
	Warn func(*ParseError)
	// Workers, with NewReaderBytes, is how many extra goroutines check the
	// insides of skipped values (inner blobs, compressed strings) while Next
	// moves on; 0 checks everything on the calling goroutine. Results are the
	// same either way (errors, their offsets, warnings and their order), but an
	// error inside a value may be reported by a later call to Next than
	// without workers. Values read with NextElem or ReadValue are always
	// checked on the calling goroutine.
	Workers int
	// MaxRepeatCheck bounds how many elements of one plain set, sorted set
	// or hash the strict check for repeated elements follows (it keeps 40
	// bytes an element): past it the value goes unchecked and Warn is told.
	// 0 means 1,048,576 (40 MiB); a negative value, no limit.
	MaxRepeatCheck int
}

const defaultMaxElementSize = 1 << 30

// DefaultReadValueLimit is the byte budget ReadValue applies when given 0.
const DefaultReadValueLimit = 256 << 20

// Reader reads an RDB file record by record. See the package documentation.
type Reader struct {
	opts      ReaderOptions
	src       source
	hdr       Header
	hdrDone   bool
	err       error // sticky
	done      bool  // EOF opcode and trailer read
	db        int
	entry     Entry
	inValue   bool // a key was returned and its value is not fully consumed
	val       valueState
	elem      Elem
	checksum  ChecksumState
	storedCRC uint64

	keyBuf   []byte // owns Entry.Key
	auxName  []byte
	auxValue []byte
	lzfBuf   []byte // decompressed strings
	scratchA []byte // copies of a first item while a second one is read
	scratchB []byte
	raw      captureSink // module values and key metadata
	prefix   *Entry      // key prefix read before an AUX record, for the next key
	skipping bool        // inside skipValue: elements need not be rendered
	keys     int64       // key records returned by Next (see KeysRead)
	spanEnd  int         // Spans.Skip's limit: walking past it gives up (0: none)
	// spanGrowth is what LZF strings add when decompressed, counted against
	// the limits of Spans.Skip and SkipListPart: what a value costs to decode
	// is its decompressed size, not its size in the file.
	spanGrowth int
	par        *parallel // ReaderOptions.Workers
	dups       *elemDups // strict: repeated elements Redis refuses (dupcheck.go)
}

// NewReader returns a Reader over r. It never fails: a bad header is reported by
// the first call to Header or Next. The Reader buffers r itself; it computes the
// CRC-64 on a second goroutine, which Close (or reaching the end, or an error)
// stops.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	if opts.MaxElementSize <= 0 {
		opts.MaxElementSize = defaultMaxElementSize
	}
	rd := &Reader{opts: opts}
	rd.init(r)
	return rd
}

// NewReaderBytes returns a Reader over an input held entirely in memory, such as
// a memory-mapped file. Nothing is copied: parsing and the checksum goroutine
// read data directly, which makes this the fastest way to verify a local file.
// data must not change while the Reader is in use.
func NewReaderBytes(data []byte, opts ReaderOptions) *Reader {
	if opts.MaxElementSize <= 0 {
		opts.MaxElementSize = defaultMaxElementSize
	}
	rd := &Reader{opts: opts}
	rd.src.InitBytes(data, opts.BaseOffset)
	rd.src.consumed = opts.Consumed
	if opts.Workers > 0 {
		rd.par = newParallel(rd, opts.Workers)
	}
	return rd
}

func (r *Reader) init(in io.Reader) {
	r.src.init(in, r.opts.BaseOffset)
}

// Header reads (if needed) and returns the file header.
func (r *Reader) Header() (Header, error) {
	if !r.hdrDone && r.err == nil {
		if err := r.readHeader(); err != nil {
			return Header{}, r.fail(err)
		}
	}
	return r.hdr, r.err
}

// Offset is the input offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.src.Offset() }

// Progress is how far the reader has got, to within about a megabyte. Unlike
// every other method it may be called from another goroutine (a progress bar).
func (r *Reader) Progress() int64 { return r.src.progress.Load() }

// Checksum reports the trailer state and, when present, the stored CRC-64.
// It is meaningful once Next has returned io.EOF.
func (r *Reader) Checksum() (ChecksumState, uint64) { return r.checksum, r.storedCRC }

// Rest returns the input that follows the checksum trailer (an AOF preamble's
// RESP commands, or stray trailing bytes). Call it only after Next returned io.EOF.
func (r *Reader) Rest() io.Reader { return r.src.Rest() }

// errClosed is what Next returns after Close.
var errClosed = errors.New("rdb: Next called after Close")

// KeysRead is the number of key records Next has returned; after an error in
// a key's value, the keys up to and including that one.
func (r *Reader) KeysRead() int64 { return r.keys }

// Close stops the checksum goroutine and the workers. It does not close the
// underlying reader. Reaching the end of the file or an error also stops them.
func (r *Reader) Close() error {
	if r.par != nil {
		r.par.stop()
	}
	if r.err == nil && !r.done {
		// The checksum goroutine is gone: a later Next can only fail.
		r.err = errClosed
	}
	r.src.stopChecksum()
	return nil
}

// fail records a sticky error and stops background work.
func (r *Reader) fail(err error) error {
	if r.err == nil {
		if r.par != nil {
			// A value checked in the background comes first in the file.
			if perr := r.par.drain(); perr != nil {
				err = perr
			}
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			err = r.errAt(r.src.Offset(), "", err, "")
		}
		r.err = err
		r.Close()
	}
	return r.err
}

// errAt builds a ParseError; io.ErrUnexpectedEOF becomes ErrTruncated.
func (r *Reader) errAt(off int64, op string, err error, detail string) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = ErrTruncated
	}
	var key []byte
	if r.inValue || r.entry.Kind == EntryKey {
		key = append([]byte(nil), r.entry.Key...)
	}
	return &ParseError{Offset: off, Key: key, Op: op, Err: err, Detail: detail}
}

// warn reports an oddity to ReaderOptions.Warn, if set.
func (r *Reader) warn(off int64, op, detail string) {
	if r.opts.Warn != nil {
		var pe *ParseError
		errors.As(r.errAt(off, op, ErrUnusual, detail), &pe)
		if r.par != nil && r.par.busy() {
			r.par.queueWarning(pe)
			return
		}
		r.opts.Warn(pe)
	}
}

func (r *Reader) corrupt(off int64, op, detail string) error {
	return r.errAt(off, op, ErrCorrupt, detail)
}

func (r *Reader) readHeader() error {
	b, err := r.src.Next(9)
	if err != nil {
		return r.errAt(r.src.Base, "header", err, "expected 9-byte magic such as REDIS0011")
	}
	r.hdrDone = true
	switch {
	case string(b[:5]) == "REDIS":
		v, ok := parseDigits(b[5:9])
		if !ok {
			return r.corrupt(r.src.Base, "header", "version digits are not a number: "+strconv.Quote(string(b[5:9])))
		}
		r.hdr = Header{Magic: "REDIS", Version: v}
		switch {
		case v < 1:
			return r.corrupt(r.src.Base, "header", "RDB version 0 does not exist")
		case v >= 80:
			// Valkey reserves 80+ for its own magic; no server writes REDIS0080+.
			return r.corrupt(r.src.Base, "header", "RDB version "+strconv.Itoa(v)+" under the REDIS magic is not a version any server writes")
		case v > 13:
			return r.errAt(r.src.Base, "header", unsupported("RDB version %d (newest supported: 13, Redis 8.6)", v), "")
		}
	case string(b[:6]) == "VALKEY":
		v, ok := parseDigits(b[6:9])
		if !ok {
			return r.corrupt(r.src.Base, "header", "version digits are not a number: "+strconv.Quote(string(b[6:9])))
		}
		r.hdr = Header{Magic: "VALKEY", Version: v}
		switch {
		case v < 80:
			return r.corrupt(r.src.Base, "header", "VALKEY magic with version "+strconv.Itoa(v)+" (Valkey numbers its own format from 80)")
		case v > 80:
			return r.errAt(r.src.Base, "header", unsupported("Valkey RDB version %d (newest supported: 80, Valkey 9.0)", v), "")
		}
	default:
		return r.corrupt(r.src.Base, "header", "not an RDB file: expected magic REDIS or VALKEY, found "+strconv.Quote(string(b)))
	}
	if r.hdr.HasChecksum() {
		if r.src.Whole {
			r.src.ahead = newAheadCRC(r.src.Buf, r.src.consumed, r.src.Base)
		} else {
			r.src.crc = newCRCWorker()
		}
	}
	return nil
}

// typeByByte maps a type byte to Type+1 for the types every REDIS-magic file
// may hold (0: take the slow path, which knows the exceptions).
var typeByByte = func() (t [256]uint16) {
	for b := 0; b < 256; b++ {
		if ty := Type(b); ty.Kind() != 0 && ty != TypeModulePreGA {
			t[b] = uint16(ty) + 1
		}
	}
	return t
}()

func isUnsupported(err error) bool {
	var ue *UnsupportedError
	return errors.As(err, &ue)
}

func parseDigits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// Next returns the next record. It returns io.EOF after the EOF opcode once the
// checksum has been verified. If the previous record was a key whose value was
// not fully read, the rest of the value is read (and checked) first.
func (r *Reader) Next() (*Entry, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	if !r.hdrDone {
		if err := r.readHeader(); err != nil {
			return nil, r.fail(err)
		}
	}
	if r.inValue {
		var err error
		if r.par != nil && r.val.phase == 0 {
			err = r.par.skip()
		} else {
			err = r.skipValue()
		}
		if err != nil {
			return nil, r.fail(err)
		}
	}
	e, err := r.next()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, r.fail(err)
	}
	if e.Kind == EntryKey {
		r.keys++
	}
	return e, nil
}

func (r *Reader) next() (*Entry, error) {
	r.src.maybeFlush()
	e := &r.entry
	if e.Kind == EntryKey {
		// After a key (the commonest by far), only a key's fields can be
		// set: clearing those costs a third of clearing the whole Entry.
		e.Key, e.Type, e.ExpireAtMs, e.HasExpire, e.IdleSeconds, e.HasIdle, e.Freq, e.HasFreq, e.KeyMeta =
			nil, 0, 0, false, 0, false, 0, false, nil
		e.Kind, e.DB = 0, r.db
	} else {
		*e = Entry{DB: r.db}
	}
	e.Offset = r.src.Offset()
	prefixed := r.prefix != nil // an expire/idle/freq/keymeta prefix was read
	if prefixed {
		p := r.prefix
		r.prefix = nil
		e.Offset, e.ExpireAtMs, e.HasExpire, e.IdleSeconds, e.HasIdle, e.Freq, e.HasFreq, e.KeyMeta =
			p.Offset, p.ExpireAtMs, p.HasExpire, p.IdleSeconds, p.HasIdle, p.Freq, p.HasFreq, p.KeyMeta
	}
	for {
		opOff := r.src.Offset()
		var op byte
		var err error
		if s := &r.src; s.Pos < s.End { // ReadByte's fast path, which does not inline here
			op = s.Buf[s.Pos]
			s.Pos++
		} else if op, err = s.ReadByte(); err != nil {
			return nil, r.errAt(opOff, "record type", err, "expected an opcode or a value type")
		}
		if op < opSlotImportOrKeyMeta && op != opEntRAMLRU {
			// Fast path: the type byte of a key.
			var t Type
			if v := typeByByte[op]; v != 0 && !r.hdr.IsValkey() {
				t = Type(v - 1)
			} else if t, err = r.typeOf(op, opOff); err != nil && !isUnsupported(err) {
				return nil, err
			}
			key, kerr := r.readStringCopy("key", &r.keyBuf)
			if kerr != nil {
				return nil, kerr
			}
			e.Kind, e.Type, e.Key = EntryKey, t, key
			if err != nil {
				// Valid but unreadable value type: fail naming the key.
				return nil, r.errAt(opOff, "value type", err, "")
			}
			r.startValue(t)
			return e, nil
		}
		if prefixed && op >= opSlotImportOrKeyMeta && op != opIdle && op != opFreq && op != opExpireTimeMs && op != opExpireTime &&
			op != opAux && !(op == opSlotImportOrKeyMeta && !r.hdr.IsValkey()) {
			return nil, r.corrupt(opOff, "key prefix", "opcode 0x"+strconv.FormatUint(uint64(op), 16)+" after an expire/idle/freq prefix; expected a value type")
		}
		switch op {
		case opExpireTimeMs:
			b, err := r.src.Next(8)
			if err != nil {
				return nil, r.errAt(opOff, "expire time", err, "expected 8-byte millisecond time")
			}
			e.ExpireAtMs, e.HasExpire = int64(binary.LittleEndian.Uint64(b)), true
			prefixed = true
		case opExpireTime:
			b, err := r.src.Next(4)
			if err != nil {
				return nil, r.errAt(opOff, "expire time", err, "expected 4-byte seconds time")
			}
			e.ExpireAtMs, e.HasExpire = int64(int32(binary.LittleEndian.Uint32(b)))*1000, true
			prefixed = true
		case opIdle:
			v, err := r.readLen("idle time")
			if err != nil {
				return nil, err
			}
			e.IdleSeconds, e.HasIdle = v, true
			prefixed = true
		case opFreq:
			b, err := r.src.ReadByte()
			if err != nil {
				return nil, r.errAt(opOff, "LFU frequency", err, "expected 1 byte")
			}
			e.Freq, e.HasFreq = b, true
			prefixed = true
		case opEntRAMLRU:
			if r.hdr.IsValkey() {
				return nil, r.corrupt(opOff, "record type", "unknown opcode or type 107")
			}
			if _, err := r.readLen("Redis Enterprise RAM_LRU"); err != nil {
				return nil, err
			}
			prefixed = true
		case opSlotImportOrKeyMeta:
			if r.hdr.IsValkey() {
				if err := r.readSlotImport(e); err != nil {
					return nil, err
				}
				return e, nil
			}
			if r.hdr.Version < 13 {
				return nil, r.corrupt(opOff, "record type", "opcode 0xF3 (KEY_META) in an RDB version "+strconv.Itoa(r.hdr.Version)+" file; it exists from version 13")
			}
			if err := r.readKeyMeta(e); err != nil {
				return nil, err
			}
			prefixed = true
		case opAux:
			name, err := r.readStringCopy("aux field name", &r.auxName)
			if err != nil {
				return nil, err
			}
			val, err := r.readStringCopy("aux field value", &r.auxValue)
			if err != nil {
				return nil, err
			}
			if prefixed {
				// KeyDB writes an "mvcc-tstamp" AUX between a key's expiry and
				// its type byte; Redis keeps the expiry for the next key, so do we.
				p := *e
				r.prefix = &p
				*e = Entry{DB: r.db, Offset: opOff}
			}
			e.Kind, e.AuxName, e.AuxValue = EntryAux, name, val
			return e, nil
		case opSelectDB:
			v, err := r.readLen("database number")
			if err != nil {
				return nil, err
			}
			if v > math.MaxInt32 {
				return nil, r.corrupt(opOff, "database number", "database "+strconv.FormatUint(v, 10)+" out of range")
			}
			r.db = int(v)
			e.Kind, e.DB = EntrySelectDB, r.db
			return e, nil
		case opResizeDB:
			a, err := r.readLen("resizedb size")
			if err != nil {
				return nil, err
			}
			b, err := r.readLen("resizedb expires size")
			if err != nil {
				return nil, err
			}
			e.Kind, e.DBSize, e.ExpiresSize = EntryResizeDB, a, b
			return e, nil
		case opSlotInfo:
			var v [3]uint64
			for i := range v {
				if v[i], err = r.readLen("slot info"); err != nil {
					return nil, err
				}
			}
			e.Kind, e.Slot, e.SlotSize, e.SlotExpiresSize = EntrySlotInfo, v[0], v[1], v[2]
			return e, nil
		case opFunction2:
			code, err := r.readStringCopy("function library", &r.auxValue)
			if err != nil {
				return nil, err
			}
			e.Kind, e.Function = EntryFunction, code
			return e, nil
		case opFunctionPreGA:
			if err := r.readFunctionPreGA(e); err != nil {
				return nil, err
			}
			return e, nil
		case opModuleAux:
			m, err := r.readModule(true)
			if err != nil {
				return nil, err
			}
			e.Kind, e.Module = EntryModuleAux, m
			return e, nil
		case opEOF:
			if prefixed {
				return nil, r.corrupt(opOff, "key prefix", "EOF after an expire/idle/freq prefix")
			}
			if r.par != nil {
				if err := r.par.drain(); err != nil {
					return nil, err
				}
				r.par.stop() // reaching the end stops background work, as documented
			}
			return nil, r.readTrailer()
		default: // 0xF2 and other opcodes no supported format uses
			return nil, r.corrupt(opOff, "record type", "unknown opcode 0x"+strconv.FormatUint(uint64(op), 16))
		}
	}
}

// typeOf maps a type byte to a Type under this file's dialect.
func (r *Reader) typeOf(op byte, off int64) (Type, error) {
	t := Type(op)
	if r.hdr.IsValkey() {
		switch op {
		case 22:
			return TypeValkeyHash2, nil
		case 23:
			return 0, unsupported("Valkey type 23 (PATH_HASH, Valkey 9.2 development format)")
		}
	}
	switch {
	case t == TypeModulePreGA && r.hdr.Version >= 9:
		return 0, r.corrupt(off, "value type", "type 6 (pre-release module format) in an RDB version "+strconv.Itoa(r.hdr.Version)+" file; only Redis 4.0 release candidates (version 8) wrote it")
	case t == TypeModulePreGA:
		return 0, unsupported("module value in the Redis 4.0 release-candidate format (type 6), which cannot be read without the module")
	case t.Kind() == 0:
		return 0, r.corrupt(off, "record type", "unknown opcode or value type "+strconv.Itoa(int(op)))
	}
	return t, nil
}

func (r *Reader) readTrailer() error {
	if err := r.src.flushSinks(); err != nil {
		return r.errAt(r.src.Offset(), "checksum", err, "")
	}
	r.done = true
	if !r.hdr.HasChecksum() {
		r.checksum = ChecksumAbsent
		return io.EOF
	}
	computed := r.src.checksum()
	off := r.src.Offset()
	b, err := r.src.Next(8)
	if err != nil {
		r.done = false
		return r.errAt(off, "checksum", err, "expected the 8-byte CRC-64 trailer after the EOF opcode")
	}
	r.storedCRC = binary.LittleEndian.Uint64(b)
	switch r.storedCRC {
	case 0:
		r.checksum = ChecksumDisabled
	case computed:
		r.checksum = ChecksumOK
	default:
		r.done = false
		return r.errAt(off, "checksum", ErrChecksum, "stored "+hex64(r.storedCRC)+", computed "+hex64(computed))
	}
	return io.EOF
}

func hex64(v uint64) string {
	s := strconv.FormatUint(v, 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return "0x" + s
}

// readLen reads a length-encoded integer (FORMAT-NOTES §2.1).
func (r *Reader) readLen(what string) (uint64, error) {
	v, special, err := r.readLenOrSpecial(what)
	if err != nil {
		return 0, err
	}
	if special {
		return 0, r.corrupt(r.src.Offset()-1, what, "expected a length, found a string encoding marker")
	}
	return v, nil
}

// readLenOrSpecial returns (encoding, true) for a 11xxxxxx special encoding byte.
// One-byte lengths, by far the most common, take the inlined fast path.
func (r *Reader) readLenOrSpecial(what string) (uint64, bool, error) {
	if s := &r.src; s.Pos < s.End && s.Buf[s.Pos] < 0x40 {
		b := s.Buf[s.Pos]
		s.Pos++
		return uint64(b), false, nil
	}
	return r.readLenSlow(what)
}

func (r *Reader) readLenSlow(what string) (uint64, bool, error) {
	off := r.src.Offset()
	b0, err := r.src.ReadByte()
	if err != nil {
		return 0, false, r.errAt(off, what, err, "expected a length")
	}
	switch b0 >> 6 {
	case 0:
		return uint64(b0 & 0x3F), false, nil
	case 1:
		b1, err := r.src.ReadByte()
		if err != nil {
			return 0, false, r.errAt(off, what, err, "expected a 14-bit length")
		}
		return uint64(b0&0x3F)<<8 | uint64(b1), false, nil
	case 3:
		return uint64(b0 & 0x3F), true, nil
	}
	switch b0 {
	case 0x80:
		b, err := r.src.Next(4)
		if err != nil {
			return 0, false, r.errAt(off, what, err, "expected a 32-bit length")
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.src.Next(8)
		if err != nil {
			return 0, false, r.errAt(off, what, err, "expected a 64-bit length")
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, r.corrupt(off, what, "invalid length encoding byte 0x"+strconv.FormatUint(uint64(b0), 16))
}

// readString reads an RDB string (§2.2). The result is valid until the next read.
// Strings shorter than 64 bytes that are already buffered, most keys and
// elements, take the fast path.
func (r *Reader) readString(what string) ([]byte, error) {
	s := &r.src
	if p := s.Pos; p < s.End {
		if n := int(s.Buf[p]); n < 0x40 && s.End-p > n {
			s.Pos = p + 1 + n
			return s.Buf[p+1 : p+1+n : p+1+n], nil
		}
	}
	return r.readStringSlow(what)
}

func (r *Reader) readStringSlow(what string) ([]byte, error) {
	off := r.src.Offset()
	v, special, err := r.readLenOrSpecial(what)
	if err != nil {
		return nil, err
	}
	if !special {
		if err := r.checkSize(off, what, v); err != nil {
			return nil, err
		}
		b, err := r.src.Next(int(v))
		if err != nil {
			return nil, r.errAt(off, what, err, "expected "+strconv.FormatUint(v, 10)+" bytes of string data")
		}
		return b, nil
	}
	return r.readSpecialString(off, what, v)
}

// checkSize refuses an item larger than MaxElementSize. It first skips over the
// claimed bytes: a length damaged by corruption usually points past the end of
// the input, and then the honest answer is "truncated", not "too large".
func (r *Reader) checkSize(off int64, what string, n uint64) error {
	if n <= uint64(r.opts.MaxElementSize) {
		return nil
	}
	if n > math.MaxInt64 {
		return r.corrupt(off, what, "length "+strconv.FormatUint(n, 10)+" is beyond any file size")
	}
	if err := r.src.Skip(int64(n)); err != nil {
		return r.errAt(off, what, err, "a length of "+strconv.FormatUint(n, 10)+" bytes runs past the end of the input")
	}
	return r.errAt(off, what, ErrValueTooLarge, strconv.FormatUint(n, 10)+" bytes; limit "+strconv.FormatInt(r.opts.MaxElementSize, 10))
}

// readSpecialString decodes the integer and LZF forms, given the encoding number.
func (r *Reader) readSpecialString(off int64, what string, enc uint64) ([]byte, error) {
	switch enc {
	case 0:
		b, err := r.src.ReadByte()
		if err != nil {
			return nil, r.errAt(off, what, err, "expected 8-bit integer")
		}
		return r.intText(int64(int8(b))), nil
	case 1:
		b, err := r.src.Next(2)
		if err != nil {
			return nil, r.errAt(off, what, err, "expected 16-bit integer")
		}
		return r.intText(int64(int16(binary.LittleEndian.Uint16(b)))), nil
	case 2:
		b, err := r.src.Next(4)
		if err != nil {
			return nil, r.errAt(off, what, err, "expected 32-bit integer")
		}
		return r.intText(int64(int32(binary.LittleEndian.Uint32(b)))), nil
	case 3:
		return r.readLZF(off, what)
	}
	return nil, r.corrupt(off, what, "unknown string encoding "+strconv.FormatUint(enc, 10))
}

// intText renders an integer-encoded string; it shares lzfBuf, which is free
// whenever a fresh string is being produced.
func (r *Reader) intText(v int64) []byte {
	r.lzfBuf = strconv.AppendInt(r.lzfBuf[:0], v, 10)
	return r.lzfBuf
}

func (r *Reader) readLZF(off int64, what string) ([]byte, error) {
	src, ulen, err := r.readLZFHeader(off, what)
	if err != nil {
		return nil, err
	}
	if cap(r.lzfBuf) < ulen+lzfSlack {
		// Room past the end lets the decoder copy the last instructions
		// word by word too.
		r.lzfBuf = make([]byte, 0, ulen+lzfSlack)
	}
	out, err := lzf.Decompress(r.lzfBuf, src, ulen)
	if err != nil {
		return nil, r.corrupt(off, what, "LZF: "+err.Error())
	}
	r.lzfBuf = out
	return out, nil
}

// lzfSlack is the spare capacity the decompression buffer gets.
const lzfSlack = 64

// checkLZF consumes an LZF-compressed string whose bytes nobody reads,
// checking it as readLZF does (same errors) without decompressing it.
func (r *Reader) checkLZF(off int64, what string) error {
	src, ulen, err := r.readLZFHeader(off, what)
	if err != nil {
		return err
	}
	return r.lzfCheck(off, what, src, ulen)
}

// lzfCheck checks the compressed bytes src of the string at off, of
// decompressed length ulen, after its lengths were read.
func (r *Reader) lzfCheck(off int64, what string, src []byte, ulen int) error {
	if err := lzf.Check(src, ulen); err != nil {
		return r.corrupt(off, what, "LZF: "+err.Error())
	}
	return nil
}

// readLZFHeader reads the two lengths of an LZF-compressed string (after its
// encoding byte) and returns its compressed bytes and decompressed length.
func (r *Reader) readLZFHeader(off int64, what string) ([]byte, int, error) {
	if src, ulen, ok := r.readLZFHeaderFast(); ok {
		return src, ulen, nil
	}
	clen, err := r.readLZFLen(what, " (compressed length)")
	if err != nil {
		return nil, 0, err
	}
	ulen, err := r.readLZFLen(what, " (uncompressed length)")
	if err != nil {
		return nil, 0, err
	}
	if err := r.checkSize(off, what, ulen); err != nil {
		return nil, 0, err
	}
	if clen > ulen+64 || (clen > 0 && ulen > uint64(lzf.MaxExpansion(int(clen)))) || (clen == 0) != (ulen == 0) {
		return nil, 0, r.corrupt(off, what, "LZF lengths "+strconv.FormatUint(clen, 10)+" -> "+strconv.FormatUint(ulen, 10)+" are impossible")
	}
	src, err := r.src.Next(int(clen))
	if err != nil {
		return nil, 0, r.errAt(off, what, err, "expected "+strconv.FormatUint(clen, 10)+" bytes of LZF data")
	}
	if r.spanEnd > 0 {
		r.spanGrowth += int(ulen) - int(clen)
	}
	return src, int(ulen), nil
}

// readLZFHeaderFast is readLZFHeader for the lengths nearly every LZF string
// has: both of one or two bytes, within MaxElementSize, possible, and the
// compressed bytes all in the buffer. Anything else, it reads nothing and
// reports false, and readLZFHeader reads (or refuses) it one step at a
// time. Files of millions of small compressed values read one a key.
func (r *Reader) readLZFHeaderFast() ([]byte, int, bool) {
	s := &r.src
	p := s.Pos
	if s.End-p < 4 {
		return nil, 0, false
	}
	b := s.Buf[p : p+4 : p+4]
	var clen, ulen, n int
	switch b[0] >> 6 {
	case 0:
		clen, n = int(b[0]), 1
	case 1:
		clen, n = int(b[0]&0x3F)<<8|int(b[1]), 2
	default:
		return nil, 0, false
	}
	switch c := b[n]; c >> 6 {
	case 0:
		ulen, n = int(c), n+1
	case 1:
		ulen, n = int(c&0x3F)<<8|int(b[n+1]), n+2
	default:
		return nil, 0, false
	}
	// The conditions under which readLZFHeader goes on without a word.
	if clen == 0 || ulen == 0 || clen > ulen+64 || ulen > lzf.MaxExpansion(clen) ||
		int64(ulen) > r.opts.MaxElementSize || s.End-p-n < clen {
		return nil, 0, false
	}
	s.Pos = p + n + clen
	if r.spanEnd > 0 {
		r.spanGrowth += ulen - clen
	}
	return s.Buf[p+n : p+n+clen : p+n+clen], ulen, true
}

// readLZFLen reads one of the lengths of an LZF string; what+part names it in
// errors. The one- and two-byte forms, nearly all of them, are read here
// without building that name.
func (r *Reader) readLZFLen(what, part string) (uint64, error) {
	s := &r.src
	if p := s.Pos; p+1 < s.End {
		switch b := s.Buf[p]; b >> 6 {
		case 0:
			s.Pos = p + 1
			return uint64(b), nil
		case 1:
			s.Pos = p + 2
			return uint64(b&0x3F)<<8 | uint64(s.Buf[p+1]), nil
		}
	}
	return r.readLen(what + part)
}

// readStringCopy reads a string into *dst (reusing its memory) so that it
// survives further reads. When the window is the whole input, a plain string is
// already stable where it lies and is returned without a copy; so the result
// may alias read-only input and must never be assigned back to *dst.
func (r *Reader) readStringCopy(what string, dst *[]byte) ([]byte, error) {
	if s := &r.src; s.Whole && s.Pos < s.End && s.Buf[s.Pos] < 0xC0 {
		return r.readString(what)
	}
	b, err := r.readString(what)
	if err != nil {
		return nil, err
	}
	*dst = append((*dst)[:0], b...)
	return *dst, nil
}

func (r *Reader) readMs64(what string) (int64, error) {
	off := r.src.Offset()
	b, err := r.src.Next(8)
	if err != nil {
		return 0, r.errAt(off, what, err, "expected 8-byte millisecond time")
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

func (r *Reader) readFunctionPreGA(e *Entry) error {
	f := &PreGAFunction{}
	var err error
	if f.Name, err = r.readOwned("function name"); err != nil {
		return err
	}
	if f.Engine, err = r.readOwned("function engine"); err != nil {
		return err
	}
	has, err := r.readLen("function has-description flag")
	if err != nil {
		return err
	}
	if has != 0 {
		f.HasDescription = true
		if f.Description, err = r.readOwned("function description"); err != nil {
			return err
		}
	}
	if f.Code, err = r.readOwned("function code"); err != nil {
		return err
	}
	e.Kind, e.Function, e.FunctionPreGA = EntryFunction, f.Code, f
	return nil
}

// readOwned reads a string into fresh memory.
func (r *Reader) readOwned(what string) ([]byte, error) {
	b, err := r.readString(what)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, b...), nil
}

func (r *Reader) readSlotImport(e *Entry) error {
	s := &SlotImport{}
	var err error
	if s.JobName, err = r.readOwned("slot import job name"); err != nil {
		return err
	}
	off := r.src.Offset()
	n, err := r.readLen("slot import range count")
	if err != nil {
		return err
	}
	if n > 16384 {
		return r.corrupt(off, "slot import range count", strconv.FormatUint(n, 10)+" ranges; a cluster has 16384 slots")
	}
	for i := uint64(0); i < n; i++ {
		a, err := r.readLen("slot import range start")
		if err != nil {
			return err
		}
		b, err := r.readLen("slot import range end")
		if err != nil {
			return err
		}
		s.Ranges = append(s.Ranges, [2]uint64{a, b})
	}
	e.Kind, e.SlotImport = EntrySlotImport, s
	return nil
}

// readModuleOpcodes walks a module opcode stream up to and including its EOF
// opcode (FORMAT-NOTES §3.9). The bytes are captured by the caller.
func (r *Reader) readModuleOpcodes(what string) error {
	for {
		off := r.src.Offset()
		op, err := r.readLen(what + " opcode")
		if err != nil {
			return err
		}
		switch op {
		case 0:
			return nil
		case 1, 2:
			if _, err := r.readLen(what + " integer"); err != nil {
				return err
			}
		case 3:
			if _, err := r.src.Next(4); err != nil {
				return r.errAt(off, what+" float", err, "expected 4 bytes")
			}
		case 4:
			if _, err := r.src.Next(8); err != nil {
				return r.errAt(off, what+" double", err, "expected 8 bytes")
			}
		case 5:
			if err := r.skipString(what + " string"); err != nil {
				return err
			}
		default:
			return r.corrupt(off, what+" opcode", "unknown module opcode "+strconv.FormatUint(op, 10))
		}
	}
}

// skipString consumes a string without holding it in memory (LZF data is
// still checked, as decompressing it would).
func (r *Reader) skipString(what string) error {
	off := r.src.Offset()
	v, special, err := r.readLenOrSpecial(what)
	if err != nil {
		return err
	}
	if special {
		if v == 3 {
			return r.checkLZF(off, what)
		}
		_, err := r.readSpecialString(off, what, v)
		return err
	}
	if err := r.src.Skip(int64(v)); err != nil {
		return r.errAt(off, what, err, "expected "+strconv.FormatUint(v, 10)+" bytes of string data")
	}
	return nil
}

// readModule reads a module value (type 7) or MODULE_AUX record.
func (r *Reader) readModule(aux bool) (*ModuleValue, error) {
	what := "module value"
	if aux {
		what = "module aux"
	}
	id, err := r.readLen(what + " id")
	if err != nil {
		return nil, err
	}
	m := &ModuleValue{ID: id, Name: ModuleName(id), EncVer: int(id & 1023)}
	if aux {
		off := r.src.Offset()
		op, err := r.readLen("module aux when-opcode")
		if err != nil {
			return nil, err
		}
		if op != 2 {
			return nil, r.corrupt(off, "module aux", "expected the UINT opcode 2 before the 'when' field, found "+strconv.FormatUint(op, 10))
		}
		when, err := r.readLen("module aux when")
		if err != nil {
			return nil, err
		}
		if when != 1 && when != 2 {
			return nil, r.corrupt(off, "module aux", "'when' must be 1 (before keys) or 2 (after keys), found "+strconv.FormatUint(when, 10))
		}
		m.When = int(when)
	}
	raw, err := r.captureRaw(func() error { return r.readModuleOpcodes(what) })
	if err != nil {
		return nil, err
	}
	m.Raw = raw
	return m, nil
}

// captureRaw runs walk and returns a copy of every byte it consumed, bounded by
// MaxElementSize.
func (r *Reader) captureRaw(walk func() error) ([]byte, error) {
	r.raw = captureSink{limit: r.opts.MaxElementSize, buf: r.raw.buf[:0]}
	off := r.src.Offset()
	if err := r.src.startCapture(&r.raw); err != nil {
		return nil, err
	}
	werr := walk()
	cerr := r.src.stopCapture()
	if werr != nil {
		return nil, werr
	}
	if cerr != nil {
		return nil, r.errAt(off, "raw bytes", cerr, "")
	}
	return append([]byte{}, r.raw.buf...), nil
}

func (r *Reader) readKeyMeta(e *Entry) error {
	raw, err := r.captureRaw(func() error {
		off := r.src.Offset()
		n, err := r.readLen("key metadata class count")
		if err != nil {
			return err
		}
		if n > 64 {
			return r.corrupt(off, "key metadata", strconv.FormatUint(n, 10)+" metadata classes; at most 64 exist")
		}
		for i := uint64(0); i < n; i++ {
			soff := r.src.Offset()
			if _, err := r.src.Next(4); err != nil {
				return r.errAt(soff, "key metadata class", err, "expected a 4-byte class spec")
			}
			if err := r.readModuleOpcodes("key metadata"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	e.KeyMeta = raw
	return nil
}
