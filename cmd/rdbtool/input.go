package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

const (
	inputBufSize = 256 << 10
	// zstdMaxWindow bounds the zstd decoder's memory: the window a frame may
	// declare. 512 MiB covers every compression level and --long up to 29;
	// frames asking for more are reported as unsupported rather than allocated.
	zstdMaxWindow = 512 << 20
)

// input is one opened PATH or "-": the decompressed byte stream plus what the
// progress bar and the messages need to know about it.
type input struct {
	Path        string // as given on the command line
	Name        string // for messages: Path, or "<stdin>"
	Compression string // "none", "gzip" or "zstd"
	// Size is the size of the file as stored (compressed when compressed), or
	// -1 when unknown (a pipe).
	Size int64

	raw     *countingReader // the stored bytes, counted for progress
	r       *bufio.Reader   // the decompressed stream
	file    *os.File        // the opened PATH, nil for stdin
	mapped  *rdb.Reader     // set by openRDB when it reads a mapping
	closers []func() error
}

// openInput opens path ("-" is stdin) and sets up transparent decompression
// when the first bytes are a gzip or zstd magic.
func openInput(ctx context.Context, path string, stdin io.Reader) (*input, error) {
	in := &input{Path: path, Name: path, Compression: "none", Size: -1}
	var src io.Reader
	if path == "-" {
		if isTerminal(stdin) {
			return nil, usagef("", "standard input is a terminal: pipe a file into rdbtool, or give its PATH instead of \"-\"")
		}
		in.Name = "<stdin>"
		src = stdin
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				in.Size = st.Size()
			}
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		in.closers = append(in.closers, f.Close)
		in.file = f
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s is a directory", path)
		}
		if st.Mode().IsRegular() {
			in.Size = st.Size()
		}
		src = f
	}
	in.raw = &countingReader{r: src, done: ctx.Done(), ctx: ctx}
	br := bufio.NewReaderSize(in.raw, inputBufSize)
	magic, err := br.Peek(6)
	if err != nil && err != io.EOF {
		in.Close()
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			in.Close()
			return nil, in.decompressError("gzip", err)
		}
		in.Compression = "gzip"
		in.closers = append(in.closers, zr.Close)
		in.r = bufio.NewReaderSize(&decompressReader{in: in, format: "gzip", r: zr}, inputBufSize)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1), // decode on the reading goroutine
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(zstdMaxWindow),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			in.Close()
			return nil, in.decompressError("zstd", err)
		}
		in.Compression = "zstd"
		in.closers = append(in.closers, func() error { zr.Close(); return nil })
		in.r = bufio.NewReaderSize(&decompressReader{in: in, format: "zstd", r: zr}, inputBufSize)
	default:
		if what := otherCompression(magic); what != "" {
			in.Close()
			return nil, &rdb.ParseError{Offset: 0, Op: "input", Err: &rdb.UnsupportedError{
				What: what + "-compressed input (only gzip and zstd are decompressed); decompress it first and pipe it in with \"-\""}}
		}
		in.r = br
	}
	return in, nil
}

