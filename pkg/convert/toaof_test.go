package convert_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestRDBToAOFLoadsInRedis converts RDB files written by real servers into AOF
// (commands, and RESTORE payloads for files a 7.0 server can read), has a real
// Redis 7.0 load each AOF, and compares what it then holds with the dataset of
// the source: keys, values, TTLs, stream groups, consumers and PEL.
func TestRDBToAOFLoadsInRedis(t *testing.T) {
	redistest.Require(t)
	for _, p := range datasets(t) {
		name, _ := filepath.Rel(moduleRoot(), p[0])
		data, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		h, _ := rdb.NewReaderBytes(data, rdb.ReaderOptions{}).Header()
		// Field TTLs (Redis 7.4+) have no 7.0 form: those sources are compared
		// without them.
		hasHFE := strings.Contains(p[0], "redis-unstable")
		modes := []string{"commands-file", "commands-dir"}
		if h.Version <= 10 {
			modes = append(modes, "restore")
		}
		for _, mode := range modes {
			t.Run(name+"/"+mode, func(t *testing.T) {
				dir := t.TempDir()
				var buf bytes.Buffer
				w := aof.NewWriter(&buf)
				r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
				defer r.Close()
				if _, err := convert.RDBToAOF(r, w, convert.AOFOptions{Restore: mode == "restore", DropFieldTTLs: hasHFE}); err != nil {
					t.Fatal(err)
				}
				opts := redistest.Options{Dir: dir}
				if mode == "commands-file" {
					// A single appendonly.aof: Redis 7.0 adopts it as the base of a new
					// multi-part folder.
					if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					opts.Args = []string{"--appendonly", "yes"}
				} else {
					opts.AOFDir = writeAOFDir(t, buf.Bytes())
				}
				srv := redistest.Start(t, opts)
				got := srv.Snapshot(t, redistest.SnapshotOptions{})
				wantFile := strings.TrimSuffix(p[1], "-strict.jsonl") + ".jsonl"
				if strings.HasPrefix(name, "fixtures") {
					wantFile = p[1]
				}
				want, err := canon.ReadFile(wantFile)
				if err != nil {
					t.Fatal(err)
				}
				normalize := func(lines []string) []string {
					return normalizeForAOF(t, lines, hasHFE, mode != "restore")
				}
				if d := canon.Diff(normalize(want), normalize(got)); d != "" {
					t.Errorf("Redis 7.0 loading our AOF holds another dataset:\n%s", d)
				}
			})
		}
	}
}

// normalizeForAOF removes from canonical lines what an AOF cannot carry to a
// Redis 7.0: consumers' seen_time (no command sets it), hash-field TTLs when
// the source had them, and, for command-built streams, PEL entries whose
// stream entry was deleted (XCLAIM ... FORCE skips IDs that are not in the
// stream, in Redis's own rewrite too).
func normalizeForAOF(t *testing.T, lines []string, dropHFE, dropDeletedPEL bool) []string {
	t.Helper()
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if dropHFE {
			delete(m, "field_expire_at_ms")
		}
		if st, ok := m["value"].(map[string]any); ok && m["type"] == "stream" {
			live := map[string]bool{}
			for _, e := range asList(st["entries"]) {
				live[asList(e)[0].(string)] = true
			}
			for _, g := range asList(st["groups"]) {
				g := g.(map[string]any)
				if dropDeletedPEL {
					var pel []any
					for _, p := range asList(g["pel"]) {
						if live[asList(p)[0].(string)] {
							pel = append(pel, p)
						}
					}
					g["pel"] = pel
				}
				for _, c := range asList(g["consumers"]) {
					c := c.(map[string]any)
					delete(c, "seen_time")
					if dropDeletedPEL {
						var ids []any
						for _, id := range asList(c["pel"]) {
							if live[id.(string)] {
								ids = append(ids, id)
							}
						}
						c["pel"] = ids
					}
				}
			}
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	canon.Sort(out)
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// writeAOFDir lays out a multi-part AOF folder around base.
func writeAOFDir(t *testing.T, base []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	baseName, incrName, manifestName, m := convert.AOFDirLayout("appendonly.aof", false)
	var mf bytes.Buffer
	if _, err := m.WriteTo(&mf); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{baseName: base, incrName: nil, manifestName: mf.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
