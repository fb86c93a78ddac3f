package rdb

import (
	"errors"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/inorder"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/lzf"
)

// parallel checks the insides of values on worker goroutines while the parsing
// goroutine moves on (ReaderOptions.Workers). It applies only to values nobody
// reads (Next skipping them) of a Reader over an in-memory input, and only to
// the costly ones:
//
//   - LZF-compressed strings from minLightJob bytes decompressed: the parser
//     reads their lengths (with the sequential code, so its errors) and the
//     job says where the compressed bytes lie; the worker runs lzf.Check on
//     them. Such a job costs little enough that a cache's small strings are
//     worth handing over.
//   - values made of inner blobs (listpacks, ziplists, intsets, zipmaps,
//     quicklist nodes), streams, and, in strict mode, plain sets, sorted
//     sets and hashes (whose elements the repeat check hashes), of at least
//     minJobBytes decoded: the parser merely frames the value (reads the
//     lengths to find where it ends), and a worker runs the ordinary
//     sequential check on it with a Reader of its own over the same memory.
//
// Smaller ones cost less to check than to hand over, and when every batch is
// in flight the parser checks values itself rather than wait, so that both
// cores stay busy.
//
// The results are those of a sequential read, byte for byte: every check is the
// sequential code; the first error in file order wins (a failed job is reported
// only after every earlier job has finished, and before any later error of the
// parser); warnings are delivered in file order; after an error Offset and
// KeysRead are where the sequential read would have stopped. When framing a
// value fails, the parser rewinds to the value's start and checks it
// sequentially, which yields the canonical error.
//
// The batches go through an inorder.Pipeline, as those of the parallel dump
// and memory report do; what is particular here (the parser checking a value
// itself when every batch is in flight, warnings queued between jobs) is
// decided before a value becomes a job.
type parallel struct {
	r       *Reader
	workers int
	pipe    *inorder.Pipeline[jobBatch]
	cur     *jobBatch // being filled
}

// valueJob is one value to check, or (warning != nil) a warning of the parser
// queued behind earlier jobs so that warnings keep file order.
type valueJob struct {
	span    ValueSpan
	ordinal int64 // KeysRead after this key was returned
	warning *ParseError
	// lzfLen > 0 marks an LZF-compressed string value whose framing the
	// parser has read: span.start and span.end are then its compressed
	// bytes, lzfLen its decompressed length, lzfOff the value's offset.
	// The worker runs lzf.Check on it alone, which is what makes handing
	// over small strings pay.
	lzfLen int
	lzfOff int64
}

type jobBatch struct {
	jobs  []valueJob
	n     int // jobs in use; the slice keeps spans (and their key storage) for reuse
	bytes int

	// Results, valid once done is closed.
	failed int // index of the failing job, or -1
	err    error
	errPos int // where the checking Reader stood when it failed
	warns  []jobWarning
}

type jobWarning struct {
	job int
	pe  *ParseError
}

// Batches amortise the hand-over; a small number of batches in flight per
// worker bounds how far the parser runs ahead (when they are all in flight,
// the parser checks values itself). These are variables so that tests can
// make every value a batch of its own and keep the pipeline full.
var (
	batchMaxJobs     = 256
	batchMaxBytes    = 256 << 10
	pendingPerWorker = 4
	// minJobBytes is the decoded size under which a value is checked on
	// the parser: handing it over (framing, a job record that moves
	// between cores, reading its bytes again from a shared cache) costs
	// more than checking it.
	minJobBytes = 2048
)

const bigJob = 4 << 20 // a value this big is checked by the parser itself

// minLightJob is the decompressed size under which an LZF string is checked
// by the parser: its few instructions cost less to walk than the job record
// (the key record copied) costs to fill.
const minLightJob = 128

// errFramingMismatch means that the parser's framing of a value and the
// sequential check disagree about where the value ends: a bug, never a verdict
// on the file.
var errFramingMismatch = errors.New("rdb: internal error: the parallel check disagrees with the sequential parse about where a value ends; rerun without parallel workers and please report it")

// errSpanTooBig stops skipSpan's walk of a value over its limit.
var errSpanTooBig = errors.New("value over the span limit")

