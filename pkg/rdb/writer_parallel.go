package rdb

// Parallel compression (WriterOptions.CompressWorkers). Trying LZF on every
// value is most of what writing a large dataset costs, and it depends on
// nothing but the value, so it can run on other cores while the caller goes
// on encoding:
//
//   - The output is cut into chunks of about parChunkBytes. A chunk is its
//     literal bytes (everything the writer appends to out.buf) and, at given
//     positions among them, the strings emitStr was asked to write, copied.
//   - Workers render chunks: the literal bytes with each string encoded in
//     between, exactly as strEncoder.appendStr encodes it (the same bytes
//     the sequential writer writes).
//   - The writer's own goroutine writes rendered chunks in order (CRC-64
//     included), waiting for the oldest when parMaxInFlight are pending.
//
// Strings of parDirectBytes or more are encoded at once, in place, to avoid
// copying them. Memory: parMaxInFlight chunks, each about parChunkBytes plus
// its rendering.

import "sync"

// parChunkBytes and parDirectBytes are variables so that tests can make
// chunks tiny.
var (
	parChunkBytes  = 1 << 20
	parDirectBytes = 4 << 20
)

// parJob is a string of a chunk: data[start:end] goes at lit[at].
type parJob struct {
	at, start, end int
}

type parChunk struct {
	lit  []byte
	data []byte
	jobs []parJob
	out  []byte
	done chan struct{}
}

// parOut is the pipeline of an output in parallel mode.
type parOut struct {
	cur      *parChunk
	pending  []*parChunk // submitted, in order
	work     chan *parChunk
	free     chan *parChunk
	wg       sync.WaitGroup
	inFlight int
}

func newParOut(workers int) *parOut {
	p := &parOut{work: make(chan *parChunk, 2*workers+1), free: make(chan *parChunk, 2*workers+2), inFlight: 2*workers + 1}
	p.wg.Add(workers)
	for range workers {
		go p.worker()
	}
	p.cur = p.newChunk()
	return p
}

func (p *parOut) worker() {
	defer p.wg.Done()
	var enc strEncoder
	enc.compress = true
	for c := range p.work {
		c.out = c.out[:0]
		prev := 0
		for _, j := range c.jobs {
			c.out = append(c.out, c.lit[prev:j.at]...)
			c.out = enc.appendStr(c.out, c.data[j.start:j.end])
			prev = j.at
		}
		c.out = append(c.out, c.lit[prev:]...)
		close(c.done)
	}
}

// newChunk returns an empty chunk, reusing the buffers of one written out.
func (p *parOut) newChunk() *parChunk {
	var c *parChunk
	select {
	case c = <-p.free:
	default:
		c = &parChunk{lit: make([]byte, 0, parChunkBytes+parChunkBytes/4)}
	}
	c.lit, c.data, c.jobs = c.lit[:0], c.data[:0], c.jobs[:0]
	c.done = make(chan struct{})
	return c
}

// job records b, to be encoded as a string at the current end of the
// output.
func (o *output) job(b []byte) {
	c := o.par.cur
	c.jobs = append(c.jobs, parJob{at: len(o.buf), start: len(c.data), end: len(c.data) + len(b)})
	c.data = append(c.data, b...)
}

// parSize is the bytes the current chunk holds.
func (o *output) parSize() int { return len(o.buf) + len(o.par.cur.data) }

// submit hands the current chunk to the workers and starts the next one,
// writing out chunks that are done (and waiting for the oldest when too many
// are pending).
func (o *output) submit() error {
	p := o.par
	c := p.cur
	c.lit = o.buf
	if len(c.lit) == 0 && len(c.jobs) == 0 {
		return o.err
	}
	p.pending = append(p.pending, c)
	p.work <- c
	p.cur = p.newChunk()
	o.buf = p.cur.lit
	for len(p.pending) > 0 {
		head := p.pending[0]
		if len(p.pending) < p.inFlight {
			select {
			case <-head.done:
			default:
				return o.err
			}
		} else {
			<-head.done
		}
		p.pending = p.pending[1:]
		o.emit(head.out)
		select {
		case p.free <- head:
		default:
		}
	}
	return o.err
}

// emit writes rendered bytes.
func (o *output) emit(b []byte) {
	if o.err != nil {
		return
	}
	o.crc = UpdateCRC64(o.crc, b)
	_, o.err = o.w.Write(b)
}

// drain submits the current chunk and writes out every pending one.
func (o *output) drain() error {
	if err := o.submit(); err != nil {
		return err
	}
	p := o.par
	for _, c := range p.pending {
		<-c.done
		o.emit(c.out)
	}
	p.pending = p.pending[:0]
	return o.err
}

// stop ends the workers (after drain, or to give up).
func (o *output) stop() {
	if o.par == nil {
		return
	}
	close(o.par.work)
	o.par.wg.Wait()
	o.par = nil
}
