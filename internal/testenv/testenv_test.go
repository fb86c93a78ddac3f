package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestModuleRootHoldsGoMod(t *testing.T) {
	if _, err := os.Stat(filepath.Join(ModuleRoot(), "go.mod")); err != nil {
		t.Fatal(err)
	}
}

// TestLoneClone: with the shared folder pointed at nothing, a test that needs
// the corpus skips (under CI too) instead of failing.
func TestLoneClone(t *testing.T) {
	t.Setenv("RDBTOOL_SHARED", filepath.Join(t.TempDir(), "absent"))
	t.Setenv("RDBTOOL_CORPUS", "")
	t.Setenv("CI", "true")
	if SharedDir() != "" || CorpusOrEmpty() != "" {
		t.Fatalf("SharedDir %q CorpusOrEmpty %q, want both empty", SharedDir(), CorpusOrEmpty())
	}
	var skipped, failed bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		ft := &fakeT{}
		defer func() { skipped, failed = ft.skipped, ft.failed }()
		Corpus(ft)
	}()
	<-done
	if !skipped || failed {
		t.Fatalf("skipped=%v failed=%v, want a skip", skipped, failed)
	}
}

// TestIncompleteSharedFailsUnderCI: a shared folder without its corpus is a
// failure under CI and a skip outside it.
func TestIncompleteSharedFailsUnderCI(t *testing.T) {
	shared := t.TempDir()
	t.Setenv("RDBTOOL_SHARED", shared)
	t.Setenv("RDBTOOL_CORPUS", "")
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		ft := &fakeT{}
		done := make(chan struct{})
		go func() { defer close(done); Corpus(ft) }()
		<-done
		if ci == "true" && !ft.failed || ci == "" && !ft.skipped {
			t.Errorf("CI=%q: skipped=%v failed=%v", ci, ft.skipped, ft.failed)
		}
	}
}

// fakeT records how a test would end; Skipf and Fatalf stop its goroutine as
// the real ones do.
type fakeT struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Skipf(string, ...any) {
	f.skipped = true
	runtime.Goexit()
}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}
