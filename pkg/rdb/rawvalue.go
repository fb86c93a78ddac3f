package rdb

import (
	"math"
	"strconv"
)

// RawValue moves past the current key's value and returns its bytes as the
// file holds them (after the key name), reading only their framing: lengths,
// counts, the sizes of strings and the fixed-size fields between them. What
// lies inside a string or an inner blob (listpack, ziplist, intset, zipmap,
// LZF data) is neither decoded nor checked; module values, whose framing is
// the module's opcodes, are walked as SkipValue walks them.
//
// It is for callers that checked the values already (a first pass over the
// same file) or that hand them to a checker of their own: a DUMP payload is
// a type byte, these bytes and a footer, and RESTORE checks it. The file's
// CRC-64, computed as always, still covers the bytes when Next reaches the
// end. A value that runs past the end of the input is ErrTruncated, framing
// no value can have (an unknown string encoding, a length beyond 2^62) is
// ErrCorrupt, with the offset; nothing is allocated from a length the file
// claims.
//
// Over an in-memory input (NewReaderBytes) the bytes are returned in place;
// otherwise they are copied into buf (reused when large enough), which then
// holds the whole value. Either way they are valid until the next call on the
// Reader. It must be called right after Next returned the key, before
// NextElem.
func (r *Reader) RawValue(buf []byte) ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if !r.inValue || r.src.Offset() != r.val.off {
		return nil, r.fail(r.errAt(r.src.Offset(), "raw value", errNoValue, "RawValue must come right after Next returned a key"))
	}
	if r.src.Whole {
		start := r.src.Pos
		if err := r.frameRaw(); err != nil {
			return nil, r.fail(err)
		}
		r.inValue = false
		return r.src.Buf[start:r.src.Pos:r.src.Pos], nil
	}
	c := &captureSink{buf: buf[:0], limit: math.MaxInt64}
	if err := r.src.startCapture(c); err != nil {
		return nil, r.fail(err)
	}
	ferr := r.frameRaw()
	cerr := r.src.stopCapture()
	if ferr != nil {
		return nil, r.fail(ferr)
	}
	if cerr != nil {
		return nil, r.fail(r.errAt(r.val.off, "raw value", cerr, "copying the value"))
	}
	r.inValue = false
	return c.buf, nil
}

// maxRawLen bounds a string length RawValue accepts: beyond it no input
// holds the string, and the length would not fit the arithmetic.
const maxRawLen = 1 << 62

