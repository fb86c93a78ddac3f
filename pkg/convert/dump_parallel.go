package convert

import (
	"io"

	"github.com/rdbtool/rdbtool/internal/inorder"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// parallelDump turns values into JSON on worker goroutines (DumpOptions.Workers)
// while the parsing goroutine frames the next ones (rdb.Spans.Skip). Each
// worker decodes a value with its own value reader and renders the key's line
// with its own dumper, the same code as the sequential dump; the parsing
// goroutine writes the lines in file order. Values over bigValue bytes, damaged
// values (which Spans.Skip leaves in place) and non-key records are dumped by the
// parsing goroutine itself, after every earlier line: the output and the first
// error are those of a sequential dump.
type parallelDump struct {
	d        *dumper
	pipe     *inorder.Pipeline[dumpBatch]
	cur      *dumpBatch // being filled
	inFlight int        // batches that may wait for workers before the parser waits
	// listElems counts the elements of the big list being written (bigList).
	listElems int
}

type dumpBatch struct {
	jobs  []dumpJob
	out   []byte // the lines, back to back
	n     int
	bytes int
	err   error // the first failing job's error; later jobs were not rendered
	bad   int   // index of that job
	tail  int   // keys the filter left out after the last job
}

type dumpJob struct {
	span     rdb.ValueSpan
	from, to int    // the key's line in the batch's out
	line     []byte // a part's elements
	before   int    // keys the filter left out just before this one
	isPart   bool   // a part of a big list (bigList)
	ends     []int  // for a part: where each element ends in line
}

// A value larger than bigValue in the file is streamed by the parsing
// goroutine rather than rendered whole in a worker's memory; batches hold
// about batchBytes of file data. Variables so that tests can vary them.
var (
	bigValue     = 1 << 20
	batchBytes   = 256 << 10
	batchJobs    = 256
	keepBatchOut = 4 << 20
)

func newParallelDump(d *dumper) *parallelDump {
	p := &parallelDump{d: d, inFlight: 2 * d.o.Workers}
	p.pipe = inorder.New(d.o.Workers, p.inFlight, func() func(*dumpBatch) {
		values := d.r.Spans().ValueReader()
		wd := &dumper{o: d.o, sp: newSpool(d.o.SpoolBudget, d.o.TempDir), flushAt: d.flushAt}
		return func(b *dumpBatch) {
			p.render(values, wd, b)
			wd.sp.reset() // no spool file outlives its batch
		}
	})
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
		if p.cur == nil && p.pipe.Pending() == 0 {
			p.d.stats.Filtered++
		} else {
			// Counted after the keys before it, as a sequential dump would:
			// by the next job, or by the batch if none follows.
			p.batch().tail++
		}
		_, err := p.d.r.SkipValue()
		return true, err
	}
	j := p.slot()
	if !p.d.r.Spans().Skip(&j.span, bigValue) {
		if k := e.Type.Kind(); k == rdb.KindList {
			return true, p.bigList(e)
		}
		return false, nil
	}
	b := p.cur
	j.isPart, j.before, b.tail = false, b.tail, 0
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
		b := p.pipe.Get()
		b.n, b.bytes, b.err, b.bad, b.out, b.tail = 0, 0, nil, -1, b.out[:0], 0
		p.cur = b
	}
	return p.cur
}

func (p *parallelDump) submit() {
	if b := p.cur; b != nil && (b.n > 0 || b.tail > 0) {
		p.cur = nil
		p.pipe.Submit(b)
	}
}

