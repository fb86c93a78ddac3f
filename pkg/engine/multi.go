package engine

// Transactions (multi.c): MULTI, EXEC, DISCARD, and WATCH/UNWATCH, which
// have nothing to watch in a single-client replay.
//
// Like processCommand, Apply checks a command's name and arity when it is
// queued; a failure there flags the transaction and EXEC then discards it
// (EXECABORT). Errors raised while EXEC runs a queued command do not stop
// the others. A MULTI left open at the end of the input is never applied,
// as Redis drops a truncated transaction at the end of an AOF.

type queued struct {
	cmd  *command
	args [][]byte
}

type multiState struct {
	queue []queued
	dirty bool // a command was refused while queueing
}

// multiControl are the commands executed at once inside MULTI.
var multiControl = map[string]bool{"multi": true, "exec": true, "discard": true, "watch": true}

func registerMulti() {
	register("multi", 1, func(e *Engine, _ [][]byte) error {
		if e.multi != nil {
			return ErrNestedMulti
		}
		e.multi = &multiState{}
		return nil
	})
	register("exec", 1, cmdExec)
	register("discard", 1, func(e *Engine, _ [][]byte) error {
		if e.multi == nil {
			return ErrDiscNoMulti
		}
		e.multi = nil
		return nil
	})
	register("watch", -2, func(e *Engine, _ [][]byte) error {
		if e.multi != nil {
			return &Error{"ERR WATCH inside MULTI is not allowed"}
		}
		return nil
	})
	register("unwatch", 1, func(*Engine, [][]byte) error { return nil })
}

func cmdExec(e *Engine, _ [][]byte) error {
	m := e.multi
	if m == nil {
		return ErrExecNoMulti
	}
	e.multi = nil
	if m.dirty {
		return ErrExecAbort
	}
	var errs []error
	failed := false
	for i, q := range m.queue {
		err := q.cmd.fn(e, q.args)
		if err != nil {
			if errs == nil {
				errs = make([]error, len(m.queue))
			}
			errs[i] = err
			failed = true
		}
	}
	if failed {
		return &ExecError{Errs: errs}
	}
	return nil
}
