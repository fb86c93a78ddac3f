package convert_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestAOFToRDBMatchesServers replays every AOF of the generated corpus (multi-
// part folders with RDB and RESP bases, and single files with an RDB preamble)
// offline, writes the result as an RDB of the server's own version, reads it
// back, and compares it with aof-expected.jsonl: the dataset the real server
// reached by loading the same AOF. For Redis 7.0 sources, a real Redis 7.0 also
// loads our RDB and must hold that dataset.
func TestAOFToRDBMatchesServers(t *testing.T) {
	root := filepath.Join(testenv.Corpus(t), "generated")
	sets, _ := filepath.Glob(filepath.Join(root, "*", "*", "aof-expected.jsonl"))
	if len(sets) == 0 {
		t.Fatalf("no */*/aof-expected.jsonl under %s", root)
	}
	for _, exp := range sets {
		dir := filepath.Dir(exp)
		want, err := canon.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		version := "10"
		switch {
		case strings.Contains(dir, "valkey"):
			version = "valkey:8.0"
		case strings.Contains(dir, "redis-unstable"):
			version = "12"
		}
		for _, src := range []string{"appendonlydir", "legacy.aof"} {
			name, _ := filepath.Rel(root, filepath.Join(dir, src))
			t.Run(name, func(t *testing.T) {
				files, err := convert.AOFFiles(filepath.Join(dir, src))
				if err != nil {
					t.Fatal(err)
				}
				// A RESP-only AOF does not say which server wrote it: the corpus
				// folder's name does.
				from := convert.DetectServer(files, nil)
				if strings.Contains(dir, "redis-7.0") {
					from = convert.Server{Version: 700}
				}
				e := engine.New(engine.Options{Version: from.Version, Valkey: from.Valkey})
				st, err := convert.ReplayAOF(files, e, convert.ReplayOptions{})
				if err != nil {
					t.Fatal(err)
				}
				opts, err := rdb.TargetVersion(version)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := convert.WriteEngine(e, rdb.NewWriter(&out, opts), convert.Filter{}); err != nil {
					t.Fatal(err)
				}
				r := rdb.NewReaderBytes(out.Bytes(), rdb.ReaderOptions{Strict: true})
				defer r.Close()
				got, err := canon.FromRDB(r, false)
				if err != nil {
					t.Fatal(err)
				}
				if d := canon.Diff(want, got); d != "" {
					t.Fatalf("replayed dataset differs from the server's (%d files, %d commands):\n%s", st.Files, st.Commands, d)
				}
				if version != "10" || src != "appendonlydir" {
					return
				}
				redistest.Require(t)
				p := filepath.Join(t.TempDir(), "dump.rdb")
				if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				srv := redistest.Start(t, redistest.Options{RDB: p})
				if d := canon.Diff(want, srv.Snapshot(t, redistest.SnapshotOptions{})); d != "" {
					t.Errorf("Redis 7.0 loading our RDB holds another dataset:\n%s", d)
				}
			})
		}
	}
}
