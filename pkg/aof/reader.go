package aof

import (
	"io"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/persist"
)

// ReaderOptions tune a Reader. The zero value is usable.
type ReaderOptions struct {
	// MaxArgSize bounds one argument returned by NextArg or ReadCommand; a
	// longer one fails with ErrArgTooLarge. NextArgStream and skipped arguments
	// are not bounded (they are never held in memory). Default 512 MiB, Redis's
	// proto-max-bulk-len.
	MaxArgSize int64
	// MaxArgs bounds the argument count of one command; more fails with
	// ErrArgTooLarge. Default 2^31-1, the largest count redis-server's atoi
	// parse can produce. Arguments are streamed, so a large bound costs nothing.
	MaxArgs int64
	// BaseOffset is added to every reported offset: the RESP tail of an
	// RDB-preamble AOF starts at the RDB's length. When it is non-zero the
	// input is a tail, and "REDIS" at its start is corruption, not a preamble.
	BaseOffset int64
	// Strict applies redis-check-aof's rules: every count and length line is
	// exactly prefix, number, CRLF (at most 127 bytes), and every payload is
	// followed by CRLF. Without it the reader accepts what redis-server's loader
	// accepts: a number followed by anything up to '\n' (at most 1023 bytes),
	// and any two bytes after a payload.
	Strict bool
}

const (
	// DefaultMaxArgSize is Redis's proto-max-bulk-len default.
	DefaultMaxArgSize = 512 << 20
	// DefaultMaxArgs is the largest argument count redis-server can parse.
	DefaultMaxArgs = math.MaxInt32
	// DefaultReadCommandLimit is the byte budget ReadCommand applies when given 0.
	DefaultReadCommandLimit = 512 << 20

	// Redis reads lines with fgets into fixed buffers: 128 bytes in
	// redis-check-aof's readLong, 1024 (AOF_ANNOTATION_LINE_MAX_LEN) in the
	// server's loader and for annotations everywhere. fgets keeps one byte for
	// the terminating NUL.
	strictLineMax     = 127
	lenientLineMax    = 1023
	annotationLineMax = 1023

	// Arguments this short are read even when skipped, to recognize MULTI/EXEC.
	nameProbe = 16
)

// Kind tells the two kinds of record apart.
type Kind uint8

const (
	KindCommand    Kind = iota + 1 // a RESP array of bulk strings
	KindAnnotation                 // a line starting with '#', such as "#TS:1700000000"
)

