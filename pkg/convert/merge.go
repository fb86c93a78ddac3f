package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// DuplicatePolicy says what Merge does with a key (or a function library)
// that more than one input holds.
type DuplicatePolicy uint8

const (
	RefuseDuplicates DuplicatePolicy = iota // refuse to merge; nothing is written
	KeepFirst                               // the first input's copy wins (in the order given)
	KeepLast                                // the last input's copy wins
)

// ParseDuplicatePolicy parses "error", "first" or "last".
func ParseDuplicatePolicy(s string) (DuplicatePolicy, error) {
	switch s {
	case "", "error":
		return RefuseDuplicates, nil
	case "first":
		return KeepFirst, nil
	case "last":
		return KeepLast, nil
	}
	return 0, fmt.Errorf("want error, first or last, not %q", s)
}

// MergeOptions configure Merge.
type MergeOptions struct {
	OnDuplicate DuplicatePolicy
	Filter      Filter
}

// MergeStats count what Merge wrote.
type MergeStats struct {
	Keys       int64 // keys written
	Duplicates int64 // keys held by more than one input (each counted once)
	Dropped    int64 // copies of duplicate keys left out
	Filtered   int64
	Functions  int64 // libraries written
	ModuleAux  int64 // module aux records left out: only the first input's of each module is kept
}

// DuplicateError lists keys (or libraries) held by several inputs.
type DuplicateError struct {
	Count    int64    // how many
	Examples []string // the first few, described
}

func (e *DuplicateError) Error() string {
	s := fmt.Sprintf("%d keys or function libraries are in more than one input", e.Count)
	if e.Count == 1 {
		s = "1 key or function library is in more than one input"
	}
	return s + " (" + strings.Join(e.Examples, "; ") + "): choose which copy wins with --on-duplicate first or last"
}

