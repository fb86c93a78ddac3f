package restore

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/resp"
)

// unit is one key's commands, kept until acknowledged.
type unit struct {
	seq  int64 // key number in source order
	key  []byte
	db   int // target database
	slot int // the key's hash slot: on a cluster, or once a transaction names its helper key; else -1
	cmds []byte
	// ncmds is the number of commands in cmds; for a transaction (tx) the
	// reply to EXEC holds the replies of the ncmds-2 commands inside it, of
	// which the one at renamenx (when >= 0) says whether the key existed.
	ncmds      int
	tx         bool
	renamenx   int
	asCommands bool
	uncertain  bool   // a cut-off run may have written it
	ask        string // send once, behind ASKING, to this node
	redirects  int
	retrySince time.Time
}

func (u *unit) size() int64 { return int64(len(u.cmds)) }

// sent is a unit written to a connection, with what was written before it.
type sent struct {
	u        *unit
	selectDB bool // a SELECT precedes it
	asking   bool // an ASKING precedes it
}

// pipe is the pipeline to one server: a writing and a reading goroutine.
type pipe struct {
	run  *runner
	addr string

	mu     sync.Mutex
	queue  []*unit
	closed bool
	notify chan struct{} // a unit was queued, or the pipe closed

	inflight chan sent
	db       int // database selected on the connection
	conn     *resp.Conn
	connErr  error
	dialed   chan struct{}

	keys    atomic.Int64
	pending atomic.Int64  // sent, no reply yet
	room    chan struct{} // pending has fallen to half the window
	lost    atomic.Int64  // sent, and the connection failed before the reply
	err     atomic.Pointer[string]
	done    chan struct{} // the reader has ended
}

func newPipe(r *runner, addr string) *pipe {
	p := &pipe{run: r, addr: addr, inflight: make(chan sent, r.o.Window), dialed: make(chan struct{}), done: make(chan struct{}),
		notify: make(chan struct{}, 1), room: make(chan struct{}, 1)}
	go p.writeLoop()
	go p.readLoop()
	return p
}

// push queues a unit; retried and redirected units go first.
func (p *pipe) push(u *unit, first bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if first {
		p.queue = append([]*unit{u}, p.queue...)
	} else {
		p.queue = append(p.queue, u)
	}
	p.wake()
	return true
}

func (p *pipe) wake() {
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// close stops the writer once its queue is empty; with drop, at once.
func (p *pipe) close(drop bool) []*unit {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var dropped []*unit
	if drop {
		dropped, p.queue = p.queue, nil
	}
	p.wake()
	return dropped
}

// pop takes the next unit; closed reports a closed pipe with nothing left.
func (p *pipe) pop() (u *unit, closed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return nil, p.closed
	}
	u = p.queue[0]
	p.queue[0] = nil
	p.queue = p.queue[1:]
	return u, false
}

// flushDelay is how long the writer holds a batch, while earlier units keep
// the server busy, hoping for more to send in the same write: one write per
// key costs both sides a system call and a wake-up per key.
const flushDelay = 200 * time.Microsecond

// maxBatchBytes is the most the writer gathers before writing: large writes
// keep the server's reads full, and the window still refills in several.
const maxBatchBytes = 1 << 20

// batch is what the writer has taken from the queue and not written yet: the
// units' own buffers, written with one writev (resp.Conn.WriteBuffers), not
// copied. The units go to the reader (inflight) only once written, so that
// nothing retires a unit, and gives its buffer to another, while the
// writev still reads it.
type batch struct {
	bufs  net.Buffers
	sent  []sent
	bytes int
}

