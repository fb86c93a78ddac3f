package main

import (
	"bufio"
	"fmt"
	"io"
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

The input is never changed. OUT is built in a temporary folder (or file)
beside it and renamed when complete, so an interrupted or failed run leaves OUT
as it was. An existing OUT is replaced only with --force, and only if it is
what rdbtool writes: a folder holding nothing but a manifest and the files it
lists (a regular file with --single-file); never a folder that equals,
contains or lies inside the input.
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
			noProgressFlag(),
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
	files, inputs, err := aofInput("rewrite", inPath)
	if err != nil {
		return err
	}
	// OUT is judged before the replay, which may take minutes.
	var outF *outFile
	var outD *outDir
	if c.Bool("single-file") {
		outF, err = createOutput(c, outPath, inputs...)
		if err == nil {
			defer outF.Abort()
		}
	} else {
		outD, err = createOutputDir(c, outPath, inputs...)
		if err == nil {
			defer outD.Abort()
		}
	}
	if err != nil {
		return err
	}
	e, st, o, err := replayFiles(c, inPath, files)
	if err != nil {
		return err
	}

	baseName, incr, manifest, m := aof.DirLayout("appendonly.aof", base == "rdb")
	var baseOut io.Writer = outF
	var baseFile *dirFile
	if outD != nil {
		if baseFile, err = outD.Create(baseName); err != nil {
			return err
		}
		defer baseFile.Close()
		baseOut = baseFile
	}
	baseOut, writtenBack := withWriteback(baseOut)
	var w *rdb.Writer
	if base == "rdb" {
		w, err = writeEngineTo(e, baseOut, o)
	} else {
		// The commands are made from the dataset as an RDB, in a scratch file
		// beside OUT.
		w, err = engineToAOF(c, e, baseOut, o, outPath)
	}
	if err != nil {
		return newFileError(inPath, nil, err)
	}
	writtenBack()
	reportDropped(c, w)
	if outF != nil {
		err = outF.Commit()
	} else if err = baseFile.Close(); err == nil {
		err = writeManifestFiles(outD, m, incr, manifest)
	}
	if err != nil {
		return err
	}
	in := inputSize(files)
	out := pathSize(outPath)
	fmt.Fprintf(c.App.ErrWriter, "rdbtool: replayed %s (%d commands) into %s: %s -> %s (%.1f%%)\n",
		plural(int64(len(files)), "file", "files"), st.Commands, outPath, humanBytes(in), humanBytes(out), 100*float64(out)/float64(max(in, 1)))
	if st.TornTail {
		fmt.Fprintf(c.App.ErrWriter, "rdbtool: a torn tail at offset %d of the last file was dropped, as Redis does\n", st.TornOffset)
	}
	return nil
}

// writeEngineTo writes the dataset of e as an RDB file to out.
func writeEngineTo(e *engine.Engine, out io.Writer, o rdb.WriterOptions) (*rdb.Writer, error) {
	bw := bufio.NewWriterSize(out, 256<<10)
	w := rdb.NewWriter(bw, o)
	defer writeGC()()
	if err := convert.WriteEngine(e, w, convert.Filter{}); err != nil {
		return w, err
	}
	return w, bw.Flush()
}

// engineToAOF writes the RESP commands that rebuild the dataset of e: the
// dataset goes to a scratch RDB file beside OUT (removed on return, and by an
// interrupt), which is then read back into commands.
func engineToAOF(c *cli.Context, e *engine.Engine, out io.Writer, o rdb.WriterOptions, outPath string) (*rdb.Writer, error) {
	scratch, err := newTempFile(filepath.Dir(outPath), filepath.Base(outPath)+".dataset", 0)
	if err != nil {
		return nil, err
	}
	defer scratch.remove()
	// The scratch is read back at once and removed: LZF on the way in and
	// out, and a sync to the disk, would be work for nothing (the commands
	// are the same).
	o.NoCompress = true
	w, err := writeEngineTo(e, &dirFile{f: scratch.f, ctx: c.Context}, o)
	if cerr := scratch.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return w, err
	}
	in, err := openInput(c.Context, scratch.path, nil)
	if err != nil {
		return w, err
	}
	defer in.Close()
	r, stop := openRDB(in, rdb.ReaderOptions{})
	defer stop()
	bw := bufio.NewWriterSize(out, 256<<10)
	if _, err := convert.RDBToAOF(r, aof.NewWriter(bw), convert.AOFOptions{}); err != nil {
		return w, err
	}
	return w, bw.Flush()
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
