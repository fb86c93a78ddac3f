package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rdbtool/rdbtool/internal/inorder"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// An AOF is read on a goroutine of its own, which parses commands (and the
// keys of an RDB part) into batches while the engine applies the previous
// ones: on a machine with two cores, reading no longer adds to the replay's
// time. Holding a batch also lets the engine look up several keys at once
// (Engine.Prefetch). The reading goroutine is the one worker of an
// inorder.Pipeline: it fills the batches the caller submits, in order, up to
// replayBatchesAhead ahead of the one being applied.

// cmdBatch is a run of parsed commands: their arguments back to back in buf.
type cmdBatch struct {
	buf  []byte
	ends []int    // where each argument ends in buf
	argv [][]byte // the arguments, cut from buf once the batch is full (cut)
	cmds []batchCmd
	// What the engine can work out from each command's arguments alone,
	// worked out on the reading goroutine (engine.Preparer).
	preps []engine.Prepared

	// The last batch says how the input ended.
	last    bool
	err     error  // nil (the end of the input), errStop or a read error
	stopped string // ReplayStats.Stopped
	torn    bool   // ReplayStats.TornTail
	tornOff int64  // ReplayStats.TornOffset
}

type batchCmd struct {
	arg int // index in ends of its first argument
	n   int // arguments
	off int64
}

const (
	replayBatchBytes    = 1 << 20 // a batch is handed over once its arguments reach this size
	replayBatchCommands = 4096    // ... or it holds this many commands
	replayBatchesAhead  = 2
	prefetchAhead       = 16 // commands whose keys are looked up ahead, together
)

func (b *cmdBatch) reset() {
	clear(b.argv)  // they point into the buffer, which may be dropped
	clear(b.preps) // what they hold may be large
	*b = cmdBatch{buf: reuseBatchBuf(b.buf), ends: b.ends[:0], argv: b.argv[:0], cmds: b.cmds[:0], preps: b.preps[:0]}
}

// cut makes the argument slices of a full batch, on the reading goroutine,
// so that the goroutine applying the commands finds them ready.
func (b *cmdBatch) cut() {
	start := 0
	for _, end := range b.ends {
		b.argv = append(b.argv, b.buf[start:end:end])
		start = end
	}
}

// reuseBatchBuf empties a batch buffer for the next batch, unless a huge
// argument or value made it much bigger than a batch: the GC gets it then.
func reuseBatchBuf(buf []byte) []byte {
	if cap(buf) > 4*replayBatchBytes {
		return nil
	}
	return buf[:0]
}

// args returns the arguments of command i (after cut).
func (b *cmdBatch) args(i int) [][]byte {
	c := b.cmds[i]
	return b.argv[c.arg : c.arg+c.n : c.arg+c.n]
}

// key returns the second argument of command i (the key of most commands),
// nil if it has none.
func (b *cmdBatch) key(i int) []byte {
	c := b.cmds[i]
	if c.n < 2 {
		return nil
	}
	start := b.ends[c.arg]
	end := b.ends[c.arg+1]
	return b.buf[start:end:end]
}

// cmdReader parses the commands of an AOF file into batches.
type cmdReader struct {
	ar    *aof.Reader
	pr    engine.Preparer
	f     AOFFile
	o     ReplayOptions
	until []byte
	ended bool
}

// fill parses commands into b until it is full or the input ends: b.last then
// says how. It gives up early when quit reports true. A batch asked for after
// the end stays empty. Then it prepares the commands for the engine.
func (c *cmdReader) fill(b *cmdBatch, quit func() bool) {
	c.fillCommands(b, quit)
	b.cut()
	for i := range b.cmds {
		b.preps = append(b.preps, c.pr.Prepare(b.args(i)))
	}
}

