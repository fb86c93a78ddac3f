package rdb_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestParallelWriteMatchesSequential copies every fixture and every corpus
// RDB file through the Writer with and without compression workers (one and
// three, default chunks and tiny ones that cut the output everywhere, strings
// compressed in place from a few bytes on or never) and requires the same
// bytes, by WriteKey and element by element, at the file's own version and at
// version 10.
func TestParallelWriteMatchesSequential(t *testing.T) {
	files := 0
	for _, c := range copySources(t) {
		p, src, own := c.path, c.src, c.own
		for _, opts := range []rdb.WriterOptions{own, lowerOptions(10)} {
			for _, mode := range []copyMode{copyValues, copyElems} {
				want, _, err := rdbCopy(src, opts, mode)
				if err != nil {
					continue // the source or this target is refused either way; compared below
				}
				files++
				for _, limits := range [][2]int{{1 << 20, 4 << 20}, {64, 1 << 30}, {1, 30}} {
					restore := rdb.SetParallelWriteLimits(limits[0], limits[1])
					for _, workers := range []int{1, 3} {
						o := opts
						o.CompressWorkers = workers
						got, _, err := rdbCopy(src, o, mode)
						if err != nil {
							t.Fatalf("%s: %d workers, limits %v: %v", p, workers, limits, err)
						}
						if !bytes.Equal(got, want) {
							t.Fatalf("%s: %d workers, limits %v: %d bytes differ from the sequential %d at byte %d",
								p, workers, limits, len(got), len(want), firstDiff(got, want))
						}
					}
					restore()
				}
			}
		}
	}
	t.Logf("%d copies compared", files)
}

// copySource is an RDB file to copy through the Writer, with the options of
// its own version.
type copySource struct {
	path string
	src  []byte
	own  rdb.WriterOptions
}

// copySources are the fixtures and the corpus RDB files (when the corpus is
// there) that have a readable header.
func copySources(t *testing.T) []copySource {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(moduleRoot(), "fixtures", "*.rdb"))
	if dir := testenv.CorpusOrEmpty(); dir != "" {
		for _, rel := range corpusRDBFiles(t) {
			paths = append(paths, filepath.Join(dir, rel))
		}
	} else {
		t.Log("corpus absent: fixtures only")
	}
	var out []copySource
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r := rdb.NewReaderBytes(src, rdb.ReaderOptions{})
		h, err := r.Header()
		r.Close()
		if err != nil {
			continue
		}
		own := rdb.WriterOptions{Version: h.Version, Valkey: h.IsValkey()}
		if h.IsValkey() {
			own.Version = 80
		}
		out = append(out, copySource{p, src, own})
	}
	return out
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, os.ErrClosed
	}
	return len(p), nil
}

// TestParallelWriteError: an output that fails part way makes the parallel
// writer fail like the sequential one (a sticky error), and ends its workers.
func TestParallelWriteError(t *testing.T) {
	restore := rdb.SetParallelWriteLimits(256, 1<<30)
	defer restore()
	w := rdb.NewWriter(&failAfter{n: 5000}, rdb.WriterOptions{Version: 10, CompressWorkers: 2})
	val := bytes.Repeat([]byte("compressible "), 40)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = w.WriteKey(&rdb.Entry{Kind: rdb.EntryKey, Key: []byte("k" + string(rune('a'+i%26)))}, &rdb.Value{Kind: rdb.KindString, String: val})
	}
	if err == nil {
		err = w.Close()
	}
	if err == nil || w.Err() == nil {
		t.Fatalf("no error from a failing output: %v", err)
	}
}