func newParallel(r *Reader, workers int) *parallel {
	p := &parallel{r: r, workers: workers}
	// One more than maxPending in flight: a warning may start a batch when
	// all are in flight.
	p.pipe = inorder.New(workers, p.maxPending()+1, func() func(*jobBatch) {
		sub := r.valueReader()
		return func(b *jobBatch) { p.check(sub, b) }
	})
	return p
}

// deepType reports whether values of type t are blobs, or made of blobs,
// which frameRaw frames for a worker to check. Plain collections and
// streams have framers of their own (skipFramed); module values, plain lists
// and hashes with field TTLs are checked by the parser itself.
func deepType(t Type) bool {
	switch t {
	case TypeListZiplist, TypeSetListpack, TypeSetIntset, TypeZSetZiplist, TypeZSetListpack,
		TypeHashZiplist, TypeHashListpack, TypeHashZipmap, TypeHashListpackExPreGA, TypeHashListpackEx,
		TypeListQuicklist, TypeListQuicklist2:
		return true
	}
	return false
}

// skip finishes the current value, handing it to a worker when that pays.
func (p *parallel) skip() error {
	r := p.r
	v := &r.val
	s := &r.src
	switch {
	case v.t == TypeString:
		// Only LZF-compressed strings cost anything beyond framing.
		if s.Pos >= s.End || s.Buf[s.Pos] != 0xC3 {
			return r.skipValue()
		}
		return p.skipCompressed()
	case plainChecked(v.t) && r.opts.Strict:
		return p.skipFramed()
	case v.t.Kind() == KindStream:
		return p.skipFramed()
	case singleBlob(v.t):
		if size, ok := r.peekStringSize(v.t); ok && size < minJobBytes {
			return r.skipValue()
		}
	case !deepType(v.t):
		return r.skipValue()
	}
	if full, err := p.full(); err != nil {
		return err
	} else if full {
		// Every batch is in flight: rather than wait for a worker, the
		// parser checks this value itself (its errors still come after
		// those of the values before it: fail drains the workers first).
		// So both cores stay busy whichever side is the slower.
		return r.skipValue()
	}
	j := p.next()
	j.lzfLen = 0
	if !r.skipSpan(&j.span, bigJob) {
		// Damaged (the sequential check finds the error and describes it),
		// or so big that a worker would only trail the parser, keeping the
		// pages the parser has passed in memory: checked here.
		p.cur.n--
		return r.skipValue()
	}
	if size := j.span.Size() + r.spanGrowth; size < minJobBytes {
		// A quicklist with little in it.
		p.cur.n--
		r.src.Pos = j.span.start
		r.startValue(j.span.t)
		return r.skipValue()
	}
	p.queued(j, j.span.Size())
	return nil
}

// skipCompressed finishes a string value stored LZF-compressed (the current
// byte is its encoding byte, 0xC3): the parser reads its lengths, as the
// sequential skipString does (same errors), and a worker checks its
// instructions. A job holds where the compressed bytes are and the key, no
// more: small strings, most of a cache's, are worth handing over only so.
func (p *parallel) skipCompressed() error {
	r := p.r
	if full, err := p.full(); err != nil {
		return err
	} else if full {
		return r.skipValue() // every batch in flight: see skip
	}
	v := &r.val
	off := r.src.Offset()
	r.src.Pos++ // the encoding byte
	src, ulen, err := r.readLZFHeader(off, stringValue)
	if err != nil {
		return err
	}
	v.phase = 1
	v.count++
	r.inValue = false
	if ulen < minLightJob || len(src) > bigJob {
		return r.lzfCheck(off, stringValue, src, ulen)
	}
	j := p.next()
	j.span.setEntry(&r.entry)
	j.span.end = r.src.Pos
	j.span.start = j.span.end - len(src)
	j.lzfLen, j.lzfOff = ulen, off
	p.queued(j, len(src))
	return nil
}

// plainChecked reports whether values of type t are plain collections whose
// elements the strict check follows for repeats (dupcheck.go): checking them
// costs a hash and a table probe per element, and for sorted sets the order
// and the scores, which is worth a worker; framing them reads two lengths an
// element.
func plainChecked(t Type) bool {
	switch t {
	case TypeSet, TypeZSet, TypeZSet2, TypeHash:
		return true
	}
	return false
}

