package convert

import (
	"github.com/rdbtool/rdbtool/internal/inorder"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Writing a replayed dataset on several cores. Encoding the values (LZF,
// listpacks, stream nodes) is most of what writing costs, and once the
// replay is over the dataset no longer changes, so the keyspace is cut into
// parts of consecutive keys (engine.Parts), which workers encode at the same
// time, each with an rdb.SegmentWriter of its own, and the caller splices
// them into the file in their order (rdb.Writer.WriteSegment): the same
// bytes as one goroutine writing every key.
//
// A key of writeBigBytes or more is written by the caller itself, through
// the Writer (which streams it, compressing on its own workers), once the
// parts before it are in the file: a segment is held in memory whole, and
// only small ones should be (at most two per worker are pending, of about
// writePartBytes each). Variables, so that tests can cut tiny parts.
var (
	writePartBytes = 1 << 20
	writeBigBytes  = 4 << 20
)

// writeBatch is a part and the segment its keys are encoded into.
type writeBatch struct {
	part engine.Part
	seg  *rdb.SegmentWriter
}

// writeEngineParallel writes the keys of e that f selects to w, encoded on
// workers goroutines.
func writeEngineParallel(e *engine.Engine, w *rdb.Writer, f Filter, workers int) error {
	inFlight := 2 * workers
	direct := e.NewExporter() // judges expiry (engine.ExpiredDrop) for all
	p := inorder.New(workers, inFlight, func() func(*writeBatch) {
		x := direct.Clone()
		return func(b *writeBatch) {
			// An error stays in the segment (sticky): WriteSegment returns it.
			_ = x.Each(b.part, func(_ int, _ []byte, ent *rdb.Entry, v *rdb.Value) error {
				if !f.Match(ent) {
					return nil
				}
				return b.seg.WriteKey(ent, v)
			})
		}
	})
	defer p.Stop()
	splice := func(b *writeBatch) error {
		err := w.WriteSegment(b.seg)
		b.seg.Reset()
		p.Recycle(b)
		return err
	}
	// retire splices the parts encoded so far, in order, waiting for them
	// while more than keep are pending.
	retire := func(keep int) error {
		for p.Pending() > 0 {
			b := p.Retire(p.Pending() > keep)
			if b == nil {
				return nil
			}
			if err := splice(b); err != nil {
				return err
			}
		}
		return nil
	}
	for _, part := range e.Parts(writePartBytes, writeBigBytes) {
		if part.Big {
			if err := retire(0); err != nil {
				return err
			}
			err := direct.Each(part, func(_ int, _ []byte, ent *rdb.Entry, v *rdb.Value) error {
				if !f.Match(ent) {
					return nil
				}
				return w.WriteKey(ent, v)
			})
			if err != nil {
				return err
			}
			continue
		}
		b := p.Get()
		if b.seg == nil {
			b.seg = w.NewSegmentWriter()
		}
		b.part = part
		p.Submit(b)
		if err := retire(inFlight - 1); err != nil {
			return err
		}
	}
	return retire(0)
}
