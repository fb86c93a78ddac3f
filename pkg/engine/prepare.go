package engine

import "slices"

// Preparing a command is the part of applying it that depends on its
// arguments alone: finding the command and checking its arity, and for ZADD
// parsing the scores and sorting the pairs. A caller that reads commands on
// one goroutine and applies them on another (convert's replay of an AOF)
// prepares each as it reads it, which takes that work off the goroutine
// applying them, the one every command waits for. What Prepare works out is
// what Apply would; whatever it cannot (an unknown command, a score that does
// not parse) it leaves to Apply, which then does and reports it as usual.

// Prepared is what Prepare found out about one command. The zero Prepared
// knows nothing: ApplyPrepared then does what Apply does.
type Prepared struct {
	cmd *command
	// ZADD, when every score parses: the scores, in argument order.
	scores []float64
	// ZADD of several pairs without INCR: the pairs' indexes sorted by
	// score, then member (cmpZel); the order buildZSet sorts a new sorted set
	// into when no member repeats.
	order []int32
}

// A PrepareArena holds the slices of the commands prepared with it, so that
// a batch of commands takes a few allocations rather than some per command.
// Reset reuses them: the Prepared values returned before are invalid then.
type PrepareArena struct {
	scores []float64
	order  []int32
}

// Reset empties the arena for the next batch of commands.
func (a *PrepareArena) Reset() {
	a.scores = a.scores[:0]
	a.order = a.order[:0]
}

// Prepare works out what args alone say about applying them. It reads no
// engine's state and may run on any goroutine. The result does not refer to
// args: it stays valid (until Reset) while args are copied or moved.
func (a *PrepareArena) Prepare(args [][]byte) Prepared {
	if len(args) == 0 {
		return Prepared{}
	}
	c, err := resolve(args)
	if err != nil {
		return Prepared{}
	}
	p := Prepared{cmd: c}
	if c == zaddCommand {
		a.prepareZAdd(args, &p)
	}
	return p
}

// zaddCommand is ZADD's entry in the command table, which Prepare compares
// with rather than comparing names.
var zaddCommand *command

func (a *PrepareArena) prepareZAdd(args [][]byte, p *Prepared) {
	fl, idx := parseZAddFlags(args)
	n := len(args) - idx
	if n == 0 || n%2 != 0 {
		return // ZADD's syntax error
	}
	n /= 2
	start := len(a.scores)
	for j := range n {
		s, ok := parseFloat(args[idx+2*j])
		if !ok {
			a.scores = a.scores[:start]
			return // ZADD reports it
		}
		a.scores = append(a.scores, s)
	}
	scores := a.scores[start:len(a.scores):len(a.scores)]
	p.scores = scores
	if n < 2 || fl.incr {
		return
	}
	ostart := len(a.order)
	for j := range n {
		a.order = append(a.order, int32(j))
	}
	order := a.order[ostart:len(a.order):len(a.order)]
	slices.SortFunc(order, func(x, y int32) int {
		return cmpZel(zel{scores[x], args[idx+2*int(x)+1]}, zel{scores[y], args[idx+2*int(y)+1]})
	})
	p.order = order
}

// ApplyPrepared is Apply of args that p was prepared from (Prepare), which
// spares it the work Prepare did. A zero p is Apply.
func (e *Engine) ApplyPrepared(args [][]byte, p *Prepared) error {
	c := p.cmd
	if c == nil || e.multi != nil {
		// Inside MULTI, the queued copy of args is applied later, without
		// what was prepared from them.
		return e.Apply(args)
	}
	if c == zaddCommand && p.scores != nil {
		e.prepared = p // zadd takes it
	}
	err := c.fn(e, args)
	e.prepared = nil
	e.settle()
	return err
}
