package dupkeys

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
)

// Options configure a Finder.
type Options struct {
	// MemoryBytes bounds the records held in memory; past it they are
	// spilled to disk. Default 64 MiB.
	MemoryBytes int64
	// TempDir is where the folder of spilled records is made; default
	// os.TempDir().
	TempDir string
}

// record is one key: the hash of its database and name, and its offset.
type record struct {
	hash   uint64
	offset int64
}

const (
	recordSize = 16
	// partitionBits split the records by the top bits of their hash: equal
	// hashes land in the same partition, so each partition is searched for
	// repeats on its own (on disk: one file each), and memory at the end is
	// one partition's scratch.
	partitionBits = 8
	partitions    = 1 << partitionBits
	// blockLen records make a block: partitions grow a block at a time, so
	// that nothing is copied as they grow.
	blockLen = 2048
	// batchLen records go from Add to the filing goroutine at a time.
	batchLen = 4096
)

// Finder collects keys and finds those with equal hashes.
type Finder struct {
	opts  Options
	seed  maphash.Seed
	batch []record
	keys  int64
	work  chan []record // batches for the filer
	free  chan []record // batches back from it
	done  chan error    // the filer's end

	// The filer's, until done is received.
	parts  [partitions][][]record // blocks of records not spilled, in offset order
	held   int                    // records in parts
	dir    string                 // the temporary folder, "" until the first spill
	files  []*os.File             // one a partition
	spills int

	finished bool
	// hashKey is hash; tests replace it to make collisions.
	hashKey func(db int, key []byte) uint64
}

// New returns a Finder; call Close when done with it.
func New(o Options) *Finder {
	if o.MemoryBytes <= 0 {
		o.MemoryBytes = 64 << 20
	}
	f := &Finder{opts: o, seed: maphash.MakeSeed(), batch: make([]record, 0, batchLen),
		work: make(chan []record, 2), free: make(chan []record, 3), done: make(chan error, 1)}
	f.hashKey = f.hash
	go f.filer()
	return f
}

// capacity is how many records fit the budget, less the partially filled
// last block of each partition; at least minSpill, so that a spill writes
// whole blocks (a budget under about 12 MiB uses about 12 MiB).
func (f *Finder) capacity() int {
	return int(max(f.opts.MemoryBytes/recordSize-partitions*blockLen, minSpill))
}

// minSpill is the fewest records written at a spill: half a block per
// partition. A variable so that tests can spill small sets.
var minSpill int64 = partitions * blockLen / 2

// hash is what a Finder files a key under: its database and its bytes.
func (f *Finder) hash(db int, key []byte) uint64 {
	return maphash.Bytes(f.seed, key) ^ uint64(db)*0x9e3779b97f4a7c15
}

// Add records the key of database db found at offset; offsets must grow
// from call to call. The key is not kept: only its hash is, computed here,
// while the records are filed on another goroutine.
func (f *Finder) Add(db int, key []byte, offset int64) {
	f.batch = append(f.batch, record{f.hashKey(db, key), offset})
	f.keys++
	if len(f.batch) == batchLen {
		f.work <- f.batch
		select {
		case b := <-f.free:
			f.batch = b[:0]
		default:
			f.batch = make([]record, 0, batchLen)
		}
	}
}

// filer files batches into the partitions, spilling past the budget. After
// an error it keeps receiving (and dropping) batches, so Add never blocks.
func (f *Finder) filer() {
	var err error
	for b := range f.work {
		if err == nil {
			err = f.file(b)
		}
		select {
		case f.free <- b:
		default:
		}
	}
	f.done <- err
}

func (f *Finder) file(b []record) error {
	for _, r := range b {
		p := &f.parts[r.hash>>(64-partitionBits)]
		n := len(*p)
		if n == 0 || len((*p)[n-1]) == blockLen {
			*p = append(*p, make([]record, 0, blockLen))
			n++
		}
		(*p)[n-1] = append((*p)[n-1], r)
	}
	f.held += len(b)
	if f.held >= f.capacity() {
		return f.spill()
	}
	return nil
}

// spill appends the records held to their partition files.
func (f *Finder) spill() error {
	if f.dir == "" {
		dir, err := os.MkdirTemp(f.opts.TempDir, "rdbtool-keys-*")
		if err != nil {
			return err
		}
		f.dir = dir
		f.files = make([]*os.File, partitions)
		for i := range f.files {
			file, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("part-%03d", i)), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
			if err != nil {
				return err
			}
			f.files[i] = file
		}
	}
	out := make([]byte, 0, blockLen*recordSize)
	for i := range f.parts {
		for _, blk := range f.parts[i] {
			out = out[:0]
			for _, r := range blk {
				out = binary.LittleEndian.AppendUint64(out, r.hash)
				out = binary.LittleEndian.AppendUint64(out, uint64(r.offset))
			}
			if _, err := f.files[i].Write(out); err != nil {
				return err
			}
		}
		f.parts[i] = nil
	}
	f.held = 0
	f.spills++
	return nil
}

