package rdb

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/internal/persist"
)

// Sentinel errors. A *ParseError wraps exactly one of them (or an I/O error from
// the underlying reader), so callers classify with errors.Is. Each belongs to
// a class of internal/errclass (invalid or unsupported input), which is what
// the command line maps to exit codes. ErrCorrupt and ErrTruncated are not
// pkg/aof's sentinels of the same names, on purpose: a compressed stream cut
// short is truncated input to this Reader but not a torn AOF tail, which a
// replay drops as Redis does (cmd/rdbtool's truncatedStream).
var (
	// ErrCorrupt is returned when the bytes contradict the format: an unknown
	// opcode or type, an inner blob whose header disagrees with its contents,
	// elements out of order, an impossible length.
	ErrCorrupt = errclass.New(errclass.ErrInvalid, "corrupt data")
	// ErrTruncated is returned when the input ends before the EOF opcode and
	// its checksum.
	ErrTruncated = errclass.New(errclass.ErrInvalid, "unexpected end of input")
	// ErrChecksum is returned when the CRC-64 trailer does not match the data.
	ErrChecksum = errclass.New(errclass.ErrInvalid, "checksum mismatch")
	// ErrValueTooLarge is returned when a single element (string, inner blob,
	// module value) is larger than ReaderOptions.MaxElementSize, or a value
	// materialized by ReadValue exceeds its limit. The file may be valid.
	ErrValueTooLarge = errclass.New(errclass.ErrUnsupported, "value too large")
	// ErrUnusual is never returned: it marks the *ParseError values handed to
	// ReaderOptions.Warn, about data that is odd but that Redis loads.
	ErrUnusual = errors.New("unusual data")
)

// UnsupportedError reports valid input that this package does not handle, such as
// a future RDB version or the pre-release module format of Redis 4.0 RCs, and
// records a Writer's target cannot hold.
type UnsupportedError struct {
	What string
	// Feature is set when a Writer (or PayloadWriter) refused something its
	// target cannot hold and a drop flag would leave it out: the matching
	// WriterOptions.Drop* field, which a command line may render as its own
	// flag. 0 otherwise.
	Feature Feature
}

func (e *UnsupportedError) Error() string { return "unsupported: " + e.What }

// Unwrap puts the error in the unsupported class (errclass.ErrUnsupported).
func (e *UnsupportedError) Unwrap() error { return errclass.ErrUnsupported }

// ParseError locates a failure in the input.
type ParseError struct {
	Offset int64  // byte offset in the input where the offending item starts
	Key    []byte // key being read, nil outside a key record
	Op     string // what was being read ("string length", "listpack entry", ...)
	Err    error  // one of the sentinels above, an *UnsupportedError, or an I/O error
	Detail string // human explanation of what was expected, may be empty
}

func (e *ParseError) Error() string {
	s := "offset " + strconv.FormatInt(e.Offset, 10)
	if e.Key != nil {
		s += " (key " + QuoteBytes(e.Key) + ")"
	}
	s += ": "
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

// QuoteBytes renders a key for messages: Go-quoted, shortened when long, so that
// binary keys stay readable and a huge key does not flood a terminal.
func QuoteBytes(b []byte) string { return persist.QuoteBytes(b) }

func unsupported(format string, args ...any) error {
	return &UnsupportedError{What: fmt.Sprintf(format, args...)}
}

// errNoValue is a usage error: a value method was called without a current key.
var errNoValue = errors.New("no key value to read")
