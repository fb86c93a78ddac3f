package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(repairCommand) }

const repairDescription = `Repairs an AOF whose tail was torn by a crash or a full disk, without asking
anything: the file is cut at the end of its last complete command (before a
MULTI left open), which is what redis-check-aof --fix does, and what
redis-server itself does at startup for the last file with aof-load-truncated.

PATH is a single-file AOF (with or without an RDB preamble), or an AOF folder
(appendonlydir/, or its manifest), in which case the first damaged file in load
order is repaired. A damaged RDB part (preamble or base) cannot be repaired by
cutting and is reported as such (exit 3).

By default the repaired copy is written to OUT (default PATH.repaired; for a
folder, a repaired copy of the folder), and PATH is left alone. --in-place
changes PATH itself, after copying the damaged file to FILE.bak (or --backup).
--dry-run only says what would be cut.

--to-timestamp T cuts instead at the first "#TS:" annotation later than T (Unix
seconds): point-in-time recovery from an AOF written with
aof-timestamp-enabled yes.

Examples:
   rdbtool repair --dry-run appendonly.aof
   rdbtool repair appendonly.aof fixed.aof
   rdbtool repair --in-place /var/lib/redis/appendonlydir
   rdbtool repair --to-timestamp 1700000000 appendonly.aof before-incident.aof`

func repairCommand() *cli.Command {
	return &cli.Command{
		Name:        "repair",
		Usage:       "cut a torn AOF tail (or cut at a #TS: annotation) and write a loadable copy",
		UsageText:   "rdbtool repair [--dry-run] [--in-place [--backup FILE]] [--to-timestamp T] [--force] PATH [OUT]",
		Description: repairDescription,
		ArgsUsage:   "PATH [OUT]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Usage: "say what would be cut, change nothing"},
			&cli.BoolFlag{Name: "in-place", Usage: "repair PATH itself, after a backup copy of the damaged file"},
			&cli.StringFlag{Name: "backup", Usage: "with --in-place: the backup `FILE` (default: the damaged file + .bak)"},
			&cli.Int64Flag{Name: "to-timestamp", Usage: "cut at the first #TS: annotation later than `T` (Unix seconds)"},
			&cli.BoolFlag{Name: "force", Usage: "replace OUT (or the backup file) if it exists"},
		},
		Action: runRepair,
	}
}

// repairPlan is where one file is cut.
type repairPlan struct {
	file   string // the file to cut
	size   int64
	cut    int64
	reason string
}

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
	plan, folder, err := planRepair(path, c.Int64("to-timestamp"))
	if err != nil {
		return newFileError(path, nil, err)
	}
	if plan == nil {
		fmt.Fprintf(stdout, "%s: nothing to repair: every command is complete\n", path)
		return nil
	}
	fmt.Fprintf(stdout, "%s: %s; cutting %s at offset %d removes %s\n", path, plan.reason,
		filepath.Base(plan.file), plan.cut, plural(plan.size-plan.cut, "byte", "bytes"))
	if c.Bool("dry-run") {
		return nil
	}
	force := c.Bool("force")
	switch {
	case inPlace:
		backup := c.String("backup")
		if backup == "" {
			backup = plan.file + ".bak"
		}
		if err := copyFile(plan.file, backup, force); err != nil {
			return err
		}
		if err := os.Truncate(plan.file, plan.cut); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: repaired in place; the damaged file was copied to %s first\n", plan.file, backup)
	case folder != "":
		if out == "" {
			out = filepath.Clean(folder) + ".repaired"
		}
		if err := copyFolderCut(folder, out, plan, force); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "repaired copy written to %s\n", out)
	default:
		if out == "" {
			out = path + ".repaired"
		}
		if err := copyPrefix(plan.file, out, plan.cut, force, stdout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "repaired copy written to %s\n", out)
	}
	return nil
}

