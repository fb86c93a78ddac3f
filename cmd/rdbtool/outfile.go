package main

// Output safety: the one place that decides what rdbtool may write, where,
// and how. Every command that writes a file or a folder goes through it
// (convert, rewrite, repair, dump -o, and the commands to come: memory, diff,
// restore --resume, pull, split, merge), so that the promises below hold for
// all of them.
//
// API:
//
//	out, err := createOutput(c, outPath, inputs...) // a file; "-" is standard output
//	if err != nil { return err }
//	defer out.Abort()                               // removes the temporary file unless committed
//	... write to out (an io.Writer) ...
//	return out.Commit()                             // renames it into place
//
//	dir, err := createOutputDir(c, outPath, inputs...) // a folder (an AOF folder)
//	defer dir.Abort()
//	f, err := dir.Create("appendonly.aof.1.base.rdb")  // a file inside it; Close it
//	return dir.Commit()
//
// c gives --force (c.Bool("force")), standard output (c.App.Writer) and the
// interrupt context (c.Context); inputs are every file and folder the command
// reads (a folder given on the command line and the files read from it).
// openOutputRequest is the same without a *cli.Context. The rules:
//
//   - "-" (or "") and /dev/stdout are standard output.
//   - A character device, FIFO or socket, and a path naming a file
//     descriptor (/dev/stderr, /dev/fd/N, /proc/self/fd/N), is written as a
//     stream: opened for writing (appending, for a descriptor), no temporary
//     file, no rename, never refused as existing.
//   - Anything else is written to a temporary ".NAME.tmp-*" beside OUT and
//     renamed over OUT by Commit only; Abort, a failure or an interrupt
//     removes it. A file is synced before the rename and the folder after.
//   - An existing OUT is replaced only with --force, and only if it is what
//     rdbtool itself writes: a regular file (for a file output); an empty
//     folder or an AOF folder holding nothing but a manifest and the files it
//     lists (for a folder output). A folder is swapped in atomically where the
//     system allows (renameat2 RENAME_EXCHANGE on Linux), then the old one is
//     removed.
//   - A symbolic link OUT is refused unless its target is a regular file that
//     --force allows replacing; then the target is replaced and the link kept.
//   - Never, even with --force: OUT that is an input (the same file, through
//     hard or symbolic links included); a folder OUT that equals, contains or
//     lies inside an input folder; a file OUT inside an AOF folder the command
//     reads.
//   - New files get 0666 and folders 0777 less the umask, as cp and Redis do;
//     a replaced file keeps its permission bits, and its owner as far as the
//     process may change it (root may).
//   - Commit and the interrupt exit (main.go) exclude each other: a rename is
//     never cut in half, and none starts after SIGINT, SIGTERM or SIGHUP, so
//     an interrupted command leaves OUT exactly as it was.
//
// Refusals are usage errors (exit 2): the user must pick another OUT.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/rdbtool/rdbtool/internal/filemode"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/urfave/cli/v2"
)

// outputRequest is what createOutput and createOutputDir are asked.
type outputRequest struct {
	Ctx    context.Context
	Path   string
	Force  bool
	Inputs []string
	Stdout io.Writer // where "-" goes
	Cmd    string    // command name, for usage errors
	// BesideInputs lets a file OUT lie among the files of an AOF folder
	// being read: a backup kept next to the file it saves.
	BesideInputs bool
	// Replaceable judges an existing folder OUT that --force would replace:
	// nil when it holds only what this command writes. Default: an empty
	// folder or an AOF folder (replaceableFolder).
	Replaceable func(cmd, path string) error
}

func requestOf(c *cli.Context, path string, inputs []string) outputRequest {
	return outputRequest{Ctx: c.Context, Path: path, Force: c.Bool("force"), Inputs: inputs,
		Stdout: c.App.Writer, Cmd: c.Command.Name}
}

// createOutput opens OUT (a file) for a command; see the rules above.
func createOutput(c *cli.Context, path string, inputs ...string) (*outFile, error) {
	return openOutputRequest(requestOf(c, path, inputs))
}

