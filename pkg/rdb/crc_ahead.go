package rdb

import (
	"sync"
	"sync/atomic"
)

// aheadCRC computes the CRC-64 of an in-memory input (NewReaderBytes) on its
// own goroutine, a few megabytes ahead of the parser instead of behind it.
// Whoever touches a page of a memory-mapped file first takes its page fault
// and its cache misses; running ahead, the checksum goroutine takes them on
// the other core, and the parser (and the workers) find the bytes in the
// shared cache. The parser reports how far it got (advance); the goroutine
// hashes up to aheadWindow beyond that and no further, so the resident set
// stays bounded.
//
// It may also fall behind (a busy machine may leave it unscheduled for a
// while). The parser then waits for it once it is aheadMaxLag behind: the
// caller releases pages some way behind the parser (ReaderOptions.Consumed),
// and a page the goroutine read after its release would stay resident.
//
// It is also where ReaderOptions.Consumed is called (releasing the pages of a
// mapping is a system call, with TLB shootdowns): on this goroutine, off the
// parser's path.
//
// The CRC covers the input up to the trailer, whose position is known only
// at the end, when the goroutine may have hashed past it. It therefore
// records the CRC at every chunk boundary; sum takes the last boundary at or
// before the end and hashes the rest of the way itself.
type aheadCRC struct {
	data  []byte
	limit atomic.Int64  // the goroutine may hash data[:limit]
	poke  chan struct{} // a raised limit (capacity 1)
	pos   atomic.Int64  // how far the goroutine has hashed
	// The parser waits for the goroutine to catch up (see advance).
	waiting atomic.Bool
	caught  chan struct{} // capacity 1
	// The parser's position, and what to tell of it (ReaderOptions.Consumed).
	parsed   atomic.Int64
	consumed func(offset int64)
	base     int64
	quit     chan struct{}
	done     chan struct{} // closed when the goroutine has returned
	once     sync.Once

	// Written by the goroutine, read by sum after done.
	marks [aheadMarks]crcMark // ring of the latest chunk boundaries
	n     int                 // marks recorded
}

type crcMark struct {
	pos int
	crc uint64
}

const (
	aheadChunk  = 256 << 10
	aheadWindow = 2 << 20
	aheadMaxLag = 4 << 20
	// The ring must reach back past the end of the RDB: the goroutine is at
	// most aheadWindow past a position the parser reported, and the end is
	// after all of them.
	aheadMarks = aheadWindow/aheadChunk + 4
)

func newAheadCRC(data []byte, consumed func(int64), base int64) *aheadCRC {
	a := &aheadCRC{
		data:     data,
		consumed: consumed,
		base:     base,
		poke:     make(chan struct{}, 1),
		caught:   make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	a.limit.Store(int64(min(aheadWindow, len(data))))
	go a.run()
	return a
}

func (a *aheadCRC) run() {
	defer close(a.done)
	pos, crc := 0, uint64(0)
	a.mark(pos, crc)
	reported := int64(0)
	for {
		if p := a.parsed.Load(); p > reported && a.consumed != nil {
			reported = p
			a.consumed(a.base + p)
		}
		lim := int(a.limit.Load())
		if pos >= lim {
			select {
			case <-a.poke:
				continue
			case <-a.quit:
				return
			}
		}
		end := min(pos+aheadChunk, lim)
		crc = UpdateCRC64(crc, a.data[pos:end])
		pos = end
		a.mark(pos, crc)
		a.pos.Store(int64(pos))
		if a.waiting.Load() {
			select {
			case a.caught <- struct{}{}:
			default:
			}
		}
		select {
		case <-a.quit:
			return
		default:
		}
	}
}

func (a *aheadCRC) mark(pos int, crc uint64) {
	a.marks[a.n%aheadMarks] = crcMark{pos, crc}
	a.n++
}

// advance tells the goroutine that the parser has reached parsed, and waits
// while the goroutine is more than aheadMaxLag behind.
func (a *aheadCRC) advance(parsed int) {
	a.parsed.Store(int64(parsed))
	lim := int64(min(parsed+aheadWindow, len(a.data)))
	if lim > a.limit.Load() {
		a.limit.Store(lim)
		select {
		case a.poke <- struct{}{}:
		default:
		}
	}
	for a.pos.Load() < int64(parsed-aheadMaxLag) {
		// The goroutine sends on caught after each chunk while waiting is
		// set: either it sees the flag or this loop sees its new position.
		a.waiting.Store(true)
		if a.pos.Load() >= int64(parsed-aheadMaxLag) {
			break
		}
		<-a.caught
	}
	a.waiting.Store(false)
}

// sum stops the goroutine and returns the CRC-64 of data[:end].
func (a *aheadCRC) sum(end int) uint64 {
	a.stop()
	best := crcMark{}
	for i := max(0, a.n-aheadMarks); i < a.n; i++ {
		if m := a.marks[i%aheadMarks]; m.pos <= end && m.pos >= best.pos {
			best = m
		}
	}
	return UpdateCRC64(best.crc, a.data[best.pos:end])
}

// stop ends the goroutine and waits for it, so that nothing reads the input
// afterwards (it may be a mapping about to go away). Safe to call more than
// once.
func (a *aheadCRC) stop() {
	a.once.Do(func() { close(a.quit) })
	<-a.done
}
