package aof

import (
	"io"
)

// CommandCheck judges one command of an AOF by what a reader that skips
// arguments knows of it: its name, its second argument (the subcommand of
// containers such as XGROUP; nil when there is none) and its number of
// arguments, the name included. Either is nil when longer than
// maxCommandHead bytes (no command name is). A non-nil error makes the
// command the stream's problem, invalid (ErrCorrupt) at the command's
// offset, with the error's text as the detail: for a command a server
// refuses to load (see internal/commandtable).
type CommandCheck func(name, second []byte, argc int64) error

// maxCommandHead bounds the arguments read for a CommandCheck.
const maxCommandHead = 64

// checkCommand reads the first two arguments of the current command (short
// ones only; the rest is skipped by the next Next) and applies cc.
func checkCommand(rd *Reader, rec *Record, cc CommandCheck) error {
	var heads [2][]byte
	var buf [2][maxCommandHead]byte
	for i := 0; i < 2 && int64(i) < rec.Argc; i++ {
		n, r, err := rd.NextArgStream()
		if err != nil {
			return err
		}
		if n > maxCommandHead {
			break
		}
		if _, err := io.ReadFull(r, buf[i][:n]); err != nil {
			return rd.fail(err)
		}
		heads[i] = buf[i][:n]
	}
	if err := cc(heads[0], heads[1], rec.Argc); err != nil {
		return rd.fail(rd.errAt(rec.Offset, rec.Offset, "command", ErrCorrupt, err.Error()))
	}
	return nil
}