// Merge writes the keys of n inputs into w, input after input, and closes w.
// open(i) opens input i; it is called up to three times per input: once to
// fingerprint every key, once more, only when fingerprints collide, to tell
// real duplicates from collisions, and once to write. A key in more than one
// input (same database and name) is an error unless OnDuplicate picks a copy;
// so are two function libraries of one name with different code. Module aux
// records are kept from the first input that has them for a module. Memory
// is 8 bytes per key, plus the names of the keys whose fingerprints collide.
func Merge(open func(i int) (*rdb.Reader, error), n int, w *rdb.Writer, o MergeOptions) (MergeStats, error) {
	var st MergeStats
	seed := maphash.MakeSeed()
	var buf []byte
	keyID := func(db int, key []byte) []byte {
		buf = binary.AppendUvarint(buf[:0], uint64(db))
		return append(buf, key...)
	}
	each := func(i int, fn func(r *rdb.Reader, e *rdb.Entry) error) error {
		r, err := open(i)
		if err != nil {
			return err
		}
		defer r.Close()
		for {
			e, err := r.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := fn(r, e); err != nil {
				return err
			}
		}
	}

	// Pass 1: fingerprints of every selected key; the libraries.
	var hashes []uint64
	type library struct {
		code  []byte
		input int
	}
	libs := map[string][]library{}
	var libOrder []string
	for i := range n {
		err := each(i, func(r *rdb.Reader, e *rdb.Entry) error {
			switch e.Kind {
			case rdb.EntryKey:
				if o.Filter.Match(e) {
					hashes = append(hashes, maphash.Bytes(seed, keyID(e.DB, e.Key)))
				}
				_, err := r.SkipValue()
				return err
			case rdb.EntryFunction:
				code := LibraryCode(e)
				name := LibraryName(code)
				if _, ok := libs[name]; !ok {
					libOrder = append(libOrder, name)
				}
				libs[name] = append(libs[name], library{code, i})
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	slices.Sort(hashes)
	collide := map[uint64]bool{}
	for i := 1; i < len(hashes); i++ {
		if hashes[i] == hashes[i-1] {
			collide[hashes[i]] = true
		}
	}
	hashes = nil

	// Pass 2: the names behind colliding fingerprints, with the inputs
	// holding each.
	holders := map[string][]int{}
	if len(collide) > 0 {
		for i := range n {
			err := each(i, func(r *rdb.Reader, e *rdb.Entry) error {
				if e.Kind == rdb.EntryKey && o.Filter.Match(e) {
					id := keyID(e.DB, e.Key)
					if collide[maphash.Bytes(seed, id)] {
						holders[string(id)] = append(holders[string(id)], i)
					}
				}
				if e.Kind == rdb.EntryKey {
					_, err := r.SkipValue()
					return err
				}
				return nil
			})
			if err != nil {
				return st, fmt.Errorf("input %d: %w", i+1, err)
			}
		}
		for id, h := range holders {
			if len(h) < 2 {
				delete(holders, id)
			}
		}
	}
	st.Duplicates = int64(len(holders))
	var dupLibs []string
	for _, name := range libOrder {
		for _, l := range libs[name][1:] {
			if !bytes.Equal(l.code, libs[name][0].code) {
				dupLibs = append(dupLibs, name)
				break
			}
		}
	}
	if o.OnDuplicate == RefuseDuplicates && (len(holders) > 0 || len(dupLibs) > 0) {
		return st, duplicateError(holders, dupLibs)
	}

	// Pass 3: write. A duplicate's copy is written at its winning
	// occurrence: the first or the last, counting occurrences in order.
	for _, name := range libOrder {
		ls := libs[name]
		pick := ls[0]
		if o.OnDuplicate == KeepLast {
			pick = ls[len(ls)-1]
		}
		if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryFunction, Function: pick.code}); err != nil {
			return st, err
		}
		st.Functions++
	}
	seen := map[string]int{}
	modules := map[uint64]int{} // module id -> the input whose aux records are kept
	for i := range n {
		err := each(i, func(r *rdb.Reader, e *rdb.Entry) error {
			switch e.Kind {
			case rdb.EntryModuleAux:
				if from, ok := modules[e.Module.ID]; ok && from != i {
					st.ModuleAux++
					return nil
				}
				modules[e.Module.ID] = i
				return w.WriteEntry(e)
			case rdb.EntryKey:
			default:
				return nil
			}
			if !o.Filter.Match(e) {
				st.Filtered++
				_, err := r.SkipValue()
				return err
			}
			id := keyID(e.DB, e.Key)
			if h, dup := holders[string(id)]; dup {
				k := seen[string(id)]
				seen[string(id)] = k + 1
				win := 0
				if o.OnDuplicate == KeepLast {
					win = len(h) - 1
				}
				if k != win {
					st.Dropped++
					_, err := r.SkipValue()
					return err
				}
			}
			st.Keys++
			return CopyValue(r, w, e)
		})
		if err != nil {
			return st, fmt.Errorf("input %d: %w", i+1, err)
		}
	}
	return st, w.Close()
}

func duplicateError(holders map[string][]int, libs []string) error {
	var ex []string
	for _, name := range libs {
		ex = append(ex, "function library "+name)
	}
	ids := make([]string, 0, len(holders))
	for id := range holders {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if len(ex) >= 5 {
			break
		}
		db, n := binary.Uvarint([]byte(id))
		in := make([]string, len(holders[id]))
		for j, h := range holders[id] {
			in[j] = fmt.Sprint(h + 1)
		}
		ex = append(ex, fmt.Sprintf("key %s of db %d in inputs %s", rdb.QuoteBytes([]byte(id[n:])), db, strings.Join(in, ", ")))
	}
	return &DuplicateError{Count: int64(len(holders) + len(libs)), Examples: ex}
}

// LibraryCode is a function library's source; a Redis 7.0 RC record gets the
// shebang line Redis 7.0 gives it when it loads one.
func LibraryCode(e *rdb.Entry) []byte {
	if f := e.FunctionPreGA; f != nil {
		return []byte("#!" + string(f.Engine) + " name=" + string(f.Name) + "\n" + string(f.Code))
	}
	return bytes.Clone(e.Function)
}

// LibraryName reads the name from a library's "#!lua name=..." line; "" when
// there is none.
func LibraryName(code []byte) string {
	line, _, _ := bytes.Cut(code, []byte("\n"))
	for _, f := range strings.Fields(string(line)) {
		if v, ok := strings.CutPrefix(f, "name="); ok {
			return v
		}
	}
	return ""
}
