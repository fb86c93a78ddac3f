package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
)

// runCLI runs the program in-process, as main would, and returns the exit code
// and what it printed.
func runCLI(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"rdbtool"}, args...), stdin, &out, &errOut)
	return code, out.String(), errOut.String()
}

// moduleRoot is the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// corpusDir is the shared corpus (testenv decides what its absence means).
func corpusDir(t *testing.T) string {
	t.Helper()
	return testenv.Corpus(t)
}

// corpusFile returns the path of a corpus file.
func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	return testenv.CorpusFile(t, rel)
}

// manifestRDBFiles lists the RDB files of the corpus table in MANIFEST.md with
// their CRC column.
func manifestRDBFiles(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir(t), "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	files := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) < 7 {
			continue
		}
		path := strings.Trim(strings.TrimSpace(cols[1]), "`")
		if strings.HasSuffix(path, ".rdb") {
			files[path] = strings.TrimSpace(cols[5])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no RDB rows found in MANIFEST.md: has its table layout changed?")
	}
	return files
}

// TestBinary builds the real binary once and checks that exit codes survive
// main's os.Exit (everything else is tested in-process).
func TestBinary(t *testing.T) {
	bin := buildRdbtool(t)
	exitOf := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatalf("running %v: %v", args, err)
		}
		return 0, string(out)
	}
	if code, out := exitOf("--version"); code != 0 || !strings.Contains(out, "rdbtool version") {
		t.Errorf("--version: exit %d, output %q", code, out)
	}
	if code, out := exitOf("verify"); code != exitUsage {
		t.Errorf("verify without PATH: exit %d, want %d; output %q", code, exitUsage, out)
	}
	if code, out := exitOf("verify", "--no-such-flag", "x"); code != exitUsage {
		t.Errorf("unknown flag: exit %d, want %d; output %q", code, exitUsage, out)
	}
	dir := corpusDir(t)
	if code, out := exitOf("verify", filepath.Join(dir, "redis", "corrupt_ziplist.rdb")); code != exitInvalid {
		t.Errorf("corrupt file: exit %d, want %d; output %q", code, exitInvalid, out)
	}
	if code, out := exitOf("verify", filepath.Join(dir, "dragonfly", "redis6_small.rdb")); code != exitOK {
		t.Errorf("valid file: exit %d, want 0; output %q", code, out)
	}
}

// TestOptionsAfterPaths: options may follow the paths, in any position, with
// their values; "--" keeps what follows as arguments.
func TestOptionsAfterPaths(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	for _, args := range [][]string{
		{"verify", fixture, "--format", "json"},
		{"verify", "--format", "json", fixture},
		{"verify", fixture, "--format=json", "--no-progress"},
		{"verify", "--no-progress", fixture, "--format", "json"},
	} {
		code, out, errOut := runCLI(t, nil, args...)
		if code != 0 || !strings.HasPrefix(out, "{") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	// After "--" an option-like argument is a path, refused with a hint.
	code, _, errOut := runCLI(t, nil, "verify", "--", "--format")
	if code != exitUsage || !strings.Contains(errOut, "./--format") {
		t.Errorf("verify -- --format: exit %d, stderr %q", code, errOut)
	}
	// An unknown option after a path is a usage error naming it.
	code, _, errOut = runCLI(t, nil, "verify", fixture, "--bogus")
	if code != exitUsage || !strings.Contains(errOut, "bogus") {
		t.Errorf("verify PATH --bogus: exit %d, stderr %q", code, errOut)
	}
	// The value of an option is never taken as an option: --key -x.
	code, _, errOut = runCLI(t, nil, "dump", fixture, "--key", "-x", "-o", filepath.Join(t.TempDir(), "o.jsonl"))
	if code != 0 {
		t.Errorf("dump PATH --key -x: exit %d, stderr %q", code, errOut)
	}
}

// TestLongCommandsTakeNoProgress: every command that may show a progress bar
// lets a script turn it off.
func TestLongCommandsTakeNoProgress(t *testing.T) {
	app := newApp(nil, io.Discard, io.Discard)
	for _, cmd := range app.Commands {
		switch cmd.Name {
		case "convert", "diff", "dump", "inspect", "memory", "merge", "pull", "replay", "restore", "rewrite", "split", "verify":
		default:
			continue
		}
		found := false
		for _, f := range cmd.Flags {
			if slices.Contains(f.Names(), "no-progress") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s has no --no-progress", cmd.Name)
		}
	}
}
