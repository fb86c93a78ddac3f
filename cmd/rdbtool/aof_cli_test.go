package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestVerifyAOFCorpus: verify on the corpus's AOF files, folders and data
// folders gives the verdicts MANIFEST.md states.
func TestVerifyAOFCorpus(t *testing.T) {
	corpus := corpusDir(t)
	cases := map[string]int{
		"replicator/appendonly1.aof":                         0,
		"replicator/appendonly2.aof":                         0,
		"replicator/appendonly5.aof":                         0,
		"replicator/appendonly-with-ts.aof":                  0,
		"hdt3213/memory.aof":                                 0,
		"redis/rdb-preamble.aof":                             0,
		"fred-rs/appendonlydir":                              0,
		"redisshake/appendonlydir":                           3, // LF-only line endings
		"redisearch/appendonlydir":                           3, // manifest names a missing base
		"generated/redis-7.0.15/small":                       0, // a data folder
		"generated/redis-7.0.15/small-nopreamble":            0,
		"generated/valkey-unstable-20241025/medium":          0,
		"generated/redis-unstable-20241018/small/legacy.aof": 0,
		"generated/redis-unstable-20241018/small/appendonlydir/appendonly.aof.manifest": 0,
	}
	for rel, want := range cases {
		p := filepath.Join(corpus, rel)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		code, out, errOut := runCLI(t, nil, "verify", "--no-progress", p)
		if code != want {
			t.Errorf("%s: exit %d, want %d: %s%s", rel, code, want, out, errOut)
		}
	}
}

// TestRepairLoadsInRedis tears the last file of a real AOF folder at several
// points, repairs it, and checks that real Redis loading the repaired folder
// holds exactly what it holds when it loads the torn folder itself (it cuts a
// torn tail of the last file on its own, aof-load-truncated yes).
func TestRepairLoadsInRedis(t *testing.T) {
	redistest.Require(t)
	src := filepath.Join(moduleRoot(t), "fixtures", "aof-nopreamble-7.0", "appendonlydir")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	var incr string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".incr.") {
			incr = e.Name()
		}
	}
	data, err := os.ReadFile(filepath.Join(src, incr))
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data) - 1, len(data) - 7, len(data) * 2 / 3, len(data) / 3, 5} {
		dir := filepath.Join(t.TempDir(), "appendonlydir")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, _ := os.ReadFile(filepath.Join(src, e.Name()))
			if e.Name() == incr {
				b = b[:cut]
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		code, out, errOut := runCLI(t, nil, "repair", dir)
		if code != 0 {
			t.Fatalf("cut %d: repair exit %d: %s%s", cut, code, out, errOut)
		}
		repaired := dir + ".repaired"
		if code, out, _ := runCLI(t, nil, "verify", "--no-progress", repaired); code != 0 {
			t.Fatalf("cut %d: repaired folder does not verify: %s", cut, out)
		}
		want := redistest.Start(t, redistest.Options{AOFDir: dir}).Snapshot(t, redistest.SnapshotOptions{})
		got := redistest.Start(t, redistest.Options{AOFDir: repaired}).Snapshot(t, redistest.SnapshotOptions{})
		if d := canon.Diff(want, got); d != "" {
			t.Errorf("cut %d: Redis holds another dataset from the repaired folder:\n%s", cut, d)
		}
	}
}

// TestRewriteLoadsInRedis compacts a real AOF folder offline (RDB base and RESP
// base, folder and single file) and has real Redis load each result: it must
// hold what it holds when it loads the original folder, and the result must be
// smaller.
func TestRewriteLoadsInRedis(t *testing.T) {
	redistest.Require(t)
	src := filepath.Join(moduleRoot(t), "fixtures", "aof-nopreamble-7.0", "appendonlydir")
	want := redistest.Start(t, redistest.Options{AOFDir: src}).Snapshot(t, redistest.SnapshotOptions{})
	srcSize := pathSize(src)
	for _, args := range [][]string{{}, {"--base", "aof"}, {"--single-file"}, {"--single-file", "--base", "aof"}} {
		out := filepath.Join(t.TempDir(), "out")
		if code, o, e := runCLI(t, nil, append(append([]string{"rewrite"}, args...), src, out)...); code != 0 {
			t.Fatalf("rewrite %v: exit %d: %s%s", args, code, o, e)
		}
		if code, o, _ := runCLI(t, nil, "verify", "--no-progress", out); code != 0 {
			t.Fatalf("rewrite %v: output does not verify: %s", args, o)
		}
		opts := redistest.Options{AOFDir: out}
		if len(args) > 0 && args[0] == "--single-file" {
			dir := t.TempDir()
			b, _ := os.ReadFile(out)
			os.WriteFile(filepath.Join(dir, "appendonly.aof"), b, 0o644)
			opts = redistest.Options{Dir: dir, Args: []string{"--appendonly", "yes"}}
		}
		got := redistest.Start(t, opts).Snapshot(t, redistest.SnapshotOptions{})
		if d := canon.Diff(want, got); d != "" {
			t.Errorf("rewrite %v: Redis holds another dataset:\n%s", args, d)
		}
		if size := pathSize(out); size >= srcSize {
			t.Errorf("rewrite %v: %d bytes, not smaller than the input's %d", args, size, srcSize)
		} else {
			t.Logf("rewrite %v: %d -> %d bytes (%.1f%%)", args, srcSize, size, 100*float64(size)/float64(srcSize))
		}
	}
}
