package convert

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// OpenRDB opens one input of Diff afresh: Diff reads each file twice. close
// releases what the opening took.
type OpenRDB func() (r *rdb.Reader, close func(), err error)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Budget is the memory, in bytes, the table of keys may take before Diff
	// partitions the keys by hash into temporary files in TempDir (default
	// 256 MiB). Each partition is then compared on its own.
	Budget  int64
	TempDir string
	// JSONL writes {"change":"removed","line":{...}} objects instead of the
	// default "- " and "+ " prefixed lines.
	JSONL bool
	// SpoolBudget is DumpOptions.SpoolBudget for the lines written.
	SpoolBudget int
	// Partitions, when > 0, forces partitioning into that many files
	// (tests); otherwise it is chosen when the budget is exceeded.
	Partitions int
}

// DiffStats counts keys by outcome.
type DiffStats struct {
	OnlyA, OnlyB, Changed, TTLChanged, Same int64
	Partitions                              int // 0: the key table fit the budget
}

// DiffInputError is a failure reading one of the inputs.
type DiffInputError struct {
	Side int // 0 for A, 1 for B
	Err  error
}

func (e *DiffInputError) Error() string { return e.Err.Error() }
func (e *DiffInputError) Unwrap() error { return e.Err }

// Differ reports whether the inputs differ.
func (s DiffStats) Differ() bool { return s.OnlyA+s.OnlyB+s.Changed+s.TTLChanged > 0 }

// Change kinds, two bits per key in the marks.
const (
	diffNone    = 0
	diffOnly    = 1 // removed (in A) or added (in B)
	diffChanged = 2 // value changed (TTL may have too)
	diffTTL     = 3 // only the TTL changed
)

// Diff compares two RDB files key by key and writes the keys that differ:
// first every key of A that is not in B or differs, as A has it, in A's
// order, each line "- " and the key's line in dump's form (docs/json.md);
// then every key of B that is not in A or differs, as B has it, in B's order,
// with "+ ". Values compare as data: set and hash element order, encodings,
// LRU/LFU metadata and the server that wrote the file do not count; a TTL
// does. Memory is bounded by o.Budget whatever the number of keys: beyond it
// the keys are partitioned by hash into temporary files, removed before Diff
// returns, also when it fails or ctx is cancelled (checked between keys).
func Diff(ctx context.Context, openA, openB OpenRDB, w io.Writer, o DiffOptions) (DiffStats, error) {
	if o.Budget <= 0 {
		o.Budget = 256 << 20
	}
	df := &differ{ctx: ctx, o: o, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed(), table: map[string]*diffEntry{}}
	defer df.cleanup()
	if o.Partitions > 0 {
		if err := df.spill(o.Partitions); err != nil {
			return df.stats, err
		}
	}
	for side, open := range []OpenRDB{openA, openB} {
		if err := df.scan(open, side); err != nil {
			return df.stats, &DiffInputError{side, err}
		}
	}
	if err := df.compare(); err != nil {
		return df.stats, err
	}
	if !df.stats.Differ() {
		return df.stats, nil
	}
	out := bufio.NewWriterSize(w, 256<<10)
	for side, open := range []OpenRDB{openA, openB} {
		if err := df.write(open, side, out); err != nil {
			var ie *DiffInputError
			if !errors.As(err, &ie) {
				err = &DiffInputError{side, err}
			}
			return df.stats, err
		}
	}
	return df.stats, out.Flush()
}

type differ struct {
	ctx          context.Context
	o            DiffOptions
	seed1, seed2 maphash.Seed
	stats        DiffStats
	table        map[string]*diffEntry
	tableBytes   int64
	marks        [2][]byte // two bits per key of each side, by file sequence
	dir          string
	parts        [2][]*os.File
	partW        [2][]*bufio.Writer
	tableKey     []byte
	h            maphash.Hash
}

type diffSide struct {
	seq    uint64
	expire int64 // -1: no TTL
	digest [2]uint64
}

type diffEntry struct {
	has  [2]bool
	side [2]diffSide
}

// entryCost is what a table entry takes beyond its key, roughly (map slot,
// struct, string header).
const entryCost = 120

func (df *differ) cleanup() {
	for side := range df.parts {
		for _, f := range df.parts[side] {
			f.Close()
		}
	}
	if df.dir != "" {
		os.RemoveAll(df.dir)
	}
}

// scan reads one input and records every key's identity, TTL and digest.
func (df *differ) scan(open OpenRDB, side int) error {
	r, closeR, err := open()
	if err != nil {
		return err
	}
	defer closeR()
	var seq uint64
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		if err := df.ctx.Err(); err != nil {
			return err
		}
		d, err := df.digest(r, e)
		if err != nil {
			return err
		}
		s := diffSide{seq: seq, expire: -1, digest: d}
		if e.HasExpire {
			s.expire = e.ExpireAtMs
		}
		seq++
		df.tableKey = appendDiffKey(df.tableKey[:0], e.DB, e.Key)
		if df.parts[0] != nil {
			if err := df.writePart(side, df.tableKey, &s); err != nil {
				return err
			}
			continue
		}
		ent := df.table[string(df.tableKey)]
		if ent == nil {
			ent = &diffEntry{}
			df.table[string(df.tableKey)] = ent
			df.tableBytes += int64(len(df.tableKey)) + entryCost
		}
		ent.has[side], ent.side[side] = true, s
		if df.tableBytes > df.o.Budget {
			if err := df.spill(0); err != nil {
				return err
			}
		}
	}
	df.marks[side] = make([]byte, (seq+3)/4)
	return nil
}

