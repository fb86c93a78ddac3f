//go:build unix

package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
)

// TestForceOverDataFolder runs every writing command with --force at the
// parts of a real data folder (dump.rdb, redis.conf, appendonlydir). Issue 9
// item 2: "rewrite --force data/appendonlydir data" removed dump.rdb,
// redis.conf and the input folder itself, then reported success. Every case
// must be refused with exit 2 and leave the folder exactly as it was.
func TestForceOverDataFolder(t *testing.T) {
	data := makeDataFolder(t, false)
	aofDir := filepath.Join(data, "appendonlydir")
	base, incr := aofFolderFiles(t, aofDir)
	parent := filepath.Dir(data)
	// A torn copy of the folder, so that repair has something to write.
	torn := filepath.Join(parent, "torn", "appendonlydir")
	copyTree(t, aofDir, torn)
	b := readFile(t, filepath.Join(torn, incr))
	os.WriteFile(filepath.Join(torn, incr), b[:len(b)-3], 0o644)
	hard := filepath.Join(parent, "hard.rdb")
	if err := os.Link(filepath.Join(data, "dump.rdb"), hard); err != nil {
		t.Fatal(err)
	}
	soft := filepath.Join(parent, "soft.rdb")
	if err := os.Symlink(filepath.Join(data, "dump.rdb"), soft); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(parent, "other")
	writeFile(t, filepath.Join(other, "notes.txt"), "not rdbtool's\n")

	cases := [][]string{
		{"rewrite", "--force", aofDir, data},   // OUT contains the input
		{"rewrite", "--force", aofDir, aofDir}, // OUT is the input
		{"rewrite", "--force", data, aofDir},   // OUT lies inside the input
		{"rewrite", "--force", aofDir, filepath.Join(aofDir, "x")},
		{"rewrite", "--force", aofDir, parent}, // OUT contains the input, further up
		{"rewrite", "--force", "--single-file", aofDir, filepath.Join(aofDir, base)},
		{"rewrite", "--force", aofDir, other}, // not a folder rdbtool writes
		{"convert", "--to", "aof", "--aof-dir", "--force", filepath.Join(data, "dump.rdb"), data},
		{"convert", "--to", "aof", "--aof-dir", "--force", filepath.Join(data, "dump.rdb"), other},
		{"convert", "--force", filepath.Join(data, "dump.rdb"), filepath.Join(data, "dump.rdb")},
		{"convert", "--force", filepath.Join(data, "dump.rdb"), hard}, // a hard link of the input
		{"convert", "--force", soft, filepath.Join(data, "dump.rdb")}, // the input through a link
		{"convert", "--force", "--to", "rdb", aofDir, filepath.Join(aofDir, base)},
		{"convert", "--force", aofDir, filepath.Join(aofDir, "new.rdb")}, // among the AOF's files
		{"dump", "--force", "-o", filepath.Join(data, "dump.rdb"), filepath.Join(data, "dump.rdb")},
		{"repair", "--force", torn, data},
		{"repair", "--force", torn, torn},
		{"repair", "--force", torn, filepath.Dir(torn)},
		{"repair", "--force", torn, other},
	}
	before := treeState(t, parent)
	for _, args := range cases {
		code, out, errOut := runCLI(t, nil, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (refused)\n%s%s", args, code, exitUsage, out, errOut)
		}
		sameState(t, strings.Join(args, " "), before, treeState(t, parent))
		for _, d := range []string{parent, data, aofDir, other, torn} {
			noTemps(t, d)
		}
	}
}