// createOutputDir starts a folder output for a command; see the rules above.
func createOutputDir(c *cli.Context, path string, inputs ...string) (*outDir, error) {
	return openOutputDirRequest(requestOf(c, path, inputs))
}

// readPaths lists what a command reading PATH reads, for the inputs of
// createOutput: PATH, and for an AOF folder or data folder every file of it
// a server would load.
func readPaths(path string) []string {
	if path == "-" || path == "" {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		if _, inputs, err := aofInput("", path); err == nil {
			return inputs
		}
	}
	return []string{path}
}

// createOutputDirOf is createOutputDir for a folder of another shape than an
// AOF folder: replaceable judges what --force may replace.
func createOutputDirOf(c *cli.Context, path string, replaceable func(cmd, path string) error, inputs ...string) (*outDir, error) {
	req := requestOf(c, path, inputs)
	req.Replaceable = replaceable
	return openOutputDirRequest(req)
}

// outFile is a file output: a temporary file renamed into place by Commit, or
// a stream (standard output, a device, a FIFO, a socket) written directly.
type outFile struct {
	w      io.Writer
	tmp    *tempFile // nil for a stream
	stream io.Closer // an opened device, FIFO or socket
	final  string    // the path renamed over (a link's target)
	shown  string    // OUT as given, for messages
	req    outputRequest
	done   bool
}

// Write writes to the output; after an interrupt it fails with the context's
// error, so that every writer stops at its next write.
func (o *outFile) Write(p []byte) (int, error) {
	if err := interrupted(o.req.Ctx); err != nil {
		return 0, err
	}
	return o.w.Write(p)
}

// Name is OUT as given.
func (o *outFile) Name() string { return o.shown }

// IsStream reports whether the output is written directly (standard output,
// a device, a FIFO or a socket): what was written stays written on failure.
func (o *outFile) IsStream() bool { return o.tmp == nil }

// Commit makes the output visible under its name (for a stream: closes it).
// After an interrupt it removes the temporary file and returns the context's
// error instead.
func (o *outFile) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.tmp == nil {
		if o.stream != nil {
			if err := o.stream.Close(); err != nil {
				return fmt.Errorf("writing %s: %w", o.shown, err)
			}
		}
		return interrupted(o.req.Ctx)
	}
	if err := o.tmp.Close(); err != nil {
		o.tmp.remove()
		return fmt.Errorf("writing %s: %w", o.shown, err)
	}
	commitGate.Lock()
	defer commitGate.Unlock()
	if err := interrupted(o.req.Ctx); err != nil {
		o.tmp.remove()
		return err
	}
	// OUT may have changed while we wrote: judge it again.
	if _, err := checkFileTarget(o.req, false); err != nil {
		o.tmp.remove()
		return err
	}
	if err := os.Rename(o.tmp.path, o.final); err != nil {
		o.tmp.remove()
		return err
	}
	untrackTemp(o.tmp.path)
	return syncDir(filepath.Dir(o.final))
}

// Abort removes the temporary file (closes a stream); safe after Commit.
func (o *outFile) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.tmp != nil {
		o.tmp.f.Close()
		o.tmp.remove()
	}
	if o.stream != nil {
		o.stream.Close()
	}
}

// openOutputRequest applies the rules to a file output.
func openOutputRequest(req outputRequest) (*outFile, error) {
	if req.Ctx == nil {
		req.Ctx = context.Background()
	}
	o := &outFile{shown: req.Path, req: req}
	if req.Path == "" || req.Path == "-" || isStdoutPath(req.Path) {
		if req.Stdout == nil {
			return nil, usagef(req.Cmd, "standard output cannot be written here; give a file name")
		}
		o.w = req.Stdout
		return o, nil
	}
	t, err := checkFileTarget(req, true)
	if err != nil {
		return nil, err
	}
	if t.stream {
		w, err := openStream(req.Path, t.descriptor, t.socket)
		if err != nil {
			return nil, err
		}
		o.w, o.stream = w, w
		return o, nil
	}
	tmp, err := newTempFile(filepath.Dir(t.final), filepath.Base(t.final), t.keepMode)
	if err != nil {
		return nil, err
	}
	if t.replaced != nil {
		keepOwner(tmp.f, t.replaced)
	}
	o.tmp, o.w, o.final = tmp, tmp.f, t.final
	return o, nil
}

