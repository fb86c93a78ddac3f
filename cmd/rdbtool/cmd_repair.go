package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(repairCommand) }

const repairDescription = `Repairs an AOF whose tail was torn by a crash or a full disk, without asking
anything: the last file is cut at the end of its last complete command (before
a MULTI left open), which is what redis-server itself does at startup with
aof-load-truncated yes.

Only a torn tail of the last file is cut by default. Damage anywhere else (a
corrupt byte in the middle of a file, a torn file that is not the last one of
the folder) makes redis-server refuse the AOF; repair reports it as INVALID
(exit 3) with what a cut would cost: the bytes and commands of that file from
the damage on, and of every later file, which such a cut leaves out. Cutting
there needs --cut-damage. A command every known server refuses to load (an
unknown command, a wrong argument count: what verify calls INVALID) is such a
problem too. A file a server cannot load for another reason (not
an AOF at all, LF line endings, a damaged RDB preamble or base, a compressed
file in a folder) is refused whatever the flags: cutting would empty it or
keep it broken.

PATH is a single-file AOF (with or without an RDB preamble, plain or gzip- or
zstd-compressed), an AOF folder (appendonlydir/, or its manifest), or a Redis
data folder holding an appendonlydir/.

By default the repaired copy is written to OUT (default PATH.repaired) and
PATH is left alone. For a folder OUT is a folder holding the manifest and the
files it lists, files reached through symbolic links copied by content. A
compressed file is repaired into a file compressed the same way. OUT follows
the rules of every rdbtool output (docs/cli.md, "What rdbtool writes").

--in-place changes the damaged file itself, which must be the last file
loaded: the original is first kept as FILE.bak (or --backup FILE), then the
repaired file is written beside it and renamed over it, so that it is at any
moment either the old or the new file, and its backup exists before it
changes. It never writes through a symbolic link, never outside the folder,
and refuses a backup that is the file itself. Stop the server first.
--dry-run only says what would be cut.

--to-timestamp T cuts instead at the first "#TS:" annotation later than T (Unix
seconds): point-in-time recovery from an AOF written with
aof-timestamp-enabled yes. In a file that is not the last one, the later files
are left out of the copy.

Examples:
   rdbtool repair --dry-run appendonly.aof
   rdbtool repair appendonly.aof fixed.aof
   rdbtool repair --in-place /var/lib/redis/appendonlydir
   rdbtool repair --cut-damage appendonlydir appendonlydir.cut
   rdbtool repair --to-timestamp 1700000000 appendonly.aof before-incident.aof`

func repairCommand() *cli.Command {
	return &cli.Command{
		Name:        "repair",
		Usage:       "cut a torn AOF tail (or cut at a #TS: annotation) and write a loadable copy",
		UsageText:   "rdbtool repair [--dry-run] [--in-place [--backup FILE]] [--cut-damage] [--to-timestamp T] [--force] PATH [OUT]",
		Description: repairDescription,
		ArgsUsage:   "PATH [OUT]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be cut, change nothing"},
			&cli.BoolFlag{Name: "in-place", Usage: "repair PATH itself (its last file), after keeping the original as a backup"},
			&cli.StringFlag{Name: "backup", Usage: "with --in-place: the backup `FILE` (default: the damaged file + .bak)"},
			&cli.BoolFlag{Name: "cut-damage", Usage: "also cut at damage that is not a torn tail of the last file, losing what follows it (see the cost repair prints)"},
			&cli.Int64Flag{Name: "to-timestamp", Usage: "cut at the first #TS: annotation later than `T` (Unix seconds)"},
			&cli.BoolFlag{Name: "force", Usage: "replace OUT (or the backup file) if it exists and is what rdbtool writes"},
		},
		Action: runRepair,
	}
}

// repairFile is one file of the AOF as repair found it.
type repairFile struct {
	path        string
	name        string // for messages
	link        string // the target when path is a symbolic link
	compression string // "none", "gzip", "zstd"
	hasRDB      bool   // starts with an RDB preamble or is an RDB base
	startsRESP  bool   // starts with '*': a torn first command may be cut to nothing, as a server does
	check       *aof.CheckResult
	err         error    // the problem Check found, nil when the file is whole
	warnings    []string // about commands only some servers load (verify's notes)
}

