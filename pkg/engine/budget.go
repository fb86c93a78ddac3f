package engine

import "github.com/rdbtool/rdbtool/internal/membudget"

// reserve checks n more bytes that a command asks for (a string grown to a
// far offset) against the process's memory budget (internal/membudget)
// before they are allocated: past it the command fails with a
// *membudget.Error naming what, which stops a replay, rather than the
// runtime crashing out of memory. Every command that grows a value by an
// amount its arguments choose calls it.
func (e *Engine) reserve(n int64, what string) error {
	return membudget.Check(n, what)
}