// fileTarget is what checkFileTarget found at OUT.
type fileTarget struct {
	final      string      // the path to rename over: OUT, or a link's target
	stream     bool        // write directly
	descriptor bool        // OUT names a file descriptor: open it appending
	socket     bool        // OUT is a Unix socket
	keepMode   os.FileMode // permission bits of a file being replaced, 0 for a new one
	replaced   os.FileInfo // the file being replaced, nil for a new one
}

// checkFileTarget judges OUT for a file output. first is false when Commit
// checks again: OUT must then be as it was (or as --force allows).
func checkFileTarget(req outputRequest, first bool) (fileTarget, error) {
	t := fileTarget{final: req.Path}
	path := req.Path
	if namesDescriptor(path) {
		t.stream, t.descriptor = true, true
		return t, nil
	}
	lst, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		if first {
			if err := checkParent(req); err != nil {
				return t, err
			}
		}
		return t, checkOutputVsInputs(req, false)
	}
	if err != nil {
		return t, err
	}
	if lst.Mode()&os.ModeSymlink != 0 {
		st, err := os.Stat(path)
		if err != nil {
			return t, usagef(req.Cmd, "%s is a symbolic link to a missing file; rdbtool never writes through a link: give the path it should write", path)
		}
		if !st.Mode().IsRegular() {
			return t, usagef(req.Cmd, "%s is a symbolic link to %s; rdbtool never writes through a link to anything but a regular file", path, filemode.Describe(st.Mode()))
		}
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return t, err
		}
		if err := checkOutputVsInputs(req, false); err != nil {
			return t, err
		}
		if !req.Force {
			return t, usagef(req.Cmd, "%s exists (a symbolic link to %s); use --force to replace that file", path, target)
		}
		t.final, t.keepMode, t.replaced = target, st.Mode().Perm(), st
		return t, nil
	}
	m := lst.Mode()
	switch {
	case m.IsRegular():
		if err := checkOutputVsInputs(req, false); err != nil {
			return t, err // said first: --force would not help
		}
		if !req.Force {
			if first {
				return t, usagef(req.Cmd, "%s exists; use --force to overwrite it", path)
			}
			return t, usagef(req.Cmd, "%s appeared while writing; use --force to overwrite it", path)
		}
		t.keepMode, t.replaced = m.Perm(), lst
		return t, nil
	case m.IsDir():
		return t, usagef(req.Cmd, "%s is a folder; give a file name (the output is one file)", path)
	case m&os.ModeNamedPipe != 0, m&os.ModeCharDevice != 0:
		t.stream = true
		return t, checkOutputVsInputs(req, false)
	case m&os.ModeSocket != 0:
		t.stream, t.socket = true, true
		return t, nil
	}
	return t, usagef(req.Cmd, "%s is %s; rdbtool writes only regular files, folders, character devices, FIFOs and sockets", path, filemode.Describe(m))
}

// checkParent says clearly when the folder that would hold OUT is missing.
func checkParent(req outputRequest) error {
	parent := filepath.Dir(req.Path)
	st, err := os.Stat(parent)
	if errors.Is(err, os.ErrNotExist) {
		return usagef(req.Cmd, "cannot write %s: the folder %s does not exist", req.Path, parent)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return usagef(req.Cmd, "cannot write %s: %s is not a folder", req.Path, parent)
	}
	return nil
}

// isStdoutPath reports whether path is the process's standard output by name.
func isStdoutPath(path string) bool {
	switch filepath.Clean(path) {
	case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return true
	}
	return false
}

// namesDescriptor reports whether path, or a link on its way, names an open
// file descriptor (/dev/stderr, /dev/fd/N, /proc/PID/fd/N): such a path is
// written as a stream whatever it leads to (a pipe, a terminal, or a file the
// shell opened for a redirection).
func namesDescriptor(path string) bool {
	for range 8 {
		clean := filepath.Clean(path)
		if strings.HasPrefix(clean, "/dev/fd/") || isProcFD(clean) {
			return true
		}
		target, err := os.Readlink(clean)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(clean), target)
		}
		path = target
	}
	return false
}

