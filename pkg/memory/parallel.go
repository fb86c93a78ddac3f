package memory

import (
	"sync"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// parallelAnalysis measures keys on worker goroutines (ReportOptions.Workers)
// while the parsing goroutine frames the next values (rdb.Spans.Skip),
// as dump does. Records are aggregated, and OnKey called, by the parsing
// goroutine in file order, so the report and the per-key output are those of
// a sequential run. Values over bigValue bytes, damaged values (which
// Spans.Skip leaves in place) and inputs that are not in memory are measured by
// the parsing goroutine itself, after every earlier key.
type parallelAnalysis struct {
	a       *aggregator
	r       *rdb.Reader
	work    chan *keyBatch
	wg      sync.WaitGroup
	cur     *keyBatch
	pending []*keyBatch
	free    []*keyBatch
}

type keyBatch struct {
	spans    []rdb.ValueSpan
	recs     []KeyRecord
	previews [][]byte
	n, bytes int
	sizes    []Bucket // element sizes seen by this batch
	done     chan struct{}
	err      error
	bad      int // the failing job; jobs before it are good
}

// Batches hold about batchBytes of file data; bigger values go sequentially.
const (
	bigValue   = 1 << 20
	batchBytes = 256 << 10
	batchKeys  = 512
)

func newParallelAnalysis(a *aggregator, r *rdb.Reader, workers int) *parallelAnalysis {
	p := &parallelAnalysis{a: a, r: r, work: make(chan *keyBatch, 2*workers)}
	for range workers {
		values := r.Spans().ValueReader()
		est := NewEstimator(a.o.Config)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for b := range p.work {
				p.measure(values, est, b)
				close(b.done)
			}
		}()
	}
	return p
}

func (p *parallelAnalysis) measure(values *rdb.ValueReader, est *Estimator, b *keyBatch) {
	var preview *[]byte
	largest := 0
	est.OnElement = func(el *rdb.Elem, size int) {
		addToBucket(b.sizes, int64(size), int64(size))
		if size > largest {
			largest = size
			*preview = appendPreview((*preview)[:0], el)
		}
	}
	for i := range b.spans[:b.n] {
		s := &b.spans[i]
		preview, largest = &b.previews[i], -1
		*preview = (*preview)[:0]
		u, err := est.Measure(values.Open(s), &s.Entry)
		if err != nil {
			b.err, b.bad = err, i
			return
		}
		e := &s.Entry
		b.recs[i] = KeyRecord{DB: e.DB, Key: e.Key, Type: e.Type, Usage: u, ExpireAtMs: e.ExpireAtMs, HasExpire: e.HasExpire, LargestElement: *preview}
	}
}

// take hands the current key's value to the workers and reports true, or
// reports false when the caller must measure it itself (after drain).
func (p *parallelAnalysis) take() bool {
	b := p.batch()
	if b.n == len(b.spans) {
		b.spans = append(b.spans, rdb.ValueSpan{})
		b.recs = append(b.recs, KeyRecord{})
		b.previews = append(b.previews, nil)
	}
	if !p.r.Spans().Skip(&b.spans[b.n], bigValue) {
		return false
	}
	b.bytes += b.spans[b.n].Size()
	b.n++
	if b.n >= batchKeys || b.bytes >= batchBytes {
		p.submit()
	}
	return true
}

func (p *parallelAnalysis) batch() *keyBatch {
	if p.cur == nil {
		if k := len(p.free); k > 0 {
			p.cur, p.free = p.free[k-1], p.free[:k-1]
		} else {
			p.cur = &keyBatch{}
		}
		b := p.cur
		b.n, b.bytes, b.err, b.bad = 0, 0, nil, -1
		b.sizes = sizeBuckets()
		b.done = make(chan struct{})
	}
	return p.cur
}

func (p *parallelAnalysis) submit() {
	if b := p.cur; b != nil && b.n > 0 {
		p.cur = nil
		p.pending = append(p.pending, b)
		p.work <- b
	}
}

// retire aggregates finished batches in order; with all it waits for every
// one (the caller is about to measure a key itself), otherwise only while too
// many are in flight.
func (p *parallelAnalysis) retire(all bool) error {
	if all {
		p.submit()
	}
	for len(p.pending) > 0 {
		b := p.pending[0]
		if !all && len(p.pending) < cap(p.work) {
			select {
			case <-b.done:
			default:
				return nil
			}
		} else {
			<-b.done
		}
		p.pending = p.pending[1:]
		good := b.n
		if b.err != nil {
			good = b.bad
		}
		for i := range b.recs[:good] {
			if err := p.a.add(&b.recs[i]); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
		for i := range b.sizes {
			p.a.rep.ElementSizes[i].Count += b.sizes[i].Count
			p.a.rep.ElementSizes[i].Bytes += b.sizes[i].Bytes
		}
		p.free = append(p.free, b)
	}
	return nil
}

// stop ends the workers, waiting for the batches in flight.
func (p *parallelAnalysis) stop() {
	close(p.work)
	p.wg.Wait()
}