func (k Kind) String() string {
	switch k {
	case KindCommand:
		return "command"
	case KindAnnotation:
		return "annotation"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Record is one command or annotation, in input order.
//
// The Record is reused by the Reader and Text is valid until the next call to
// any Reader method; copy what you keep.
type Record struct {
	Kind   Kind
	Offset int64 // offset of the record's '*' or '#'
	// End is the offset after the record. For a command it is -1 until its last
	// argument has been read (by NextArg, ReadCommand, or the next Next).
	End int64

	// KindCommand
	Argc int64 // number of arguments, at least 1

	// KindAnnotation
	Text         []byte // the line after '#', without its line ending
	Timestamp    int64  // Unix seconds of a "#TS:<n>" annotation
	HasTimestamp bool   // Text is "TS:" followed by a decimal number
}

// Reader reads the RESP commands of an append-only file, pull-style:
//
//	for {
//		rec, err := r.Next()
//		if err == io.EOF { break }
//		if err != nil { return err }
//		for rec.Kind == aof.KindCommand {
//			arg, err := r.NextArg()
//			if err == io.EOF { break }
//			...
//		}
//	}
type Reader struct {
	opts ReaderOptions
	src  persist.Source
	err  error // sticky; io.EOF after a clean end
	rec  Record

	sniffed bool      // the RDB-preamble check has been done
	peek    peeker    // the input, when it can peek without consuming
	inCmd   bool      // rec is a command whose arguments are not all consumed
	argLeft int64     // arguments not yet started
	argIdx  int64     // index of the next argument
	stream  argStream // the argument being streamed by NextArgStream
	isMulti bool      // the current command is MULTI
	isExec  bool      // the current command is EXEC
	noLimit bool      // Check: no MaxArgs bound

	commands     int64
	annotations  int64
	transactions int64
	multiDepth   int
	multiStart   int64 // '*' of the open MULTI, or -1
	multiCmds    int64 // complete commands since the open MULTI, itself included
	goodEnd      int64 // end of the last complete command: redis-server's valid_up_to
	beforeMulti  int64 // goodEnd when the open MULTI began: valid_before_multi

	arena []byte   // ReadCommand's copies
	spans []int    // ReadCommand's argument ends in arena
	args  [][]byte // ReadCommand's result
}

// The window starts small, so that checking many small files costs little; a
// window grown for one huge argument is dropped at the next compaction that
// finds little unread data, so memory follows the largest live argument.
const (
	initialBufSize = 32 << 10
	maxIdleBufSize = 4 << 20
)

// peeker is implemented by *bufio.Reader.
type peeker interface {
	Peek(n int) ([]byte, error)
}

// NewReader returns a Reader over r. It never fails: problems surface on the
// first Next. The Reader buffers r itself, in a window that grows to the
// largest argument read whole. If r can Peek (a *bufio.Reader), the check for
// an RDB preamble peeks, so that r is untouched when Next reports one.
func NewReader(r io.Reader, opts ReaderOptions) *Reader {
	rd := newReader(opts)
	rd.src.Init(r, opts.BaseOffset, initialBufSize, maxIdleBufSize)
	if p, ok := r.(peeker); ok {
		rd.peek = p
	}
	return rd
}

// NewReaderBytes returns a Reader over an input held in memory, such as a
// memory-mapped file. Nothing is copied: arguments are slices of data, which
// must not change while the Reader is in use. This is the fastest way to read
// or check a local file.
func NewReaderBytes(data []byte, opts ReaderOptions) *Reader {
	rd := newReader(opts)
	rd.src.InitBytes(data, opts.BaseOffset)
	return rd
}

func newReader(opts ReaderOptions) *Reader {
	if opts.MaxArgSize <= 0 {
		opts.MaxArgSize = DefaultMaxArgSize
	}
	if opts.MaxArgs <= 0 {
		opts.MaxArgs = DefaultMaxArgs
	}
	return &Reader{opts: opts, multiStart: -1, goodEnd: opts.BaseOffset, beforeMulti: opts.BaseOffset}
}

// Stats are the Reader's counters and recovery points.
type Stats struct {
	Commands    int64 // complete commands read
	Annotations int64 // annotation lines read
	// Transactions counts EXECs, each closing a MULTI.
	Transactions int64
	MultiDepth   int   // 1 while a MULTI is open, else 0
	MultiStart   int64 // offset of the '*' of the open MULTI, or -1
	// GoodEnd is the end of the last complete command (BaseOffset if none):
	// where redis-server with aof-load-truncated cuts a torn tail.
	GoodEnd int64
	// BeforeMulti is GoodEnd as it was when the open MULTI began: where
	// redis-server cuts a file that ends inside a transaction.
	BeforeMulti int64
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats {
	return Stats{
		Commands:     r.commands,
		Annotations:  r.annotations,
		Transactions: r.transactions,
		MultiDepth:   r.multiDepth,
		MultiStart:   r.multiStart,
		GoodEnd:      r.goodEnd,
		BeforeMulti:  r.beforeMulti,
	}
}

// Offset is the input offset of the next unread byte.
func (r *Reader) Offset() int64 { return r.src.Offset() }

// Rest returns the input not yet consumed. After ErrRDBPreamble that is the
// whole input from its first byte: hand it to an RDB reader, then read the
// RESP tail that follows the RDB with NewReader(tail, ReaderOptions{BaseOffset:
// rdbLength}).
func (r *Reader) Rest() io.Reader { return r.src.Rest() }

// Next returns the next record. Unread arguments of the previous command are
// skipped (and checked). At the clean end of the input it returns io.EOF; if a
// MULTI is still open there, it returns a *ParseError wrapping ErrTruncated
// instead, as redis-server treats that as a torn tail. Errors are sticky.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.inCmd {
		if err := r.drain(); err != nil {
			return nil, err
		}
	}
	if !r.sniffed {
		r.sniffed = true
		if r.opts.BaseOffset == 0 && r.isPreamble() {
			return nil, r.fail(r.errAt(0, 0, "record", ErrRDBPreamble,
				"the file is an RDB (or starts with an RDB preamble); read it with an RDB reader, then the RESP tail"))
		}
	}
	s := &r.src
	if s.Pos >= s.End {
		if err := s.Fill(1); err != nil {
			if err != io.ErrUnexpectedEOF {
				return nil, r.fail(r.errAt(s.Offset(), s.Offset(), "record", err, ""))
			}
			if r.multiDepth > 0 {
				return nil, r.fail(r.errAt(s.Offset(), s.Offset(), "MULTI", ErrTruncated,
					"input ends inside the transaction opened at offset "+strconv.FormatInt(r.multiStart, 10)+" (no EXEC)"))
			}
			r.err = io.EOF
			return nil, io.EOF
		}
	}
	off := s.Offset()
	switch s.Buf[s.Pos] {
	case '*':
		n, err := r.readNumber('*', off, "argument count")
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, r.fail(r.errAt(off, off, "argument count", ErrCorrupt,
				"count "+strconv.FormatInt(n, 10)+": redis-server requires at least one argument"))
		}
		if n > r.opts.MaxArgs && !r.noLimit {
			return nil, r.fail(r.errAt(off, off, "argument count", ErrArgTooLarge,
				strconv.FormatInt(n, 10)+" arguments, limit "+strconv.FormatInt(r.opts.MaxArgs, 10)))
		}
		r.rec = Record{Kind: KindCommand, Offset: off, End: -1, Argc: n}
		r.inCmd, r.argLeft, r.argIdx = true, n, 0
		r.isMulti, r.isExec = false, false
		return &r.rec, nil
	case '#':
		return r.annotation(off)
	}
	detail := "expected '*' (a command) or '#' (an annotation), found " + strconv.QuoteRune(rune(s.Buf[s.Pos]))
	if c := s.Buf[s.Pos]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
		detail += " (inline commands are not allowed in an AOF)"
	}
	return nil, r.fail(r.errAt(off, off, "record", ErrCorrupt, detail))
}