func (c *cmdReader) fillCommands(b *cmdBatch, quit func() bool) {
	if c.ended {
		b.last = true
		return
	}
	ar, f, o, until := c.ar, c.f, c.o, c.until
	for {
		if quit() {
			return
		}
		rec, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if f.Last && errors.Is(err, aof.ErrTruncated) {
				// Redis drops a torn tail of the last file, and an open MULTI
				// with it (its commands were never applied: they are queued).
				b.torn = true
				var pe *aof.ParseError
				if errors.As(err, &pe) {
					b.tornOff = pe.GoodEnd
				}
				break
			}
			b.err = err
			break
		}
		if rec.Kind == aof.KindAnnotation {
			if o.UntilTimestamp != 0 && rec.HasTimestamp && rec.Timestamp > o.UntilTimestamp {
				b.stopped = fmt.Sprintf("at #TS:%d (offset %d)", rec.Timestamp, rec.Offset)
				b.err = errStop
				break
			}
			continue
		}
		if o.UntilOffset != 0 && f.Last && rec.Offset >= o.UntilOffset {
			b.stopped = fmt.Sprintf("at offset %d", rec.Offset)
			b.err = errStop
			break
		}
		off := rec.Offset
		// The arguments go straight into the batch's buffer (one copy).
		first, start := len(b.ends), len(b.buf)
		b.buf, b.ends, err = ar.AppendCommand(b.buf, b.ends, 0)
		if err != nil {
			if f.Last && errors.Is(err, aof.ErrTruncated) {
				b.torn, b.tornOff = true, off
				break
			}
			b.err = err
			break
		}
		if len(until) != 0 && len(b.ends) > first && bytes.EqualFold(b.buf[start:b.ends[first]], until) {
			name := b.buf[start:b.ends[first]]
			b.stopped = fmt.Sprintf("before %s at offset %d", strings.ToUpper(string(name)), off)
			b.err = errStop
			b.buf, b.ends = b.buf[:start], b.ends[:first]
			break
		}
		b.cmds = append(b.cmds, batchCmd{arg: first, n: len(b.ends) - first, off: off})
		if len(b.buf) >= replayBatchBytes || len(b.cmds) >= replayBatchCommands {
			return
		}
	}
	c.ended = true
	b.last = true
}

// applyCommands applies the RESP commands of ar to e, reading them on another
// goroutine.
func applyCommands(ar *aof.Reader, f AOFFile, e *engine.Engine, o ReplayOptions, st *ReplayStats) error {
	rd := &cmdReader{ar: ar, f: f, o: o, until: []byte(o.UntilCommand)}
	p := readAhead(rd.fill)
	defer p.Stop()
	var keys [][]byte
	for {
		b := p.Retire(true)
		if err := o.interrupted(); err != nil {
			return err
		}
		for i, c := range b.cmds {
			if i%prefetchAhead == 0 {
				// Look where the next commands' keys go, all at once, so that
				// their cache misses overlap.
				keys = keys[:0]
				for j := i; j < min(i+prefetchAhead, len(b.cmds)); j++ {
					if k := b.key(j); k != nil {
						keys = append(keys, k)
					}
				}
				e.Prefetch(e.Selected(), keys)
			}
			args := b.args(i)
			if err := e.ApplyPrepared(args, &b.preps[i]); err != nil {
				// Redis ignores an error reply while loading (so do we, counting
				// it, unless Strict); anything else stops the replay.
				if err = st.errorReply(f.Path, c.off, args, err, o.Strict); err == nil {
					continue
				}
				return fmt.Errorf("offset %d: %s: %w", c.off, strings.ToUpper(string(args[0])), err)
			}
			st.Commands++
		}
		if b.last {
			if b.stopped != "" {
				st.Stopped = b.stopped
			}
			if b.torn {
				st.TornTail, st.TornOffset = true, b.tornOff
			}
			return b.err
		}
		p.Recycle(b)
		submitEmpty(p)
	}
}

// keyBatch is a run of records of an RDB part: string keys with their values
// back to back in buf, other values as read.
type keyBatch struct {
	buf   []byte
	items []keyItem
	last  bool
	err   error
}

type keyItem struct {
	fn       bool       // a function library (buf[start:keyEnd])
	db       int        // the key's database
	start    int        // where the key starts in buf
	keyEnd   int        // where it ends (and a string value starts)
	valEnd   int        // where a string value ends
	v        *rdb.Value // any other value
	hasTTL   bool
	expireAt int64
}

func (b *keyBatch) reset() { *b = keyBatch{buf: reuseBatchBuf(b.buf), items: b.items[:0]} }

func (b *keyBatch) key(i int) []byte {
	it := &b.items[i]
	return b.buf[it.start:it.keyEnd:it.keyEnd]
}

// keyReader reads the records of an RDB part into batches.
type keyReader struct {
	r     *rdb.Reader
	ended bool
}