// planRepair finds the cut for a file or folder; nil when nothing needs cutting.
// folder is set when path is an AOF folder (or its manifest).
func planRepair(path string, toTimestamp int64) (plan *repairPlan, folder string, err error) {
	if dirOrManifest(path) {
		dir := path
		if st, err := os.Stat(path); err == nil && !st.IsDir() {
			dir = filepath.Dir(path)
		}
		d, err := aof.OpenDir(dir)
		if err != nil {
			return nil, "", rdbError(err, "")
		}
		if err := d.Validate(); err != nil {
			return nil, "", rdbError(err, "")
		}
		files := d.LoadOrder()
		for i, f := range files {
			p, err := planFile(f.Path, toTimestamp)
			if err != nil || p == nil {
				if err != nil {
					return nil, "", err
				}
				continue
			}
			if i < len(files)-1 && toTimestamp == 0 {
				p.reason += fmt.Sprintf(" (in %s, which is not the last file: the %d files after it are kept and replay on a state missing the cut commands)", f.Name, len(files)-1-i)
			}
			return p, dir, nil
		}
		return nil, dir, nil
	}
	p, err := planFile(path, toTimestamp)
	return p, "", err
}

// planFile checks one AOF file (RESP, or an RDB followed by RESP).
func planFile(path string, toTimestamp int64) (*repairPlan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(f, 256<<10)
	head, _ := br.Peek(9)
	var base int64
	var rest io.Reader = br
	if aof.SniffFormat(head) == aof.FormatRDB {
		r := rdb.NewReader(br, rdb.ReaderOptions{})
		defer r.Close()
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				// Cutting cannot fix an RDB: Redis refuses a damaged preamble/base.
				return nil, err
			}
		}
		base, rest = r.Offset(), r.Rest()
	}
	c, cerr := aof.Check(rest, aof.CheckOptions{BaseOffset: base, ToTimestamp: toTimestamp})
	if toTimestamp != 0 {
		if c.TimestampCut == nil {
			if cerr != nil {
				return nil, rdbError(cerr, "no #TS: annotation later than "+strconv.FormatInt(toTimestamp, 10)+" before the damage")
			}
			return nil, nil
		}
		tc := c.TimestampCut
		return &repairPlan{file: path, size: st.Size(), cut: tc.Offset,
			reason: fmt.Sprintf("first #TS: annotation after %d is %d at offset %d (%s kept)", toTimestamp, tc.Timestamp, tc.Offset, plural(tc.CommandsBefore, "command", "commands"))}, nil
	}
	if cerr == nil {
		return nil, nil
	}
	p := c.Problem
	if p == nil || (p.Kind != "truncated" && p.Kind != "corrupt") {
		return nil, rdbError(cerr, "")
	}
	what := "damaged at offset " + strconv.FormatInt(p.Offset, 10) + " (" + p.Op + ": " + p.Detail + ")"
	if p.TornTail {
		what = "torn tail at offset " + strconv.FormatInt(p.Offset, 10)
	}
	return &repairPlan{file: path, size: st.Size(), cut: c.RepairOffset,
		reason: fmt.Sprintf("%s; %s lost", what, plural(p.LostCommands, "complete command", "complete commands"))}, nil
}

// copyPrefix writes the first n bytes of src to dst, safely (temp + rename).
func copyPrefix(src, dst string, n int64, force bool, stdout io.Writer) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := openOutputRequest(outputRequest{Path: dst, Force: force, Stdout: stdout, Cmd: "repair"})
	if err != nil {
		return err
	}
	defer out.Abort()
	if _, err := io.CopyN(out, in, n); err != nil {
		return err
	}
	return out.Commit()
}

func copyFile(src, dst string, force bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	return copyPrefix(src, dst, st.Size(), force, io.Discard)
}

// copyFolderCut copies an AOF folder to dst with the planned file cut.
func copyFolderCut(src, dst string, plan *repairPlan, force bool) error {
	if _, err := os.Lstat(dst); err == nil && !force {
		return usagef("repair", "%s exists; use --force to replace it", dst)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		from := filepath.Join(src, e.Name())
		st, err := os.Stat(from)
		if err != nil {
			return err
		}
		n := st.Size()
		if filepath.Clean(from) == filepath.Clean(plan.file) {
			n = plan.cut
		}
		if err := copyPrefix(from, filepath.Join(tmp, e.Name()), n, false, io.Discard); err != nil {
			return err
		}
	}
	if force {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	done = true
	return nil
}
