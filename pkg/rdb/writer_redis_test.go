package rdb_test

import (
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// dbStride separates the databases of the sources merged into one file.
const dbStride = 16

// TestWriterRedisLoads is the judge: the fixtures and every generated corpus
// dataset (RDB 10, 11 and 12 sources alike) are converted down to RDB 10 and
// 9 (and, for the fixtures and the small datasets, 8 and 7), redis-check-rdb
// must accept each file, and a real redis-server (Debian's 7.0) loading it
// must then hold exactly the source dataset, minus what the target cannot
// hold: field TTLs (DropFieldTTLs), functions below 10, streams below 9.
//
// To keep server starts few, the sources are merged into one file per target,
// source i in databases 16i..16i+15 (the server runs with 256 databases);
// sources whose function libraries clash by name go to separate files.
func TestWriterRedisLoads(t *testing.T) {
	bin := redistest.Require(t)
	if !bin.AtLeast(7, 0) {
		t.Skipf("redis-server %s cannot load RDB 10", bin.Version)
	}
	srcs := writerSources(t)
	for _, v := range []int{10, 9, 8, 7} {
		t.Run("v"+strconv.Itoa(v), func(t *testing.T) {
			t.Parallel()
			var use []int
			for i, s := range srcs {
				if v >= 9 || !strings.Contains(s.name, "medium") {
					use = append(use, i)
				}
			}
			for bi, batch := range libraryBatches(t, srcs, use, v) {
				path := filepath.Join(t.TempDir(), "dump.rdb")
				want, keys := writeMerged(t, srcs, batch, v, path)
				if b, err := exec.Command(bin.CheckRDB, path).CombinedOutput(); err != nil || !strings.Contains(string(b), "RDB looks OK") {
					t.Fatalf("redis-check-rdb: %v\n%s", err, b)
				}
				s := redistest.Start(t, redistest.Options{RDB: path, Args: []string{"--databases", "256"}})
				got := transformLines(t, s.Snapshot(t, redistest.SnapshotOptions{Strict: true}), expectView{version: 13})
				if d := diffLines(want, got); d != "" {
					t.Errorf("batch %d: the server's dataset differs from the sources':\n%s", bi, d)
				}
				names := make([]string, len(batch))
				for i, si := range batch {
					names[i] = srcs[si].name
				}
				t.Logf("batch %d: %d keys from %s loaded into redis-server %s and matched", bi, keys, strings.Join(names, ", "), bin.Version)
				s.Stop()
			}
		})
	}
}

// libraryBatches groups sources so that no two in a group define a function
// library of the same name with different code.
func libraryBatches(t testing.TB, srcs []wSource, use []int, v int) [][]int {
	var batches [][]int
	var libs []map[string]string
	for _, i := range use {
		mine := map[string]string{}
		if v >= 10 {
			for _, code := range libraries(t, srcs[i].data) {
				mine[libName(code)] = code
			}
		}
		placed := false
		for b := range batches {
			ok := true
			for name, code := range mine {
				if c, exists := libs[b][name]; exists && c != code {
					ok = false
				}
			}
			if ok {
				batches[b] = append(batches[b], i)
				for name, code := range mine {
					libs[b][name] = code
				}
				placed = true
				break
			}
		}
		if !placed {
			batches = append(batches, []int{i})
			libs = append(libs, mine)
		}
	}
	return batches
}

func libraries(t testing.TB, data []byte) []string {
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var out []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryFunction {
			out = append(out, string(e.Function))
		}
	}
}

func libName(code string) string {
	line, _, _ := strings.Cut(code, "\n")
	for _, f := range strings.Fields(line) {
		if n, ok := strings.CutPrefix(f, "name="); ok {
			return n
		}
	}
	return line
}

// writeMerged writes the batch's sources into one file at version v, source
// i shifted to databases 16i.., and returns the canonical lines a Redis 7.0
// server should hold after loading it, and the number of keys.
func writeMerged(t testing.TB, srcs []wSource, batch []int, v int, path string) ([]string, int) {
	var out bytes.Buffer
	w := rdb.NewWriter(&out, lowerOptions(v))
	var want []string
	codes := map[string]bool{}
	keys := 0
	for _, si := range batch {
		off := si * dbStride
		r := rdb.NewReaderBytes(srcs[si].data, rdb.ReaderOptions{})
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch e.Kind {
			case rdb.EntryAux, rdb.EntryResizeDB:
				continue // AUX fields once (the writer's); size hints would be wrong
			case rdb.EntryFunction:
				if codes[string(e.Function)] {
					continue
				}
				codes[string(e.Function)] = true
			case rdb.EntrySelectDB:
				if e.DB >= dbStride {
					t.Fatalf("%s uses database %d; the merge assumes < %d", srcs[si].name, e.DB, dbStride)
				}
				e2 := *e
				e2.DB += off
				e = &e2
			case rdb.EntryKey:
				e2 := *e
				e2.DB += off
				val, err := r.ReadValue(0)
				if err != nil {
					t.Fatal(err)
				}
				if err := w.WriteKey(&e2, val); err != nil {
					t.Fatal(err)
				}
				keys++
				continue
			}
			if err := w.WriteEntry(e); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
		for _, l := range transformLines(t, canonLines(t, srcs[si].data), expectView{version: v, redis70: true, dbOffset: off}) {
			if !strings.HasPrefix(l, `{"functions"`) {
				want = append(want, l)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, out.Bytes())
	if len(codes) > 0 && v >= 10 {
		var libs canon.Set
		for c := range codes {
			libs = append(libs, []byte(c))
		}
		want = append(want, transformLines(t, []string{canon.Marshal(canon.Functions{Libraries: libs})}, expectView{version: 13})...)
	}
	slices.Sort(want)
	return want, keys
}
