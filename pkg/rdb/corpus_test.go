package rdb_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// corpusDir finds ../shared/corpus next to the module root.
func corpusDir(t testing.TB) string {
	t.Helper()
	return testenv.Corpus(t)
}

// corpusRDBFiles lists every file of the corpus that starts with an RDB header.
func corpusRDBFiles(t testing.TB) []string {
	dir := corpusDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		head := make([]byte, 6)
		n, _ := io.ReadFull(f, head)
		if n >= 5 && (string(head[:5]) == "REDIS" || string(head[:6]) == "VALKEY") {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// corpusVerdict is what MANIFEST.md says a file is.
func corpusVerdict(rel string) (want string) {
	switch filepath.ToSlash(rel) {
	case "redis/corrupt_ziplist.rdb", "redis/corrupt_empty_keys.rdb", "keydb/corrupt_empty_keys.rdb",
		"librdb/invalid_chksum_v8.rdb", "librdb/future_v19.rdb":
		return "invalid"
	case "replicator/module.rdb": // Redis 4.0-RC module type 6: cannot be skipped
		return "unsupported"
	}
	return "valid"
}

// readAll reads a whole file through the public API, draining every element.
func readAll(r io.Reader, opts rdb.ReaderOptions) (keys int, err error) {
	return drain(rdb.NewReader(r, opts))
}

func readAllBytes(data []byte, opts rdb.ReaderOptions) (keys int, err error) {
	return drain(rdb.NewReaderBytes(data, opts))
}

// skipAll reads a file with Next alone, the way verify does: values are
// skipped (and checked) without producing elements.
func skipAll(data []byte, opts rdb.ReaderOptions) (keys int, err error) {
	rd := rdb.NewReaderBytes(data, opts)
	defer rd.Close()
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return keys, err
		}
		if e.Kind == rdb.EntryKey {
			keys++
		}
	}
}

func drain(rd *rdb.Reader) (keys int, err error) {
	defer rd.Close()
	for {
		e, err := rd.Next()
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return keys, err
		}
		if e.Kind == rdb.EntryKey {
			keys++
			for {
				if _, err := rd.NextElem(); err != nil {
					if err == io.EOF {
						break
					}
					return keys, err
				}
			}
		}
	}
}

func classify(err error) string {
	var ue *rdb.UnsupportedError
	switch {
	case err == nil:
		return "valid"
	case errors.As(err, &ue):
		return "unsupported"
	case errors.Is(err, rdb.ErrCorrupt), errors.Is(err, rdb.ErrTruncated), errors.Is(err, rdb.ErrChecksum):
		return "invalid"
	}
	return "error: " + err.Error()
}

func TestCorpusVerdicts(t *testing.T) {
	dir := corpusDir(t)
	files := corpusRDBFiles(t)
	if len(files) < 150 {
		t.Fatalf("only %d RDB files found in the corpus", len(files))
	}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		_, err = readAll(bytes.NewReader(data), rdb.ReaderOptions{Strict: true})
		if _, serr := skipAll(data, rdb.ReaderOptions{Strict: true}); classify(serr) != classify(err) {
			t.Errorf("%s: skipping values gives %v, reading them gives %v", rel, serr, err)
		}
		got, want := classify(err), corpusVerdict(rel)
		if got != want {
			t.Errorf("%s: got %s, want %s (err: %v)", rel, got, want, err)
			continue
		}
		if err != nil {
			var pe *rdb.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("%s: error is not a *rdb.ParseError: %v", rel, err)
			}
		}
	}
}

// TestOddReaders reads every corpus file one byte at a time and in halves: the
// result must not depend on how the input is chunked.
func TestOddReaders(t *testing.T) {
	dir := corpusDir(t)
	for _, rel := range corpusRDBFiles(t) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1<<20 {
			continue // one byte at a time is slow; the small files cover the shapes
		}
		wantKeys, wantErr := readAll(bytes.NewReader(data), rdb.ReaderOptions{Strict: true})
		keys, err := readAllBytes(data, rdb.ReaderOptions{Strict: true})
		if keys != wantKeys || classify(err) != classify(wantErr) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("%s via rdb.NewReaderBytes: %d keys, %v; want %d keys, %v", rel, keys, err, wantKeys, wantErr)
		}
		for name, r := range map[string]io.Reader{
			"onebyte": iotest.OneByteReader(bytes.NewReader(data)),
			"half":    iotest.HalfReader(bytes.NewReader(data)),
			"dataerr": iotest.DataErrReader(bytes.NewReader(data)),
		} {
			keys, err := readAll(r, rdb.ReaderOptions{Strict: true})
			if keys != wantKeys || classify(err) != classify(wantErr) || (err != nil && err.Error() != wantErr.Error()) {
				t.Errorf("%s via %s: %d keys, %v; want %d keys, %v", rel, name, keys, err, wantKeys, wantErr)
			}
		}
	}
}