// fill reads records into b until it is full or the part ends (b.last); it
// gives up early when quit reports true. A batch asked for after the end
// stays empty.
func (k *keyReader) fill(b *keyBatch, quit func() bool) {
	if k.ended {
		b.last = true
		return
	}
	r := k.r
	for {
		if quit() {
			return
		}
		ent, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.err = err
			break
		}
		switch ent.Kind {
		case rdb.EntryFunction:
			start := len(b.buf)
			b.buf = append(b.buf, ent.Function...)
			b.items = append(b.items, keyItem{fn: true, start: start, keyEnd: len(b.buf)})
		case rdb.EntryKey:
			it := keyItem{db: ent.DB, start: len(b.buf), hasTTL: ent.HasExpire, expireAt: ent.ExpireAtMs}
			b.buf = append(b.buf, ent.Key...)
			it.keyEnd = len(b.buf)
			if ent.Type.Kind() == rdb.KindString {
				// A string's single element, copied, spares ReadValue's
				// allocations.
				el, err := r.NextElem()
				if err != nil {
					b.err = err
					b.buf = b.buf[:it.start]
					break
				}
				b.buf = append(b.buf, el.Member...)
			} else {
				v, err := r.ReadValue(0)
				if err != nil {
					b.err = err
					b.buf = b.buf[:it.start]
					break
				}
				it.v = v
			}
			it.valEnd = len(b.buf)
			b.items = append(b.items, it)
		}
		if b.err != nil {
			break
		}
		if len(b.buf) >= replayBatchBytes || len(b.items) >= replayBatchCommands {
			return
		}
	}
	k.ended = true
	b.last = true
}

// loadRDB loads the keys and functions of an RDB part into e, reading them on
// another goroutine.
func loadRDB(r *rdb.Reader, e *engine.Engine, st *ReplayStats) error {
	rd := &keyReader{r: r}
	p := readAhead(rd.fill)
	defer p.Stop()
	var keys [][]byte
	var ent rdb.Entry
	var str rdb.Value
	for {
		b := p.Retire(true)
		for i := range b.items {
			it := &b.items[i]
			if i%prefetchAhead == 0 {
				keys = keys[:0]
				for j := i; j < min(i+prefetchAhead, len(b.items)); j++ {
					if x := &b.items[j]; !x.fn && x.db == it.db {
						keys = append(keys, b.key(j))
					}
				}
				e.Prefetch(it.db, keys)
			}
			if it.fn {
				code := bytes.Clone(b.buf[it.start:it.keyEnd])
				if err := e.Apply([][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte("REPLACE"), code}); err != nil {
					return refusedLibrary(err)
				}
				continue
			}
			ent = rdb.Entry{Kind: rdb.EntryKey, DB: it.db, Key: b.key(i), HasExpire: it.hasTTL, ExpireAtMs: it.expireAt}
			v := it.v
			if v == nil {
				str = rdb.Value{Kind: rdb.KindString, String: b.buf[it.keyEnd:it.valEnd:it.valEnd]}
				v = &str
			}
			if err := e.Load(it.db, &ent, v); err != nil {
				return err
			}
			it.v = nil
			st.RDBKeys++
		}
		if b.last {
			return b.err
		}
		p.Recycle(b)
		submitEmpty(p)
	}
}

// readAhead starts a pipeline whose one worker fills the batches submitted
// to it with fill, in order, and submits the first replayBatchesAhead+1 of
// them. The caller applies each batch it retires, recycles it and submits
// another empty one (submitEmpty), until it retires the last; fill, running on
// the worker's goroutine, stops early once the caller gives up (Stop). The
// worker empties a batch (reset) before it fills it: on its goroutine rather
// than the caller's, which applies the batches and is the slower of the two.
func readAhead[B any, P interface {
	*B
	reset()
}](fill func(b P, quit func() bool)) *inorder.Pipeline[B] {
	var p *inorder.Pipeline[B]
	p = inorder.New(1, replayBatchesAhead+1, func() func(*B) {
		return func(b *B) {
			P(b).reset()
			fill(b, p.Aborted)
		}
	})
	for range replayBatchesAhead + 1 {
		submitEmpty(p)
	}
	return p
}

// submitEmpty submits a batch for the reader to empty and fill.
func submitEmpty[B any](p *inorder.Pipeline[B]) {
	p.Submit(p.Get())
}