func (r *Reader) isPreamble() bool {
	var head []byte
	if r.peek != nil {
		head, _ = r.peek.Peek(6)
	} else {
		r.src.Fill(6) // short input: look at what there is
		head = r.src.Buf[r.src.Pos:r.src.End]
	}
	return hasRDBMagic(head)
}

// hasRDBMagic reports whether b starts with an RDB magic: "REDIS" (what Redis
// checks) or "VALKEY" (Valkey 9's own format).
func hasRDBMagic(b []byte) bool {
	return len(b) >= 5 && string(b[:5]) == "REDIS" || len(b) >= 6 && string(b[:6]) == "VALKEY"
}

// annotation reads a '#' line the way Redis does: fgets into a 1024-byte
// buffer, so a line longer than 1023 bytes ends the record there and its
// remainder is read as the next record.
func (r *Reader) annotation(off int64) (*Record, error) {
	s := &r.src
	line, complete, err := s.Line(annotationLineMax)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, r.fail(r.errAt(off, off, "annotation", err, ""))
	}
	s.Pos += len(line)
	text := line[1:]
	if complete {
		text = text[:len(text)-1]
	}
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	r.rec = Record{Kind: KindAnnotation, Offset: off, End: s.Offset(), Text: text}
	r.rec.Timestamp, r.rec.HasTimestamp = parseTimestamp(text)
	r.annotations++
	return &r.rec, nil
}

