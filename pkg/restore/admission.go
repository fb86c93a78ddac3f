package restore

import (
	"context"
	"sync"
	"time"
)

// admission bounds the units alive (built and not yet done) and their bytes.
type admission struct {
	mu       sync.Mutex
	cond     *sync.Cond
	units    int
	bytes    int64
	maxUnits int
	maxBytes int64
	stopped  bool
}

func newAdmission(maxUnits int, maxBytes int64) *admission {
	a := &admission{maxUnits: maxUnits, maxBytes: maxBytes}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// acquire waits for room for a unit of size bytes; one unit always fits
// when nothing else is alive. It reports false once stopped.
func (a *admission) acquire(size int64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for !a.stopped && a.units > 0 && (a.units >= a.maxUnits || a.bytes+size > a.maxBytes) {
		a.cond.Wait()
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
	a.mu.Unlock()
	a.cond.Broadcast()
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
