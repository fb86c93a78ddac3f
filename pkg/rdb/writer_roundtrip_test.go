package rdb_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestWriterRoundTrip copies every fixture and generated corpus dump through
// the Writer at its own version and at lower targets, and checks:
//   - at its own version, every record reads back the same (AUX fields too);
//   - at every target, the canonical dataset is the source's minus what the
//     target cannot hold (field TTLs below 12, functions below 10, streams
//     below 9; a type-15 stream's derived counters);
//   - WriteKey and the element-by-element path give the same bytes, writing
//     twice gives the same bytes, and rewriting the output reproduces it;
//   - versions 8 and 7 (streams and functions dropped) for all but the
//     medium datasets, which add nothing there but time;
//   - redis-check-rdb accepts every file it can read (versions up to 10).
func TestWriterRoundTrip(t *testing.T) {
	var checkRDB string
	if b, err := redistest.Lookup(); err == nil {
		checkRDB = b.CheckRDB
	}
	dir := t.TempDir()
	for _, src := range writerSources(t) {
		targets := []int{src.hdr.Version, 10, 9, 8, 7}
		if src.hdr.IsValkey() {
			targets[0] = 80
		}
		if strings.Contains(src.name, "medium") {
			targets = targets[:3] // 8 and 7 are covered by the smaller sources
		}
		seen := map[int]bool{}
		for _, v := range targets {
			if seen[v] {
				continue
			}
			seen[v] = true
			t.Run(src.name+"/v"+strconv.Itoa(v), func(t *testing.T) {
				t.Parallel()
				own := v == src.hdr.Version
				opts := lowerOptions(v)
				if own {
					opts = ownOptions(t, src)
				}
				out, w, err := rdbCopy(src.data, opts, copyValues)
				if err != nil {
					t.Fatal(err)
				}
				if own {
					again, _, err := rdbCopy(src.data, opts, copyValues)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(out, again) {
						t.Fatal("writing the same input twice gave different bytes")
					}
				}
				streamed, _, err := rdbCopy(src.data, opts, copyElems)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, streamed) {
					t.Fatalf("StartKey/WriteElem/EndKey (%d bytes) and WriteKey (%d bytes) differ at byte %d", len(streamed), len(out), firstDiff(out, streamed))
				}
				rewritten, _, err := rdbCopy(out, opts, copyValues)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out, rewritten) {
					t.Fatalf("rewriting the output changed it at byte %d", firstDiff(out, rewritten))
				}
				if own {
					if d := diffLines(recordDump(t, src.data), recordDump(t, out)); d != "" {
						t.Errorf("records differ from the source:\n%s", d)
					}
					if w.Dropped() != nil {
						t.Errorf("dropped %v at the source's own version", w.Dropped())
					}
				}
				want := transformLines(t, canonLines(t, src.data), expectView{version: v})
				got := transformLines(t, canonLines(t, out), expectView{version: v})
				if d := diffLines(want, got); d != "" {
					t.Errorf("canonical dataset differs:\n%s", d)
				}
				if checkRDB != "" && v <= 10 {
					path := dir + "/" + strings.ReplaceAll(src.name, "/", "_") + "-v" + strconv.Itoa(v) + ".rdb"
					writeFile(t, path, out)
					if b, err := exec.Command(checkRDB, path).CombinedOutput(); err != nil || !strings.Contains(string(b), "RDB looks OK") {
						t.Errorf("redis-check-rdb: %v\n%s", err, b)
					}
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWriterSpoolFile writes the same input through a
// tiny spool memory, so that nodes and consumers go through temporary
// files, and expects the same bytes.
func TestWriterSpoolFile(t *testing.T) {
	srcs := writerSources(t)
	for _, src := range srcs {
		opts := ownOptions(t, src)
		want, _, err := rdbCopy(src.data, opts, copyElems)
		if err != nil {
			t.Fatal(err)
		}
		opts.SpoolMemory = 64
		opts.SpoolDir = t.TempDir()
		got, _, err := rdbCopy(src.data, opts, copyElems)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s: spooling through files changed the output at byte %d", src.name, firstDiff(want, got))
		}
		if left, _ := globCount(opts.SpoolDir); left != 0 {
			t.Errorf("%s: %d spool files left behind", src.name, left)
		}
	}
}

// TestWriterCorpusRoundTrip copies every other RDB file of the public corpus
// (old encodings such as zipmaps and ziplists, module values, Valkey 9 files
// with HASH_2 and slot imports, Redis 8.6 streams with IDMP records, RDB 2 to 6
// files written as 7) at its own version and expects the same records back.
// Files the reader refuses are skipped; files with empty collections must be
// refused; 7.0-RC functions come back converted to FUNCTION2, as Redis 7.0
// converts them.
func TestWriterCorpusRoundTrip(t *testing.T) {
	root := testenv.Corpus(t)
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "generated" {
				return filepath.SkipDir // TestWriterRoundTrip
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil || len(data) < 9 || !(string(data[:5]) == "REDIS" || string(data[:6]) == "VALKEY") {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if _, err := canonReadable(data); err != nil {
			t.Logf("%s: skipped, the reader refuses it: %v", rel, err)
			return nil
		}
		n++
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		h, _ := r.Header()
		r.Close()
		v := max(h.Version, 7)
		opts := rdb.WriterOptions{Version: v, Valkey: h.IsValkey()}
		out, _, err := rdbCopy(data, opts, copyValues)
		if err != nil {
			if errors.Is(err, rdb.ErrInvalidValue) && strings.Contains(rel, "empty_keys") {
				return nil
			}
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		want := recordDumpOpts(t, data, rdb.ReaderOptions{})
		got := recordDump(t, out)
		keep := func(l []string) []string {
			var o []string
			for _, x := range l {
				if !strings.HasPrefix(x, "aux ") && !strings.HasPrefix(x, "select ") {
					o = append(o, x)
				}
			}
			return o
		}
		if d := diffLines(keep(want), keep(got)); d != "" {
			t.Errorf("%s at version %d: records differ:\n%s", rel, v, d)
		}
		return nil
	})
	t.Logf("%d corpus files copied", n)
}

// canonReadable reads a whole file, values included.
func canonReadable(data []byte) (int, error) {
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	n := 0
	for {
		e, err := r.Next()
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		if e.Kind == rdb.EntryKey {
			if _, err := r.ReadValue(1 << 30); err != nil {
				return n, err
			}
			n++
		}
	}
}

// BenchmarkWriterCopy measures reading a generated corpus dump and writing it
// back at its own version, element by element and value by value.
func BenchmarkWriterCopy(b *testing.B) {
	var src wSource
	for _, s := range writerSources(b) {
		if s.name == "redis-unstable-20241018/medium" {
			src = s
		}
	}
	if src.data == nil {
		b.Skip("generated corpus not found")
	}
	for _, m := range []struct {
		name string
		mode copyMode
	}{{"values", copyValues}, {"elems", copyElems}} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(src.data)))
			for b.Loop() {
				if _, _, err := rdbCopy(src.data, rdb.WriterOptions{Version: 12}, m.mode); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