// parseTimestamp parses the text of a "#TS:<unix seconds>" annotation.
func parseTimestamp(text []byte) (int64, bool) {
	if len(text) < 4 || string(text[:3]) != "TS:" {
		return 0, false
	}
	v, err := strconv.ParseInt(string(text[3:]), 10, 64)
	if err != nil || text[3] == '+' {
		return 0, false
	}
	return v, true
}

// NextArg returns the next argument of the current command, or io.EOF after
// the last one. The slice is valid until the next call to any Reader method.
// An argument longer than MaxArgSize fails with ErrArgTooLarge; use
// NextArgStream for those.
func (r *Reader) NextArg() ([]byte, error) {
	if err := r.argReady(); err != nil {
		return nil, err
	}
	return r.wholeArg(r.opts.MaxArgSize)
}

// argReady checks that an argument can be read and finishes a streamed one.
func (r *Reader) argReady() error {
	if r.err != nil {
		return r.err
	}
	if !r.inCmd {
		if r.rec.Kind == KindCommand && r.rec.End >= 0 {
			return io.EOF
		}
		return errNoCommand
	}
	if r.stream.active {
		if err := r.finishStream(); err != nil {
			return err
		}
	}
	if r.argLeft == 0 {
		return r.complete()
	}
	return nil
}

// wholeArg reads the next argument into the window and returns it.
func (r *Reader) wholeArg(limit int64) ([]byte, error) {
	n, err := r.argLen(r.src.Offset())
	if err != nil {
		return nil, err
	}
	return r.payload(n, limit)
}

// payload reads the n bytes of an argument whose length line was just read,
// and the CRLF after them.
func (r *Reader) payload(n, limit int64) ([]byte, error) {
	s := &r.src
	if n > limit {
		return nil, r.fail(r.errAt(s.Offset(), r.rec.Offset, "argument", ErrArgTooLarge,
			"argument "+strconv.FormatInt(r.argIdx, 10)+" is "+strconv.FormatInt(n, 10)+" bytes, limit "+strconv.FormatInt(limit, 10)))
	}
	// Fast path: payload and CRLF already in the window.
	if p := s.Pos; n <= int64(s.End-p)-2 {
		q := p + int(n)
		if !r.opts.Strict || s.Buf[q] == '\r' && s.Buf[q+1] == '\n' {
			s.Pos = q + 2
			b := s.Buf[p:q:q]
			return b, r.argDone(b)
		}
	}
	// Bring in the payload and its line ending together: once the payload is
	// in the window nothing may refill it, as a refill moves the unread bytes
	// over the ones already read. (An n this large cannot be in memory; asking
	// for MaxInt bytes fails the same way once the input ends.)
	off := s.Offset()
	if err := s.Fill(int(min(n, math.MaxInt-2)) + 2); err != nil && int64(s.End-s.Pos) < n {
		return nil, r.failRead(err, off, "argument",
			"argument "+strconv.FormatInt(r.argIdx, 10)+" needs "+strconv.FormatInt(n, 10)+" bytes")
	}
	q := s.Pos + int(n)
	b := s.Buf[s.Pos:q:q]
	s.Pos = q
	// With the fill above complete, crlf finds its two bytes in the window and
	// does not move it; otherwise it fails and b is dropped.
	if err := r.crlf(); err != nil {
		return nil, err
	}
	return b, r.argDone(b)
}

