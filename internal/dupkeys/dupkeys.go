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
	"slices"
)

// Options configure a Finder.
type Options struct {
	// MemoryBytes bounds the records held in memory (and the scratch space
	// to sort them); past it they are spilled to disk. Default 64 MiB.
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
	// partitionBits split spilled records by the top bits of their hash: equal
	// hashes land in the same partition, so each partition is sorted and
	// scanned on its own, and memory at the end is one partition's.
	partitionBits = 8
	partitions    = 1 << partitionBits
)

// Finder collects keys and finds those with equal hashes.
type Finder struct {
	opts    Options
	seed    maphash.Seed
	buf     []record // records not yet spilled, in offset order
	scratch []record
	keys    int64

	dir     string // the temporary folder, "" until the first spill
	parts   []*os.File
	writers []*bufio.Writer
	spills  int

	finished bool
	// hashKey is hash; tests replace it to make collisions.
	hashKey func(db int, key []byte) uint64
}

// New returns a Finder; call Close when done with it.
func New(o Options) *Finder {
	if o.MemoryBytes <= 0 {
		o.MemoryBytes = 64 << 20
	}
	f := &Finder{opts: o, seed: maphash.MakeSeed()}
	f.hashKey = f.hash
	return f
}

// capacity is how many records fit the budget with their sorting scratch.
func (f *Finder) capacity() int { return int(max(f.opts.MemoryBytes/(2*recordSize), 1024)) }

// hash is what a Finder files a key under: its database and its bytes.
func (f *Finder) hash(db int, key []byte) uint64 {
	return maphash.Bytes(f.seed, key) ^ uint64(db)*0x9e3779b97f4a7c15
}

// Add records the key of database db found at offset; offsets must grow
// from call to call. The key is not kept. An error is a failure to spill.
func (f *Finder) Add(db int, key []byte, offset int64) error {
	if f.buf == nil {
		f.buf = make([]record, 0, min(f.capacity(), 1<<16))
	}
	if len(f.buf) == f.capacity() {
		if err := f.spill(); err != nil {
			return err
		}
	}
	// append doubles the buffer up to the capacity, so a small file costs
	// little memory.
	if len(f.buf) == cap(f.buf) {
		f.buf = slices.Grow(f.buf, min(cap(f.buf), f.capacity()-len(f.buf)))
	}
	f.buf = append(f.buf, record{f.hashKey(db, key), offset})
	f.keys++
	return nil
}

// spill appends the buffered records to their partition files.
func (f *Finder) spill() error {
	if f.dir == "" {
		dir, err := os.MkdirTemp(f.opts.TempDir, "rdbtool-keys-*")
		if err != nil {
			return err
		}
		f.dir = dir
		f.parts = make([]*os.File, partitions)
		f.writers = make([]*bufio.Writer, partitions)
		for i := range f.parts {
			file, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("part-%03d", i)), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
			if err != nil {
				return err
			}
			f.parts[i] = file
			f.writers[i] = bufio.NewWriterSize(file, 16<<10)
		}
	}
	var b [recordSize]byte
	for _, r := range f.buf {
		binary.LittleEndian.PutUint64(b[:8], r.hash)
		binary.LittleEndian.PutUint64(b[8:], uint64(r.offset))
		if _, err := f.writers[r.hash>>(64-partitionBits)].Write(b[:]); err != nil {
			return err
		}
	}
	f.buf = f.buf[:0]
	f.spills++
	return nil
}

// Finish stops adding and returns the groups of offsets whose keys have
// equal hashes, each in ascending order, the groups ordered by their first
// offset. Most keys are in no group; a group's keys are probably, not
// certainly, equal: see Confirm.
func (f *Finder) Finish() ([][]int64, error) {
	if f.finished {
		return nil, errors.New("dupkeys: Finish called twice")
	}
	f.finished = true
	var groups [][]int64
	if f.dir == "" {
		groups = f.collect(f.buf, groups)
	} else {
		if err := f.spill(); err != nil {
			return nil, err
		}
		for i, w := range f.writers {
			if err := w.Flush(); err != nil {
				return nil, err
			}
			recs, err := f.readPartition(f.parts[i])
			if err != nil {
				return nil, err
			}
			groups = f.collect(recs, groups)
		}
	}
	f.buf, f.scratch = nil, nil
	slices.SortFunc(groups, func(a, b []int64) int { return cmp.Compare(a[0], b[0]) })
	return groups, nil
}

// readPartition reads a partition file back into the buffer's storage.
func (f *Finder) readPartition(file *os.File) ([]record, error) {
	st, err := file.Stat()
	if err != nil {
		return nil, err
	}
	n := int(st.Size() / recordSize)
	recs := f.buf[:0]
	if cap(recs) < n {
		recs = make([]record, 0, n)
	}
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
	f.buf = recs
	return recs, nil
}

// collect sorts recs by hash (stably: offsets stay ascending) and appends
// the groups of equal hashes.
func (f *Finder) collect(recs []record, groups [][]int64) [][]int64 {
	if cap(f.scratch) < len(recs) {
		f.scratch = make([]record, len(recs))
	}
	radixSort(recs, f.scratch[:len(recs)])
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].hash == recs[i].hash {
			j++
		}
		if j-i > 1 {
			g := make([]int64, j-i)
			for k := range g {
				g[k] = recs[i+k].offset
			}
			groups = append(groups, g)
		}
		i = j
	}
	return groups
}

// radixSort sorts recs by hash, stably, with four passes of 16 bits (a
// least-significant-digit radix sort: linear, where a comparison sort of
// millions of records costs several times more).
func radixSort(recs, scratch []record) {
	var count [1 << 16]int
	src, dst := recs, scratch
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for _, r := range src {
			count[uint16(r.hash>>shift)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, r := range src {
			d := uint16(r.hash >> shift)
			dst[count[d]] = r
			count[d]++
		}
		src, dst = dst, src
	}
	// Four passes end in recs itself.
}

// Keys is the number of keys added.
func (f *Finder) Keys() int64 { return f.keys }

// Spilled reports how many times records went to disk.
func (f *Finder) Spilled() int { return f.spills }

// Close removes the temporary folder, if any. It may be called before or
// after Finish, more than once.
func (f *Finder) Close() error {
	f.finished = true
	f.buf, f.scratch = nil, nil
	if f.dir == "" {
		return nil
	}
	for _, p := range f.parts {
		if p != nil {
			p.Close()
		}
	}
	err := os.RemoveAll(f.dir)
	f.dir, f.parts, f.writers = "", nil, nil
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