// frameRaw moves past the current value by its framing alone (RawValue).
// Every loop consumes at least one byte an iteration, so a count the file
// lies about ends at the end of the input, never in a long spin.
func (r *Reader) frameRaw() error {
	t := r.val.t
	switch t {
	case TypeString, TypeListZiplist, TypeSetIntset, TypeSetListpack, TypeZSetZiplist, TypeZSetListpack,
		TypeHashZiplist, TypeHashListpack, TypeHashZipmap, TypeHashListpackExPreGA:
		return r.frameRawString("value")
	case TypeHashListpackEx:
		if err := r.frameRawSkip(8, "hash minimum field expiry"); err != nil {
			return err
		}
		return r.frameRawString("hash listpack")
	case TypeList, TypeSet, TypeHash, TypeZSet, TypeZSet2:
		n, err := r.readLen("element count")
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			if err := r.frameStep(); err != nil {
				return err
			}
			if !r.skipShortString() {
				if err := r.frameRawString("element"); err != nil {
					return err
				}
			}
			switch t {
			case TypeHash:
				if !r.skipShortString() {
					err = r.frameRawString("value")
				}
			case TypeZSet:
				err = r.frameRawScoreText()
			case TypeZSet2:
				if s := &r.src; s.End-s.Pos >= 8 {
					s.Pos += 8
				} else {
					err = r.frameRawSkip(8, "score")
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	case TypeListQuicklist, TypeListQuicklist2:
		n, err := r.readLen("quicklist node count")
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			if err := r.frameStep(); err != nil {
				return err
			}
			if err := r.frameRawNode(t); err != nil {
				return err
			}
		}
		return nil
	case TypeHashMetadata, TypeHashMetadataPreGA, TypeValkeyHash2:
		return r.frameRawFieldTTLHash(t)
	case TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3, TypeStreamListpacks4:
		return r.frameRawStream()
	}
	return r.skipValue() // module values: their opcodes are their framing
}

// frameRawNode moves past one quicklist node of a list of type t.
func (r *Reader) frameRawNode(t Type) error {
	if t == TypeListQuicklist2 {
		if _, err := r.readLen("quicklist node container"); err != nil {
			return err
		}
	}
	return r.frameRawString("quicklist node")
}

// frameStep runs once an item of a collection is framed. Framing a span
// for a worker (spanEnd set) gives up once the value, decoded, would reach
// past spanEnd; RawValue lets the checksum keep pace inside a big value. (A
// span's framing may be rewound, so it never feeds the checksum.)
func (r *Reader) frameStep() error {
	if r.spanEnd > 0 {
		if r.src.Pos+r.spanGrowth > r.spanEnd {
			return errSpanTooBig
		}
		return nil
	}
	r.src.maybeFlush()
	return nil
}

// frameRawFieldTTLHash frames the hashes stored field by field with expiries
// (Redis 7.4 types 24 and 22, Valkey's HASH_2).
func (r *Reader) frameRawFieldTTLHash(t Type) error {
	if t == TypeHashMetadata {
		if err := r.frameRawSkip(8, "hash minimum field expiry"); err != nil {
			return err
		}
	}
	n, err := r.readLen("field count")
	if err != nil {
		return err
	}
	for ; n > 0; n-- {
		if err := r.frameStep(); err != nil {
			return err
		}
		if t != TypeValkeyHash2 {
			if _, err := r.readLen("field expiry"); err != nil {
				return err
			}
		}
		if err := r.frameRawString("field"); err != nil {
			return err
		}
		if err := r.frameRawString("value"); err != nil {
			return err
		}
		if t == TypeValkeyHash2 {
			if err := r.frameRawSkip(8, "field expiry"); err != nil {
				return err
			}
		}
	}
	return nil
}

// frameRawStream frames a stream: its nodes (master ID and listpack, two
// strings each), metadata, consumer groups with their PELs and consumers,
// and the idempotency section of type 26 (see nextStream for the layout).
func (r *Reader) frameRawStream() error {
	version := r.streamVersion()
	lens := func(n int, what string) error {
		for range n {
			if _, err := r.readLen(what); err != nil {
				return err
			}
		}
		return nil
	}
	nodes, err := r.readLen("stream node count")
	if err != nil {
		return err
	}
	for ; nodes > 0; nodes-- {
		if err := r.frameStep(); err != nil {
			return err
		}
		if err := r.frameRawString("stream node key"); err != nil {
			return err
		}
		if err := r.frameRawString("stream node listpack"); err != nil {
			return err
		}
	}
	// Length and last ID; then first ID, max deleted ID and entries added.
	meta := 3
	if version >= 2 {
		meta += 5
	}
	if err := lens(meta, "stream metadata"); err != nil {
		return err
	}
	groups, err := r.readLen("stream group count")
	if err != nil {
		return err
	}
	for ; groups > 0; groups-- {
		if err := r.frameStep(); err != nil {
			return err
		}
		if err := r.frameRawString("consumer group name"); err != nil {
			return err
		}
		group := 2 // last delivered ID
		if version >= 2 {
			group++ // entries read
		}
		if err := lens(group, "consumer group"); err != nil {
			return err
		}
		pel, err := r.readLen("group PEL size")
		if err != nil {
			return err
		}
		for ; pel > 0; pel-- {
			if err := r.frameStep(); err != nil {
				return err
			}
			// A raw 16-byte ID and an 8-byte delivery time, then the count.
			if err := r.frameRawSkip(24, "group PEL entry"); err != nil {
				return err
			}
			if _, err := r.readLen("PEL delivery count"); err != nil {
				return err
			}
		}
		consumers, err := r.readLen("consumer count")
		if err != nil {
			return err
		}
		for ; consumers > 0; consumers-- {
			if err := r.frameStep(); err != nil {
				return err
			}
			if err := r.frameRawString("consumer name"); err != nil {
				return err
			}
			times := 8 // seen time
			if version >= 3 {
				times += 8 // active time
			}
			if err := r.frameRawSkip(times, "consumer times"); err != nil {
				return err
			}
			cpel, err := r.readLen("consumer PEL size")
			if err != nil {
				return err
			}
			for ; cpel > 0; cpel-- {
				if err := r.frameStep(); err != nil {
					return err
				}
				if err := r.frameRawSkip(16, "consumer PEL entry"); err != nil {
					return err
				}
			}
		}
	}
	if version < 4 {
		return nil
	}
	// Duration, maximum entries, producers; per producer its ID and entries
	// (IID and stream ID); then the two counters.
	if err := lens(2, "stream IDMP header"); err != nil {
		return err
	}
	producers, err := r.readLen("stream IDMP producer count")
	if err != nil {
		return err
	}
	for ; producers > 0; producers-- {
		if err := r.frameStep(); err != nil {
			return err
		}
		if err := r.frameRawString("stream IDMP producer"); err != nil {
			return err
		}
		entries, err := r.readLen("stream IDMP entry count")
		if err != nil {
			return err
		}
		for ; entries > 0; entries-- {
			if err := r.frameStep(); err != nil {
				return err
			}
			if err := r.frameRawString("stream IDMP iid"); err != nil {
				return err
			}
			if err := lens(2, "stream IDMP entry ID"); err != nil {
				return err
			}
		}
	}
	return lens(2, "stream IDMP counter")
}

// frameRawString moves past one RDB string: a length and that many bytes, an
// integer encoding, or LZF data (compressed and uncompressed lengths, then
// the compressed bytes, which are not decompressed).
func (r *Reader) frameRawString(what string) error {
	off := r.src.Offset()
	n, special, err := r.readLenOrSpecial(what)
	if err != nil {
		return err
	}
	if special {
		switch n {
		case 0, 1, 2: // 8, 16 or 32-bit integer
			return r.frameRawSkip(1<<n, what)
		case 3:
			// Constant names: building them per string would cost more
			// than the framing.
			if n, err = r.readLen("LZF compressed length"); err != nil {
				return err
			}
			ulen, err := r.readLen("LZF uncompressed length")
			if err != nil {
				return err
			}
			if ulen > maxRawLen {
				return r.corrupt(off, what, "LZF uncompressed length "+strconv.FormatUint(ulen, 10)+" is beyond any value")
			}
			if n <= maxRawLen {
				// What the string adds decompressed, for the limits of
				// the spans' walks (frameStep, skipListPart).
				r.spanGrowth += int(ulen) - int(n)
			}
		default:
			return r.corrupt(off, what, "unknown string encoding "+strconv.FormatUint(n, 10))
		}
	}
	if n > maxRawLen {
		return r.corrupt(off, what, "length "+strconv.FormatUint(n, 10)+" is beyond any input")
	}
	if err := r.src.Skip(int64(n)); err != nil {
		return r.errAt(off, what, err, "expected "+strconv.FormatUint(n, 10)+" bytes of string data")
	}
	return nil
}

// skipShortString moves past a plain string of under 64 bytes that the
// buffer holds whole, the commonest element, and reports whether it did;
// frameRawString takes every other.
func (r *Reader) skipShortString() bool {
	s := &r.src
	if p := s.Pos; p < s.End {
		if n := int(s.Buf[p]); n < 0x40 && s.End-p > n {
			s.Pos = p + 1 + n
			return true
		}
	}
	return false
}

// frameRawSkip moves past n bytes of fixed-size fields.
func (r *Reader) frameRawSkip(n int, what string) error {
	off := r.src.Offset()
	if err := r.src.Skip(int64(n)); err != nil {
		return r.errAt(off, what, err, "expected "+strconv.Itoa(n)+" bytes")
	}
	return nil
}

// frameRawScoreText moves past a score of a type-3 sorted set: a length byte
// and that much text, or 253-255 alone (NaN, +inf, -inf).
func (r *Reader) frameRawScoreText() error {
	off := r.src.Offset()
	n, err := r.src.ReadByte()
	if err != nil {
		return r.errAt(off, "score", err, "expected a score length byte")
	}
	if n >= 253 {
		return nil
	}
	return r.frameRawSkip(int(n), "score")
}
