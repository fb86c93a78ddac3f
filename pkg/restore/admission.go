package restore

import (
	"context"
	"sync"
	"time"
)

// admission bounds the units alive (built and not yet done) and their bytes.
// One goroutine (the producer) acquires; once it has to wait, it waits until
// a quarter of the units are done (or, for bytes, until its unit fits), so
// that it then builds many units in a row instead of one per reply.
type admission struct {
	mu       sync.Mutex
	cond     *sync.Cond
	units    int
	bytes    int64
	maxUnits int
	maxBytes int64
	stopped  bool
	waiting  int64 // size of the unit waited for; -1 when nobody waits
}

func newAdmission(maxUnits int, maxBytes int64) *admission {
	a := &admission{maxUnits: maxUnits, maxBytes: maxBytes, waiting: -1}
	a.cond = sync.NewCond(&a.mu)
	return a
}

func (a *admission) full(size int64) bool {
	return a.units > 0 && (a.units >= a.maxUnits || a.bytes+size > a.maxBytes)
}

// acquire waits for room for a unit of size bytes; one unit always fits
// when nothing else is alive. It reports false once stopped.
func (a *admission) acquire(size int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.stopped && a.full(size) {
		a.waiting = size
		for !a.stopped && (a.full(size) || a.units > a.maxUnits*3/4) && a.units > 0 {
			a.cond.Wait()
		}
		a.waiting = -1
	}
	if a.stopped {
		return false
	}
	a.units++
	a.bytes += size
	return true
}

func (a *admission) release(size int64) {
	a.mu.Lock()
	a.units--
	a.bytes -= size
	wake := a.units == 0 || (a.waiting >= 0 && !a.full(a.waiting) && a.units <= a.maxUnits*3/4)
	a.mu.Unlock()
	if wake {
		a.cond.Broadcast()
	}
}

func (a *admission) stop() {
	a.mu.Lock()
	a.stopped = true
	a.mu.Unlock()
	a.cond.Broadcast()
}

// waitIdle waits until no unit is alive.
func (a *admission) waitIdle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.units > 0 {
		a.cond.Wait()
	}
}

// limiter spaces out keys and bytes to the configured rates.
type limiter struct {
	keysPerSec, bytesPerSec float64
	start                   time.Time
	keys, bytes             float64
}

// wait sleeps until sending one more key of n bytes keeps both rates.
func (l *limiter) wait(ctx context.Context, n int64) error {
	if l.keysPerSec <= 0 && l.bytesPerSec <= 0 {
		return nil
	}
	if l.start.IsZero() {
		l.start = time.Now()
	}
	l.keys++
	l.bytes += float64(n)
	var due float64
	if l.keysPerSec > 0 {
		due = l.keys / l.keysPerSec
	}
	if l.bytesPerSec > 0 {
		due = max(due, l.bytes/l.bytesPerSec)
	}
	d := time.Duration(due*float64(time.Second)) - time.Since(l.start)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