// next waits for a unit, writing the batch when none comes soon; nil when
// the pipe is closed and empty.
func (p *pipe) next(conn *resp.Conn, b *batch, writeBy *deadline) (*unit, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		u, closed := p.pop()
		if u != nil {
			return u, nil
		}
		if closed {
			return nil, p.write(conn, b, writeBy)
		}
		if len(b.sent) == 0 {
			<-p.notify
			continue
		}
		if p.pending.Load() == int64(len(b.sent)) {
			// The server has nothing else to do: give it what there is.
			if err := p.write(conn, b, writeBy); err != nil {
				return nil, err
			}
			continue
		}
		if timer == nil {
			timer = time.NewTimer(flushDelay)
		} else {
			timer.Reset(flushDelay)
		}
		select {
		case <-p.notify:
		case <-timer.C:
			if err := p.write(conn, b, writeBy); err != nil {
				return nil, err
			}
		}
	}
}

// write sends the batch and hands its units to the reader, also when the
// write failed (the reader then counts them lost).
func (p *pipe) write(conn *resp.Conn, b *batch, writeBy *deadline) error {
	if len(b.sent) == 0 {
		return nil
	}
	writeBy.refresh(conn.SetWriteDeadline, p.run.o.ReplyTimeout)
	bufs := b.bufs
	err := conn.WriteBuffers(&bufs)
	for _, s := range b.sent {
		p.inflight <- s // never blocks: pending <= Window, the channel's size
	}
	clear(b.bufs)
	clear(b.sent)
	b.bufs, b.sent, b.bytes = b.bufs[:0], b.sent[:0], 0
	return err
}

func (p *pipe) writeLoop() {
	defer close(p.inflight)
	conn, err := p.run.o.Dial(p.run.ctx, p.addr)
	p.conn, p.connErr = conn, err
	close(p.dialed)
	if err != nil {
		p.run.nodeFailed(p, err)
		return
	}
	var b batch
	var writeBy deadline
	for {
		u, err := p.next(conn, &b, &writeBy)
		if err != nil {
			p.run.nodeFailed(p, err)
			return
		}
		if u == nil {
			return
		}
		s := sent{u: u}
		var hdr []byte // rare: a unit of another database, or an ASK
		if !p.run.cluster && u.db != p.db {
			hdr = resp.AppendCommand(hdr, "SELECT", itoa(int64(u.db)))
			s.selectDB, p.db = true, u.db
		}
		if u.ask != "" {
			hdr = resp.AppendCommand(hdr, "ASKING")
			s.asking, u.ask = true, ""
		}
		if hdr != nil {
			b.bufs = append(b.bufs, hdr)
		}
		b.bufs = append(b.bufs, u.cmds)
		b.sent = append(b.sent, s)
		b.bytes += len(hdr) + len(u.cmds)
		p.pending.Add(1)
		full := p.pending.Load() >= int64(p.run.o.Window)
		if full || b.bytes >= maxBatchBytes {
			if err := p.write(conn, &b, &writeBy); err != nil {
				p.run.nodeFailed(p, err)
				return
			}
		}
		if full {
			// The window is full: write more only once half of it has
			// been answered, in one go. Topping it up unit by unit would
			// cost a system call, and the server a wake-up, per key.
			for p.pending.Load() > int64(p.run.o.Window/2) {
				<-p.room
			}
		}
	}
}

// deadline keeps a connection's read or write deadline about timeout ahead.
// Setting one is a runtime timer update, too dear once per key; it is moved
// only once an eighth of the timeout has passed, so every wait is bounded by
// the timeout, give or take an eighth.
type deadline struct{ at time.Time }

func (d *deadline) refresh(set func(time.Time) error, timeout time.Duration) {
	now := time.Now()
	if d.at.Sub(now) > timeout-timeout/8 {
		return
	}
	d.at = now.Add(timeout)
	set(d.at)
}

// answered counts a reply (or a unit lost), waking a writer waiting for room.
func (p *pipe) answered() {
	if p.pending.Add(-1) <= int64(p.run.o.Window/2) {
		select {
		case p.room <- struct{}{}:
		default:
		}
	}
}

