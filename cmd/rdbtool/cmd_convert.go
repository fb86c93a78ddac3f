package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(convertCommand) }

const convertDescription = `Converts between RDB files of any version, rdbtool's JSON form and AOF:

   rdb  -> rdb    another RDB version (--rdb-version N or --target SERVER)
   rdb  -> json   the JSON Lines of "rdbtool dump" (or a JSON array: OUT.json)
   json -> rdb    the dump's JSON back into an RDB file
   rdb  -> aof    the commands that recreate every key (--to aof), or RESTORE
                  payloads (--restore), for the target server: only commands
                  it knows, payloads in its RDB version; a single file, or
                  with --aof-dir a ready-to-use multi-part folder
   aof  -> rdb    replays an AOF file, an AOF folder (appendonlydir/ or its
                  manifest) or a Redis data folder offline, as a server
                  loading it would, and saves the dataset; --until T,
                  --until-offset N and --until-command FLUSHALL stop early
                  (point-in-time recovery)
   aof  -> json   the same replay, written as "rdbtool dump" writes it

The input format is detected from its first bytes; the output format is --to,
or else OUT's extension (.rdb, .jsonl or .ndjson, .json, .aof): any other name
needs --to. The target (the RDB version written, or the server an AOF is for)
defaults to the input's own (for JSON: the version on its first line; its
redis-ver/valkey-ver is kept). For an AOF input it is the version the data
needs: that of its RDB base or preamble, RDB 10 (Redis 7.0) for RESP commands
only, 12 when the replayed data has hash-field TTLs. A server refuses files
newer than itself: write 10 for Redis 7.0, 9 for Redis 5.0-6.2, --target
valkey:8.0 for Valkey 7.2-8.1, VALKEY080 for Valkey 9 (docs/versions.md lists
every server).

When the target cannot hold something (field TTLs below RDB 12 and on Valkey
7.2-8.1, functions below 10, streams below 9, a Redis 8.6 stream's idempotency
state below 13; in an AOF also module values without --restore), the
conversion stops (exit 4) with an error naming the first key and the flag,
unless the matching --drop-* flag says to leave it out; what was dropped is
counted on standard error.

OUT is written to a temporary file (or folder) beside it and renamed when
complete, so an interrupted or failed run leaves OUT as it was. An existing
OUT is replaced only with --force, and only if it is a regular file (or, with
--aof-dir, a folder holding nothing but a manifest and the files it lists);
never the input itself. A device, FIFO or socket (/dev/stdout, a pipe) is
written as a stream. See docs/cli.md, "What rdbtool writes". The key filters
of "rdbtool dump" apply.

Examples:
   rdbtool convert --target redis:7.0 dump-7.4.rdb dump-7.0.rdb
   rdbtool convert --rdb-version 9 --drop-field-ttls in.rdb out.rdb
   rdbtool convert dump.rdb keys.jsonl
   rdbtool convert keys.jsonl restored.rdb
   rdbtool convert --to aof --aof-dir dump.rdb appendonlydir
   rdbtool convert --to aof --restore --key 'user:*' dump.rdb users.aof
   rdbtool convert --to aof --target valkey:8.0 --drop-field-ttls dump.rdb v.aof
   rdbtool convert --target redis:7.0 /var/lib/redis/appendonlydir dump.rdb
   rdbtool convert --until-command FLUSHALL appendonly.aof before-flush.rdb`

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:        "convert",
		Usage:       "convert RDB <-> RDB of another version <-> JSON, RDB -> AOF, and AOF -> RDB or JSON",
		UsageText:   "rdbtool convert [--to rdb|json|jsonl|aof] [--rdb-version N | --target SERVER] [options] IN OUT",
		Description: convertDescription,
		ArgsUsage:   "IN OUT",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "output `FORMAT`: rdb, jsonl, json or aof (default: from OUT's extension)"},
			&cli.StringFlag{Name: "rdb-version", Usage: "RDB `VERSION` to write (also of --restore payloads): 7-13, or VALKEY080 (default: the input's; for an AOF input, what its data needs)"},
			&cli.StringFlag{Name: "target", Usage: "write for `SERVER`, e.g. redis:7.0, redis:7.4, valkey:8.0, valkey:9.0: RDB version, AOF commands and payloads (see docs/versions.md)"},
			&cli.BoolFlag{Name: "aof-dir", Usage: "with --to aof: OUT is a multi-part AOF folder (base, empty incr, manifest)"},
			&cli.BoolFlag{Name: "restore", Usage: "with --to aof: RESTORE ... ABSTTL with DUMP payloads instead of rebuilding commands"},
			&cli.BoolFlag{Name: "drop-field-ttls", Usage: "leave out hash-field TTLs the target cannot hold"},
			&cli.BoolFlag{Name: "drop-functions", Usage: "leave out function libraries the target cannot hold"},
			&cli.BoolFlag{Name: "drop-streams", Usage: "leave out streams the target cannot hold"},
			&cli.BoolFlag{Name: "drop-idmp", Usage: "leave out Redis 8.6 stream idempotency state"},
			&cli.BoolFlag{Name: "drop-modules", Usage: "leave out module values and module aux data the target cannot hold"},
			&cli.BoolFlag{Name: "drop-key-meta", Usage: "leave out Redis 8.6 per-key module metadata"},
			outputFlags()[1],
			noProgressFlag(),
		}, append(replayFlags(), filterFlags()...)...),
		Action: runConvert,
	}
}

