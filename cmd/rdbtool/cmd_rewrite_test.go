package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputIntoMissingFolder: an OUT whose folder does not exist is refused
// before anything is read, with a message that names the folder (not a bare
// stat error) and exit 2, as docs/exit-codes.md says; nothing is created.
func TestOutputIntoMissingFolder(t *testing.T) {
	src := fixture(t, "aof-nopreamble-7.0/appendonlydir")
	root := t.TempDir()
	missing := filepath.Join(root, "nonexistent-parent")
	for _, args := range [][]string{
		{"rewrite", src, filepath.Join(missing, "out")},
		{"rewrite", "--single-file", src, filepath.Join(missing, "out.aof")},
		{"convert", src, filepath.Join(missing, "out.rdb")},
	} {
		code, out, errOut := runCLI(t, nil, args...)
		t.Logf("%s: exit %d: %s", strings.Join(args[:len(args)-2], " "), code, strings.TrimSpace(errOut))
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s%s", args, code, exitUsage, out, errOut)
		}
		want := "the folder " + missing + " does not exist"
		if !strings.Contains(errOut, want) || strings.Contains(errOut, "stat ") {
			t.Errorf("%v: message %q, want one saying %q", args, errOut, want)
		}
		if _, err := os.Stat(missing); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, missing)
		}
	}
}