// otherCompression names compressed formats that rdbtool recognizes but does
// not decompress.
func otherCompression(magic []byte) string {
	switch {
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	case bytes.HasPrefix(magic, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(magic, []byte{0x04, 0x22, 0x4d, 0x18}):
		return "lz4"
	}
	return ""
}

// Map returns the whole file memory-mapped, when it is a plain (uncompressed)
// regular file and the platform allows. While a reader works through the data,
// calling the returned release with its progress keeps the resident set small.
// The mapping is removed by Close.
func (in *input) Map() (data []byte, release func(upto int64), ok bool) {
	if in.file == nil || in.Compressed() || in.Size <= 0 {
		return nil, nil, false
	}
	m, ok := mapFile(in.file, in.Size)
	if !ok {
		return nil, nil, false
	}
	in.closers = append(in.closers, m.unmap)
	return m.data, m.release, true
}

// Interrupted returns the run's interrupt error once it is interrupted: for
// loops over a mapped file, which reads nothing that would notice.
func (in *input) Interrupted() error { return interrupted(in.raw.ctx) }

// Read reads the decompressed stream.
func (in *input) Read(p []byte) (int, error) { return in.r.Read(p) }

// Peek returns up to n bytes of the decompressed stream without consuming them.
func (in *input) Peek(n int) ([]byte, error) { return in.r.Peek(n) }

// Done is the number of stored (compressed) bytes read so far; it may be
// called from any goroutine.
func (in *input) Done() int64 { return in.raw.n.Load() }

// Compressed reports whether the offsets in messages are in a decompressed stream.
func (in *input) Compressed() bool { return in.Compression != "none" }

// Close releases the decompressor and the file (never stdin).
func (in *input) Close() error {
	var first error
	for i := len(in.closers) - 1; i >= 0; i-- {
		if err := in.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	in.closers = nil
	return first
}

// offsetNote is appended to offsets in messages about compressed inputs.
func (in *input) offsetNote() string {
	if in.Compressed() {
		return " of the decompressed " + in.Compression + " stream"
	}
	return ""
}

// countingReader counts the stored bytes for the progress bar (one atomic add
// per read of up to 256 KiB, so the parser pays nothing measurable) and stops
// reading once the context is cancelled (Ctrl-C).
type countingReader struct {
	r    io.Reader
	n    atomic.Int64
	done <-chan struct{}
	ctx  context.Context
	err  error // last error from r other than io.EOF
}

func (c *countingReader) Read(p []byte) (int, error) {
	select {
	case <-c.done:
		return 0, fmt.Errorf("interrupted: %w", c.ctx.Err())
	default:
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// decompressReader tells errors of the compressed container (bad gzip data or
// CRC, damaged zstd frames, a stream cut short) apart from I/O errors of the
// file under it: the former mean the input is invalid (exit 3), the latter
// are I/O failures. It counts the bytes it delivers, the offset of a problem
// in the decompressed stream.
type decompressReader struct {
	in     *input
	format string
	r      io.Reader
	n      int64
}

func (d *decompressReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.n += int64(n)
	if err != nil && err != io.EOF {
		err = d.in.decompressError(d.format, err)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// Every reader above would call this an I/O error.
			err = &truncatedStream{format: d.format, offset: d.n}
		}
	}
	return n, err
}

// truncatedStream is a compressed stream cut short: the decompressed input
// ends early, which every reader reports as invalid input (exit 3) at the
// offset it reached.
type truncatedStream struct {
	format string
	offset int64 // decompressed bytes delivered
}

func (e *truncatedStream) Error() string {
	return fmt.Sprintf("the %s data ends early, after %d decompressed bytes (the file is cut short)", e.format, e.offset)
}

// Is makes it truncated input to the RDB reader. To the AOF reader it is not
// a torn tail (which a replay drops, as Redis does): Redis never writes a
// compressed AOF, so one cut short was damaged afterwards, and replays and
// repair refuse it rather than drop what it lost.
func (e *truncatedStream) Is(target error) bool { return target == rdb.ErrTruncated }

func (e *truncatedStream) Unwrap() error { return errclass.ErrInvalid }

// decompressError classifies an error returned by a decompressor.
func (in *input) decompressError(format string, err error) error {
	switch {
	case in.raw.err != nil && errors.Is(err, in.raw.err):
		return err // the file itself failed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The rdb reader reports it as truncated input.
		return err
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return &rdb.UnsupportedError{What: fmt.Sprintf("zstd frame needs a window over %d MiB (compressed with --long=30 or more); decompress it with the zstd tool and pipe it in with \"-\"", zstdMaxWindow>>20)}
	}
	return fmt.Errorf("%s data: %v: %w", format, err, rdb.ErrCorrupt)
}

// replayOpener is the convert.ReplayOptions.Open of a command: a file is
// opened like any PATH (gzip and zstd decompressed, reads stopped by an
// interrupt). Files that come from a folder must be regular files: opening a
// FIFO would block (the PATH given itself may be one, as with <(zcat ...)).
func replayOpener(ctx context.Context, given string) func(string) (io.ReadCloser, error) {
	return func(p string) (io.ReadCloser, error) {
		if p != given {
			st, err := os.Stat(p)
			if err != nil {
				return nil, err
			}
			if !st.Mode().IsRegular() {
				return nil, &aof.ManifestError{Err: aof.ErrCorrupt, Detail: p + " is not a regular file: a server cannot load it (rdbtool does not open it)"}
			}
		}
		in, err := openInput(ctx, p, nil)
		if err != nil {
			return nil, err
		}
		return in, nil
	}
}

// openRDB starts an RDB reader on in: over a memory mapping when in is a plain
// regular file (zero-copy, with the resident set kept small as the reader moves
// on), through the buffered stream otherwise. stop closes the reader; call it
// before closing in.
func openRDB(in *input, opts rdb.ReaderOptions) (r *rdb.Reader, stop func()) {
	if data, release, ok := in.Map(); ok {
		// The checksum goroutine trails the parser by a few megabytes: release
		// only pages well behind it (a page released too early is just read
		// again from the page cache).
		const margin = 16 << 20
		opts.Consumed = func(off int64) { release(off - margin) }
		r = rdb.NewReaderBytes(data, opts)
		in.mapped = r
		return r, func() { r.Close() }
	}
	r = rdb.NewReader(in, opts)
	return r, func() { r.Close() }
}

// progressOf returns what the progress bar should count: stored bytes read, or
// for a mapped file the reader's own progress.
func progressOf(in *input) func() int64 {
	if in.mapped != nil {
		return in.mapped.Progress
	}
	return in.Done
}