// argLen reads a "$<len>" line.
func (r *Reader) argLen(hdr int64) (int64, error) {
	s := &r.src
	// Fast path: '$', up to 18 digits, CRLF, all in the window.
	if p := s.Pos; p < s.End && s.Buf[p] == '$' {
		var n int64
		i := p + 1
		lim := min(s.End, p+19)
		for i < lim && s.Buf[i]-'0' <= 9 {
			n = n*10 + int64(s.Buf[i]-'0')
			i++
		}
		if i > p+1 && i+1 < s.End && s.Buf[i] == '\r' && s.Buf[i+1] == '\n' {
			s.Pos = i + 2
			return n, nil
		}
	}
	if s.Pos >= s.End {
		if err := s.Fill(1); err != nil {
			return 0, r.failRead(err, hdr, "argument length",
				"argument "+strconv.FormatInt(r.argIdx, 10)+" of "+strconv.FormatInt(r.rec.Argc, 10)+" expected")
		}
	}
	if c := s.Buf[s.Pos]; c != '$' {
		return 0, r.fail(r.errAt(hdr, r.rec.Offset, "argument length", ErrCorrupt,
			"expected '$' starting argument "+strconv.FormatInt(r.argIdx, 10)+" of "+strconv.FormatInt(r.rec.Argc, 10)+", found "+strconv.QuoteRune(rune(c))))
	}
	n, err := r.readNumber('$', hdr, "argument length")
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, r.fail(r.errAt(hdr, r.rec.Offset, "argument length", ErrCorrupt, "negative length "+strconv.FormatInt(n, 10)))
	}
	return n, nil
}

// crlf consumes the two bytes after a payload; Strict requires them to be CRLF.
func (r *Reader) crlf() error {
	s := &r.src
	off := s.Offset()
	if err := s.Fill(2); err != nil {
		if err == io.ErrUnexpectedEOF && r.opts.Strict && s.End > s.Pos && s.Buf[s.Pos] != '\r' {
			return r.fail(r.errAt(off, r.rec.Offset, "line ending", ErrCorrupt,
				"expected CRLF after argument "+strconv.FormatInt(r.argIdx, 10)+", found "+strconv.Quote(string(s.Buf[s.Pos:s.End]))))
		}
		return r.failRead(err, off, "line ending", "expected CRLF after argument "+strconv.FormatInt(r.argIdx, 10))
	}
	if r.opts.Strict && (s.Buf[s.Pos] != '\r' || s.Buf[s.Pos+1] != '\n') {
		return r.fail(r.errAt(off, r.rec.Offset, "line ending", ErrCorrupt,
			"expected CRLF after argument "+strconv.FormatInt(r.argIdx, 10)+", found "+strconv.Quote(string(s.Buf[s.Pos:s.Pos+2]))))
	}
	s.Pos += 2
	return nil
}

// argDone accounts for a consumed argument whose payload was b (nil when it
// was skipped and too long to matter). On the first argument it checks MULTI
// and EXEC pairing, as redis-check-aof does right after reading a command name.
func (r *Reader) argDone(b []byte) error {
	r.argIdx++
	r.argLeft--
	if r.argIdx != 1 || len(b) < 4 || len(b) > 5 {
		return nil
	}
	r.isMulti = len(b) == 5 && equalFold(b, "multi")
	r.isExec = len(b) == 4 && equalFold(b, "exec")
	switch {
	case r.isMulti && r.multiDepth > 0:
		return r.fail(r.errAt(r.rec.Offset, r.rec.Offset, "MULTI", ErrCorrupt,
			"MULTI inside the transaction opened at offset "+strconv.FormatInt(r.multiStart, 10)))
	case r.isExec && r.multiDepth == 0:
		return r.fail(r.errAt(r.rec.Offset, r.rec.Offset, "EXEC", ErrCorrupt, "EXEC without MULTI"))
	}
	return nil
}

