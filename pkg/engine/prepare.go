package engine

import "slices"

// Preparing a command is the part of applying it that depends on its
// arguments alone: finding the command and checking its arity; for ZADD,
// parsing the scores and sorting the pairs; inside MULTI, the copy of the
// arguments that EXEC will apply. A caller that reads commands on one
// goroutine and applies them on another (convert's replay of an AOF)
// prepares each as it reads it, which takes that work off the goroutine
// applying them, the one every command waits for. What Prepare works out is
// what Apply would; whatever it cannot (an unknown command, a score that does
// not parse) it leaves to Apply, which then does and reports it as usual.

// Prepared is what a Preparer found out about one command. The zero Prepared
// knows nothing: ApplyPrepared then does what Apply does.
type Prepared struct {
	cmd *command
	// ZADD, when every score parses: the scores, in argument order.
	scores []float64
	// ZADD of several pairs without INCR: the pairs' indexes sorted by
	// score, then member (cmpZel): when no member repeats, the order
	// buildZSet and addMany would sort them into.
	order []int32
	// A copy of the arguments, made when the command follows a MULTI, for the
	// engine to queue rather than copy them itself.
	queued [][]byte
}

// A Preparer prepares the commands of one input in their order (it follows
// their MULTI and EXEC); it is not safe for concurrent use. It hands out
// slices of larger ones, so that a run of commands takes a few allocations
// rather than some per command; what it returned stays valid while held.
type Preparer struct {
	scores []float64
	order  []int32
	multi  bool // a MULTI was prepared, and no EXEC or DISCARD since
}

// prepareChunk is how many scores (or indexes) a Preparer allocates at once.
const prepareChunk = 8192

// Prepare works out what args alone say about applying them. It reads no
// engine's state and may run on any goroutine; the result does not refer to
// args.
func (pr *Preparer) Prepare(args [][]byte) Prepared {
	if len(args) == 0 {
		return Prepared{}
	}
	c, err := resolve(args)
	if err != nil {
		return Prepared{}
	}
	p := Prepared{cmd: c}
	switch {
	case c.control:
		// What MULTI and EXEC do to the engine, give or take an error: a
		// wrong guess costs a copy, never a result (ApplyPrepared).
		switch c.name {
		case "multi":
			pr.multi = true
		case "exec", "discard":
			pr.multi = false
		}
	case pr.multi:
		p.queued = copyArgs(args)
	case c == zaddCommand:
		pr.prepareZAdd(args, &p)
	}
	return p
}

// copyArgs copies args back to back into one buffer: one allocation rather
// than one each.
func copyArgs(args [][]byte) [][]byte {
	q := make([][]byte, len(args))
	buf := make([]byte, 0, argBytes(args))
	for i, a := range args {
		buf = append(buf, a...)
		q[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return q
}

// zaddCommand is ZADD's entry in the command table, which Prepare compares
// with rather than comparing names.
var zaddCommand *command

func (pr *Preparer) prepareZAdd(args [][]byte, p *Prepared) {
	fl, idx := parseZAddFlags(args)
	n := len(args) - idx
	if n == 0 || n%2 != 0 {
		return // ZADD's syntax error
	}
	n /= 2
	if cap(pr.scores)-len(pr.scores) < n {
		pr.scores = make([]float64, 0, max(n, prepareChunk))
	}
	start := len(pr.scores)
	for j := range n {
		s, ok := parseFloat(args[idx+2*j])
		if !ok {
			pr.scores = pr.scores[:start]
			return // ZADD reports it
		}
		pr.scores = append(pr.scores, s)
	}
	scores := pr.scores[start:len(pr.scores):len(pr.scores)]
	p.scores = scores
	if n < 2 || fl.incr {
		return
	}
	if cap(pr.order)-len(pr.order) < n {
		pr.order = make([]int32, 0, max(n, prepareChunk))
	}
	start = len(pr.order)
	for j := range n {
		pr.order = append(pr.order, int32(j))
	}
	order := pr.order[start:len(pr.order):len(pr.order)]
	slices.SortFunc(order, func(x, y int32) int {
		return cmpZel(zel{scores[x], args[idx+2*int(x)+1]}, zel{scores[y], args[idx+2*int(y)+1]})
	})
	p.order = order
}

// ApplyPrepared is Apply of args that p was prepared from (Preparer.Prepare),
// which spares it the work Prepare did. A zero p is Apply.
func (e *Engine) ApplyPrepared(args [][]byte, p *Prepared) error {
	c := p.cmd
	if c == nil {
		return e.Apply(args)
	}
	if e.multi != nil && !c.control {
		q := p.queued
		if q == nil {
			q = copyArgs(args)
		}
		e.multi.queue = append(e.multi.queue, queued{cmd: c, args: q})
		return nil
	}
	if c == zaddCommand && p.scores != nil {
		e.prepared = p // zadd takes it
	}
	err := c.fn(e, args)
	e.prepared = nil
	e.settle()
	return err
}