func runConvert(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("convert", "convert needs IN and OUT, got %d arguments", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	inPath, outPath := c.Args().Get(0), c.Args().Get(1)
	to, err := outputFormat(c.String("to"), outPath, c.Bool("aof-dir"))
	if err != nil {
		return usagef("convert", "%v", err)
	}
	if (c.Bool("aof-dir") || c.Bool("restore")) && to != "aof" {
		return usagef("convert", "--aof-dir and --restore go with --to aof")
	}
	if c.IsSet("rdb-version") && c.IsSet("target") {
		return usagef("convert", "give --rdb-version or --target, not both")
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}
	in, isAOF, err := openDataset(c, inPath)
	if err != nil {
		return err
	}
	inFormat := convert.InputAOF
	if !isAOF {
		defer in.Close()
		head, err := in.Peek(9)
		if err != nil && err != io.EOF {
			return newFileError(in.Name, in, err)
		}
		inFormat = convert.SniffInput(head, inputName(inPath))
	}
	switch {
	case inFormat == convert.InputAOF && to == "aof":
		return usagef("convert", "AOF input converts to rdb, jsonl or json (\"rdbtool rewrite\" compacts an AOF)")
	case inFormat == convert.InputAOF && to == "rdb":
		return convertAOF(c, inPath, outPath, filter)
	case inFormat == convert.InputJSON && (to != "rdb" || c.Bool("aof-dir")):
		return usagef("convert", "JSON input converts to rdb only")
	case inFormat != convert.InputRDB && inFormat != convert.InputJSON && inFormat != convert.InputAOF:
		return newFileError(in.Name, in, &rdb.ParseError{Offset: 0, Op: "input", Err: rdb.ErrCorrupt,
			Detail: "neither an RDB file (REDIS/VALKEY magic), an AOF, nor rdbtool JSON"})
	}

	if c.Bool("aof-dir") {
		return convertToAOFDir(c, in, outPath, filter)
	}
	out, err := createOutput(c, outPath, readPaths(inPath)...)
	if err != nil {
		return err
	}
	defer out.Abort()
	bw := bufio.NewWriterSize(out, 256<<10)

	var replay convert.ReplayStats
	if inFormat == convert.InputAOF { // to JSON: the dataset the replay reaches
		if in, replay, err = replayDataset(c, inPath, false); err != nil {
			return err
		}
		defer in.Close()
		defer writeGC()()
	}
	var r *rdb.Reader
	if inFormat != convert.InputJSON {
		var stop func()
		r, stop = openRDB(in, readerOptions(c))
		defer stop()
	}
	prog := startProgress(!c.Bool("no-progress") && inFormat != convert.InputAOF, c.App.ErrWriter, in.Name, in.Size, progressOf(in))
	defer prog.Stop()

	var drops []rdb.DropCount // of an AOF output; an RDB writer reports its own
	switch {
	case to == "jsonl" || to == "json":
		_, err = convert.DumpJSON(r, bw, convert.DumpOptions{Filter: filter, Array: to == "json"})
	case to == "aof":
		var ao convert.AOFOptions
		if ao, err = aofOptions(c, r, filter); err == nil {
			var st convert.AOFStats
			st, err = convert.RDBToAOF(r, aof.NewWriter(bw), ao)
			drops = st.Dropped
		}
	case inFormat == convert.InputRDB:
		err = rdbToRDB(c, r, bw, filter)
	default:
		err = jsonToRDB(c, in, bw, filter)
	}
	if err != nil {
		return newFileError(in.Name, in, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	prog.Stop()
	if err := out.Commit(); err != nil {
		return err
	}
	reportDrops(c, drops)
	if inFormat == convert.InputAOF {
		fmt.Fprintln(c.App.ErrWriter, "rdbtool: "+replayMessage(replay))
	}
	return nil
}

// outputFormat picks the output format from --to or OUT's extension. A name
// whose extension says nothing is refused rather than guessed (it became an
// RDB file, whatever the user meant).
func outputFormat(to, out string, aofDir bool) (string, error) {
	switch to {
	case "rdb", "json", "jsonl", "aof":
		return to, nil
	case "":
	default:
		return "", fmt.Errorf("--to %q is not one of rdb, jsonl, json, aof", to)
	}
	if aofDir {
		return "aof", nil
	}
	ext := strings.ToLower(filepath.Ext(out))
	switch ext {
	case ".rdb":
		return "rdb", nil
	case ".json":
		return "json", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	case ".aof":
		return "aof", nil
	}
	what := "has no extension"
	if ext != "" {
		what = "ends in " + strconv.Quote(ext)
	}
	if out == "-" {
		what = "is standard output"
	}
	return "", fmt.Errorf("cannot tell the output format: %s %s; name it .rdb, .jsonl, .json or .aof, or give --to rdb|jsonl|json|aof", out, what)
}

// readerOptions reads the RDB input of a conversion. With --restore the
// values travel as DUMP payloads, which RESTORE checks as deeply as a server
// loading a file (consumer and group PELs, element order, empty values): the
// reader's strict checks refuse what it would refuse. Other conversions
// rebuild every value, and the writer or the server's commands judge it.
func readerOptions(c *cli.Context) rdb.ReaderOptions {
	return rdb.ReaderOptions{Strict: c.Bool("restore")}
}

// writerOptions resolves --rdb-version / --target, defaulting to header.
func writerOptions(c *cli.Context, def rdb.Header) (rdb.WriterOptions, error) {
	name := c.String("target")
	if name == "" {
		name = c.String("rdb-version")
	}
	own := name == ""
	if own {
		name = def.String()
	}
	o, err := rdb.TargetVersion(name)
	if err != nil {
		return o, usagef("convert", "%v", err)
	}
	o.KeepServerVersion = own // a copy at the input's version changes nothing
	o.DropFieldTTLs = c.Bool("drop-field-ttls")
	o.DropFunctions = c.Bool("drop-functions")
	o.DropStreams = c.Bool("drop-streams")
	o.DropIDMP = c.Bool("drop-idmp")
	o.DropModules = c.Bool("drop-modules")
	o.DropKeyMeta = c.Bool("drop-key-meta")
	return o, nil
}

// reportDropped says on standard error what the target could not hold.
func reportDropped(c *cli.Context, w *rdb.Writer) { reportDrops(c, w.Dropped()) }

// rdbToRDB writes r at the version of --rdb-version or --target (default:
// r's own).
func rdbToRDB(c *cli.Context, r *rdb.Reader, out io.Writer, filter convert.Filter) error {
	h, err := r.Header()
	if err != nil {
		return err
	}
	o, err := writerOptions(c, h)
	if err != nil {
		return err
	}
	w := rdb.NewWriter(out, o)
	if err := convert.CopyRDB(r, w, convert.CopyOptions{Filter: filter, Context: c.Context}); err != nil {
		return err
	}
	reportDropped(c, w)
	return nil
}

func jsonToRDB(c *cli.Context, in *input, out io.Writer, filter convert.Filter) error {
	o := convert.JSONToRDBOptions{
		Filter:        filter,
		WriterOptions: func(h rdb.Header) (rdb.WriterOptions, error) { return writerOptions(c, h) },
		Warn:          func(msg string) { fmt.Fprintln(c.App.ErrWriter, "rdbtool: warning: "+msg) },
		MaxLine:       jsonLineLimit(),
		Context:       c.Context,
	}
	if in.Path != "-" {
		o.Reread = func() (io.ReadCloser, error) { return openInput(c.Context, in.Path, nil) }
	}
	w, err := convert.JSONToRDB(in, out, o)
	if err != nil {
		return err
	}
	reportDropped(c, w)
	return nil
}

// convertToAOFDir writes a multi-part AOF folder: into a temporary folder
// beside OUT, renamed to OUT when complete.
func convertToAOFDir(c *cli.Context, in *input, outPath string, filter convert.Filter) error {
	out, err := createOutputDir(c, outPath, in.Path)
	if err != nil {
		return err
	}
	defer out.Abort()
	base, incr, manifest, m := aof.DirLayout("appendonly.aof", false)
	f, err := out.Create(base)
	if err != nil {
		return err
	}
	defer f.Close()
	r, stop := openRDB(in, readerOptions(c))
	defer stop()
	prog := startProgress(!c.Bool("no-progress"), c.App.ErrWriter, in.Name, in.Size, progressOf(in))
	defer prog.Stop()
	bw := bufio.NewWriterSize(f, 256<<10)
	ao, err := aofOptions(c, r, filter)
	if err != nil {
		return newFileError(in.Name, in, err)
	}
	st, err := convert.RDBToAOF(r, aof.NewWriter(bw), ao)
	if err != nil {
		return newFileError(in.Name, in, err)
	}
	if err := errors.Join(bw.Flush(), f.Close()); err != nil {
		return err
	}
	prog.Stop()
	if err := writeManifestFiles(out, m, incr, manifest); err != nil {
		return err
	}
	reportDrops(c, st.Dropped)
	return nil
}

// writeManifestFiles completes an AOF folder: the empty incr file and the
// manifest.
func writeManifestFiles(out *outDir, m *aof.Manifest, incr, manifest string) error {
	var mb bytes.Buffer
	if _, err := m.WriteTo(&mb); err != nil {
		return err
	}
	if err := errors.Join(out.WriteFile(incr, nil), out.WriteFile(manifest, mb.Bytes())); err != nil {
		return err
	}
	return out.Commit()
}

// convertAOF replays an AOF (file, folder or data folder) with the engine and
// writes the dataset as an RDB file.
func convertAOF(c *cli.Context, inPath, outPath string, filter convert.Filter) error {
	files, inputs, err := aofInput(c.Command.Name, inPath)
	if err != nil {
		return err
	}
	out, err := createOutput(c, outPath, inputs...)
	if err != nil {
		return err
	}
	defer out.Abort()
	e, st, o, err := replayFiles(c, inPath, files)
	if err != nil {
		return err
	}
	wb, writtenBack := withWriteback(out)
	bw := bufio.NewWriterSize(wb, 256<<10)
	w := rdb.NewWriter(bw, o)
	defer writeGC()()
	if err := convert.WriteEngine(e, w, filter); err != nil {
		return newFileError(inPath, nil, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	writtenBack()
	if err := out.Commit(); err != nil {
		return err
	}
	reportDropped(c, w)
	fmt.Fprintln(c.App.ErrWriter, "rdbtool: "+replayMessage(st))
	return nil
}

// aofInput lists the files a server would load for an AOF path (file, folder,
// manifest or data folder), and every path the command reads: the ones that
// outputs must keep clear of.
func aofInput(cmd, inPath string) (files []convert.AOFFile, inputs []string, err error) {
	// A replay opens the file it is given more than once (to learn which
	// server wrote it, then to apply it): a pipe would be used up by the
	// first look and the replay would see a damaged stream.
	if st, err := os.Stat(inPath); err == nil && !st.IsDir() && !st.Mode().IsRegular() {
		return nil, nil, usagef(cmd, "%s is not a regular file: an AOF is read more than once, so it cannot come from a pipe; "+
			"save it to a file first (gzip and zstd files are read as they are)", inPath)
	}
	files, err = aofFiles(inPath)
	if err != nil {
		return nil, nil, newFileError(inPath, nil, err)
	}
	inputs = []string{inPath}
	if strings.HasSuffix(inPath, ".manifest") {
		inputs = append(inputs, filepath.Dir(inPath))
	}
	for _, f := range files {
		inputs = append(inputs, f.Path)
	}
	return files, inputs, nil
}

// aofFiles is convert.AOFFiles of a path of the operating system: the
// files' paths are too (a single file's is path as given, which may be a
// FIFO such as <(zcat ...): replayOpener opens that one as it is).
func aofFiles(path string) ([]convert.AOFFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	root, name := path, "."
	if !st.IsDir() {
		root, name = filepath.Dir(path), filepath.Base(path)
	}
	files, err := convert.AOFFiles(os.DirFS(root), name)
	for i, f := range files {
		if f.Path == name {
			files[i].Path = path
		} else {
			files[i].Path = filepath.Join(root, filepath.FromSlash(f.Path))
		}
	}
	return files, err
}

// replayForCLI replays IN (aofInput, replayFiles) and returns the files it
// read too.
func replayForCLI(c *cli.Context, inPath string) (*engine.Engine, convert.ReplayStats, []convert.AOFFile, rdb.WriterOptions, error) {
	files, _, err := aofInput(c.Command.Name, inPath)
	if err != nil {
		return nil, convert.ReplayStats{}, nil, rdb.WriterOptions{}, err
	}
	e, st, o, err := replayFiles(c, inPath, files)
	return e, st, files, o, err
}

// replayFiles replays files with the engine under the --until* flags and
// returns the writer options of --target/--rdb-version (default: the version
// the input needs, see replayTarget). A gzip or zstd file given on the command
// line is decompressed, and an interrupt stops the replay.
func replayFiles(c *cli.Context, inPath string, files []convert.AOFFile) (*engine.Engine, convert.ReplayStats, rdb.WriterOptions, error) {
	var st convert.ReplayStats
	open := replayOpener(c.Context, inPath)
	var srv convert.Server
	if v := c.String("server-version"); v != "" {
		var err error
		if srv, err = convert.ParseServer(v); err != nil {
			return nil, st, rdb.WriterOptions{}, usagef(c.Command.Name, "--server-version: %v", err)
		}
	} else if s, err := convert.DetectServer(files, open); err == nil {
		srv = s // else the replay reports what is wrong with the file
	}
	e := engine.New(engine.Options{Version: srv.Version, Valkey: srv.Valkey, Clock: replayClock(c)})
	st, err := replayWithProgress(c, files, e, convert.ReplayOptions{
		UntilTimestamp: c.Int64("until"), UntilOffset: c.Int64("until-offset"), UntilCommand: c.String("until-command"),
		Strict: c.Bool("strict"), Open: open, Context: c.Context}) // cmd_replay.go
	if err != nil {
		return nil, st, rdb.WriterOptions{}, newFileError(inPath, nil, err)
	}
	reportErrorReplies(c, st)
	o, err := writerOptions(c, replayTarget(files, e, open))
	o.CompressWorkers = runtime.GOMAXPROCS(0) // same bytes, the LZF work on every core
	o.UniqueElements = true                   // the engine's values never repeat an element
	return e, st, o, err
}

// writeGC lowers the garbage collector's target while a replayed dataset is
// written, and returns the function that restores it. The RDB writer makes
// short-lived garbage for every key, which with GOGC=100 grows the heap by as
// much as the dataset before each collection. How much lower depends on what
// a collection costs, which is the scannable part of the heap: a keyspace of
// small strings sits in pointer-free arenas and is collected for almost
// nothing (GOGC=10: the heap stays within 10% of the dataset), while one of
// maps, lists and other objects keeps the default. A GOGC or GOMEMLIMIT set
// in the environment is left alone.
func writeGC() func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 || s[1].Value.Uint64() == 0 {
		return func() {}
	}
	// A collection's cost is proportional to the scannable bytes, and their
	// number to 1/GOGC: scaling GOGC with their share of the heap keeps the
	// collector's work per byte of garbage about what it is for a heap
	// of objects at the default.
	pct := min(100, max(10, int(200*float64(s[0].Value.Uint64())/float64(s[1].Value.Uint64()))))
	old := debug.SetGCPercent(pct)
	return func() { debug.SetGCPercent(old) }
}

func serverVersionFlag() cli.Flag {
	return &cli.StringFlag{Name: "server-version", Usage: "AOF input: replay as that server does where releases differ: `X.Y` or redis:X.Y for Redis, valkey:X.Y for Valkey (default: from the RDB base's redis-ver or valkey-ver, else the newest Redis)"}
}