// TestForceReplacesWhatRdbtoolWrote: --force replaces a folder rdbtool wrote
// (a manifest and the files it lists), an empty folder and a regular file,
// and the result loads in Redis.
func TestForceReplacesWhatRdbtoolWrote(t *testing.T) {
	src := fixture(t, "aof-7.0/appendonlydir")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if code, o, e := runCLI(t, nil, "rewrite", src, out); code != 0 {
		t.Fatalf("rewrite: exit %d: %s%s", code, o, e)
	}
	if code, o, e := runCLI(t, nil, "rewrite", "--force", src, out); code != 0 {
		t.Fatalf("rewrite --force over its own output: exit %d: %s%s", code, o, e)
	}
	noTemps(t, dir)
	want := loadsInRedis(t, fixture(t, "aof-7.0/appendonlydir"), "aof-dir")
	if d := canon.Diff(want, loadsInRedis(t, out, "aof-dir")); d != "" {
		t.Errorf("the replaced folder holds another dataset:\n%s", d)
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	if code, o, e := runCLI(t, nil, "convert", "--to", "aof", "--aof-dir", "--force", fixture(t, "types-7.0.rdb"), empty); code != 0 {
		t.Fatalf("convert --aof-dir --force into an empty folder: exit %d: %s%s", code, o, e)
	}
	loadsInRedis(t, empty, "aof-dir")
	// A folder holding something else is never replaced.
	writeFile(t, filepath.Join(out, "keep-me"), "x")
	before := treeState(t, dir)
	if code, _, _ := runCLI(t, nil, "rewrite", "--force", src, out); code != exitUsage {
		t.Errorf("rewrite --force over a folder with another file: exit %d, want %d", code, exitUsage)
	}
	sameState(t, "the folder", before, treeState(t, dir))
	// A regular file.
	file := filepath.Join(dir, "x.rdb")
	writeFile(t, file, "old")
	if code, o, e := runCLI(t, nil, "convert", "--force", fixture(t, "types-7.0.rdb"), file); code != 0 {
		t.Fatalf("convert --force over a file: exit %d: %s%s", code, o, e)
	}
	loadsInRedis(t, file, "rdb")
	noTemps(t, dir)
}

// TestStreamOutputs: a character device, a FIFO and a socket are written as
// streams, without --force and without being replaced; a link is followed
// only to a regular file, with --force. Issue 9 item 3: "dump -o /dev/stdout"
// was refused as existing, and with --force devices and FIFOs became
// regular files.
func TestStreamOutputs(t *testing.T) {
	rdbPath := fixture(t, "types-7.0.rdb")
	_, want, _ := runCLI(t, nil, "dump", rdbPath)
	dir := t.TempDir()

	// Standard output by name.
	if code, got, e := runCLI(t, nil, "dump", "-o", "/dev/stdout", rdbPath); code != 0 || got != want {
		t.Errorf("dump -o /dev/stdout: exit %d, %d bytes, want %d: %s", code, len(got), len(want), e)
	}
	// A character device, with and without --force.
	for _, args := range [][]string{{"-o", "/dev/null"}, {"--force", "-o", "/dev/null"}} {
		if code, _, e := runCLI(t, nil, append(append([]string{"dump"}, args...), rdbPath)...); code != 0 {
			t.Errorf("dump %v: exit %d: %s", args, code, e)
		}
		if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a character device: %v %v", st.Mode(), err)
		}
	}
	// A FIFO.
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// What a stream's reader receives.
	drain := func(open func() (io.ReadCloser, error)) chan []byte {
		got := make(chan []byte, 1)
		go func() {
			r, err := open()
			if err != nil {
				got <- nil
				return
			}
			b, _ := io.ReadAll(r)
			r.Close()
			got <- b
		}()
		return got
	}
	got := drain(func() (io.ReadCloser, error) { return os.Open(fifo) })
	if code, _, e := runCLI(t, nil, "dump", "-o", fifo, rdbPath); code != 0 {
		t.Errorf("dump -o FIFO: exit %d: %s", code, e)
	}
	if b := <-got; string(b) != want {
		t.Errorf("the FIFO's reader got %d bytes, want %d", len(b), len(want))
	}
	if st, _ := os.Lstat(fifo); st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO became %v", st.Mode())
	}
	// A socket.
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got = drain(func() (io.ReadCloser, error) { return l.Accept() })
	if code, _, e := runCLI(t, nil, "dump", "-o", sock, rdbPath); code != 0 {
		t.Errorf("dump -o socket: exit %d: %s", code, e)
	}
	if b := <-got; string(b) != want {
		t.Errorf("the socket's reader got %d bytes, want %d", len(b), len(want))
	}
	// Links: to a regular file (replaced with --force, the link kept), to a
	// device, and dangling.
	target := filepath.Join(dir, "target.jsonl")
	writeFile(t, target, "old\n")
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(target, link)
	if code, _, _ := runCLI(t, nil, "dump", "-o", link, rdbPath); code != exitUsage {
		t.Errorf("dump -o LINK without --force: exit %d, want %d", code, exitUsage)
	}
	if code, _, e := runCLI(t, nil, "dump", "--force", "-o", link, rdbPath); code != 0 {
		t.Errorf("dump --force -o LINK: exit %d: %s", code, e)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by %v", st.Mode())
	}
	if b := readFile(t, target); string(b) != want {
		t.Errorf("the link's target holds %d bytes, want the dump's %d", len(b), len(want))
	}
	for name, to := range map[string]string{"devlink": "/dev/null", "dangling": filepath.Join(dir, "missing")} {
		l := filepath.Join(dir, name)
		os.Symlink(to, l)
		if code, _, _ := runCLI(t, nil, "dump", "--force", "-o", l, rdbPath); code != exitUsage {
			t.Errorf("dump --force -o link to %s: exit %d, want %d", to, code, exitUsage)
		}
		if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
			t.Errorf("a file was created through the dangling link")
		}
	}
	noTemps(t, dir)
}

