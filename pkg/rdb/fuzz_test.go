package rdb

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader. Properties: it never panics,
// always terminates, and reading the same bytes twice gives the same dump (the
// reader is a pure function of its input).
func FuzzReader(f *testing.F) {
	addReaderSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := ReaderOptions{Strict: true, MaxElementSize: 1 << 20}
		a := dumpText(bytes.NewReader(data), opts)
		b := dumpText(bytes.NewReader(data), opts)
		if a != b {
			t.Fatalf("two reads differ:\n%s\n%s", a, b)
		}
		_ = dumpText(bytes.NewReader(data), ReaderOptions{MaxElementSize: 1 << 20})
	})
}

// FuzzParallel: skipping values with background workers (every value handed
// over, one per batch, so that failures race with later batches) reports
// exactly what skipping without them does.
func FuzzParallel(f *testing.F) {
	addReaderSeeds(f)
	defer SetParallelLimits(ParallelLimits{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 2})()
	f.Fuzz(func(t *testing.T, data []byte) {
		if a, b := skipVerdict(data, 0), skipVerdict(data, 2); a != b {
			t.Fatalf("with workers:\n%s\nwithout:\n%s", b, a)
		}
	})
}

func skipVerdict(data []byte, workers int) string {
	var warns []string
	rd := NewReaderBytes(data, ReaderOptions{Strict: true, MaxElementSize: 1 << 20, Workers: workers,
		Warn: func(pe *ParseError) { warns = append(warns, pe.Error()) }})
	defer rd.Close()
	var err error
	for err == nil {
		_, err = rd.Next()
	}
	state, crc := rd.Checksum()
	return fmt.Sprintf("%v @%d keys=%d %v/%x %q", err, rd.Offset(), rd.KeysRead(), state, crc, warns)
}

func addReaderSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/reader/*.txt")
	for _, path := range files {
		for _, c := range parseDDFile(f, path) {
			f.Add(c.input)
		}
	}
	// Real files as seeds: the project's fixtures and, when pointed at it, a
	// directory such as ../shared/corpus/librdb.
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	if dir := os.Getenv("RDBTOOL_FUZZ_SEEDS"); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "*.rdb"))
		seeds = append(seeds, more...)
	}
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
}
