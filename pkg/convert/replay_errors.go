package convert

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rdbtool/rdbtool/internal/commandtable"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// ErrorReply is a command of an AOF that returned an error reply during a
// replay. Redis, loading an AOF, discards the reply and goes on (its AOF
// client has no connection), so the command changed nothing: a RENAME of a
// missing key, an INCR of a non-integer, a RESTORE of a bad payload, a
// SELECT of a database out of range. A server never logs such a command
// itself; a hand-made or spliced AOF may hold them.
type ErrorReply struct {
	File    string // the AOF file
	Offset  int64  // the command's offset in it
	Command string // its name (and subcommand), upper case
	Err     string // the reply
}

func (r ErrorReply) String() string {
	return fmt.Sprintf("%s: offset %d: %s: %s", r.File, r.Offset, r.Command, r.Err)
}

// keptErrorReplies is how many ErrorReply a replay describes.
const keptErrorReplies = 5

// errorReply handles an error Apply returned for args: an error reply (or
// an EXEC some of whose commands returned one) is counted and described,
// and nil returned so the replay goes on, unless strict. Any other error is
// returned, a command unknown to the server being invalid input (Redis
// refuses to load the file).
func (st *ReplayStats) errorReply(file string, off int64, args [][]byte, err error, strict bool) error {
	var ee *engine.ExecError
	if errors.As(err, &ee) {
		// A queued command that fails at EXEC is logged all the same (the
		// rest of the transaction applies), and fails in Redis's own replay.
		st.Commands++
		for _, qerr := range ee.Errs {
			if qerr != nil {
				st.note(file, off, "EXEC", qerr)
			}
		}
		if strict {
			return strictError(off, "EXEC", err)
		}
		return nil
	}
	var re *engine.Error
	if errors.As(err, &re) {
		name := strings.ToUpper(string(args[0]))
		st.note(file, off, name, err)
		if strict {
			return strictError(off, name, err)
		}
		return nil
	}
	var uc *engine.UnknownCommandError
	if errors.As(err, &uc) && !knownToAnyServer(args) {
		return &rdb.ParseError{Offset: off, Op: "command", Err: rdb.ErrCorrupt,
			Detail: fmt.Sprintf("%v: no server rdbtool knows has it, and Redis refuses to load an AOF holding it", err)}
	}
	return err
}

// strictError is an error reply under ReplayOptions.Strict: invalid input.
func strictError(off int64, name string, err error) error {
	return &rdb.ParseError{Offset: off, Op: "error reply", Err: rdb.ErrCorrupt,
		Detail: fmt.Sprintf("%s: %v (--strict; Redis skips the command while loading)", name, err)}
}

func (st *ReplayStats) note(file string, off int64, name string, err error) {
	st.ErrorReplies++
	if len(st.FirstErrorReplies) < keptErrorReplies {
		st.FirstErrorReplies = append(st.FirstErrorReplies, ErrorReply{File: file, Offset: off, Command: name, Err: err.Error()})
	}
}

func knownToAnyServer(args [][]byte) bool {
	for _, s := range commandtable.Servers {
		if commandtable.Known(s, args) {
			return true
		}
	}
	return false
}

// refusedLibrary turns the engine's refusal of a library of an RDB part
// into invalid input: Redis refuses to load that RDB.
func refusedLibrary(err error) error {
	var re *engine.Error
	if errors.As(err, &re) {
		return &rdb.ParseError{Op: "function library", Err: rdb.ErrCorrupt,
			Detail: strings.TrimPrefix(re.Msg, "ERR ") + " (Redis refuses to load the RDB part holding it)"}
	}
	return err
}

// ErrorRepliesSummary describes the error replies of a replay in one line,
// "" when there were none.
func (st *ReplayStats) ErrorRepliesSummary() string {
	if st.ErrorReplies == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d commands returned an error reply and were skipped, as Redis does while loading (--strict makes that fatal); ", st.ErrorReplies)
	for i, r := range st.FirstErrorReplies {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.String())
	}
	if st.ErrorReplies > int64(len(st.FirstErrorReplies)) {
		b.WriteString("; ...")
	}
	return b.String()
}
