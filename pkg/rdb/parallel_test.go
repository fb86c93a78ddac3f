package rdb_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// verdict reads data the way verify does (Next alone, strict) and renders
// everything a caller can observe: the error with its offset and key, where
// the reader stopped, the keys read, the checksum and every warning in order.
func verdict(data []byte, workers int) string {
	var warns []string
	rd := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true, Workers: workers,
		Warn: func(pe *rdb.ParseError) { warns = append(warns, pe.Error()) }})
	defer rd.Close()
	var err error
	for {
		if _, err = rd.Next(); err != nil {
			break
		}
	}
	state, crc := rd.Checksum()
	var pe *rdb.ParseError
	if err != io.EOF && !errors.As(err, &pe) {
		err = fmt.Errorf("not a ParseError: %w", err)
	}
	return fmt.Sprintf("err=%v\noffset=%d keys=%d checksum=%v/%x\nwarnings=%s",
		err, rd.Offset(), rd.KeysRead(), state, crc, strings.Join(warns, "\n  "))
}

// TestParallelMatchesSequential: with workers checking values in the
// background, a reader reports exactly what it reports without them — on the
// fixtures, on every corpus RDB, and on thousands of damaged files, with
// default limits (small values are checked by the parser), with every value
// handed over, one value per batch (so that failures surface while later
// batches are in flight), and with one batch in flight per worker (so that
// the parser checks values itself between values the workers check).
func TestParallelMatchesSequential(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	fixtures, _ := filepath.Glob(filepath.Join(moduleRoot(), "fixtures", "*.rdb"))
	for _, p := range fixtures {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(p), b})
		if strings.Contains(p, "types-7.0") || strings.Contains(p, "compressed-lists") {
			for _, m := range mutations(b) {
				inputs = append(inputs, input{filepath.Base(p) + ":" + m.name, m.data})
			}
		}
	}
	if dir := corpusDirOrEmpty(); dir != "" {
		for _, rel := range corpusRDBFiles(t) {
			b, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, input{rel, b})
		}
	} else {
		t.Log("corpus absent: fixtures and their damaged copies only")
	}
	check := func(label string) {
		for _, in := range inputs {
			want := verdict(in.data, 0)
			for _, w := range []int{1, 3} {
				if got := verdict(in.data, w); got != want {
					t.Fatalf("%s, %s, %d workers:\n got %s\nwant %s", in.name, label, w, got, want)
				}
			}
		}
	}
	check("default limits")
	restore := rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 256, BatchBytes: 256 << 10, PendingPerWorker: 4})
	defer restore()
	check("every value handed over")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 4})
	check("one value per batch")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 1})
	check("one value per batch, one batch per worker in flight (the parser checks many values itself)")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 3, BatchBytes: 1 << 20, PendingPerWorker: 2, MinJobBytes: 64})
	check("values from 64 bytes handed over, in threes")
	t.Logf("%d inputs agree with and without workers", len(inputs))
}

// corpusDirOrEmpty is the corpus folder, or "" when it is absent (outside CI).
func corpusDirOrEmpty() string {
	return testenv.CorpusOrEmpty()
}

// TestParallelNextAfterClose: Close stops the checksum goroutine and the
// workers; a later Next (misuse, but possible) fails instead of panicking.
func TestParallelNextAfterClose(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	rd := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true, Workers: 2})
	for i := 0; i < 10; i++ {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	rd.Close()
	if _, err := rd.Next(); err == nil || err == io.EOF {
		t.Fatalf("Next after Close: %v, want an error", err)
	}
}
