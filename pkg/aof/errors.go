package aof

import (
	"errors"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/internal/persist"
)

// Sentinel errors. A *ParseError or *ManifestError wraps exactly one of them (or
// an I/O error from the underlying reader), so callers classify with errors.Is.
// They mean what pkg/rdb's sentinels of the same names mean and belong to the
// same classes of internal/errclass, so that a command line maps both
// packages' errors to the same exit codes without translating them; they are
// distinct values so that an error can be truncated input to one reader and
// not to the other (a torn AOF tail is dropped by a replay, as Redis does).
var (
	// ErrCorrupt is returned when a byte contradicts the format: a record that
	// starts with neither '*' nor '#', a count or length that is not a number,
	// a missing CRLF (Strict), a negative length, an argument count below one,
	// a nested MULTI or an EXEC without MULTI, or a manifest line Redis rejects.
	ErrCorrupt = errclass.New(errclass.ErrInvalid, "corrupt data")
	// ErrTruncated is returned when the input ends inside a command, or ends
	// while a MULTI is still open: a torn tail that Redis, with
	// aof-load-truncated yes, cuts off and loads anyway.
	ErrTruncated = errclass.New(errclass.ErrInvalid, "unexpected end of input")
	// ErrArgTooLarge is returned when one argument is longer than
	// ReaderOptions.MaxArgSize, a command has more arguments than
	// ReaderOptions.MaxArgs, or ReadCommand's byte budget is exceeded. The
	// input may be valid; it is beyond a limit the caller set (compare
	// rdb.ErrValueTooLarge).
	ErrArgTooLarge = errclass.New(errclass.ErrUnsupported, "argument too large")
	// ErrRDBPreamble is returned by the first Next when the input starts with an
	// RDB file ("REDIS" or "VALKEY" magic): an RDB-preamble AOF or an RDB base
	// file. Nothing is consumed; see Reader.Rest.
	ErrRDBPreamble = errors.New("input starts with an RDB preamble")
)

// ParseError locates a failure in a RESP stream.
type ParseError struct {
	Offset int64  // byte offset of the offending item (a line, a payload, a CRLF)
	Op     string // what was being read: "record", "argument count", "argument length", ...
	Err    error  // one of the sentinels above or an I/O error
	Detail string // what was expected and what was found; may be empty

	// Recovery points, as redis-server and redis-check-aof compute them.
	Record     int64 // offset of the '*' or '#' starting the record that failed
	Command    int64 // number of complete commands before the failure
	GoodEnd    int64 // end of the last complete command (the stream start if none): redis-server's valid_up_to
	MultiStart int64 // offset of the '*' of the MULTI still open, or -1
}

func (e *ParseError) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10) + ": "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *ParseError) Unwrap() error { return e.Err }

// RepairOffset is where redis-check-aof --fix truncates the file: before the
// open MULTI if there is one, otherwise at the start of the record that failed.
// Everything before it is complete, balanced commands (and annotations).
func (e *ParseError) RepairOffset() int64 {
	if e.MultiStart >= 0 {
		return e.MultiStart
	}
	return e.Record
}

// ManifestError locates a failure in a multi-part AOF manifest or in the
// directory it describes.
type ManifestError struct {
	Line   int    // 1-based line number; 0 when the error is not about one line
	Offset int64  // byte offset of the line's start
	Err    error  // ErrCorrupt or an I/O error
	Detail string // Redis's own message where there is one
}

func (e *ManifestError) Error() string {
	s := "manifest"
	if e.Line > 0 {
		s += " line " + strconv.Itoa(e.Line)
	}
	s += ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *ManifestError) Unwrap() error { return e.Err }

// QuoteBytes renders an argument for messages: Go-quoted, shortened when long.
func QuoteBytes(b []byte) string { return persist.QuoteBytes(b) }

// Usage errors: the caller broke the Reader's or Writer's protocol. They are
// not about the input and are not sticky.
var (
	errNoCommand   = errors.New("aof: no command to read arguments from")
	errWriterState = errors.New("aof: writer used out of order")
)