func (p *pipe) readLoop() {
	defer close(p.done)
	<-p.dialed
	failed := p.connErr != nil
	var readBy deadline
	for s := range p.inflight {
		if failed || p.run.dead(p) {
			p.answered()
			p.lost.Add(1)
			p.run.unitLost(s.u)
			continue
		}
		readBy.refresh(p.conn.SetReadDeadline, p.run.o.ReplyTimeout)
		res, err := p.receive(s)
		p.answered()
		if err != nil {
			failed = true
			p.lost.Add(1)
			p.run.nodeFailed(p, err)
			p.run.unitLost(s.u)
			continue
		}
		p.run.outcome(p, s.u, res)
	}
	if p.conn != nil {
		p.conn.Close()
	}
}

// result is what the replies to a unit say.
type result struct {
	kind resultKind
	err  *resp.Error // for resultError, resultRedirect, resultRetry
}

type resultKind uint8

const (
	resultOK       resultKind = iota
	resultExists              // BUSYKEY, or RENAMENX answered 0
	resultExpired             // the helper key expired before the rename
	resultRedirect            // MOVED or ASK
	resultRetry               // TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN
	resultError
)

// receive reads every reply of a unit and says what they mean.
func (p *pipe) receive(s sent) (result, error) {
	c := p.conn
	if s.selectDB {
		r, err := c.Receive()
		if err != nil {
			return result{}, err
		}
		if e := r.Err(); e != nil {
			return result{}, fmt.Errorf("SELECT %d: %w", s.u.db, e)
		}
	}
	if s.asking {
		if _, err := c.Receive(); err != nil {
			return result{}, err
		}
	}
	u := s.u
	if !u.tx {
		if c.ReceiveOK() {
			return result{kind: resultOK}, nil
		}
		r, err := c.Receive()
		if err != nil {
			return result{}, err
		}
		return classify(r), nil
	}
	// MULTI, the queued commands, EXEC.
	var first *result
	for i := 0; i < u.ncmds; i++ {
		r, err := c.Receive()
		if err != nil {
			return result{}, err
		}
		if i == u.ncmds-1 {
			if first != nil {
				return *first, nil // EXECABORT: the queued error says why
			}
			return classifyExec(r, u), nil
		}
		if r.Kind == resp.KindError && first == nil {
			res := classify(r)
			first = &res
		}
	}
	return result{}, errors.New("empty transaction")
}

func classify(r resp.Reply) result {
	if r.Kind != resp.KindError {
		return result{kind: resultOK}
	}
	e := &resp.Error{Msg: string(r.Str)}
	switch e.Code() {
	case "BUSYKEY":
		return result{kind: resultExists, err: e}
	case "MOVED", "ASK":
		return result{kind: resultRedirect, err: e}
	case "TRYAGAIN", "CLUSTERDOWN", "LOADING", "MASTERDOWN":
		return result{kind: resultRetry, err: e}
	}
	return result{kind: resultError, err: e}
}

func classifyExec(r resp.Reply, u *unit) result {
	switch r.Kind {
	case resp.KindError:
		return classify(r)
	case resp.KindArray:
	default:
		return result{kind: resultError, err: &resp.Error{Msg: "EXEC answered " + r.String()}}
	}
	for i, e := range r.Elems {
		if e.Kind == resp.KindError {
			if i == u.renamenx && strings.Contains(strings.ToLower(string(e.Str)), "no such key") {
				return result{kind: resultExpired}
			}
			return classify(e)
		}
		if i == u.renamenx && e.Kind == resp.KindInt && e.Int == 0 {
			return result{kind: resultExists}
		}
	}
	return result{kind: resultOK}
}

// redirectOf parses a MOVED/ASK error, filling in a missing host.
func redirectOf(e *resp.Error, from string) (cluster.Redirect, bool) {
	rd, ok := cluster.ParseRedirect(e.Msg)
	if ok {
		rd.Addr = cluster.ResolveAddr(rd.Addr, from)
	}
	return rd, ok
}
