package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/urfave/cli/v2"
)

// Exit codes, documented in docs/exit-codes.md. Scripts depend on them: never
// renumber.
const (
	exitOK          = 0 // success
	exitFailure     = 1 // I/O error, or anything not classified below
	exitUsage       = 2 // bad command line: unknown command or flag, missing or bad argument, an OUT rdbtool will not replace
	exitInvalid     = 3 // the input is not a valid file: corrupt, truncated, checksum mismatch
	exitUnsupported = 4 // the input may be valid but rdbtool cannot handle it
	exitDifferent   = 5 // diff: the inputs were compared and differ
	// exitInterrupted is 128 + SIGINT, what a shell reports for a command
	// stopped by Ctrl-C; rdbtool gives it for SIGTERM and SIGHUP too, after
	// removing its temporary files and leaving every output as it was.
	exitInterrupted = 130
)

// exitCode is the one place that maps an error to the process exit code. It
// knows the classes of internal/errclass, which every package's errors
// belong to (pkg/rdb, pkg/aof, pkg/engine, pkg/convert's JSON reader, the RDB
// writer), the CLI's own usage errors, and interrupts (context.Canceled).
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var coder cli.ExitCoder
	var diff *differentError
	switch {
	case errors.As(err, &diff):
		return exitDifferent
	case errors.Is(err, context.Canceled):
		// First: an interrupted read may surface wrapped in a parse error.
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, errclass.ErrInvalid):
		return exitInvalid
	case errors.Is(err, errclass.ErrUnsupported):
		return exitUnsupported
	case errors.As(err, &coder):
		// Only urfave/cli itself makes these (e.g. "No help topic for 'x'"):
		// rdbtool never calls cli.Exit, so they are all command-line mistakes.
		return exitUsage
	}
	return exitFailure
}

// worse reports whether exit code a outranks b when several files fail: an
// interrupt first (the run is incomplete), then invalid input (the data is
// bad), then unsupported (the tool is lacking), then other failures, then
// success.
func worse(a, b int) bool {
	rank := func(c int) int {
		switch c {
		case exitInterrupted:
			return 5
		case exitInvalid:
			return 4
		case exitUnsupported:
			return 3
		case exitUsage:
			return 2
		case exitOK:
			return 0
		}
		return 1
	}
	return rank(a) > rank(b)
}

// usageError is a command-line mistake; it exits with code 2 and a hint to
// read --help.
type usageError struct {
	cmd string // command name, "" for the top level
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// reportedError is a failure whose details are already printed (one line per
// file by verify); run prints nothing more and exits with Err's code.
type reportedError struct{ Err error }

func (e *reportedError) Error() string { return e.Err.Error() }
func (e *reportedError) Unwrap() error { return e.Err }
