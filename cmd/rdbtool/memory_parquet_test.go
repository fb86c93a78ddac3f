package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/rdbtool/rdbtool/internal/testenv"
)

// TestMemoryParquet reads the Parquet file back with parquet-go and checks
// it row by row against the JSON Lines of the same run.
func TestMemoryParquet(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	dst := filepath.Join(t.TempDir(), "keys.parquet")
	if code, _, errOut := runCLI(t, nil, "memory", "--no-progress", "--format", "parquet", "-o", dst, fixture); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, jsonl, _ := runCLI(t, nil, "memory", "--no-progress", "--format", "jsonl", fixture)
	lines := strings.Split(strings.TrimSuffix(jsonl, "\n"), "\n")

	f, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[memoryRow](f)
	defer r.Close()
	if n := r.NumRows(); n != int64(len(lines)) {
		t.Fatalf("%d rows, %d jsonl lines", n, len(lines))
	}
	rows := make([]memoryRow, len(lines))
	if n, err := r.Read(rows); n != len(rows) || (err != nil && err != io.EOF) {
		t.Fatalf("read %d rows: %v", n, err)
	}
	for i, l := range lines {
		var want struct {
			DB          int32  `json:"db"`
			Key         any    `json:"key"`
			Type        string `json:"type"`
			Encoding    string `json:"encoding"`
			MemoryBytes int64  `json:"memory_bytes"`
			Elements    int64  `json:"elements"`
			Largest     int64  `json:"largest_element_bytes"`
			ExpireAtMs  *int64 `json:"expire_at_ms"`
		}
		if err := json.Unmarshal([]byte(l), &want); err != nil {
			t.Fatal(err)
		}
		got := rows[i]
		if s, ok := want.Key.(string); ok && (got.KeyUTF8 == nil || *got.KeyUTF8 != s || string(got.Key) != s) {
			t.Errorf("row %d: key %q / %v, want %q", i, got.Key, got.KeyUTF8, s)
		}
		if got.DB != want.DB || got.Type != want.Type || got.Encoding != want.Encoding || got.MemoryBytes != want.MemoryBytes ||
			got.Elements != want.Elements || got.LargestElementBytes != want.Largest || (got.ExpireAtMs == nil) != (want.ExpireAtMs == nil) ||
			(got.ExpireAtMs != nil && *got.ExpireAtMs != *want.ExpireAtMs) {
			t.Errorf("row %d: %+v, want %s", i, got, l)
		}
	}
}

// TestMemoryParquetDuckDB reads the file with DuckDB: a duckdb CLI on PATH,
// which .ci/run provides by building tools/duckdb (a module of its own that
// links DuckDB through github.com/duckdb/duckdb-go and answers
// `duckdb -csv -noheader -c SQL` as the CLI does), since Debian 12 has no
// duckdb package. Under CI a missing one is a failure; elsewhere the test
// skips and says how to get one.
func TestMemoryParquetDuckDB(t *testing.T) {
	duck, err := exec.LookPath("duckdb")
	if err != nil {
		if testenv.InCI() {
			t.Fatal("no duckdb on PATH: .ci/run builds one from tools/duckdb")
		}
		t.Skip("skipped: no duckdb on PATH (build one: cd tools/duckdb && go build -o ~/bin/duckdb .)")
	}
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	dst := filepath.Join(t.TempDir(), "keys.parquet")
	if code, _, errOut := runCLI(t, nil, "memory", "--no-progress", "--format", "parquet", "-o", dst, fixture); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out, err := exec.Command(duck, "-csv", "-noheader", "-c",
		"SELECT count(*), sum(memory_bytes), count(key_utf8) FROM '"+dst+"'").CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	_, js, _ := runCLI(t, nil, "memory", "--no-progress", "--format", "json", fixture)
	var rep struct {
		Total struct {
			Keys        int64 `json:"keys"`
			MemoryBytes int64 `json:"memory_bytes"`
		} `json:"total"`
	}
	json.Unmarshal([]byte(js), &rep)
	want := strconv.FormatInt(rep.Total.Keys, 10) + "," + strconv.FormatInt(rep.Total.MemoryBytes, 10) + ","
	if !strings.HasPrefix(strings.TrimSpace(string(out)), want) {
		t.Errorf("duckdb says %q, want %s...", out, want)
	}
}