// refusedCommand reports whether the file's problem is a command that every
// server refuses to load (verify's command check), not damaged bytes.
func (f *repairFile) refusedCommand() bool {
	p := f.check.Problem
	return p != nil && p.Op == "command"
}

// repairPlan is where a repair cuts and what that costs.
type repairPlan struct {
	dir    *aof.Dir // nil for a single file
	files  []*repairFile
	cut    int   // index in files of the file cut
	offset int64 // where, in its (decompressed) stream
	what   string
	// damage is set when the cut is not what a server does itself (a torn
	// tail of the last file): --cut-damage must allow it.
	damage bool
	// What the cut loses: of the file cut, and of the files after it, which
	// the copy leaves out.
	lostBytes, lostCommands   int64
	laterBytes, laterCommands int64
}

func (p *repairPlan) later() int { return len(p.files) - 1 - p.cut }

func runRepair(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return usagef("repair", "repair needs PATH and optionally OUT, got %d arguments", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	path, out := c.Args().Get(0), c.Args().Get(1)
	if path == "-" {
		return usagef("repair", "repair needs a file or folder, not standard input")
	}
	inPlace := c.Bool("in-place")
	if inPlace && out != "" {
		return usagef("repair", "give OUT or --in-place, not both")
	}
	if c.IsSet("backup") && !inPlace {
		return usagef("repair", "--backup goes with --in-place")
	}
	stdout := c.App.Writer
	plan, err := planRepair(c.Context, path, c.Int64("to-timestamp"))
	if err != nil {
		return newFileError(path, nil, err)
	}
	if plan == nil {
		if t := c.Int64("to-timestamp"); t != 0 {
			fmt.Fprintf(stdout, "%s: nothing to cut: no #TS: annotation later than %d\n", path, t)
			return nil
		}
		fmt.Fprintf(stdout, "%s: nothing to repair: every command is complete\n", path)
		return nil
	}
	for _, f := range plan.files {
		for _, w := range f.warnings {
			fmt.Fprintf(c.App.ErrWriter, "rdbtool: warning: %s: %s\n", f.name, w)
		}
	}
	cost := plan.cost()
	if plan.damage && !c.Bool("cut-damage") {
		return newFileError(path, nil, &repairRefusal{fmt.Sprintf("%s; a server refuses this AOF, and cutting there %s: give --cut-damage to cut anyway", plan.what, cost)})
	}
	fmt.Fprintf(stdout, "%s: %s; cutting %s at offset %d %s\n", path, plan.what, plan.files[plan.cut].name, plan.offset, cost)
	if c.Bool("dry-run") {
		return nil
	}
	switch {
	case inPlace:
		return repairInPlace(c, plan)
	case plan.dir != nil:
		if out == "" {
			out = filepath.Clean(plan.dir.Path) + ".repaired"
		}
		if err := copyFolderCut(c, plan, out); err != nil {
			return err
		}
	default:
		if out == "" {
			out = path + ".repaired"
		}
		if err := writeCutTo(requestOf(c, out, []string{path}), plan.files[0], plan.offset); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "repaired copy written to %s\n", out)
	return nil
}

// repairRefusal is a cut rdbtool will not make because of what the input is:
// invalid input, exit 3.
type repairRefusal struct{ msg string }

func (e *repairRefusal) Error() string { return e.msg }
func (e *repairRefusal) Unwrap() error { return errclass.ErrInvalid }

// cost says what the cut removes, counted truly.
func (p *repairPlan) cost() string {
	s := "removes " + plural(p.lostBytes, "byte", "bytes") + " and " + plural(p.lostCommands, "command", "commands")
	if n := p.later(); n > 0 {
		s += fmt.Sprintf(" of %s, and leaves out the %s after it (%s, %s)", p.files[p.cut].name,
			plural(int64(n), "file", "files"), plural(p.laterBytes, "byte", "bytes"), plural(p.laterCommands, "command", "commands"))
	}
	return s
}

// planRepair finds the cut for a file or folder; nil when nothing needs
// cutting.
func planRepair(ctx context.Context, path string, toTimestamp int64) (*repairPlan, error) {
	plan := &repairPlan{cut: -1}
	var names []string
	var links []string
	if dirOrManifest(path) {
		dir := path
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			dir = filepath.Dir(path)
		}
		d, err := aof.OpenDir(dir)
		if err != nil && !errors.Is(err, errclass.ErrInvalid) {
			// A Redis data folder: repair its AOF folder.
			if sub := filepath.Join(dir, "appendonlydir"); holdsManifest(sub) {
				d, err = aof.OpenDir(sub)
			}
		}
		if err == nil {
			err = d.Validate()
		}
		if err != nil {
			return nil, err // a *aof.ManifestError: reported with what it means to a server
		}
		plan.dir = d
		for _, f := range d.LoadOrder() {
			names = append(names, f.Name)
			links = append(links, f.Link)
		}
	} else {
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, usagef("repair", "%s is not a regular file: repair reads it twice", path)
		}
		names, links = []string{path}, []string{""}
		if lst, err := os.Lstat(path); err == nil && lst.Mode()&os.ModeSymlink != 0 {
			links[0], _ = os.Readlink(path)
		}
	}
	for i, name := range names {
		p := name
		if plan.dir != nil {
			p = filepath.Join(plan.dir.Path, name)
		}
		f, err := checkRepairFile(ctx, p, toTimestamp)
		if err != nil {
			return nil, fileContext(plan, name, err)
		}
		f.name, f.link = filepath.Base(name), links[i]
		plan.files = append(plan.files, f)
		if plan.cut < 0 {
			if err := plan.consider(i, i == len(names)-1); err != nil {
				return nil, err
			}
		}
	}
	if plan.cut < 0 {
		return nil, nil
	}
	for _, f := range plan.files[plan.cut+1:] {
		plan.laterBytes += f.check.End
		plan.laterCommands += f.check.Commands
		if f.check.Problem != nil {
			plan.laterCommands += f.check.Problem.CommandsAfter
		}
	}
	return plan, nil
}

