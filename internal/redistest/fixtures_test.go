package redistest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
)

// moduleRoot is the directory of go.mod above the test's directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestFixtures checks the committed fixtures against the installed server: the
// SHA256SUMS hold, redis-check-rdb / redis-check-aof accept every file, and a
// server loading each one reaches exactly its expected.jsonl (strict for RDB
// files, non-strict for AOF directories).
func TestFixtures(t *testing.T) {
	dir := filepath.Join(moduleRoot(t), "fixtures")
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Skipf("no fixtures: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 differs from SHA256SUMS (regenerate with fixtures/make-fixtures.sh)", name)
		}
	}

	bin := Require(t)
	if !bin.AtLeast(7, 0) {
		t.Skipf("redis-server %s cannot load RDB 10", bin.Version)
	}
	rdbs, _ := filepath.Glob(filepath.Join(dir, "*.rdb"))
	for _, rdb := range rdbs {
		name := strings.TrimSuffix(filepath.Base(rdb), ".rdb")
		t.Run(name, func(t *testing.T) {
			if out, err := exec.Command(bin.CheckRDB, rdb).CombinedOutput(); err != nil || !strings.Contains(string(out), "RDB looks OK") {
				t.Errorf("redis-check-rdb: %v\n%s", err, out)
			}
			s := Start(t, Options{RDB: rdb})
			want, err := canon.ReadFile(filepath.Join(dir, name+".expected.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if d := canon.Diff(want, s.Snapshot(t, SnapshotOptions{Strict: true})); d != "" {
				t.Error(d)
			}
		})
	}
	aofs, _ := filepath.Glob(filepath.Join(dir, "*", "appendonlydir"))
	for _, aofDir := range aofs {
		name := filepath.Base(filepath.Dir(aofDir))
		t.Run(name, func(t *testing.T) {
			manifest := filepath.Join(aofDir, "appendonly.aof.manifest")
			if out, err := exec.Command(bin.CheckAOF, manifest).CombinedOutput(); err != nil || !strings.Contains(string(out), "All AOF files and manifest are valid") {
				t.Errorf("redis-check-aof: %v\n%s", err, out)
			}
			s := Start(t, Options{AOFDir: aofDir})
			want, err := canon.ReadFile(filepath.Join(filepath.Dir(aofDir), "expected.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if d := canon.Diff(want, s.Snapshot(t, SnapshotOptions{})); d != "" {
				t.Error(d)
			}
		})
	}
}
