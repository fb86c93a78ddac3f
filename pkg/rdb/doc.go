// Package rdb reads and writes Redis and Valkey RDB snapshot files, streaming,
// record by record and element by element.
//
// # Format
//
//	file    := magic record* 0xFF [crc64]   ; magic "REDIS0001".."REDIS0013" or "VALKEY080"
//	record  := aux | selectdb | resizedb | function | module-aux | slot-info | key
//	key     := [expire] [idle] [freq] [keymeta] type key-string value
//
// The byte-level details, with sources, are in docs/format.md of this repository
// and in the FORMAT-NOTES it derives from. Types 22/23 and opcode 0xF3 mean
// different things under the VALKEY magic; the Reader resolves them from the
// header, so a Type always names exactly one layout.
//
// # Reading
//
// A Reader is pull-style, like archive/tar:
//
//	r := rdb.NewReader(f, rdb.ReaderOptions{})
//	defer r.Close()
//	for {
//		e, err := r.Next()
//		if err == io.EOF {
//			break // EOF opcode reached and checksum verified
//		}
//		if err != nil {
//			return err // a *ParseError with the offset and key
//		}
//		if e.Kind == rdb.EntryKey {
//			for {
//				el, err := r.NextElem() // one element at a time, however big the key
//				...
//			}
//		}
//	}
//
// ReadValue materializes a whole value under a byte budget and CopyRawValue
// copies a value's serialized bytes without decoding them for the caller.
//
// # Using more cores
//
// Over an in-memory input (NewReaderBytes, such as a mapped file) the work can
// be spread. ReaderOptions.Workers has skipped values checked on worker
// goroutines while Next moves on. For callers that spread their own work, a
// Reader's span side (Reader.Spans, a type of its own so that the Reader's
// everyday methods stay few) frames a value (Skip: lengths only where the
// encoding allows) or a run of a big list's quicklist nodes (SkipListPart);
// a ValueReader (Spans.ValueReader, ValueReader.Open) decodes such a span on
// another goroutine with the ordinary sequential code. In both cases, errors, their
// offsets and warnings are those of a sequential read; where framing meets
// damage, the Reader stays put and the caller reads on as usual.
//
// # Writing
//
// A Writer mirrors the Reader: WriteEntry takes the non-key records Next
// returns, WriteKey a key with its whole Value, and StartKey/WriteElem/EndKey
// copy a value element by element as NextElem delivers it. Close writes the EOF
// opcode and the CRC-64. WriterOptions (see TargetVersion) choose the version
// and the encodings of the target server; what the target cannot hold is
// refused naming the key, unless a Drop flag says to leave it out.
//
//	w := rdb.NewWriter(out, opts) // opts, _ := rdb.TargetVersion("redis:7.0")
//	for each record e (and value v) read: w.WriteEntry(e) or w.WriteKey(e, v)
//	err := w.Close()
//
// Encoding values is most of what writing costs, and it can be spread over
// cores two ways, both giving the bytes of the sequential Writer:
// WriterOptions.CompressWorkers tries LZF on worker goroutines, and a
// SegmentWriter (Writer.NewSegmentWriter) encodes a run of keys on a
// goroutine of its own, into memory, for Writer.WriteSegment to splice into
// the file in order (convert.WriteEngine encodes a replayed dataset so).
//
// # DUMP payloads
//
// A PayloadWriter encodes one value as a DUMP payload for a target version
// (the value as a Writer with the same options would write it, then the
// version and a CRC-64), for RESTORE on a server older or newer than the one
// the value came from; OpenPayload reads a payload back through a Reader.
// See ExamplePayloadWriter and docs/versions.md.
//
// # Ownership, memory and concurrency
//
// Entries, elements and their byte slices belong to the Reader and are valid
// until the next call to Next or NextElem. Memory is bounded by the largest single
// element (a string, one inner listpack/ziplist blob, one module value) plus a
// fixed 1 MiB window and 4 MiB of checksum buffers (over an in-memory input,
// NewReaderBytes: the 2 MiB ahead of the parser that the checksum goroutine has
// read): never by the size of a key or of the file. Every length read from the file is checked against
// ReaderOptions.MaxElementSize before anything is allocated for it, and buffers
// grow only as data actually arrives.
//
// The CRC-64 is computed on a second goroutine while the parser runs (by
// carry-less multiplication where the CPU has it); Close stops it, and any
// workers, early. A Reader is not safe for concurrent use; each value reader
// is a Reader of its own.
//
// # Errors
//
// Failures are *ParseError values wrapping ErrCorrupt, ErrTruncated, ErrChecksum,
// ErrValueTooLarge, an *UnsupportedError or an I/O error; they are sticky.
package rdb
