package scratch

import (
	"io"
	"os"
	"runtime"
	"testing"
)

func TestScratchLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	f, err := New(dir, "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("data"); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("the scratch file has a name while open: %v", entries)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(f); string(b) != "data" {
		t.Errorf("read back %q", b)
	}
	if err := Remove(f); err != nil {
		t.Errorf("Remove: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