func isProcFD(p string) bool {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return false
	}
	pid, rest, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(rest, "fd/") {
		return false
	}
	if pid == "self" || pid == "thread-self" {
		return true
	}
	_, err := strconv.Atoi(pid)
	return err == nil
}

// openStream opens a device, FIFO, socket or descriptor path for writing:
// never created, never truncated.
func openStream(path string, descriptor, socket bool) (io.WriteCloser, error) {
	if socket {
		return net.Dial("unix", path)
	}
	flags := os.O_WRONLY
	if descriptor {
		flags |= os.O_APPEND // after what the shell or earlier commands wrote
	}
	return os.OpenFile(path, flags, 0)
}

// checkOutputVsInputs refuses OUT when it is an input, and a folder OUT that
// equals, contains or lies inside an input folder, or a file OUT inside an
// AOF folder being read. It holds with or without --force.
func checkOutputVsInputs(req outputRequest, folder bool) error {
	outSt, outErr := os.Stat(req.Path)
	for _, in := range req.Inputs {
		if in == "" || in == "-" {
			continue
		}
		inSt, err := os.Stat(in)
		if err != nil {
			continue // not there: nothing to protect
		}
		if outErr == nil && os.SameFile(outSt, inSt) {
			what := "file"
			if inSt.IsDir() {
				what = "folder"
			}
			return usagef(req.Cmd, "%s is the input %s %s itself (the same %s); rdbtool never writes over its input, even with --force", req.Path, what, in, what)
		}
		if folder {
			if inSt.IsDir() && within(req.Path, inSt) {
				return usagef(req.Cmd, "%s lies inside the input folder %s; write the output elsewhere", req.Path, in)
			}
			if outErr == nil && within(in, outSt) {
				return usagef(req.Cmd, "%s contains the input %s; rdbtool never replaces a folder holding its input, even with --force", req.Path, in)
			}
			continue
		}
		if req.BesideInputs {
			continue
		}
		// A file OUT must not land among the files of an AOF folder.
		aofDir := ""
		if inSt.IsDir() {
			aofDir = in
		} else {
			aofDir = filepath.Dir(in)
		}
		if holdsManifest(aofDir) {
			if parentSt, err := os.Stat(filepath.Dir(req.Path)); err == nil {
				if dirSt, err := os.Stat(aofDir); err == nil && os.SameFile(parentSt, dirSt) {
					return usagef(req.Cmd, "%s lies inside the AOF folder %s that is being read; write the output elsewhere", req.Path, aofDir)
				}
			}
		}
	}
	return nil
}

// within reports whether path (which may not exist yet) lies inside the
// folder dir, or is dir: some folder on path's way up is dir itself.
func within(path string, dir os.FileInfo) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	// Resolve what exists of the path, so that links cannot hide where it is.
	p := abs
	for {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			abs = filepath.Join(real, strings.TrimPrefix(abs, p))
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	for p := abs; ; {
		if st, err := os.Stat(p); err == nil && os.SameFile(st, dir) {
			return true
		}
		parent := filepath.Dir(p)
		if parent == p {
			return false
		}
		p = parent
	}
}

// holdsManifest reports whether dir is an AOF folder (holds a *.manifest).
func holdsManifest(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".manifest") {
			return true
		}
	}
	return false
}

// outDir is a folder output: files are made in a temporary folder beside OUT,
// which Commit renames into place.
type outDir struct {
	tmp   string
	final string
	req   outputRequest
	done  bool
}

// openOutputDirRequest applies the rules to a folder output.
func openOutputDirRequest(req outputRequest) (*outDir, error) {
	if req.Ctx == nil {
		req.Ctx = context.Background()
	}
	if req.Path == "" || req.Path == "-" || isStdoutPath(req.Path) || namesDescriptor(req.Path) {
		return nil, usagef(req.Cmd, "the output is a folder: give a folder name, not %q", req.Path)
	}
	if err := checkDirTarget(req, true); err != nil {
		return nil, err
	}
	tmp, err := makeTempDir(filepath.Dir(req.Path), filepath.Base(req.Path))
	if err != nil {
		return nil, err
	}
	return &outDir{tmp: tmp, final: req.Path, req: req}, nil
}