func appendDiffKey(dst []byte, db int, key []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(db))
	return append(dst, key...)
}

// digest reads a value and returns a 128-bit digest of its data: ordered for
// strings, lists and streams, order-free for sets, sorted sets and hashes.
func (df *differ) digest(r *rdb.Reader, e *rdb.Entry) ([2]uint64, error) {
	kind := e.Type.Kind()
	ordered := kind != rdb.KindSet && kind != rdb.KindZSet && kind != rdb.KindHash
	var sum [2]uint64
	var n uint64
	var num [8]byte
	h := &df.h
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, err
		}
		n++
		var eh [2]uint64
		for i, seed := range [2]maphash.Seed{df.seed1, df.seed2} {
			h.SetSeed(seed)
			h.WriteByte(byte(el.Kind))
			writeLenBytes(h, el.Member)
			writeLenBytes(h, el.Value)
			binary.LittleEndian.PutUint64(num[:], math.Float64bits(el.Score))
			h.Write(num[:])
			binary.LittleEndian.PutUint64(num[:], uint64(el.ExpireAtMs))
			h.Write(num[:])
			binary.LittleEndian.PutUint64(num[:], el.ID.Ms^el.ID.Seq<<1)
			h.Write(num[:])
			for _, f := range el.Fields {
				writeLenBytes(h, f)
			}
			writeStreamParts(h, el)
			eh[i] = h.Sum64()
		}
		if ordered {
			// Chain: the digest of the elements so far, then this one.
			for i, seed := range [2]maphash.Seed{df.seed1, df.seed2} {
				h.SetSeed(seed)
				binary.LittleEndian.PutUint64(num[:], sum[i])
				h.Write(num[:])
				binary.LittleEndian.PutUint64(num[:], eh[i])
				h.Write(num[:])
				sum[i] = h.Sum64()
			}
		} else {
			sum[0] += eh[0]
			sum[1] += eh[1]
		}
	}
	sum[0] ^= n*0x9e3779b97f4a7c15 + uint64(kind)
	sum[1] ^= n + uint64(kind)<<56
	return sum, nil
}

func writeLenBytes(h *maphash.Hash, b []byte) {
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	h.Write(b)
}

// writeStreamParts hashes what a stream element holds besides entries.
func writeStreamParts(h *maphash.Hash, el *rdb.Elem) {
	switch {
	case el.Stream != nil:
		fmt.Fprint(h, *el.Stream)
	case el.Group != nil:
		writeLenBytes(h, el.Group.Name)
		fmt.Fprint(h, el.Group.LastDelivered, el.Group.EntriesRead, el.Group.PendingCount)
	case el.Pending != nil:
		fmt.Fprint(h, el.Pending.ID, el.Pending.DeliveryTimeMs, el.Pending.DeliveryCount)
	case el.Consumer != nil:
		writeLenBytes(h, el.Consumer.Name)
		fmt.Fprint(h, el.Consumer.SeenTimeMs, el.Consumer.ActiveTimeMs, el.Consumer.PendingCount)
	case el.Module != nil:
		fmt.Fprint(h, el.Module.ID)
		writeLenBytes(h, el.Module.Raw)
	}
}

// defaultPartitions is how many files the keys are spread over once the
// table outgrows the budget: each then holds 1/64 of the keys, so files whose
// table is up to 64 times the budget compare within it.
const defaultPartitions = 64

// spill moves the table into partition files and sends later keys there.
func (df *differ) spill(parts int) error {
	if parts <= 0 {
		// Enough partitions for each to hold about a quarter of the budget
		// of what the table held when it overflowed.
		parts = defaultPartitions
	}
	dir, err := os.MkdirTemp(df.o.TempDir, "rdbtool-diff-*")
	if err != nil {
		return err
	}
	df.dir = dir
	df.stats.Partitions = parts
	for side := range 2 {
		for i := range parts {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%c-%04d", 'a'+side, i)))
			if err != nil {
				return err
			}
			df.parts[side] = append(df.parts[side], f)
			df.partW[side] = append(df.partW[side], bufio.NewWriterSize(f, 32<<10))
		}
	}
	for k, ent := range df.table {
		for side := range 2 {
			if ent.has[side] {
				if err := df.writePart(side, []byte(k), &ent.side[side]); err != nil {
					return err
				}
			}
		}
	}
	df.table, df.tableBytes = map[string]*diffEntry{}, 0
	return nil
}