// Finish stops adding and returns the groups of offsets whose keys have
// equal hashes, each in ascending order, the groups ordered by their first
// offset. Most keys are in no group; a group's keys are probably, not
// certainly, equal: see Confirm. The partitions are searched on as many
// goroutines as there are processors.
func (f *Finder) Finish() ([][]int64, error) {
	if f.finished {
		return nil, errors.New("dupkeys: Finish called twice")
	}
	f.finished = true
	if len(f.batch) > 0 {
		f.work <- f.batch
	}
	f.batch = nil
	close(f.work)
	if err := <-f.done; err != nil {
		return nil, err
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	results := make([][][]int64, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch scratch
			for i := w; i < partitions; i += workers {
				var file *os.File
				if f.files != nil {
					file = f.files[i]
				}
				groups, err := collect(file, f.parts[i], &scratch, results[w])
				if err != nil {
					errs[w] = err
					return
				}
				results[w] = groups
				f.parts[i] = nil
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var groups [][]int64
	for _, r := range results {
		groups = append(groups, r...)
	}
	slices.SortFunc(groups, func(a, b []int64) int { return cmp.Compare(a[0], b[0]) })
	return groups, nil
}

// scratch is what finding a partition's repeats needs, kept from one
// partition to the next of a goroutine: allocating it anew for each of the
// 256 would cost more than the search (and grow the heap by as much again
// as the records).
type scratch struct {
	table  []uint64 // open addressing: the hashes seen, 0 for an empty slot
	repeat []uint64 // hashes seen again
	runs   [][]record
	offset []int64 // the groups' offsets, carved from one allocation
}

// collect finds the repeated hashes of one partition (its spilled records,
// read from file when not nil, then the blocks held) and appends a group of
// offsets, in file order, for each. One pass enters every hash in a table;
// only when some hash comes again (almost never) does a second pass gather
// the offsets of the repeated ones.
func collect(file *os.File, blocks [][]record, s *scratch, groups [][]int64) ([][]int64, error) {
	var spilled []record
	if file != nil {
		var err error
		if spilled, err = readPartition(file); err != nil {
			return nil, err
		}
	}
	n := len(spilled)
	for _, b := range blocks {
		n += len(b)
	}
	size := 16
	for size < 2*n {
		size *= 2
	}
	if cap(s.table) < size {
		s.table = make([]uint64, size)
	}
	table, mask := s.table[:size], uint64(size-1)
	clear(table)
	s.runs = append(append(s.runs[:0], spilled), blocks...)
	repeat, zeros := s.repeat[:0], 0
	for _, run := range s.runs {
		for _, r := range run {
			h := r.hash
			if h == 0 { // the empty slot's mark: counted apart
				if zeros++; zeros == 2 {
					repeat = append(repeat, 0)
				}
				continue
			}
			for p := h & mask; ; p = (p + 1) & mask {
				if table[p] == 0 {
					table[p] = h
					break
				}
				if table[p] == h {
					repeat = append(repeat, h)
					break
				}
			}
		}
	}
	s.repeat = repeat
	if len(repeat) == 0 {
		return groups, nil
	}
	slices.Sort(repeat)
	repeat = slices.Compact(repeat)
	at := make(map[uint64]int, len(repeat)) // a hash's group, in the order of first appearance
	var members [][]int64
	for _, run := range s.runs {
		for _, r := range run {
			if _, found := slices.BinarySearch(repeat, r.hash); !found {
				continue
			}
			i, ok := at[r.hash]
			if !ok {
				i = len(members)
				at[r.hash] = i
				members = append(members, nil)
			}
			members[i] = append(members[i], r.offset)
		}
	}
	for _, m := range members {
		if cap(s.offset)-len(s.offset) < len(m) {
			s.offset = make([]int64, 0, max(1024, len(m)))
		}
		first := len(s.offset)
		s.offset = append(s.offset, m...)
		groups = append(groups, s.offset[first:len(s.offset):len(s.offset)])
	}
	return groups, nil
}

// readPartition returns the records of a partition file.
func readPartition(file *os.File) ([]record, error) {
	st, err := file.Stat()
	if err != nil {
		return nil, err
	}
	n := int(st.Size() / recordSize)
	recs := make([]record, 0, n)
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(file, 256<<10)
	var b [recordSize]byte
	for range n {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, err
		}
		recs = append(recs, record{binary.LittleEndian.Uint64(b[:8]), int64(binary.LittleEndian.Uint64(b[8:]))})
	}
	return recs, nil
}

// Keys is the number of keys added.
func (f *Finder) Keys() int64 { return f.keys }

// Spilled reports how many times records went to disk (valid after Finish).
func (f *Finder) Spilled() int { return f.spills }

// Close removes the temporary folder, if any. It may be called before or
// after Finish, more than once.
func (f *Finder) Close() error {
	if !f.finished {
		f.finished = true
		close(f.work)
		<-f.done
	}
	f.parts = [partitions][][]record{}
	if f.dir == "" {
		return nil
	}
	for _, file := range f.files {
		if file != nil {
			file.Close()
		}
	}
	err := os.RemoveAll(f.dir)
	f.dir, f.files = "", nil
	return err
}

// Key is a key as read again at a candidate offset.
type Key struct {
	DB  int
	Key []byte
}

// Duplicate is a key found at several offsets.
type Duplicate struct {
	DB      int
	Key     []byte
	Offsets []int64 // ascending
}

// Confirm returns the real duplicates among candidate groups, given the key
// at every offset of the groups; offsets missing from keys are left out.
func Confirm(groups [][]int64, keys map[int64]Key) []Duplicate {
	var out []Duplicate
	for _, g := range groups {
		used := make([]bool, len(g))
		for i, off := range g {
			k, ok := keys[off]
			if used[i] || !ok {
				continue
			}
			d := Duplicate{DB: k.DB, Key: k.Key, Offsets: []int64{off}}
			for j := i + 1; j < len(g); j++ {
				o, ok := keys[g[j]]
				if !used[j] && ok && o.DB == k.DB && bytes.Equal(o.Key, k.Key) {
					used[j] = true
					d.Offsets = append(d.Offsets, g[j])
				}
			}
			if len(d.Offsets) > 1 {
				out = append(out, d)
			}
		}
	}
	return out
}

// Offsets returns every offset of the groups, ascending: what a caller reads
// again to confirm them.
func Offsets(groups [][]int64) []int64 {
	var out []int64
	for _, g := range groups {
		out = append(out, g...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