// fileContext names the file of a folder an error is about.
func fileContext(plan *repairPlan, name string, err error) error {
	if plan.dir == nil {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// consider decides whether file i, the last one loaded or not, is where the
// cut goes.
func (plan *repairPlan) consider(i int, last bool) error {
	f := plan.files[i]
	c := f.check
	where := ""
	if plan.dir != nil {
		where = " of " + f.name
	}
	if f.link != "" {
		where += " (a symbolic link to " + f.link + ")"
	}
	if tc := c.TimestampCut; tc != nil {
		plan.cut, plan.offset = i, tc.Offset
		plan.what = fmt.Sprintf("first #TS: annotation after %d is %d at offset %d%s (%s kept)", tc.ToTimestamp, tc.Timestamp, tc.Offset, where, plural(tc.CommandsBefore, "command", "commands"))
		plan.lostBytes, plan.lostCommands = tc.LostBytes, c.Commands-tc.CommandsBefore
		if c.Problem != nil {
			plan.lostCommands += c.Problem.CommandsAfter
		}
		return nil
	}
	if f.err == nil {
		return nil
	}
	p := c.Problem
	if p == nil || p.Kind == "io" || p.Kind == "too-large" {
		return fileContext(plan, f.name, f.err)
	}
	if f.refusedCommand() && !f.hasRDB && c.Commands == 0 {
		return &repairRefusal{fmt.Sprintf("the first command of %s, at offset %d, is one every server refuses to load (%s); rdbtool does not cut it, which would leave nothing of it",
			f.name, p.Offset, p.Detail)}
	}
	if !f.hasRDB && c.Commands == 0 && (!p.TornTail || !f.startsRESP) {
		// Nothing of the file would be left: it is not an AOF a server can
		// load, and "repairing" it would empty it.
		why := describe(f.err).What
		if lfLineEndings(f) {
			why = "its lines end in LF, not CRLF: redis-server reads the two bytes after each argument as CRLF and stops with \"Bad file format\""
		}
		label := f.name
		if f.link != "" {
			label += " (a symbolic link to " + f.link + ")"
		}
		return &repairRefusal{fmt.Sprintf("%s does not look like an AOF a server can load: no complete command before offset %d (%s); rdbtool does not cut it, which would leave nothing of it",
			label, p.Offset, why)}
	}
	plan.cut, plan.offset = i, c.RepairOffset
	plan.lostBytes, plan.lostCommands = p.LostBytes, p.LostCommands+p.CommandsAfter
	switch {
	case p.TornTail && last:
		plan.what = fmt.Sprintf("torn tail at offset %d%s", p.Offset, where)
	case p.TornTail:
		plan.what = fmt.Sprintf("torn tail at offset %d%s, which is not the last file", p.Offset, where)
		plan.damage = true
	case f.refusedCommand():
		// Not damage but a command Redis refuses at load (verify says
		// INVALID): keeping it would "repair" the AOF into one that still
		// does not load.
		plan.what = fmt.Sprintf("a command every server refuses to load at offset %d%s (%s)", p.Offset, where, p.Detail)
		plan.damage = true
	default:
		plan.what = fmt.Sprintf("damaged at offset %d%s (%s)", p.Offset, where, describe(f.err).What)
		plan.damage = true
	}
	return nil
}

// checkRepairFile checks one AOF file (RESP, or an RDB followed by RESP),
// decompressing a gzip or zstd file. A damaged RDB part cannot be repaired by
// cutting: its error is returned.
func checkRepairFile(ctx context.Context, path string, toTimestamp int64) (*repairFile, error) {
	in, err := openInput(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	f := &repairFile{path: path, compression: in.Compression}
	head, _ := in.Peek(9)
	f.startsRESP = len(head) > 0 && head[0] == '*'
	var base int64
	var rest io.Reader = in
	if aof.SniffFormat(head) == aof.FormatRDB {
		f.hasRDB = true
		r, stop := openRDB(in, rdb.ReaderOptions{})
		defer stop()
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if errclass.Of(err) == errclass.ErrInvalid {
					return nil, fmt.Errorf("the RDB part is damaged, which cutting cannot repair (a server refuses it): %w", err)
				}
				return nil, err
			}
		}
		base, rest = r.Offset(), r.Rest()
	}
	// verify's command check: a command no server loads is a problem of the
	// file like a damaged byte, so that repair never writes an AOF that
	// verify calls INVALID and Redis refuses.
	warn := func(w string) { f.warnings = append(f.warnings, w) }
	f.check, f.err = aof.Check(rest, aof.CheckOptions{BaseOffset: base, ToTimestamp: toTimestamp, Command: serverCommandCheck(warn)})
	if err := interrupted(ctx); err != nil {
		return nil, err
	}
	return f, nil
}

// lfLineEndings reports whether the file's first line ends in a bare LF.
func lfLineEndings(f *repairFile) bool {
	in, err := openInput(context.Background(), f.path, nil)
	if err != nil {
		return false
	}
	defer in.Close()
	head, _ := in.Peek(1024)
	i := bytes.IndexByte(head, '\n')
	return i > 0 && head[i-1] != '\r' && (head[0] == '*' || head[0] == '$')
}

// writeCut writes the first n bytes of f's stream to w, compressed again the
// way f is.
func writeCut(ctx context.Context, f *repairFile, n int64, w io.Writer) error {
	in, err := openInput(ctx, f.path, nil)
	if err != nil {
		return err
	}
	defer in.Close()
	var z io.WriteCloser
	switch f.compression {
	case "gzip":
		z = gzip.NewWriter(w)
	case "zstd":
		if z, err = zstd.NewWriter(w); err != nil {
			return err
		}
	}
	dst := w
	if z != nil {
		dst = z
	}
	if _, err := io.CopyN(dst, in, n); err != nil {
		if z != nil {
			z.Close()
		}
		return fmt.Errorf("copying %s: %w", f.path, err)
	}
	if z != nil {
		return z.Close()
	}
	return nil
}

// writeCutTo writes the first n bytes of f's stream to the output req asks
// for, and commits it.
func writeCutTo(req outputRequest, f *repairFile, n int64) error {
	o, err := openOutputRequest(req)
	if err != nil {
		return err
	}
	defer o.Abort()
	if err := writeCut(req.Ctx, f, n, o); err != nil {
		return err
	}
	return o.Commit()
}

// copyRaw copies a file's stored bytes (a backup, or a file of a folder that
// is not cut) to w.
func copyRaw(ctx context.Context, path string, w io.Writer) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, &countingReader{r: src, done: ctx.Done(), ctx: ctx})
	return err
}

