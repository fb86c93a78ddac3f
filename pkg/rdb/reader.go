package rdb

import (
	"io"
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
}

const defaultMaxElementSize = 1 << 30

// DefaultReadValueLimit is the byte budget ReadValue applies when given 0.
const DefaultReadValueLimit = 256 << 20

// Reader reads an RDB file record by record. See the package documentation.
type Reader struct {
	opts ReaderOptions
	// implementation fields follow in reader_impl.go
	state
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