// TestOutputsHonourUmask: new files get 0666 and folders 0777 less the umask,
// as cp and Redis do; a file replaced with --force keeps its mode. Issue 9
// item 13: outputs were 0600 and folders 0700 whatever the umask.
func TestOutputsHonourUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	rdbPath := fixture(t, "types-7.0.rdb")
	file := filepath.Join(dir, "keys.jsonl")
	if code, _, e := runCLI(t, nil, "dump", "-o", file, rdbPath); code != 0 {
		t.Fatalf("dump: exit %d: %s", code, e)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o640 {
		t.Errorf("new file: mode %v, want 0640 (umask 027)", st.Mode().Perm())
	}
	folder := filepath.Join(dir, "aofdir")
	if code, _, e := runCLI(t, nil, "convert", "--to", "aof", "--aof-dir", rdbPath, folder); code != 0 {
		t.Fatalf("convert --aof-dir: exit %d: %s", code, e)
	}
	if st, _ := os.Stat(folder); st.Mode().Perm() != 0o750 {
		t.Errorf("new folder: mode %v, want 0750", st.Mode().Perm())
	}
	loadsInRedis(t, folder, "aof-dir")
	entries, _ := os.ReadDir(folder)
	for _, e := range entries {
		if info, _ := e.Info(); info.Mode().Perm() != 0o640 {
			t.Errorf("%s in the new folder: mode %v, want 0640", e.Name(), info.Mode().Perm())
		}
	}
	os.Chmod(file, 0o600)
	if code, _, e := runCLI(t, nil, "dump", "--force", "-o", file, rdbPath); code != 0 {
		t.Fatalf("dump --force: exit %d: %s", code, e)
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file: mode %v, want its own 0600", st.Mode().Perm())
	}
}

// TestOutputFormatNeedsAKnownExtension: an OUT whose extension says nothing
// is refused with a request for --to. Issue 13 item 9: it silently became an
// RDB file.
func TestOutputFormatNeedsAKnownExtension(t *testing.T) {
	dir := t.TempDir()
	rdbPath := fixture(t, "types-7.0.rdb")
	for _, out := range []string{"keys.txt", "dump", "dump.rdb.gz", "-"} {
		p := out
		if out != "-" {
			p = filepath.Join(dir, out)
		}
		code, _, errOut := runCLI(t, nil, "convert", rdbPath, p)
		if code != exitUsage || !strings.Contains(errOut, "--to") {
			t.Errorf("convert to %s: exit %d, want %d asking for --to: %s", out, code, exitUsage, errOut)
		}
	}
	if code, _, e := runCLI(t, nil, "convert", "--to", "rdb", rdbPath, filepath.Join(dir, "dump")); code != 0 {
		t.Errorf("convert --to rdb to a name without extension: exit %d: %s", code, e)
	}
	loadsInRedis(t, filepath.Join(dir, "dump"), "rdb")
	if code, out, e := runCLI(t, nil, "convert", "--to", "jsonl", rdbPath, "-"); code != 0 || !strings.HasPrefix(out, `{"magic"`) {
		t.Errorf("convert --to jsonl to standard output: exit %d: %s", code, e)
	}
	noTemps(t, dir)
}

// TestProgressOnlyOnATerminal: the bar is never drawn into a pipe or a file.
// Issue 13 item 10: dump and convert wrote it into redirected stderr.
func TestProgressOnlyOnATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, stream := range []io.Writer{w, f, &bytes.Buffer{}} {
		if p := startProgress(true, stream, "x", 1, func() int64 { return 0 }); p != nil {
			p.Stop()
			t.Errorf("a progress bar started on %T", stream)
		}
	}
}

// TestVerifyEmptyStdin: an empty standard input is INVALID, as a pipe of
// nothing and a path ending in .rdb are. Issue 9 item 11.
func TestVerifyEmptyStdin(t *testing.T) {
	empty, err := os.Create(filepath.Join(t.TempDir(), "empty"))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	code, out, _ := runCLI(t, empty, "verify", "-")
	if code != exitInvalid || !strings.Contains(out, "INVALID") {
		t.Errorf("verify - < empty: exit %d, %q; want %d, INVALID", code, out, exitInvalid)
	}
}

// TestOutIsInputSaysSo: OUT that is the input is refused for that reason,
// not with advice to add --force, which would not help.
func TestOutIsInputSaysSo(t *testing.T) {
	in := filepath.Join(t.TempDir(), "dump.rdb")
	fileCopy(t, fixture(t, "types-7.0.rdb"), in)
	code, _, e := runCLI(t, nil, "convert", in, in)
	if code != exitUsage || !strings.Contains(e, "input") || strings.Contains(e, "use --force") {
		t.Errorf("convert IN IN: exit %d: %s", code, e)
	}
}

// TestReplayRefusesPipes checks that an AOF given as a FIFO (a shell's
// <(zcat ...)) is refused with a usage error instead of being read twice: the
// first look would use up the pipe and the replay would see a damaged stream.
func TestReplayRefusesPipes(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "in.aof")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"replay", fifo}, {"rewrite", fifo, filepath.Join(t.TempDir(), "out")}} {
		type result struct {
			code   int
			stderr string
		}
		done := make(chan result, 1)
		go func() {
			code, _, e := runCLI(t, nil, args...)
			done <- result{code, e}
		}()
		select {
		case r := <-done:
			if r.code != exitUsage || !strings.Contains(r.stderr, "not a regular file") {
				t.Errorf("%v: exit %d, want %d with a reason: %s", args, r.code, exitUsage, r.stderr)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%v: still waiting on the FIFO after a minute (it opened it)", args)
		}
	}
}