// skipFramed finishes a plain set, sorted set or hash, or a stream: the
// parser frames it (frameRaw: lengths only) and a worker checks it, as skip
// does for blobs. A value that fails framing, a small one, and one over
// bigJob are checked here.
func (p *parallel) skipFramed() error {
	r := p.r
	if full, err := p.full(); err != nil {
		return err
	} else if full {
		return r.skipValue() // every batch in flight: see skip
	}
	start, t := r.src.Pos, r.val.t
	r.spanGrowth, r.spanEnd = 0, start+bigJob
	err := r.frameRaw()
	r.spanEnd = 0
	if err != nil || r.src.Pos-start+r.spanGrowth < minJobBytes {
		r.src.Pos = start
		r.startValue(t)
		return r.skipValue()
	}
	j := p.next()
	j.lzfLen = 0
	j.span.setEntry(&r.entry)
	j.span.start, j.span.end, j.span.t = start, r.src.Pos, t
	j.span.part, j.span.nodes = false, 0
	r.inValue = false
	p.queued(j, j.span.Size())
	return nil
}

// full retires the batches done and reports whether every batch is still in
// flight, in which case the parser checks the value itself.
func (p *parallel) full() (bool, error) {
	if p.cur != nil {
		// A batch is being filled: not full. Finished batches are retired
		// when it is submitted (a look at a channel per value would cost
		// files of millions of small values a tenth of their time).
		return false, nil
	}
	if err := p.retireDone(false); err != nil {
		return false, err
	}
	return p.pipe.Pending() >= p.maxPending(), nil
}

// queued counts job j (of size bytes in the file) of the batch being
// filled, as the job of the key just read, and submits the batch when full.
func (p *parallel) queued(j *valueJob, size int) {
	j.ordinal, j.warning = p.r.keys, nil
	b := p.cur
	b.bytes += size
	if b.n >= batchMaxJobs || b.bytes >= batchMaxBytes {
		p.submit()
	}
}

// singleBlob reports whether values of type t are one string (after a fixed
// header): an LZF string or a single inner blob.
func singleBlob(t Type) bool {
	return deepType(t) && t != TypeListQuicklist && t != TypeListQuicklist2
}

// peekStringSize returns the decoded size of the string that makes the
// current value of type t (its length, or the uncompressed length of an LZF
// string) without consuming anything; false when a length is not in its one-
// or two-byte form (the value is then framed as usual: a long one is worth a
// worker anyway, a damaged one is found out).
func (r *Reader) peekStringSize(t Type) (int, bool) {
	b := r.src.Buf[:r.src.End]
	p := r.src.Pos
	if t == TypeHashListpackEx {
		p += 8 // the minimum field expiry
	}
	n, special, p, ok := peekLen(b, p)
	switch {
	case !ok:
		return 0, false
	case !special:
		return n, true
	case n != 3: // an integer encoding
		return 0, false
	}
	if _, special, p, ok = peekLen(b, p); !ok || special { // compressed length
		return 0, false
	}
	ulen, special, _, ok := peekLen(b, p)
	return ulen, ok && !special
}

// peekLen decodes the length at b[p:] when it is in its one- or two-byte
// form, or the number of a special string encoding (special set); ok is
// false for the longer forms and at the end of b.
func peekLen(b []byte, p int) (n int, special bool, next int, ok bool) {
	if p >= len(b) {
		return 0, false, p, false
	}
	switch c := b[p]; c >> 6 {
	case 0:
		return int(c), false, p + 1, true
	case 1:
		if p+1 >= len(b) {
			return 0, false, p, false
		}
		return int(c&0x3F)<<8 | int(b[p+1]), false, p + 2, true
	case 3:
		return int(c & 0x3F), true, p + 1, true
	}
	return 0, false, p, false
}

// maxPending is how many batches may be in flight; it bounds how far the
// parser runs ahead of the workers.
func (p *parallel) maxPending() int { return p.workers * pendingPerWorker }

// next returns a free job slot of the batch being filled.
func (p *parallel) next() *valueJob {
	b := p.batch()
	if b.n == len(b.jobs) {
		b.jobs = append(b.jobs, valueJob{})
	}
	b.n++
	return &b.jobs[b.n-1]
}

