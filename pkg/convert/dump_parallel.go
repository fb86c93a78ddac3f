package convert

import (
	"sync"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// parallelDump turns values into JSON on worker goroutines (DumpOptions.Workers)
// while the parsing goroutine frames the next ones (rdb.Reader.SkipSpan). Each
// worker decodes a value with its own value reader and renders the key's line
// with its own dumper, the same code as the sequential dump; the parsing
// goroutine writes the lines in file order. Values over bigValue bytes, damaged
// values (which SkipSpan leaves in place) and non-key records are dumped by the
// parsing goroutine itself, after every earlier line: the output and the first
// error are those of a sequential dump.
type parallelDump struct {
	d       *dumper
	workers int
	work    chan *dumpBatch
	wg      sync.WaitGroup
	cur     *dumpBatch
	pending []*dumpBatch
	free    []*dumpBatch
	stopped bool
}

type dumpBatch struct {
	jobs  []dumpJob
	n     int
	bytes int
	done  chan struct{}
	err   error // the first failing job's error; later jobs were not rendered
	bad   int   // index of that job
}

type dumpJob struct {
	span     rdb.ValueSpan
	line     []byte
	filtered bool // a key the filter left out, counted in turn
}

// A value larger than bigValue in the file is streamed by the parsing
// goroutine rather than rendered whole in a worker's memory; batches hold
// about batchBytes of file data. Variables so that tests can vary them.
var (
	bigValue   = 1 << 20
	batchBytes = 256 << 10
	batchJobs  = 256
	keepLine   = 16 << 10
)

func newParallelDump(d *dumper) *parallelDump {
	p := &parallelDump{d: d, workers: d.o.Workers}
	p.work = make(chan *dumpBatch, 2*p.workers)
	for range p.workers {
		wd := &dumper{r: d.r.ValueReader(), o: d.o, sp: newSpool(d.o.SpoolBudget, d.o.TempDir), flushAt: d.flushAt}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer wd.sp.reset()
			for b := range p.work {
				p.render(wd, b)
				close(b.done)
			}
		}()
	}
	return p
}

// take hands the value of key record e to the workers (or skips a key the
// filter leaves out) and reports true, or reports false when the caller must
// handle e itself, after every earlier line.
func (p *parallelDump) take(e *rdb.Entry) (bool, error) {
	if e.Kind != rdb.EntryKey {
		return false, nil
	}
	if !p.d.o.Filter.Match(e) {
		if p.cur == nil && len(p.pending) == 0 {
			p.d.stats.Filtered++
		} else {
			// Counted after the keys before it, as a sequential dump would.
			p.slot().filtered = true
			p.cur.n++
		}
		_, err := p.d.r.SkipValue()
		return true, err
	}
	j := p.slot()
	if !p.d.r.SkipSpan(&j.span, bigValue) {
		return false, nil
	}
	j.filtered = false
	b := p.cur
	b.n++
	b.bytes += j.span.Size()
	if b.n >= batchJobs || b.bytes >= batchBytes {
		p.submit()
	}
	return true, nil
}

// slot returns the next job of the batch being filled, not yet counted in n.
func (p *parallelDump) slot() *dumpJob {
	b := p.batch()
	if b.n == len(b.jobs) {
		b.jobs = append(b.jobs, dumpJob{})
	}
	return &b.jobs[b.n]
}

func (p *parallelDump) batch() *dumpBatch {
	if p.cur == nil {
		if k := len(p.free); k > 0 {
			p.cur, p.free = p.free[k-1], p.free[:k-1]
		} else {
			p.cur = &dumpBatch{}
		}
		b := p.cur
		b.n, b.bytes, b.err, b.bad = 0, 0, nil, -1
		b.done = make(chan struct{})
	}
	return p.cur
}

func (p *parallelDump) submit() {
	if b := p.cur; b != nil && b.n > 0 {
		p.cur = nil
		p.pending = append(p.pending, b)
		p.work <- b
	}
}

// render builds the line of every job of b on a worker.
func (p *parallelDump) render(wd *dumper, b *dumpBatch) {
	vr := wd.r
	for i := range b.jobs[:b.n] {
		j := &b.jobs[i]
		if j.filtered {
			continue
		}
		vr.OpenSpan(&j.span)
		wd.b, wd.committed = wd.b[:0], 0
		err := wd.key(&j.span.Entry)
		wd.sp.reset()
		if err != nil {
			// What a sequential dump would have written of this line.
			b.err, b.bad = err, i
			j.line, wd.b = wd.b[:wd.committed], j.line[:0]
			return
		}
		// Keep the line; the worker continues with the job's old buffer.
		j.line, wd.b = wd.b, j.line[:0]
	}
}

// retire writes the lines of finished batches in order; with all it waits for
// every batch (the caller is about to write something itself), otherwise only
// while too many are in flight.
func (p *parallelDump) retire(all bool) error {
	if all {
		p.submit()
	}
	d := p.d
	for len(p.pending) > 0 {
		b := p.pending[0]
		if !all && len(p.pending) < 2*p.workers {
			select {
			case <-b.done:
			default:
				return nil
			}
		} else {
			<-b.done
		}
		p.pending = p.pending[1:]
		for i := range b.jobs[:b.n] {
			if b.jobs[i].filtered {
				d.stats.Filtered++
				continue
			}
			d.stats.Keys++ // counted as the sequential dump does: when the key starts
			if i == b.bad {
				// The line was started, and maybe partly written, before the
				// value failed.
				p.abort()
				if err := d.startLine(); err != nil {
					return err
				}
				if _, err := d.out.Write(b.jobs[i].line); err != nil {
					return err
				}
				return b.err
			}
			j := &b.jobs[i]
			if err := d.writeLine(j.line); err != nil {
				p.abort()
				return err
			}
			if cap(j.line) > keepLine {
				j.line = nil // a rare big line: don't keep its memory in the pool
			}
		}
		p.free = append(p.free, b)
	}
	return nil
}

// abort waits for the batches in flight after a failure; their lines are
// not written.
func (p *parallelDump) abort() {
	p.cur = nil
	for _, b := range p.pending {
		<-b.done
	}
	p.pending = nil
}

// stop ends the workers; nothing reads the input after it returns.
func (p *parallelDump) stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	p.abort()
	close(p.work)
	p.wg.Wait()
}