// equalFold compares b with a lower-case ASCII word, ignoring case.
func equalFold(b []byte, lower string) bool {
	for i := range b {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}

// complete finishes the current command after its last argument: counters,
// MULTI/EXEC pairing (checked the way redis-check-aof does), recovery points.
// It returns io.EOF, the end of the argument list.
func (r *Reader) complete() error {
	if !r.inCmd {
		return io.EOF
	}
	end := r.src.Offset()
	r.inCmd = false
	r.rec.End = end
	r.commands++
	switch {
	case r.isMulti:
		r.multiDepth, r.multiStart, r.multiCmds, r.beforeMulti = 1, r.rec.Offset, 0, r.goodEnd
	case r.isExec:
		r.multiDepth, r.multiStart, r.multiCmds = 0, -1, 0
		r.transactions++
	}
	if r.multiDepth > 0 {
		r.multiCmds++
	}
	r.goodEnd = end
	return io.EOF
}

// drain skips the rest of the current command, checking its syntax.
func (r *Reader) drain() error {
	for {
		if err := r.argReady(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := r.skipArg(); err != nil {
			return err
		}
	}
}

// skipArg consumes the next argument without holding it: only a first
// argument short enough to be MULTI or EXEC is looked at.
func (r *Reader) skipArg() error {
	s := &r.src
	n, err := r.argLen(s.Offset())
	if err != nil {
		return err
	}
	if r.argIdx == 0 && n <= nameProbe {
		_, err := r.payload(n, nameProbe)
		return err
	}
	// Fast path: payload and CRLF already in the window.
	if p := s.Pos; n <= int64(s.End-p)-2 {
		q := p + int(n)
		if !r.opts.Strict || s.Buf[q] == '\r' && s.Buf[q+1] == '\n' {
			s.Pos = q + 2
			return r.argDone(nil)
		}
	}
	off := s.Offset()
	if err := s.Skip(n); err != nil {
		return r.failRead(err, off, "argument",
			"argument "+strconv.FormatInt(r.argIdx, 10)+" needs "+strconv.FormatInt(n, 10)+" bytes")
	}
	if err := r.crlf(); err != nil {
		return err
	}
	return r.argDone(nil)
}

// NextArgStream starts the next argument without reading it: it returns its
// length and a reader of its bytes, valid until the next call to any Reader
// method. Reading it is optional; whatever is left is skipped by the next
// call. Use it for arguments too large to hold in memory. It returns io.EOF
// after the last argument.
func (r *Reader) NextArgStream() (int64, io.Reader, error) {
	if err := r.argReady(); err != nil {
		return 0, nil, err
	}
	s := &r.src
	n, err := r.argLen(s.Offset())
	if err != nil {
		return 0, nil, err
	}
	r.stream = argStream{r: r, left: n, size: n, start: s.Offset(), active: true}
	return n, &r.stream, nil
}

// argStream reads one argument's payload from the Reader's window.
type argStream struct {
	r      *Reader
	left   int64
	size   int64
	start  int64 // offset of the payload: errors are reported there, as NextArg does
	active bool
	head   [5]byte // first bytes, for MULTI/EXEC
	nhead  int
}

func (a *argStream) Read(p []byte) (int, error) {
	r := a.r
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	if !a.active || a.left == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	s := &r.src
	if s.Pos >= s.End {
		if err := s.Fill(1); err != nil {
			return 0, a.fail(err)
		}
	}
	k := copy(p, s.Buf[s.Pos:min(s.End, s.Pos+int(min(a.left, int64(len(p)))))])
	if a.nhead < len(a.head) {
		a.nhead += copy(a.head[a.nhead:], p[:k])
	}
	s.Pos += k
	a.left -= int64(k)
	return k, nil
}

// fail reports a short or failed read of the streamed payload the way
// NextArg and skipping report it: at the payload's start, with its full size,
// however much of it the caller had read.
func (a *argStream) fail(err error) error {
	r := a.r
	return r.failRead(err, a.start, "argument",
		"argument "+strconv.FormatInt(r.argIdx, 10)+" needs "+strconv.FormatInt(a.size, 10)+" bytes")
}

// finishStream skips what the caller left of a streamed argument and its CRLF.
func (r *Reader) finishStream() error {
	a := &r.stream
	a.active = false
	s := &r.src
	if a.left > 0 {
		if a.size <= int64(len(a.head)) {
			// Keep all of a short first argument for the MULTI/EXEC check.
			if err := s.Fill(int(a.left)); err != nil {
				return a.fail(err)
			}
			a.nhead += copy(a.head[a.nhead:], s.Buf[s.Pos:s.Pos+int(a.left)])
			s.Pos += int(a.left)
		} else if err := s.Skip(a.left); err != nil {
			return a.fail(err)
		}
		a.left = 0
	}
	if err := r.crlf(); err != nil {
		return err
	}
	if a.size <= int64(len(a.head)) {
		return r.argDone(a.head[:a.size])
	}
	return r.argDone(nil)
}

// ReadCommand returns the remaining arguments of the current command (all of
// them if none was read yet), and io.EOF if none is left. The slices share one
// buffer owned by the Reader, valid until the next call to any Reader method.
// limit bounds the memory: each argument costs its length plus 24 bytes (a
// slice header); over the limit it fails with ErrArgTooLarge. 0 means
// DefaultReadCommandLimit.
func (r *Reader) ReadCommand(limit int64) ([][]byte, error) {
	var err error
	r.arena, r.spans, err = r.AppendCommand(r.arena[:0], r.spans[:0], limit)
	if err != nil {
		return nil, err
	}
	r.args = r.args[:0]
	start := 0
	for _, end := range r.spans {
		r.args = append(r.args, r.arena[start:end:end])
		start = end
	}
	return r.args, nil
}

// AppendCommand is ReadCommand for a caller that keeps commands in a buffer
// of its own: it appends the arguments back to back to dst, and where each
// ends in dst to ends, rather than copying them into the Reader's buffer and
// making a slice of each (which the caller would then copy again). On an
// error it returns dst and ends as they were given. limit is ReadCommand's.
func (r *Reader) AppendCommand(dst []byte, ends []int, limit int64) ([]byte, []int, error) {
	if limit <= 0 {
		limit = DefaultReadCommandLimit
	}
	dst0, ends0 := len(dst), len(ends)
	if err := r.argReady(); err != nil {
		return dst, ends, err
	}
	used := int64(0)
	for {
		if err := r.argReady(); err != nil {
			if err == io.EOF {
				break
			}
			return dst[:dst0], ends[:ends0], err
		}
		b, err := r.wholeArg(min(r.opts.MaxArgSize, limit-used))
		if err != nil {
			return dst[:dst0], ends[:ends0], err
		}
		used += int64(len(b)) + 24
		if used > limit {
			return dst[:dst0], ends[:ends0], r.fail(r.errAt(r.src.Offset(), r.rec.Offset, "command", ErrArgTooLarge,
				"command of "+strconv.FormatInt(r.rec.Argc, 10)+" arguments exceeds the ReadCommand budget of "+strconv.FormatInt(limit, 10)+" bytes"))
		}
		dst = append(dst, b...)
		ends = append(ends, len(dst))
	}
	return dst, ends, nil
}

// readNumber parses a "*<n>" or "$<n>" line at the current position, which
// holds prefix. off is the line's offset.
func (r *Reader) readNumber(prefix byte, off int64, op string) (int64, error) {
	s := &r.src
	max := lenientLineMax
	if r.opts.Strict {
		max = strictLineMax
	}
	line, complete, err := s.Line(max)
	if err != nil && err != io.ErrUnexpectedEOF {
		return 0, r.fail(r.errAt(off, r.recordStart(off), op, err, ""))
	}
	if !complete {
		if err == nil {
			return 0, r.fail(r.errAt(off, r.recordStart(off), op, ErrCorrupt,
				"no line end within "+strconv.Itoa(max)+" bytes, the size of Redis's line buffer"))
		}
		// The input ends inside the line: a torn tail if the line could still
		// become valid, corruption if a byte already rules that out.
		if r.opts.Strict {
			if !strictPrefixOK(line) {
				_, _, d := parseStrict(line)
				return 0, r.fail(r.errAt(off, r.recordStart(off), op, ErrCorrupt, d))
			}
		} else if prefix == '*' && len(line) > 1 {
			// redis-server parses what it has; a count below one is a format error.
			if n := parseLenient(line, true); n < 1 {
				return 0, r.fail(r.errAt(off, r.recordStart(off), op, ErrCorrupt,
					"count "+strconv.FormatInt(n, 10)+": redis-server requires at least one argument"))
			}
		}
		return 0, r.fail(r.errAt(off, r.recordStart(off), op, ErrTruncated,
			"input ends inside the line "+strconv.Quote(string(line))))
	}
	s.Pos += len(line)
	if !r.opts.Strict {
		return parseLenient(line, prefix == '*'), nil
	}
	n, ok, detail := parseStrict(line)
	if !ok {
		return 0, r.fail(r.errAt(off, r.recordStart(off), op, ErrCorrupt, detail))
	}
	return n, nil
}

func (r *Reader) recordStart(off int64) int64 {
	if r.inCmd {
		return r.rec.Offset
	}
	return off
}

// parseStrict parses a complete line the way redis-check-aof's readLong does:
// strtol after the prefix (leading blanks and a sign allowed, no digits means
// 0 and no blanks consumed) and then exactly "\r\n".
func parseStrict(line []byte) (int64, bool, string) {
	i := 1
	for i < len(line) && isStrtolSpace(line[i]) {
		i++
	}
	neg := false
	if i < len(line) && (line[i] == '+' || line[i] == '-') {
		neg = line[i] == '-'
		i++
	}
	start := i
	var n int64
	for i < len(line) && line[i]-'0' <= 9 {
		d := int64(line[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64 // strtol saturates
		} else {
			n = n*10 + d
		}
		i++
	}
	if i == start {
		i, n = 1, 0 // no digits: strtol leaves its end pointer at the start
	}
	if neg {
		n = -n
	}
	if len(line)-i != 2 || line[i] != '\r' || line[i+1] != '\n' {
		return 0, false, "expected a number and CRLF, found " + QuoteBytes(line)
	}
	return n, true, ""
}

// strictPrefixOK reports whether a line cut short by the end of the input could
// still be completed into one parseStrict accepts.
func strictPrefixOK(p []byte) bool {
	if len(p) >= strictLineMax {
		return false
	}
	for _, tail := range []string{"\n", "\r\n", "0\r\n"} {
		if len(p)+len(tail) > strictLineMax {
			continue
		}
		if _, ok, _ := parseStrict(append(p[:len(p):len(p)], tail...)); ok {
			return true
		}
	}
	return false
}

func isStrtolSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}

// parseLenient parses a line the way redis-server's loader does: atoi for a
// count (an int: the saturated long truncated to 32 bits), strtol for a
// length; anything after the digits is ignored.
func parseLenient(line []byte, count bool) int64 {
	i := 1
	for i < len(line) && isStrtolSpace(line[i]) {
		i++
	}
	neg := false
	if i < len(line) && (line[i] == '+' || line[i] == '-') {
		neg = line[i] == '-'
		i++
	}
	var n int64
	for i < len(line) && line[i]-'0' <= 9 {
		d := int64(line[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
		} else {
			n = n*10 + d
		}
		i++
	}
	if neg {
		n = -n
	}
	if count {
		n = int64(int32(n))
	}
	return n
}

// fail records a sticky error.
func (r *Reader) fail(err error) error {
	if r.err == nil || r.err == io.EOF {
		r.err = err
		r.inCmd = false
	}
	return r.err
}

// failRead turns a short read into ErrTruncated and anything else into an I/O
// error, located at off.
func (r *Reader) failRead(err error, off int64, op, detail string) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return r.fail(r.errAt(off, r.rec.Offset, op, ErrTruncated, detail))
	}
	return r.fail(r.errAt(off, r.rec.Offset, op, err, detail))
}

// errAt builds a ParseError with the current recovery points. A file that
// ends cleanly inside a transaction is cut by redis-server back to before the
// MULTI; a torn command is cut at the last complete one.
func (r *Reader) errAt(off, record int64, op string, err error, detail string) *ParseError {
	good := r.goodEnd
	if op == "MULTI" && err == ErrTruncated {
		good = r.beforeMulti
	}
	return &ParseError{Offset: off, Op: op, Err: err, Detail: detail,
		Record: record, Command: r.commands, GoodEnd: good, MultiStart: r.multiStart}
}