// repairInPlace cuts the last file itself: backup first, then the repaired
// file renamed over the original.
func repairInPlace(c *cli.Context, plan *repairPlan) error {
	f := plan.files[plan.cut]
	if plan.later() > 0 {
		return usagef("repair", "the cut in %s leaves out the %s after it, which --in-place does not do (it changes one file); write a repaired copy instead: rdbtool repair --cut-damage %s OUT",
			f.name, plural(int64(plan.later()), "file", "files"), c.Args().First())
	}
	if f.link != "" {
		return usagef("repair", "%s is a symbolic link (to %s): rdbtool never writes through a link; write a repaired copy instead: rdbtool repair %s OUT", f.path, f.link, c.Args().First())
	}
	var inputs []string
	for _, g := range plan.files {
		inputs = append(inputs, g.path)
	}
	if plan.dir != nil {
		inputs = append(inputs, filepath.Join(plan.dir.Path, plan.dir.ManifestName))
		for _, g := range plan.dir.Files {
			inputs = append(inputs, g.Path)
		}
	}
	backup := c.String("backup")
	if backup == "" {
		backup = f.path + ".bak"
	}
	// The backup: never the file itself (nor any file of the AOF), replaced
	// only with --force when it is a regular file.
	req := requestOf(c, backup, inputs)
	req.BesideInputs = true
	b, err := openOutputRequest(req)
	if err != nil {
		return err
	}
	defer b.Abort()
	if b.IsStream() {
		return usagef("repair", "the backup %s must be a file, not a stream", backup)
	}
	if err := copyRaw(c.Context, f.path, b); err != nil {
		return err
	}
	if err := b.Commit(); err != nil {
		return err
	}
	// The repaired file replaces the original by a rename: the file's
	// permission bits and owner carry over.
	if err := writeCutTo(outputRequest{Ctx: c.Context, Path: f.path, Force: true, Cmd: "repair"}, f, plan.offset); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: repaired in place; the original was kept as %s\n", f.path, backup)
	return nil
}