// A partition record: uvarint key length, key, uvarint seq, varint expire,
// two 64-bit digest halves.
func (df *differ) writePart(side int, key []byte, s *diffSide) error {
	p := int(maphash.Bytes(df.seed1, key) % uint64(len(df.parts[side])))
	w := df.partW[side][p]
	var buf [3*binary.MaxVarintLen64 + 16]byte
	b := binary.AppendUvarint(buf[:0], uint64(len(key)))
	if _, err := w.Write(b); err != nil {
		return err
	}
	if _, err := w.Write(key); err != nil {
		return err
	}
	b = binary.AppendUvarint(buf[:0], s.seq)
	b = binary.AppendVarint(b, s.expire)
	b = binary.LittleEndian.AppendUint64(b, s.digest[0])
	b = binary.LittleEndian.AppendUint64(b, s.digest[1])
	_, err := w.Write(b)
	return err
}

func readPart(r *bufio.Reader, key []byte, s *diffSide) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return key, err // io.EOF at a record boundary
	}
	if n > math.MaxInt32 {
		return key, errors.New("diff partition record too long")
	}
	if uint64(cap(key)) < n {
		key = make([]byte, n)
	}
	key = key[:n]
	if _, err := io.ReadFull(r, key); err != nil {
		return key, unexpected(err)
	}
	if s.seq, err = binary.ReadUvarint(r); err != nil {
		return key, unexpected(err)
	}
	if s.expire, err = binary.ReadVarint(r); err != nil {
		return key, unexpected(err)
	}
	var d [16]byte
	if _, err := io.ReadFull(r, d[:]); err != nil {
		return key, unexpected(err)
	}
	s.digest = [2]uint64{binary.LittleEndian.Uint64(d[:8]), binary.LittleEndian.Uint64(d[8:])}
	return key, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// compare classifies every key, table or partitions.
func (df *differ) compare() error {
	if df.parts[0] == nil {
		for _, ent := range df.table {
			df.classify(ent)
		}
		df.table = nil
		return nil
	}
	for side := range 2 {
		for _, w := range df.partW[side] {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	var key []byte
	for i := range df.parts[0] {
		if err := df.ctx.Err(); err != nil {
			return err
		}
		table := map[string]*diffEntry{}
		for side := range 2 {
			f := df.parts[side][i]
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			br := bufio.NewReaderSize(f, 64<<10)
			for {
				var s diffSide
				var err error
				key, err = readPart(br, key, &s)
				if err == io.EOF {
					break
				}
				if err != nil {
					return fmt.Errorf("reading diff partition %s: %w", f.Name(), err)
				}
				ent := table[string(key)]
				if ent == nil {
					ent = &diffEntry{}
					table[string(key)] = ent
				}
				ent.has[side], ent.side[side] = true, s
			}
		}
		for _, ent := range table {
			df.classify(ent)
		}
	}
	return nil
}

func (df *differ) classify(ent *diffEntry) {
	a, b := &ent.side[0], &ent.side[1]
	kind := diffNone
	switch {
	case !ent.has[1]:
		df.stats.OnlyA++
		kind = diffOnly
	case !ent.has[0]:
		df.stats.OnlyB++
		kind = diffOnly
	case a.digest != b.digest:
		df.stats.Changed++
		kind = diffChanged
	case a.expire != b.expire:
		df.stats.TTLChanged++
		kind = diffTTL
	default:
		df.stats.Same++
		return
	}
	for side := range 2 {
		if ent.has[side] {
			s := ent.side[side].seq
			df.marks[side][s/4] |= byte(kind) << (2 * (s % 4))
		}
	}
}

var diffWords = [2][4]string{
	{"", "removed", "changed", "ttl"},
	{"", "added", "changed", "ttl"},
}

// write renders the marked keys of one side.
func (df *differ) write(open OpenRDB, side int, out *bufio.Writer) error {
	r, closeR, err := open()
	if err != nil {
		return err
	}
	defer closeR()
	d := &dumper{r: r, out: out, o: DumpOptions{SpoolBudget: df.o.SpoolBudget, TempDir: df.o.TempDir},
		sp: newSpool(max(df.o.SpoolBudget, 8<<20), df.o.TempDir), flushAt: partialLineFlush}
	defer d.sp.reset()
	var seq uint64
	for {
		e, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		if err := df.ctx.Err(); err != nil {
			return err
		}
		kind := df.marks[side][seq/4] >> (2 * (seq % 4)) & 3
		seq++
		if kind == diffNone {
			if _, err := r.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if df.o.JSONL {
			d.b = append(d.b[:0], `{"change":"`...)
			d.b = append(d.b, diffWords[side][kind]...)
			d.b = append(d.b, `","line":`...)
		} else {
			d.b = append(d.b[:0], "-+"[side], ' ')
		}
		if err := d.key(e); err != nil {
			return err
		}
		if df.o.JSONL {
			d.b = append(d.b, '}')
		}
		d.sp.reset()
		if err := d.endLine(); err != nil {
			return err
		}
	}
}