// render builds the line of every job of b on a worker, whose dumper reads
// the values with its own value reader.
func (p *parallelDump) render(values *rdb.ValueReader, wd *dumper, b *dumpBatch) {
	for i := range b.jobs[:b.n] {
		j := &b.jobs[i]
		wd.r = values.Open(&j.span)
		if j.isPart {
			if err := p.renderPart(wd, j); err != nil {
				b.err, b.bad = err, i
				return
			}
			continue
		}
		// Lines go one after the other into the batch's buffer, which
		// batches reuse: no allocation per key.
		start := len(b.out)
		wd.b, wd.committed = b.out, start
		err := wd.key(&j.span.Entry)
		wd.sp.reset()
		b.out, wd.b = wd.b, nil
		j.from, j.to = start, len(b.out)
		if err != nil {
			// What a sequential dump would have written of this line.
			b.err, b.bad = err, i
			j.to = wd.committed
			return
		}
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
	for p.pipe.Pending() > 0 {
		b := p.pipe.Retire(all || p.pipe.Pending() >= p.inFlight)
		if b == nil {
			return nil
		}
		for i := range b.jobs[:b.n] {
			d.stats.Filtered += int64(b.jobs[i].before)
			if b.jobs[i].isPart {
				err := p.writePart(&b.jobs[i])
				if err == nil && i == b.bad {
					err = b.err
				}
				if err != nil {
					p.abort()
					return err
				}
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
				j := &b.jobs[i]
				if _, err := d.out.Write(b.out[j.from:j.to]); err != nil {
					return err
				}
				return b.err
			}
			j := &b.jobs[i]
			if err := d.writeLine(b.out[j.from:j.to]); err != nil {
				p.abort()
				return err
			}
		}
		if cap(b.out) > keepBatchOut {
			b.out = nil // after a batch of big lines: don't keep the memory
		}
		d.stats.Filtered += int64(b.tail)
		p.pipe.Recycle(b)
	}
	return nil
}

// abort drops the batches in flight after a failure; their lines are not
// written.
func (p *parallelDump) abort() {
	p.cur = nil
	p.pipe.Abort()
}

// stop ends the workers; nothing reads the input after it returns.
func (p *parallelDump) stop() { p.pipe.Stop() }

// A list too big for one job is cut into parts of about partBytes of
// quicklist nodes; workers render the parts' elements, the parsing goroutine
// writes them in order.
var partBytes = 256 << 10

// bigList dumps list e, whose value Spans.Skip found too big for one job, part
// by part. Every earlier line is written first. The line's bytes reach the
// output exactly where a sequential dump writes them (flushIfBig after each
// element), so that even a failure leaves the same output; where a part
// cannot be framed, the parsing goroutine goes on element by element.
func (p *parallelDump) bigList(e *rdb.Entry) error {
	d := p.d
	if err := p.retire(true); err != nil {
		return err
	}
	if err := d.startLine(); err != nil {
		return err
	}
	d.stats.Keys++
	d.keyHead(e)
	d.b = append(d.b, '[')
	p.listElems = 0
	for {
		j := p.slot()
		ok, last := d.r.Spans().SkipListPart(&j.span, partBytes)
		if !ok {
			break
		}
		j.isPart, j.before, j.ends = true, 0, j.ends[:0]
		p.cur.n++
		p.submit() // a part is a batch of its own
		if err := p.retire(false); err != nil {
			return err
		}
		if last {
			if err := p.retire(true); err != nil {
				return err
			}
			d.b = append(d.b, "]}"...)
			return d.endLine()
		}
	}
	// Not framed (damaged, or not a quicklist): element by element here.
	if err := p.retire(true); err != nil {
		return err
	}
	if err := d.elements(p.listElems); err != nil {
		return err
	}
	d.b = append(d.b, "]}"...)
	return d.endLine()
}

// renderPart renders the elements of a list part, each with a leading comma.
func (p *parallelDump) renderPart(wd *dumper, j *dumpJob) error {
	vr := wd.r
	line := jsonBuf(j.line[:0])
	for {
		el, err := vr.NextElem()
		if err != nil {
			j.line = line
			if err == io.EOF {
				return nil
			}
			return err
		}
		line = append(line, ',')
		line = line.bytesValue(el.Member)
		j.ends = append(j.ends, len(line))
	}
}

// writePart appends a rendered part to the line being built, writing the
// line out wherever the sequential dump's flushIfBig would.
func (p *parallelDump) writePart(j *dumpJob) error {
	d := p.d
	from := 0
	if p.listElems == 0 && len(j.ends) > 0 {
		from = 1 // the line's first element has no comma before it
	}
	for _, end := range j.ends {
		if len(d.b)+end-from >= d.flushAt {
			if _, err := d.out.Write(d.b); err != nil {
				return err
			}
			if _, err := d.out.Write(j.line[from:end]); err != nil {
				return err
			}
			d.b, from = d.b[:0], end
		}
	}
	if n := len(j.ends); n > 0 {
		d.b = append(d.b, j.line[from:j.ends[n-1]]...)
	}
	p.listElems += len(j.ends)
	return nil
}
