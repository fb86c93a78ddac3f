package memory

import (
	"github.com/rdbtool/rdbtool/internal/inorder"
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
	a    *aggregator
	r    *rdb.Reader
	pipe *inorder.Pipeline[keyBatch]
	cur  *keyBatch // being filled
	// inFlight is how many batches may wait for workers before the parser
	// waits for the oldest.
	inFlight int
}

type keyBatch struct {
	spans    []rdb.ValueSpan
	recs     []KeyRecord
	previews [][]byte
	n, bytes int
	sizes    []Bucket // element sizes seen by this batch
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
	p := &parallelAnalysis{a: a, r: r, inFlight: 2 * workers}
	p.pipe = inorder.New(workers, p.inFlight, func() func(*keyBatch) {
		values := r.Spans().ValueReader()
		est := NewEstimator(a.o.Config)
		return func(b *keyBatch) { p.measure(values, est, b) }
	})
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
		b := p.pipe.Get()
		b.n, b.bytes, b.err, b.bad = 0, 0, nil, -1
		b.sizes = sizeBuckets()
		p.cur = b
	}
	return p.cur
}

func (p *parallelAnalysis) submit() {
	if b := p.cur; b != nil && b.n > 0 {
		p.cur = nil
		p.pipe.Submit(b)
	}
}

// retire aggregates finished batches in order; with all it waits for every
// one (the caller is about to measure a key itself), otherwise only while too
// many are in flight.
func (p *parallelAnalysis) retire(all bool) error {
	if all {
		p.submit()
	}
	for p.pipe.Pending() > 0 {
		b := p.pipe.Retire(all || p.pipe.Pending() >= p.inFlight)
		if b == nil {
			return nil
		}
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
		p.pipe.Recycle(b)
	}
	return nil
}

// stop ends the workers, waiting for the batches in flight.
func (p *parallelAnalysis) stop() { p.pipe.Stop() }
