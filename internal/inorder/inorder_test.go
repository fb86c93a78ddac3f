package inorder

import (
	"runtime"
	"sync/atomic"
	"testing"
)

type batch struct {
	in, out []int
}

// TestInOrder: results come back in submission order whatever order the
// workers finish in, and batches are reused.
func TestInOrder(t *testing.T) {
	for _, workers := range []int{1, 3} {
		var made atomic.Int32
		p := New(workers, 4, func() func(*batch) {
			made.Add(1)
			return func(b *batch) {
				b.out = b.out[:0]
				for _, v := range b.in {
					b.out = append(b.out, v*v)
				}
			}
		})
		next, want := 0, 0
		check := func(b *batch) {
			for i, v := range b.in {
				if v != want || b.out[i] != v*v {
					t.Fatalf("%d workers: got %d (%d), want %d", workers, v, b.out[i], want)
				}
				want++
			}
			p.Recycle(b)
		}
		for range 200 {
			b := p.Get()
			b.in = b.in[:0]
			for range 1 + next%7 {
				b.in = append(b.in, next)
				next++
			}
			if p.Pending() == 4 {
				check(p.Retire(true))
			}
			p.Submit(b)
			for b := p.Retire(false); b != nil; b = p.Retire(false) {
				check(b)
			}
		}
		for b := p.Retire(true); b != nil; b = p.Retire(true) {
			check(b)
		}
		if want != next {
			t.Fatalf("%d workers: %d values back, want %d", workers, want, next)
		}
		p.Stop()
		p.Stop()
		if int(made.Load()) != workers {
			t.Fatalf("%d workers made, want %d", made.Load(), workers)
		}
	}
}

// TestAbort: after Abort, batches not started are skipped and nothing is
// pending; Stop waits for the workers.
func TestAbort(t *testing.T) {
	release := make(chan struct{})
	var worked atomic.Int32
	p := New(1, 8, func() func(*batch) {
		return func(*batch) {
			<-release
			worked.Add(1)
		}
	})
	for range 5 {
		p.Submit(p.Get())
	}
	go func() {
		for !p.Aborted() {
			runtime.Gosched()
		}
		close(release)
	}()
	p.Abort()
	if p.Pending() != 0 || p.Retire(true) != nil {
		t.Fatal("batches still pending after Abort")
	}
	p.Stop()
	if n := worked.Load(); n > 1 {
		t.Fatalf("%d batches worked after Abort, want at most the one in flight", n)
	}
}

func TestNoWorkersBeforeSubmit(t *testing.T) {
	p := New(2, 2, func() func(*batch) {
		t.Fatal("a worker was made without a Submit")
		return nil
	})
	p.Stop()
}
