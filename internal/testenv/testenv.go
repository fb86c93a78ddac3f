// Package testenv finds what tests need from outside the repository — the
// shared corpus of real files and the newer server builds beside the clone —
// and decides once what their absence means:
//
//   - On a lone clone (no ../shared beside the module root, and no
//     $RDBTOOL_SHARED), tests that need them skip with a visible reason and
//     everything else runs: the README's test command passes on a fresh clone.
//   - When the shared folder is there, a missing piece of it is a failure under
//     CI=true (the project's CI always has all of it) and a skip otherwise.
//
// Debian's redis-server is not the shared folder's: .ci/run installs it, so
// under CI its absence always fails (see internal/redistest.Require).
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ModuleRoot is the folder holding go.mod.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// InCI reports whether the tests run under the project's CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// SharedDir is the shared folder beside the clone ($RDBTOOL_SHARED, else
// ../shared next to the module root), or "" when there is none.
func SharedDir() string {
	dir := os.Getenv("RDBTOOL_SHARED")
	if dir == "" {
		dir = filepath.Join(ModuleRoot(), "..", "shared")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// CorpusOrEmpty is the corpus folder ($RDBTOOL_CORPUS, else shared/corpus), or
// "" when it is absent. Tests that only add corpus files to a larger set use it;
// tests that need the corpus call Corpus.
func CorpusOrEmpty() string {
	dir := os.Getenv("RDBTOOL_CORPUS")
	if dir == "" {
		shared := SharedDir()
		if shared == "" {
			return ""
		}
		dir = filepath.Join(shared, "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		return ""
	}
	return dir
}

// Corpus returns the corpus folder, or ends the test as Missing says.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := CorpusOrEmpty()
	if dir == "" {
		Missing(t, "the shared corpus (shared/corpus/MANIFEST.md beside the clone, or $RDBTOOL_CORPUS)")
	}
	return dir
}

// CorpusFile returns the path of a corpus file (slash-separated rel), or ends
// the test as Missing says when the corpus or the file is absent.
func CorpusFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Corpus(t), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		Missing(t, "corpus file "+rel)
	}
	return p
}

// Missing ends a test that needs something from the shared folder: a skip
// with the reason on a lone clone or outside CI, a failure under CI when the
// shared folder is there (it is then incomplete, which CI must notice).
func Missing(t testing.TB, what string) {
	t.Helper()
	switch {
	case SharedDir() == "" && os.Getenv("RDBTOOL_CORPUS") == "":
		t.Skipf("skipped: needs %s; this clone has no shared folder beside it (../shared), so tests that need it skip", what)
	case InCI():
		t.Fatalf("%s is missing although the shared folder %s is there (CI always has it)", what, SharedDir())
	default:
		t.Skipf("skipped: %s is missing", what)
	}
}

// ServerDir is the folder of one newer server build under shared/servers
// ("redis-unstable-20241018"), or "" when it is absent.
func ServerDir(name string) string {
	shared := SharedDir()
	if shared == "" {
		return ""
	}
	dir := filepath.Join(shared, "servers", name)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

// Describe is a one-line account of what the tests found, for logs.
func Describe() string {
	return fmt.Sprintf("shared=%q corpus=%q ci=%v", SharedDir(), CorpusOrEmpty(), InCI())
}

// OptionalCorpus is for tests that check the fixtures and add the corpus when
// it is there: the corpus folder, or "" (said in the log) on a lone clone. A
// shared folder without its corpus fails under CI, as Missing does.
func OptionalCorpus(t testing.TB) string {
	t.Helper()
	dir := CorpusOrEmpty()
	if dir == "" {
		if SharedDir() != "" && InCI() {
			t.Fatalf("the shared corpus is missing although the shared folder %s is there (CI always has it)", SharedDir())
		}
		t.Logf("no shared corpus beside this clone: checking the repository's fixtures only")
	}
	return dir
}