// busy reports whether jobs are queued or running: a warning of the parser must
// then wait its turn.
func (p *parallel) busy() bool { return p.cur != nil || p.pipe.Pending() > 0 }

// queueWarning delivers pe after the warnings of every queued job.
func (p *parallel) queueWarning(pe *ParseError) {
	p.next().warning = pe
}

func (p *parallel) batch() *jobBatch {
	if p.cur == nil {
		b := p.pipe.Get()
		b.n, b.bytes, b.warns = 0, 0, b.warns[:0]
		b.failed, b.err = -1, nil
		p.cur = b
	}
	return p.cur
}

// submit hands the batch being filled to the workers. skip starts a batch
// only while fewer than maxPending are in flight, which bounds how far the
// parser runs ahead and keeps the pipeline from blocking.
func (p *parallel) submit() {
	b := p.cur
	if b == nil {
		return
	}
	p.cur = nil
	p.pipe.Submit(b)
}

// check runs the sequential check of every job of b on the worker's Reader.
func (p *parallel) check(sub *Reader, b *jobBatch) {
	idx := 0
	sub.opts.Warn = func(pe *ParseError) { b.warns = append(b.warns, jobWarning{idx, pe}) }
	for i := range b.jobs[:b.n] {
		j := &b.jobs[i]
		if j.warning != nil {
			continue
		}
		if p.pipe.Aborted() {
			return
		}
		idx = i
		if j.lzfLen > 0 {
			src := sub.src.Buf[j.span.start:j.span.end]
			if lzf.Check(src, j.lzfLen) == nil {
				continue
			}
			// The error as the sequential read words it, naming the key.
			sub.openSpan(&j.span)
			b.failed, b.err, b.errPos = i, sub.lzfCheck(j.lzfOff, stringValue, src, j.lzfLen), j.span.end
			return
		}
		sub.openSpan(&j.span)
		err := sub.skipValue()
		if err == nil && sub.src.Pos != j.span.end {
			err = &ParseError{Offset: sub.src.Base + int64(j.span.start), Key: append([]byte(nil), j.span.Entry.Key...),
				Op: "value", Err: errFramingMismatch, Detail: "framed end " + strconv.Itoa(j.span.end) + ", checked end " + strconv.Itoa(sub.src.Pos)}
		}
		if err != nil {
			b.failed, b.err, b.errPos = i, err, sub.src.Pos
			return
		}
	}
}

// retireDone retires finished batches in order; with wait it waits for all of
// them. It returns the first failure: the Reader then stands where the failing
// check stopped.
func (p *parallel) retireDone(wait bool) error {
	for p.pipe.Pending() > 0 {
		b := p.pipe.Retire(wait)
		if b == nil {
			return nil
		}
		if err := p.deliver(b); err != nil {
			p.abort()
			return err
		}
		p.pipe.Recycle(b)
	}
	return nil
}

// deliver passes on b's warnings in file order and reports its failure.
func (p *parallel) deliver(b *jobBatch) error {
	r := p.r
	w := b.warns
	for i := range b.jobs[:b.n] {
		if b.failed >= 0 && i > b.failed {
			break
		}
		if pe := b.jobs[i].warning; pe != nil && r.opts.Warn != nil {
			r.opts.Warn(pe)
		}
		for len(w) > 0 && w[0].job == i {
			if r.opts.Warn != nil {
				r.opts.Warn(w[0].pe)
			}
			w = w[1:]
		}
	}
	if b.failed < 0 {
		return nil
	}
	j := &b.jobs[b.failed]
	r.src.Pos = b.errPos
	r.keys = j.ordinal
	r.entry = j.span.Entry
	r.entry.Key = append([]byte(nil), j.span.Entry.Key...)
	return b.err
}

// drain submits what is queued and waits for every job; it returns the first
// failure.
func (p *parallel) drain() error {
	if p.cur != nil {
		p.submit()
	}
	return p.retireDone(true)
}

// abort drops queued work after a failure: later jobs cannot matter.
func (p *parallel) abort() {
	p.cur = nil
	p.pipe.Abort()
}

// stop ends the workers and waits for them, so that nothing reads the input
// after the Reader is closed (it may be a memory mapping about to go away).
func (p *parallel) stop() { p.pipe.Stop() }
