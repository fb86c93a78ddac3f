package rdb

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAheadCRC: whatever the goroutine's lead, sum(end) is the CRC-64 of
// data[:end] for every end at or after the last position reported, on inputs
// shorter than a chunk, around chunk and window sizes, and longer than the
// window.
func TestAheadCRC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3*aheadWindow+12345)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sizes := []int{0, 1, 9, aheadChunk - 1, aheadChunk, aheadChunk + 1, aheadWindow - 1, aheadWindow, aheadWindow + 1, len(data)}
	for _, size := range sizes {
		in := data[:size]
		for trial := range 12 {
			a := newAheadCRC(in, nil, 0)
			parsed := 0
			// Report progress in uneven steps, sometimes letting the
			// goroutine run to its limit.
			for steps := rng.IntN(6); steps > 0 && parsed < size; steps-- {
				parsed = min(size, parsed+rng.IntN(size/3+2))
				a.advance(parsed)
				if rng.IntN(2) == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			end := parsed + rng.IntN(size-parsed+1)
			if trial == 0 {
				end = size
			}
			if got, want := a.sum(end), UpdateCRC64(0, in[:end]); got != want {
				t.Fatalf("size %d, parsed %d, end %d: sum %#x, want %#x", size, parsed, end, got, want)
			}
			a.stop() // again: must not block or panic
		}
	}
}

// TestAheadCRCBounded: the goroutine hashes no more than aheadWindow past
// the last position reported.
func TestAheadCRCBounded(t *testing.T) {
	data := make([]byte, 5*aheadWindow)
	a := newAheadCRC(data, nil, 0)
	a.advance(aheadWindow / 2)
	time.Sleep(50 * time.Millisecond)
	a.stop()
	if last := a.marks[(a.n-1)%aheadMarks].pos; last > aheadWindow/2+aheadWindow {
		t.Fatalf("hashed up to %d, limit %d", last, aheadWindow/2+aheadWindow)
	}
}

// TestAheadCRCWaitsForLaggard: advance does not let the parser get more
// than aheadMaxLag ahead of the goroutine (here held back by a huge input
// hashed from the start).
func TestAheadCRCWaitsForLaggard(t *testing.T) {
	data := make([]byte, 64<<20)
	a := newAheadCRC(data, nil, 0)
	for parsed := 0; parsed <= len(data); parsed += 1 << 20 {
		a.advance(parsed)
		if lag := int64(parsed) - a.pos.Load(); lag > aheadMaxLag {
			t.Fatalf("parser at %d, goroutine at %d", parsed, a.pos.Load())
		}
	}
	if got, want := a.sum(len(data)), UpdateCRC64(0, data); got != want {
		t.Fatalf("sum %#x, want %#x", got, want)
	}
}

// TestAheadCRCConsumed: the goroutine reports the parser's progress through
// Consumed, with the base offset added, in increasing order, and never after
// stop returns.
func TestAheadCRCConsumed(t *testing.T) {
	data := make([]byte, 16<<20)
	var got []int64
	stopped := false
	a := newAheadCRC(data, func(off int64) {
		if stopped {
			t.Error("Consumed after stop")
		}
		got = append(got, off)
	}, 1000)
	for parsed := 1 << 20; parsed <= 12<<20; parsed += 1 << 20 {
		a.advance(parsed)
		time.Sleep(2 * time.Millisecond)
	}
	a.stop()
	stopped = true
	if len(got) == 0 || got[len(got)-1] > 1000+12<<20 {
		t.Fatalf("Consumed got %v", got)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("Consumed not increasing: %v", got)
		}
	}
}
