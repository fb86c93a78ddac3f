// Package inorder runs work on batches on worker goroutines and gives the
// batches back in the order they were submitted: the ordered-batch pipeline
// behind every parallel path of rdbtool (the RDB check, the JSON dump, the
// memory report, the AOF replay's reading ahead).
//
// The caller fills a batch (Get), submits it (Submit), and retires finished
// batches oldest first (Retire), so that what it does with the results, in
// file order, is what a sequential run would do. Batches are reused (Recycle)
// with whatever memory they grew. Only the caller's goroutine may call the
// methods; each worker has its own state, made by the newWorker function given
// to New, and runs the batches it takes one after the other. With one worker,
// batches are worked in submission order: a reader that fills them from a
// stream runs ahead of the caller by the batches in flight.
//
// It is a leaf package: it imports nothing of rdbtool.
package inorder

import (
	"sync"
	"sync/atomic"
)

// Pipeline is an ordered-batch pipeline over batches of type B.
type Pipeline[B any] struct {
	workers   int
	newWorker func() func(*B)
	work      chan *slot[B]
	wg        sync.WaitGroup
	pending   []*slot[B] // submitted, oldest first, not yet retired
	free      []*slot[B] // retired slots, their batches ready for reuse
	taken     []*slot[B] // handed out by Get or Retire, held by the caller
	aborted   atomic.Bool
	started   bool
	stopped   bool
}

// slot carries a batch through the pipeline; done is closed once a worker
// has finished with it.
type slot[B any] struct {
	b    B
	done chan struct{}
}

// New returns a pipeline of workers goroutines, started by the first Submit,
// with room for inFlight submitted batches not yet retired (Submit blocks
// beyond that, until a worker takes one). newWorker is called once per
// worker, on the caller's goroutine, and returns the function that works a
// batch on that worker's goroutine.
func New[B any](workers, inFlight int, newWorker func() func(*B)) *Pipeline[B] {
	return &Pipeline[B]{workers: workers, newWorker: newWorker, work: make(chan *slot[B], inFlight)}
}

// Get returns a batch to fill: a recycled one as the caller left it (the
// caller resets what it must), or a new zero one.
func (p *Pipeline[B]) Get() *B {
	var s *slot[B]
	if n := len(p.free); n > 0 {
		s, p.free = p.free[n-1], p.free[:n-1]
	} else {
		s = new(slot[B])
	}
	p.taken = append(p.taken, s)
	return &s.b
}

// Submit hands b, which Get returned, to the workers.
func (p *Pipeline[B]) Submit(b *B) {
	s := p.take(b)
	if !p.started {
		p.start()
	}
	s.done = make(chan struct{})
	p.pending = append(p.pending, s)
	p.work <- s
}

// Recycle returns b, which Get or Retire returned, for a later Get.
func (p *Pipeline[B]) Recycle(b *B) { p.free = append(p.free, p.take(b)) }

// take removes b from the batches handed out by Get and Retire (a batch
// or two: the one being filled, the one being consumed).
func (p *Pipeline[B]) take(b *B) *slot[B] {
	for i, s := range p.taken {
		if &s.b == b {
			p.taken = append(p.taken[:i], p.taken[i+1:]...)
			return s
		}
	}
	panic("inorder: a batch that Get or Retire did not return")
}

func (p *Pipeline[B]) start() {
	p.started = true
	for range p.workers {
		work := p.newWorker()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for s := range p.work {
				if !p.aborted.Load() {
					work(&s.b)
				}
				close(s.done)
			}
		}()
	}
}

// Pending is the number of batches submitted and not yet retired.
func (p *Pipeline[B]) Pending() int { return len(p.pending) }

// Retire returns the oldest submitted batch once a worker has finished with
// it, waiting for that with wait; nil when nothing is pending, or without
// wait when the oldest is not finished. The caller owns the batch until it
// recycles it.
func (p *Pipeline[B]) Retire(wait bool) *B {
	if len(p.pending) == 0 {
		return nil
	}
	s := p.pending[0]
	if wait {
		<-s.done
	} else {
		select {
		case <-s.done:
		default:
			return nil
		}
	}
	p.pending = p.pending[1:]
	p.taken = append(p.taken, s)
	return &s.b
}

// Abort drops the work after a failure: workers skip the batches not yet
// started (a worker function may poll Aborted to stop a long batch early),
// Abort waits for those in flight, and they are recycled unseen. The pipeline
// does no more work afterwards.
func (p *Pipeline[B]) Abort() {
	p.aborted.Store(true)
	for _, s := range p.pending {
		<-s.done
		p.free = append(p.free, s)
	}
	p.pending = nil
}

// Aborted reports whether Abort or Stop was called; worker functions may poll
// it to give up a long batch.
func (p *Pipeline[B]) Aborted() bool { return p.aborted.Load() }

// Stop aborts what is in flight and ends the workers, waiting for them, so
// that nothing a worker reads (a memory-mapped input, say) is touched after it
// returns. It may be called more than once.
func (p *Pipeline[B]) Stop() {
	if p.stopped {
		return
	}
	p.stopped = true
	p.Abort()
	close(p.work)
	p.wg.Wait()
}
