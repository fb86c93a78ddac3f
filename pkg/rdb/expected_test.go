package rdb_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// TestDatasetsMatchServers compares, key by key and value by value, what the
// reader sees in files written by real servers with the dataset those servers
// held (canonical JSON lines: TTLs, stream groups, PEL, consumers' seen time and
// hash-field TTLs included).
func TestDatasetsMatchServers(t *testing.T) {
	type pair struct{ rdb, want string }
	var pairs []pair
	fixtures, _ := filepath.Glob(filepath.Join(moduleRoot(), "fixtures", "*.rdb"))
	for _, f := range fixtures {
		pairs = append(pairs, pair{f, strings.TrimSuffix(f, ".rdb") + ".expected.jsonl"})
	}
	if len(fixtures) == 0 {
		t.Error("no fixtures/*.rdb")
	}
	if corpus := testenv.OptionalCorpus(t); corpus != "" {
		dumps, _ := filepath.Glob(filepath.Join(corpus, "generated", "*", "*", "dump.rdb"))
		for _, d := range dumps {
			pairs = append(pairs, pair{d, filepath.Join(filepath.Dir(d), "expected-strict.jsonl")})
		}
	}
	for _, p := range pairs {
		name, _ := filepath.Rel(moduleRoot(), p.rdb)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p.rdb)
			if err != nil {
				t.Fatal(err)
			}
			want, err := canon.ReadFile(p.want)
			if err != nil {
				t.Fatal(err)
			}
			r := rdb.NewReader(bytes.NewReader(data), rdb.ReaderOptions{Strict: true})
			defer r.Close()
			got, err := canon.FromRDB(r, true)
			if err != nil {
				t.Fatal(err)
			}
			if d := canon.Diff(want, got); d != "" {
				t.Errorf("dataset differs from the server's:\n%s", d)
			}
		})
	}
}