// copyFolderCut writes a repaired copy of an AOF folder: its manifest and the
// files it lists, the planned file cut, the files after it left out.
func copyFolderCut(c *cli.Context, plan *repairPlan, out string) error {
	d := plan.dir
	inputs := []string{d.Path}
	for _, f := range d.Files {
		inputs = append(inputs, f.Path)
	}
	o, err := createOutputDir(c, out, inputs...)
	if err != nil {
		return err
	}
	defer o.Abort()
	dropped := map[string]bool{}
	for _, f := range plan.files[plan.cut+1:] {
		dropped[f.name] = true
	}
	cut := plan.files[plan.cut]
	for _, f := range d.Files {
		if dropped[f.Name] || f.Format == aof.FormatMissing {
			continue // left out; or a missing history file, as in the original
		}
		w, err := o.Create(f.Name)
		if err != nil {
			return err
		}
		if f.Name == cut.name {
			err = writeCut(c.Context, cut, plan.offset, w)
		} else {
			err = copyRaw(c.Context, f.Path, w)
		}
		if err = errors.Join(err, w.Close()); err != nil {
			return err
		}
	}
	m := *d.Manifest
	var keep []aof.ManifestFile
	for _, f := range m.Incr {
		if !dropped[f.Name] {
			keep = append(keep, f)
		}
	}
	var manifest []byte
	if len(keep) == len(m.Incr) {
		if manifest, err = os.ReadFile(filepath.Join(d.Path, d.ManifestName)); err != nil {
			return err
		}
	} else {
		m.Incr = keep
		var mb bytes.Buffer
		if _, err := m.WriteTo(&mb); err != nil {
			return err
		}
		manifest = mb.Bytes()
	}
	if err := o.WriteFile(d.ManifestName, manifest); err != nil {
		return err
	}
	if err := o.Commit(); err != nil {
		return err
	}
	for _, f := range d.Files {
		if f.Link != "" && !dropped[f.Name] {
			fmt.Fprintf(c.App.ErrWriter, "rdbtool: note: %s is a symbolic link to %s; the copy holds its content\n", f.Name, f.Link)
		}
	}
	if n := plan.later(); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "rdbtool: note: the copy's manifest lists no file after %s (%s left out: %s)\n", cut.name,
			plural(int64(n), "file", "files"), strings.Join(droppedNames(plan), ", "))
	}
	return nil
}

func droppedNames(plan *repairPlan) []string {
	var names []string
	for _, f := range plan.files[plan.cut+1:] {
		names = append(names, f.name)
	}
	return names
}