// checkDirTarget judges OUT for a folder output.
func checkDirTarget(req outputRequest, first bool) error {
	path := req.Path
	lst, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		if first {
			if err := checkParent(req); err != nil {
				return err
			}
		}
		return checkOutputVsInputs(req, true)
	}
	if err != nil {
		return err
	}
	m := lst.Mode()
	switch {
	case m&os.ModeSymlink != 0:
		return usagef(req.Cmd, "%s is a symbolic link; rdbtool never writes a folder through a link: give the folder it points to, or another name", path)
	case !m.IsDir():
		return usagef(req.Cmd, "%s is %s; the output is a folder: give another name", path, filemode.Describe(m))
	}
	if err := checkOutputVsInputs(req, true); err != nil {
		return err
	}
	if !req.Force {
		if first {
			return usagef(req.Cmd, "%s exists; use --force to replace it", path)
		}
		return usagef(req.Cmd, "%s appeared while writing; use --force to replace it", path)
	}
	if req.Replaceable != nil {
		return req.Replaceable(req.Cmd, path)
	}
	return replaceableFolder(req.Cmd, path)
}

// replaceableFolder accepts what rdbtool writes and nothing else: an empty
// folder, or an AOF folder holding only its manifest and the files the
// manifest lists (regular files).
func replaceableFolder(cmd, path string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	refuse := func(why string) error {
		return usagef(cmd, "--force replaces only a folder rdbtool writes (an AOF folder holding nothing but a manifest and the files it lists), and %s %s; remove it yourself or write elsewhere", path, why)
	}
	d, err := aof.OpenDir(path)
	if err != nil {
		return refuse("is not one (" + err.Error() + ")")
	}
	listed := map[string]bool{d.ManifestName: true}
	for _, f := range d.Files {
		listed[f.Name] = true
	}
	var others []string
	for _, e := range entries {
		if !listed[e.Name()] {
			others = append(others, e.Name())
			continue
		}
		if !e.Type().IsRegular() {
			return refuse("holds " + e.Name() + ", which is not a regular file")
		}
	}
	if len(others) > 0 {
		sort.Strings(others)
		if len(others) > 5 {
			others = append(others[:5], "...")
		}
		return refuse("also holds " + strings.Join(others, ", "))
	}
	return nil
}

// Path is the path of name inside the temporary folder, for code that writes
// files itself (then Create is not needed).
func (d *outDir) Path(name string) string { return filepath.Join(d.tmp, name) }

