package dupkeys

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// run adds n keys "k<i>" (plus the extra ones at the end) to a Finder with
// the given budget and returns the confirmed duplicates.
func run(t *testing.T, budget int64, n int, extra []string, hash func(int, []byte) uint64) ([]Duplicate, *Finder) {
	t.Helper()
	tmp := t.TempDir()
	f := New(Options{MemoryBytes: budget, TempDir: tmp})
	defer f.Close()
	if hash != nil {
		f.hashKey = hash
	}
	keys := map[int64]Key{}
	add := func(k string, off int64) {
		f.Add(0, []byte(k), off)
		keys[off] = Key{0, []byte(k)}
	}
	for i := 0; i < n; i++ {
		add(fmt.Sprintf("k%d", i), int64(i)*10)
	}
	for i, k := range extra {
		add(k, int64(n+i)*10)
	}
	groups, err := f.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("Close left %v in the temp folder", left)
	}
	return Confirm(groups, keys), f
}

func TestFinderInMemoryAndSpilled(t *testing.T) {
	defer func(old int64) { minSpill = old }(minSpill)
	minSpill = 1024
	for _, budget := range []int64{64 << 20, 16 << 10} {
		dups, f := run(t, budget, 200000, []string{"k5", "x", "k199999", "k5"}, nil)
		want := []Duplicate{
			{DB: 0, Key: []byte("k5"), Offsets: []int64{50, 2000000, 2000030}},
			{DB: 0, Key: []byte("k199999"), Offsets: []int64{1999990, 2000020}},
		}
		if !reflect.DeepEqual(dups, want) {
			t.Errorf("budget %d: %+v, want %+v", budget, dups, want)
		}
		if budget < 1<<20 && f.Spilled() == 0 {
			t.Errorf("budget %d: nothing spilled", budget)
		}
		if f.Keys() != 200004 {
			t.Errorf("Keys = %d", f.Keys())
		}
	}
}

// TestFinderCollisionIsNotADuplicate makes every key hash alike: the
// candidates are all keys, and Confirm keeps only the real duplicate.
func TestFinderCollisionIsNotADuplicate(t *testing.T) {
	defer func(old int64) { minSpill = old }(minSpill)
	minSpill = 1024
	dups, _ := run(t, 16<<10, 3000, []string{"k7"}, func(int, []byte) uint64 { return 42 })
	if len(dups) != 1 || string(dups[0].Key) != "k7" || !reflect.DeepEqual(dups[0].Offsets, []int64{70, 30000}) {
		t.Errorf("got %+v", dups)
	}
}

func TestFinderDatabasesDiffer(t *testing.T) {
	f := New(Options{TempDir: t.TempDir()})
	defer f.Close()
	f.Add(0, []byte("k"), 1)
	f.Add(1, []byte("k"), 2)
	groups, err := f.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if d := Confirm(groups, map[int64]Key{1: {0, []byte("k")}, 2: {1, []byte("k")}}); len(d) != 0 {
		t.Errorf("the same name in two databases: %+v", d)
	}
}

// TestFinderCloseWithoutFinish is the interrupted case: the runs go.
func TestFinderCloseWithoutFinish(t *testing.T) {
	defer func(old int64) { minSpill = old }(minSpill)
	minSpill = 1024
	tmp := t.TempDir()
	f := New(Options{MemoryBytes: 16 << 10, TempDir: tmp})
	for i := 0; i < 100000; i++ {
		f.Add(0, []byte(fmt.Sprint(i)), int64(i))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("left %v", left)
	}
}

func BenchmarkFinderAdd(b *testing.B) {
	key := []byte("user:000000000000")
	f := New(Options{TempDir: b.TempDir()})
	defer f.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(key[5:], uint64(i)) // distinct keys
		f.Add(0, key, int64(i))
	}
	if _, err := f.Finish(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFinderFinish adds 2.5 million keys (the pages dataset of
// bench/run.sh) within the default budget, then measures Finish alone.
func BenchmarkFinderFinish(b *testing.B) {
	key := []byte("page:000000000000")
	for b.Loop() {
		b.StopTimer()
		f := New(Options{TempDir: b.TempDir()})
		for i := range 2_500_000 {
			binary.BigEndian.PutUint64(key[5:], uint64(i))
			f.Add(0, key, int64(i)*200)
		}
		b.StartTimer()
		if _, err := f.Finish(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		f.Close()
		b.StartTimer()
	}
}

// TestFinderGroupsAsMap: Finish's groups are exactly the sets of two or more
// keys of equal hash, each in the order the keys were added, ordered by their
// first offset — checked against a map, with hashes from a small range (so
// that thousands repeat, some three times or more, 0 among them), in memory
// and spilled.
func TestFinderGroupsAsMap(t *testing.T) {
	defer func(old int64) { minSpill = old }(minSpill)
	minSpill = 1024
	for _, budget := range []int64{64 << 20, 16 << 10} {
		f := New(Options{MemoryBytes: budget, TempDir: t.TempDir()})
		f.hashKey = func(db int, key []byte) uint64 {
			v := binary.BigEndian.Uint64(key) % 90000
			return v * 0x9e3779b97f4a7c15 // spread over the partitions; 0 stays 0
		}
		want := map[uint64][]int64{}
		key := make([]byte, 8)
		for i := range 100000 {
			binary.BigEndian.PutUint64(key, uint64(i)*7919)
			f.Add(0, key, int64(i))
			h := f.hashKey(0, key)
			want[h] = append(want[h], int64(i))
		}
		groups, err := f.Finish()
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		var wantGroups [][]int64
		for _, offs := range want {
			if len(offs) > 1 {
				wantGroups = append(wantGroups, offs)
			}
		}
		slices.SortFunc(wantGroups, func(a, b []int64) int { return cmp.Compare(a[0], b[0]) })
		if len(wantGroups) < 1000 || want[0] == nil || len(want[0]) < 2 {
			t.Fatalf("the hashes repeat too little: %d groups, %d keys of hash 0", len(wantGroups), len(want[0]))
		}
		if !reflect.DeepEqual(groups, wantGroups) {
			t.Fatalf("budget %d: %d groups, want %d", budget, len(groups), len(wantGroups))
		}
	}
}
