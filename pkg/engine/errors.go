package engine

import (
	"fmt"
	"strings"

	"github.com/rdbtool/rdbtool/internal/errclass"
)

// Error is the error a Redis server would reply to a command, with Redis's own
// text ("WRONGTYPE Operation against a key holding the wrong kind of value",
// "ERR syntax error", ...). A command that returns an *Error changed nothing,
// exactly as on the server (Redis validates before it writes).
//
// The common replies are the sentinels below, so errors.Is(err, ErrWrongType)
// works; messages that carry arguments are fresh *Error values whose Prefix
// ("ERR", "WRONGTYPE", "NOGROUP", ...) tells their class.
type Error struct {
	Msg string // the whole reply without the leading '-'
}

func (e *Error) Error() string { return e.Msg }

// Prefix is the error code: the first word of the message.
func (e *Error) Prefix() string {
	p, _, _ := strings.Cut(e.Msg, " ")
	return p
}

// The replies Redis shares between commands (server.c createSharedObjects and
// the most common addReplyError texts).
var (
	ErrWrongType    = &Error{"WRONGTYPE Operation against a key holding the wrong kind of value"}
	ErrSyntax       = &Error{"ERR syntax error"}
	ErrNoSuchKey    = &Error{"ERR no such key"}
	ErrOutOfRange   = &Error{"ERR index out of range"}
	ErrNotInteger   = &Error{"ERR value is not an integer or out of range"}
	ErrNotFloat     = &Error{"ERR value is not a valid float"}
	ErrOverflow     = &Error{"ERR increment or decrement would overflow"}
	ErrSameObject   = &Error{"ERR source and destination objects are the same"}
	ErrBusyKey      = &Error{"BUSYKEY Target key name already exists."}
	ErrExecAbort    = &Error{"EXECABORT Transaction discarded because of previous errors."}
	ErrDBIndex      = &Error{"ERR DB index is out of range"}
	ErrNestedMulti  = &Error{"ERR MULTI calls can not be nested"}
	ErrExecNoMulti  = &Error{"ERR EXEC without MULTI"}
	ErrDiscNoMulti  = &Error{"ERR DISCARD without MULTI"}
	ErrNotPositive  = &Error{"ERR value is out of range, must be positive"}
	ErrStringTooBig = &Error{"ERR string exceeds maximum allowed size (proto-max-bulk-len)"}
)

func errorf(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// errArity is Redis's arity error; name is the command's full name in lower
// case ("set", "xgroup|create").
func errArity(name string) *Error {
	return errorf("ERR wrong number of arguments for '%s' command", name)
}

// UnknownCommandError is returned for a command the engine does not know. Redis
// itself aborts loading an AOF on one; Options.SkipUnknown counts and skips
// them instead.
type UnknownCommandError struct {
	Name string // as spelled in the input
	Sub  string // the subcommand, for containers such as XGROUP and FUNCTION
}

func (e *UnknownCommandError) Error() string {
	if e.Sub != "" {
		return fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.", e.Sub, strings.ToUpper(e.Name))
	}
	return fmt.Sprintf("ERR unknown command '%.128s'", e.Name)
}

// Unwrap puts the error in the unsupported class (errclass.ErrUnsupported): the
// engine does not know every command a server does.
func (e *UnknownCommandError) Unwrap() error { return errclass.ErrUnsupported }

// ExecError is returned by EXEC when some of the queued commands failed. As in
// Redis, the other queued commands were applied: a transaction is not rolled
// back. Errs has one element per queued command, nil for those that succeeded.
type ExecError struct {
	Errs []error
}

func (e *ExecError) Error() string {
	var b strings.Builder
	n := 0
	for i, err := range e.Errs {
		if err == nil {
			continue
		}
		if n > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "command %d: %v", i+1, err)
		n++
	}
	return fmt.Sprintf("EXEC: %d of %d queued commands failed: %s", n, len(e.Errs), b.String())
}

// Unwrap returns the errors of the failed commands.
func (e *ExecError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// UnsupportedError reports a valid command or option that the engine does not
// implement, so that a replay can fail loudly rather than diverge silently.
type UnsupportedError struct {
	What string
}

func (e *UnsupportedError) Error() string { return "engine: unsupported: " + e.What }

// Unwrap puts the error in the unsupported class (errclass.ErrUnsupported).
func (e *UnsupportedError) Unwrap() error { return errclass.ErrUnsupported }