// Create makes the file name inside the folder. Write it, then Close it
// before Commit; writes fail after an interrupt.
func (d *outDir) Create(name string) (*dirFile, error) {
	f, err := os.OpenFile(d.Path(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	return &dirFile{f: f, ctx: d.req.Ctx}, nil
}

// WriteFile makes the file name inside the folder holding data.
func (d *outDir) WriteFile(name string, data []byte) error {
	f, err := d.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	return errors.Join(err, f.Close())
}

// dirFile is a file inside an output folder.
type dirFile struct {
	f   *os.File
	ctx context.Context
}

func (f *dirFile) Write(p []byte) (int, error) {
	if err := interrupted(f.ctx); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

// Close syncs and closes the file.
func (f *dirFile) Close() error { return errors.Join(f.f.Sync(), f.f.Close()) }

// Commit renames the folder into place (swapping out a folder --force
// replaces), or after an interrupt removes it and returns the context's error.
func (d *outDir) Commit() error {
	if d.done {
		return nil
	}
	d.done = true
	fail := func(err error) error {
		os.RemoveAll(d.tmp)
		untrackTemp(d.tmp)
		return err
	}
	if err := syncDir(d.tmp); err != nil {
		return fail(err)
	}
	commitGate.Lock()
	defer commitGate.Unlock()
	if err := interrupted(d.req.Ctx); err != nil {
		return fail(err)
	}
	if err := checkDirTarget(d.req, false); err != nil {
		return fail(err)
	}
	_, statErr := os.Lstat(d.final)
	if errors.Is(statErr, os.ErrNotExist) {
		if err := os.Rename(d.tmp, d.final); err != nil {
			return fail(err)
		}
		untrackTemp(d.tmp)
		return syncDir(filepath.Dir(d.final))
	}
	// Replace an existing folder: swap the two atomically where the system
	// can, otherwise move the old one aside first and back on failure.
	old := d.tmp
	if err := exchange(d.tmp, d.final); err != nil {
		old = siblingName(filepath.Dir(d.final), filepath.Base(d.final), "old")
		if err := os.Rename(d.final, old); err != nil {
			return fail(err)
		}
		trackTemp(old)
		if err := os.Rename(d.tmp, d.final); err != nil {
			os.Rename(old, d.final)
			untrackTemp(old)
			return fail(err)
		}
		untrackTemp(d.tmp)
	}
	// old is now the replaced folder, still tracked: an interrupt removes it.
	err := os.RemoveAll(old)
	untrackTemp(old)
	return errors.Join(err, syncDir(filepath.Dir(d.final)))
}

// Abort removes the temporary folder; safe after Commit.
func (d *outDir) Abort() {
	if d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.tmp)
	untrackTemp(d.tmp)
}

// tempFile is a temporary file beside an output, tracked for removal on
// interrupt.
type tempFile struct {
	f    *os.File
	path string
}

// newTempFile creates ".NAME.tmp-*" in dir with 0666 less the umask, or
// with mode when it replaces a file (its permission bits carry over).
func newTempFile(dir, name string, mode os.FileMode) (*tempFile, error) {
	for range 100 {
		p := siblingName(dir, name, "tmp")
		commitGate.Lock() // an interrupt exit must see every temporary file
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			trackTemp(p)
		}
		commitGate.Unlock()
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if mode != 0 {
			if err := f.Chmod(mode); err != nil {
				f.Close()
				os.Remove(p)
				untrackTemp(p)
				return nil, err
			}
		}
		return &tempFile{f: f, path: p}, nil
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", dir)
}

// Close syncs and closes the file.
func (t *tempFile) Close() error { return errors.Join(t.f.Sync(), t.f.Close()) }

func (t *tempFile) remove() {
	os.Remove(t.path)
	untrackTemp(t.path)
}

// makeTempDir creates ".NAME.tmp-*" in dir with 0777 less the umask.
func makeTempDir(dir, name string) (string, error) {
	for range 100 {
		p := siblingName(dir, name, "tmp")
		commitGate.Lock()
		err := os.Mkdir(p, 0o777)
		if err == nil {
			trackTemp(p)
		}
		commitGate.Unlock()
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return p, err
	}
	return "", fmt.Errorf("cannot create a temporary folder in %s", dir)
}

// siblingName is ".NAME.KIND-XXXXXXXX" in dir: hidden, and named after OUT so
// that a user who finds one knows what it was.
func siblingName(dir, name, kind string) string {
	return filepath.Join(dir, "."+name+"."+kind+"-"+strconv.FormatUint(rand.Uint64()&0xffffffff, 36))
}

// commitGate is held while an output is renamed into place and while a
// temporary file is created; the interrupt exit holds it while it removes the
// temporary files and exits, so neither sees the other half done.
var commitGate sync.Mutex

// temps are the temporary files and folders of this process, removed by the
// interrupt exit. It has its own lock, so that code holding commitGate (a
// commit) and code that does not (an abort) may both untrack.
var temps = struct {
	sync.Mutex
	paths map[string]bool
}{paths: map[string]bool{}}

func trackTemp(p string) {
	temps.Lock()
	temps.paths[p] = true
	temps.Unlock()
}

func untrackTemp(p string) {
	temps.Lock()
	delete(temps.paths, p)
	temps.Unlock()
}

// removeTemps removes every temporary file and folder still tracked. The
// interrupt exit calls it holding commitGate, which it never releases.
func removeTemps() {
	temps.Lock()
	defer temps.Unlock()
	for p := range temps.paths {
		os.RemoveAll(p)
		delete(temps.paths, p)
	}
}

// interrupted returns ctx's error, wrapped for messages, once it is done.
func interrupted(ctx context.Context) error {
	if ctx == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted: %w", ctx.Err())
	default:
		return nil
	}
}
