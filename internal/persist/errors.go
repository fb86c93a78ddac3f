package persist

import (
	"strconv"

	"github.com/rdbtool/rdbtool/internal/errclass"
)

// The sentinels both formats return. pkg/rdb and pkg/aof export them under
// the same names (rdb.ErrCorrupt == aof.ErrCorrupt) and document there when
// each returns them, so that errors.Is gives one answer whichever package
// found the problem.
var (
	// ErrCorrupt: the bytes contradict the format.
	ErrCorrupt = errclass.New(errclass.ErrInvalid, "corrupt data")
	// ErrTruncated: the input ends before the format says it may.
	ErrTruncated = errclass.New(errclass.ErrInvalid, "unexpected end of input")
)

// QuoteBytes renders a key or an argument for messages: Go-quoted, shortened
// when long, so that binary keys stay readable and a huge key does not flood
// a terminal.
func QuoteBytes(b []byte) string {
	const max = 80
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..." + strconv.Itoa(len(b)) + " bytes"
	}
	return strconv.Quote(string(b))
}
