package convert_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/pkg/aof"
)

// normalizeForAOF removes from canonical lines what an AOF cannot carry:
// consumers' seen_time (no command sets it), hash-field TTLs when the target
// has none (dropHFE); and, to show what Redis's own rewrite loses
// (dropDeletedPEL), PEL entries whose stream entry was deleted.
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
	baseName, incrName, manifestName, m := aof.DirLayout("appendonly.aof", false)
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
