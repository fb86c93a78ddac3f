package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(rewriteCommand) }

const rewriteDescription = `Compacts an AOF offline, as BGREWRITEAOF would: replays the AOF file, AOF
folder or Redis data folder with the built-in engine and writes the dataset as a
new multi-part AOF folder OUT: a base (an RDB file by default, as with
aof-use-rdb-preamble yes; RESP commands with --base aof), an empty incr file,
and a manifest. --single-file writes one AOF file instead (RDB preamble, or
RESP with --base aof), the layout of Redis 6.2 and older.

The input is never changed. OUT is built in a temporary folder beside it and
renamed when complete; an existing OUT is replaced only with --force.
--until, --until-offset and --until-command stop the replay early, as for
"rdbtool convert". The base is written for the server the input needs unless
--target or --rdb-version says otherwise: at the version of the input's own RDB
base or preamble, RDB 10 (Redis 7.0) for RESP commands only, 12 when the data
has hash-field TTLs (a --base aof uses only commands that server knows).

Examples:
   rdbtool rewrite /var/lib/redis/appendonlydir /tmp/appendonlydir
   rdbtool rewrite --base aof appendonly.aof compacted-dir
   rdbtool rewrite --single-file --until-command FLUSHALL appendonly.aof fixed.aof`

func rewriteCommand() *cli.Command {
	return &cli.Command{
		Name:        "rewrite",
		Usage:       "compact an AOF offline into a new multi-part folder (or single file)",
		UsageText:   "rdbtool rewrite [--base rdb|aof] [--single-file] [--target SERVER] [--until T] [--force] IN OUT",
		Description: rewriteDescription,
		ArgsUsage:   "IN OUT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "base", Value: "rdb", Usage: "base `FORMAT`: rdb or aof"},
			&cli.BoolFlag{Name: "single-file", Usage: "write one AOF file instead of a folder"},
			&cli.StringFlag{Name: "rdb-version", Usage: "RDB `VERSION` of the base (default: what the input needs, see above)"},
			&cli.StringFlag{Name: "target", Usage: "write the base for `SERVER`, e.g. redis:7.0, redis:7.4, valkey:8.0"},
			&cli.BoolFlag{Name: "drop-field-ttls", Usage: "leave out hash-field TTLs the target cannot hold"},
			&cli.BoolFlag{Name: "drop-functions", Usage: "leave out function libraries the target cannot hold"},
			&cli.BoolFlag{Name: "drop-streams", Usage: "leave out streams the target cannot hold"},
			&cli.BoolFlag{Name: "drop-idmp", Usage: "leave out Redis 8.6 stream idempotency state"},
			&cli.BoolFlag{Name: "drop-modules", Usage: "leave out module data the target cannot hold"},
			&cli.BoolFlag{Name: "drop-key-meta", Usage: "leave out Redis 8.6 per-key module metadata"},
			&cli.Int64Flag{Name: "until", Usage: "stop at the first #TS: annotation later than `T` (Unix seconds)"},
			&cli.Int64Flag{Name: "until-offset", Usage: "stop before the command at or after byte `N` of the last file"},
			&cli.StringFlag{Name: "until-command", Usage: "stop just before the first `NAME` command (e.g. FLUSHALL)"},
			serverVersionFlag(),
			strictRepliesFlag(),
			outputFlags()[1],
		},
		Action: runRewrite,
	}
}

func runRewrite(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("rewrite", "rewrite needs IN and OUT, got %d arguments", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	inPath, outPath := c.Args().Get(0), c.Args().Get(1)
	base := c.String("base")
	if base != "rdb" && base != "aof" {
		return usagef("rewrite", "--base must be rdb or aof, not %q", base)
	}
	if inPath == "-" || outPath == "-" {
		return usagef("rewrite", "rewrite reads and writes files or folders, not standard streams")
	}
	force := c.Bool("force")
	if _, err := os.Lstat(outPath); err == nil && !force {
		return usagef("rewrite", "%s exists; use --force to replace it", outPath)
	}
	e, st, files, o, err := replayForCLI(c, inPath)
	if err != nil {
		return err
	}

	// The dataset as an RDB, in a temporary file beside OUT: the base itself,
	// or the source of the RESP commands.
	tmpDir, err := os.MkdirTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".tmp-*")
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmpDir)
		}
	}()
	rdbPath := filepath.Join(tmpDir, "dataset.rdb")
	w, err := writeEngineFile(e, rdbPath, o)
	if err != nil {
		return newFileError(inPath, nil, err)
	}
	reportDropped(c, w)

	baseName, incr, manifest, m := convert.AOFDirLayout("appendonly.aof", base == "rdb")
	basePath := filepath.Join(tmpDir, baseName)
	if base == "rdb" {
		err = os.Rename(rdbPath, basePath)
	} else {
		err = rdbFileToAOF(rdbPath, basePath)
		os.Remove(rdbPath)
	}
	if err != nil {
		return err
	}
	final := tmpDir
	if c.Bool("single-file") {
		final = basePath
	} else {
		var mb bytes.Buffer
		if _, err := m.WriteTo(&mb); err != nil {
			return err
		}
		if err := errors.Join(os.WriteFile(filepath.Join(tmpDir, incr), nil, 0o644),
			os.WriteFile(filepath.Join(tmpDir, manifest), mb.Bytes(), 0o644)); err != nil {
			return err
		}
	}
	if force {
		if err := os.RemoveAll(outPath); err != nil {
			return err
		}
	}
	if err := os.Rename(final, outPath); err != nil {
		return err
	}
	committed = final == tmpDir
	in := inputSize(files)
	out := pathSize(outPath)
	fmt.Fprintf(c.App.ErrWriter, "rdbtool: replayed %s (%d commands) into %s: %s -> %s (%.1f%%)\n",
		plural(int64(len(files)), "file", "files"), st.Commands, outPath, humanBytes(in), humanBytes(out), 100*float64(out)/float64(max(in, 1)))
	return nil
}

func writeEngineFile(e *engine.Engine, path string, o rdb.WriterOptions) (*rdb.Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	w := rdb.NewWriter(bw, o)
	defer writeGC()()
	if err := convert.WriteEngine(e, w, convert.Filter{}); err != nil {
		return w, err
	}
	return w, errors.Join(bw.Flush(), f.Sync())
}

// rdbFileToAOF writes the RESP commands that rebuild the RDB file src.
func rdbFileToAOF(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	if _, err := convert.RDBToAOF(r, aof.NewWriter(bw), convert.AOFOptions{}); err != nil {
		return err
	}
	return errors.Join(bw.Flush(), f.Sync())
}

func inputSize(files []convert.AOFFile) int64 {
	var n int64
	for _, f := range files {
		n += pathSize(f.Path)
	}
	return n
}

// pathSize is the size of a file, or of the files of a folder.
func pathSize(p string) int64 {
	var n int64
	filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
