package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// writeRDB writes keys (name -> string value, in database db) as an RDB 10.
func writeRDB(t *testing.T, path string, db int, kv ...string) {
	t.Helper()
	var buf bytes.Buffer
	o, _ := rdb.TargetVersion("redis:7.0")
	w := rdb.NewWriter(&buf, o)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := w.WriteKey(&rdb.Entry{Key: []byte(kv[i]), DB: db}, &rdb.Value{Kind: rdb.KindString, String: []byte(kv[i+1])}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMerge merges fixtures into one file a server loads with the union of
// their datasets, and checks the duplicate policies.
func TestMerge(t *testing.T) {
	dir := t.TempDir()
	fx := filepath.Join(moduleRoot(t), "fixtures")
	a, b := filepath.Join(fx, "types-7.0.rdb"), filepath.Join(fx, "compressed-lists-7.0.rdb")
	out := filepath.Join(dir, "merged.rdb")
	// They share one key, list:plain: the last input's copy wins.
	code, _, errOut := runCLI(t, nil, "merge", "--on-duplicate", "last", a, b, out)
	if code != 0 || !strings.Contains(errOut, "1 keys were in several inputs (1 copies left out") {
		t.Fatalf("merge: exit %d\n%s", code, errOut)
	}
	id := func(l string) string { return l[:strings.Index(l, `,"type"`)] }
	inB := map[string]bool{}
	want := expectedOf(t, b, false)
	for _, l := range want {
		inB[id(l)] = true
	}
	for _, l := range expectedOf(t, a, false) {
		if strings.HasPrefix(l, `{"functions"`) || !inB[id(l)] {
			want = append(want, l) // b has no functions
		}
	}
	canon.Sort(want)
	s := redistest.Start(t, redistest.Options{RDB: out})
	sameDataset(t, "merged", want, liveLines(t, s.Snapshot(t, redistest.SnapshotOptions{}), false))

	// One key in two inputs.
	x, y := filepath.Join(dir, "x.rdb"), filepath.Join(dir, "y.rdb")
	writeRDB(t, x, 0, "shared", "from x", "only-x", "1")
	writeRDB(t, y, 0, "only-y", "2", "shared", "from y")
	code, _, errOut = runCLI(t, nil, "merge", x, y, filepath.Join(dir, "dup.rdb"))
	if code != 1 || !strings.Contains(errOut, `key "shared" of db 0 in inputs 1, 2`) || !strings.Contains(errOut, "--on-duplicate") {
		t.Errorf("duplicate: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "dup.rdb")); err == nil {
		t.Error("a refused merge left its output")
	}
	for policy, value := range map[string]string{"first": "from x", "last": "from y"} {
		p := filepath.Join(dir, policy+".rdb")
		if code, _, errOut := runCLI(t, nil, "merge", "--on-duplicate", policy, x, y, p); code != 0 {
			t.Fatalf("%s: %s", policy, errOut)
		}
		got := expectedOf(t, p, false)
		if len(got) != 3 || !strings.Contains(strings.Join(got, "\n"), `"key":"s:shared","type":"string","value":"s:`+value+`"`) {
			t.Errorf("--on-duplicate %s: %q", policy, got)
		}
	}
	// The same key in different databases is no duplicate.
	writeRDB(t, y, 3, "shared", "db 3")
	if code, _, errOut := runCLI(t, nil, "merge", x, y, filepath.Join(dir, "dbs.rdb")); code != 0 {
		t.Errorf("two databases: %s", errOut)
	}
	if code, _, _ := runCLI(t, nil, "merge", x, "-", out); code != 2 {
		t.Errorf("standard input accepted")
	}
}

// TestSplitMaps splits a fixture by a hand-written map and by a nodes.conf:
// every key lands in the part of its slot, and the parts together hold
// database 0.
func TestSplitMaps(t *testing.T) {
	dir := t.TempDir()
	types := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	var want []string
	for _, l := range expectedOf(t, types, false) {
		if strings.HasPrefix(l, `{"db":0,`) {
			want = append(want, l)
		}
	}
	conf := filepath.Join(dir, "nodes.conf")
	os.WriteFile(conf, []byte(nodesConfText), 0o644)
	for _, tc := range []struct {
		flag, value string
		files       []string
		ranges      [][2]int
	}{
		{"--slots", "0-99+200-16383,100-199", []string{"part-1.rdb", "part-2.rdb"}, [][2]int{{-1, -1}, {100, 199}}},
		{"--nodes", conf, []string{"127.0.0.1-30001.rdb", "127.0.0.1-30002.rdb", "127.0.0.1-30003.rdb"}, [][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}},
	} {
		out := filepath.Join(dir, strings.TrimPrefix(tc.flag, "--"))
		code, stdout, errOut := runCLI(t, nil, "split", "--no-progress", tc.flag, tc.value, "--db", "0", types, out)
		if code != 0 {
			t.Fatalf("split %s: exit %d\n%s", tc.flag, code, errOut)
		}
		var got []string
		for i, f := range tc.files {
			if !strings.Contains(stdout, f) {
				t.Errorf("split %s: %s not listed:\n%s", tc.flag, f, stdout)
			}
			lines := expectedOf(t, filepath.Join(out, f), false)
			for _, l := range lines {
				if strings.HasPrefix(l, `{"functions"`) {
					continue
				}
				got = append(got, l)
				r := tc.ranges[i]
				if r[0] < 0 {
					continue
				}
				var k struct{ Key string }
				jsonUnmarshal(t, l, &k)
				if slot := cluster.Slot(canonKey(t, k.Key)); slot < r[0] || slot > r[1] {
					t.Errorf("%s: key %q of slot %d in %s", tc.flag, k.Key, slot, f)
				}
			}
		}
		canon.Sort(got)
		sameDataset(t, "split "+tc.flag, want, got)
		// Again over it: --force replaces what split wrote.
		if code, _, errOut := runCLI(t, nil, "split", "--no-progress", "--force", tc.flag, tc.value, "--db", "0", types, out); code != 0 {
			t.Errorf("--force: %s", errOut)
		}
	}
	if code, _, errOut := runCLI(t, nil, "split", "--slots", "0-16383", types, filepath.Join(dir, "x")); code != 1 || !strings.Contains(errOut, "database 1") {
		t.Errorf("keys outside db 0: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "split", "--db", "0", "--slots", "0-100", types, filepath.Join(dir, "x")); code != 1 || !strings.Contains(errOut, "no master") {
		t.Errorf("uncovered slots: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a failed split left its folder")
	}
}

const nodesConfText = `e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003 master - 0 1426238317239 3 connected 10923-16383
vars currentEpoch 3 lastVoteEpoch 0
`
