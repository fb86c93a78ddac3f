package aof

import (
	"bytes"
	"testing"
)

// TestDirLayout: a fresh folder's names and manifest are those Redis 7 writes
// after a rewrite, and the manifest is one Redis accepts.
func TestDirLayout(t *testing.T) {
	for _, tc := range []struct {
		rdbBase  bool
		manifest string
	}{
		{true, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"},
		{false, "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"},
	} {
		base, incr, manifest, m := DirLayout("appendonly.aof", tc.rdbBase)
		if incr != "appendonly.aof.1.incr.aof" || manifest != "appendonly.aof.manifest" || m.Base.Name != base {
			t.Errorf("rdbBase %v: %s, %s, %s", tc.rdbBase, base, incr, manifest)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("rdbBase %v: %v", tc.rdbBase, err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil || b.String() != tc.manifest {
			t.Errorf("rdbBase %v: manifest %q, %v; want %q", tc.rdbBase, b.String(), err, tc.manifest)
		}
	}
}
