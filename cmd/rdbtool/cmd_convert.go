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
                  payloads (--restore); a single file, or with --aof-dir a
                  ready-to-use multi-part folder with its manifest
   aof  -> rdb    replays an AOF file, an AOF folder (appendonlydir/ or its
                  manifest) or a Redis data folder offline, as a server
                  loading it would, and saves the dataset; --until T,
                  --until-offset N and --until-command FLUSHALL stop early
                  (point-in-time recovery)

The input format is detected from its first bytes; the output format is --to,
or else OUT's extension (.rdb, .jsonl, .json, .aof), else rdb. The RDB version
written defaults to the input's own (for JSON: the version on its first line).
A server refuses files newer than itself: write 10 for Redis 7.0, 9 for
Redis 5.0-6.2, VALKEY080 for Valkey 9 (docs/versions.md lists every server).

When the target cannot hold something (field TTLs below RDB 12, functions below
10, streams below 9, a Redis 8.6 stream's idempotency state below 13), the
conversion stops with an error naming the key, unless the matching --drop-*
flag says to leave it out; what was dropped is counted on standard error.

OUT is written to a temporary file (or folder) beside it and renamed when
complete; an existing OUT is replaced only with --force. The key filters of
"rdbtool dump" apply.

Examples:
   rdbtool convert --target redis:7.0 dump-7.4.rdb dump-7.0.rdb
   rdbtool convert --rdb-version 9 --drop-field-ttls in.rdb out.rdb
   rdbtool convert dump.rdb keys.jsonl
   rdbtool convert keys.jsonl restored.rdb
   rdbtool convert --to aof --aof-dir dump.rdb appendonlydir
   rdbtool convert --to aof --restore --key 'user:*' dump.rdb users.aof
   rdbtool convert --target redis:7.0 /var/lib/redis/appendonlydir dump.rdb
   rdbtool convert --until-command FLUSHALL appendonly.aof before-flush.rdb`

func convertCommand() *cli.Command {
	return &cli.Command{
		Name:        "convert",
		Usage:       "convert RDB <-> RDB of another version <-> JSON, and RDB -> AOF",
		UsageText:   "rdbtool convert [--to rdb|json|jsonl|aof] [--rdb-version N | --target SERVER] [options] IN OUT",
		Description: convertDescription,
		ArgsUsage:   "IN OUT",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "output `FORMAT`: rdb, jsonl, json or aof (default: from OUT's extension)"},
			&cli.StringFlag{Name: "rdb-version", Usage: "RDB `VERSION` to write: 7-13, or VALKEY080 (default: the input's)"},
			&cli.StringFlag{Name: "target", Usage: "write for `SERVER`, e.g. redis:7.0, redis:7.4, valkey:9.0 (see docs/versions.md)"},
			&cli.BoolFlag{Name: "aof-dir", Usage: "with --to aof: OUT is a multi-part AOF folder (base, empty incr, manifest)"},
			&cli.BoolFlag{Name: "restore", Usage: "with --to aof: RESTORE ... ABSTTL with DUMP payloads instead of rebuilding commands"},
			&cli.BoolFlag{Name: "drop-field-ttls", Usage: "leave out hash-field TTLs the target cannot hold"},
			&cli.BoolFlag{Name: "drop-functions", Usage: "leave out function libraries the target cannot hold"},
			&cli.BoolFlag{Name: "drop-streams", Usage: "leave out streams the target cannot hold"},
			&cli.BoolFlag{Name: "drop-idmp", Usage: "leave out Redis 8.6 stream idempotency state"},
			&cli.BoolFlag{Name: "drop-modules", Usage: "leave out module values and module aux data the target cannot hold"},
			&cli.BoolFlag{Name: "drop-key-meta", Usage: "leave out Redis 8.6 per-key module metadata"},
			&cli.Int64Flag{Name: "until", Usage: "AOF input: stop at the first #TS: annotation later than `T` (Unix seconds)"},
			&cli.Int64Flag{Name: "until-offset", Usage: "AOF input: stop before the command at or after byte `N` of the last file"},
			&cli.StringFlag{Name: "until-command", Usage: "AOF input: stop just before the first `NAME` command (e.g. FLUSHALL)"},
			serverVersionFlag(),
			outputFlags()[1],
			noProgressFlag(),
		}, filterFlags()...),
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
	to, err := outputFormat(c.String("to"), outPath)
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
	if dirOrManifest(inPath) {
		if to != "rdb" {
			return usagef("convert", "an AOF folder converts to rdb only")
		}
		return convertAOF(c, inPath, outPath, filter)
	}
	in, err := openInput(c.Context, inPath, c.App.Reader)
	if err != nil {
		return newFileError(inPath, nil, err)
	}
	defer in.Close()
	head, _ := in.Peek(9)
	inFormat := sniffFormat(head)
	if inFormat == "rdb" && to == "rdb" && strings.HasSuffix(strings.ToLower(inPath), ".aof") {
		inFormat = "aof" // an AOF with an RDB preamble: replay it whole
	}
	switch {
	case inFormat == "aof":
		if to != "rdb" {
			return usagef("convert", "AOF input converts to rdb only")
		}
		if inPath == "-" {
			return usagef("convert", "AOF input must be a file or folder, not standard input")
		}
		return convertAOF(c, inPath, outPath, filter)
	case inFormat == "json" && to != "rdb":
		return usagef("convert", "JSON input converts to rdb only")
	case inFormat == "":
		return newFileError(in.Name, in, &rdb.ParseError{Offset: 0, Op: "input", Err: rdb.ErrCorrupt,
			Detail: "neither an RDB file (REDIS/VALKEY magic) nor rdbtool JSON"})
	}

	if c.Bool("aof-dir") {
		return convertToAOFDir(c, in, outPath, filter)
	}
	out, err := createOutput(outPath, c.Bool("force"), c.App.Writer)
	if err != nil {
		return err
	}
	defer out.Abort()
	bw := bufio.NewWriterSize(out, 256<<10)

	var r *rdb.Reader
	if inFormat == "rdb" {
		var stop func()
		r, stop = openRDB(in, rdb.ReaderOptions{})
		defer stop()
	}
	prog := startProgress(!c.Bool("no-progress"), c.App.ErrWriter, in.Name, in.Size, progressOf(in))
	defer prog.Stop()

	switch {
	case to == "jsonl" || to == "json":
		_, err = convert.DumpJSON(r, bw, convert.DumpOptions{Filter: filter, Array: to == "json"})
	case to == "aof":
		w := aof.NewWriter(bw)
		_, err = convert.RDBToAOF(r, w, aofOptions(c, filter))
	case inFormat == "rdb":
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
	return out.Commit(c.Bool("force"))
}

// outputFormat picks the output format from --to or OUT's extension.
func outputFormat(to, out string) (string, error) {
	switch to {
	case "rdb", "json", "jsonl", "aof":
		return to, nil
	case "":
	default:
		return "", fmt.Errorf("--to %q is not one of rdb, jsonl, json, aof", to)
	}
	switch strings.ToLower(filepath.Ext(out)) {
	case ".json":
		return "json", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	case ".aof":
		return "aof", nil
	}
	return "rdb", nil
}

// sniffFormat tells an RDB file, rdbtool JSON and RESP apart by their first bytes.
func sniffFormat(head []byte) string {
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(head, []byte("REDIS")) || bytes.HasPrefix(head, []byte("VALKEY")):
		return "rdb"
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		return "json"
	case len(head) > 0 && (head[0] == '*' || head[0] == '#'):
		return "aof"
	}
	return ""
}

func aofOptions(c *cli.Context, f convert.Filter) convert.AOFOptions {
	o := convert.AOFOptions{Filter: f, Restore: c.Bool("restore"), DropFieldTTLs: c.Bool("drop-field-ttls")}
	if v := c.String("rdb-version"); v != "" {
		o.RestoreVersion, _ = strconv.Atoi(v)
	}
	return o
}

// writerOptions resolves --rdb-version / --target, defaulting to header.
func writerOptions(c *cli.Context, def rdb.Header) (rdb.WriterOptions, error) {
	name := c.String("target")
	if name == "" {
		name = c.String("rdb-version")
	}
	if name == "" {
		name = def.String()
	}
	o, err := rdb.TargetVersion(name)
	if err != nil {
		return o, usagef("convert", "%v", err)
	}
	o.DropFieldTTLs = c.Bool("drop-field-ttls")
	o.DropFunctions = c.Bool("drop-functions")
	o.DropStreams = c.Bool("drop-streams")
	o.DropIDMP = c.Bool("drop-idmp")
	o.DropModules = c.Bool("drop-modules")
	o.DropKeyMeta = c.Bool("drop-key-meta")
	return o, nil
}

// reportDropped says on standard error what the target could not hold.
func reportDropped(c *cli.Context, w *rdb.Writer) {
	for _, d := range w.Dropped() {
		fmt.Fprintf(c.App.ErrWriter, "rdbtool: dropped %d × %s (not supported by the target)\n", d.Count, d.Feature)
	}
}

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
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if e.Kind != rdb.EntryKey {
			if err := w.WriteEntry(e); err != nil {
				return err
			}
			continue
		}
		if !filter.Match(e) {
			if _, err := r.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := w.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
			return err
		}
		for {
			el, err := r.NextElem()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if err := w.WriteElem(el); err != nil {
				return err
			}
		}
		if err := w.EndKey(); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	reportDropped(c, w)
	return nil
}

func jsonToRDB(c *cli.Context, in io.Reader, out io.Writer, filter convert.Filter) error {
	jr := convert.NewJSONReader(in, 1<<30)
	var w *rdb.Writer
	start := func(h rdb.Header) error {
		o, err := writerOptions(c, h)
		if err != nil {
			return err
		}
		w = rdb.NewWriter(out, o)
		return nil
	}
	for {
		rec, err := jr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &rdb.ParseError{Op: "JSON input", Err: rdb.ErrCorrupt, Detail: err.Error()}
		}
		if rec.Header != nil {
			if w != nil {
				return &rdb.ParseError{Op: "JSON input", Err: rdb.ErrCorrupt, Detail: fmt.Sprintf("line %d: a second header line", rec.Line)}
			}
			if err := start(*rec.Header); err != nil {
				return err
			}
			continue
		}
		if w == nil {
			// No header line: a hand-written file; default to Redis 7.0's format.
			if err := start(rdb.Header{Magic: "REDIS", Version: 10}); err != nil {
				return err
			}
		}
		if rec.Value == nil {
			err = w.WriteEntry(rec.Entry)
		} else if filter.Match(rec.Entry) {
			err = w.WriteKey(rec.Entry, rec.Value)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", rec.Line, err)
		}
	}
	if w == nil {
		return &rdb.ParseError{Op: "JSON input", Err: rdb.ErrCorrupt, Detail: "no lines"}
	}
	if err := w.Close(); err != nil {
		return err
	}
	reportDropped(c, w)
	return nil
}

// convertToAOFDir writes a multi-part AOF folder: into a temporary folder
// beside OUT, renamed to OUT when complete.
func convertToAOFDir(c *cli.Context, in *input, outPath string, filter convert.Filter) error {
	if outPath == "-" {
		return usagef("convert", "--aof-dir needs a folder name, not \"-\"")
	}
	force := c.Bool("force")
	if _, err := os.Lstat(outPath); err == nil && !force {
		return usagef("convert", "%s exists; use --force to replace it", outPath)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".tmp-*")
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(tmp)
		}
	}()
	base, incr, manifest, m := convert.AOFDirLayout("appendonly.aof", false)
	f, err := os.Create(filepath.Join(tmp, base))
	if err != nil {
		return err
	}
	defer f.Close()
	r, stop := openRDB(in, rdb.ReaderOptions{})
	defer stop()
	bw := bufio.NewWriterSize(f, 256<<10)
	if _, err := convert.RDBToAOF(r, aof.NewWriter(bw), aofOptions(c, filter)); err != nil {
		return newFileError(in.Name, in, err)
	}
	if err := errors.Join(bw.Flush(), f.Sync(), f.Close()); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, incr), nil, 0o644); err != nil {
		return err
	}
	var mb bytes.Buffer
	if _, err := m.WriteTo(&mb); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, manifest), mb.Bytes(), 0o644); err != nil {
		return err
	}
	if force {
		if err := os.RemoveAll(outPath); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, outPath); err != nil {
		return err
	}
	committed = true
	return nil
}

// convertAOF replays an AOF (file, folder or data folder) with the engine and
// writes the dataset as an RDB file.
func convertAOF(c *cli.Context, inPath, outPath string, filter convert.Filter) error {
	e, st, _, o, err := replayForCLI(c, inPath)
	if err != nil {
		return err
	}
	out, err := createOutput(outPath, c.Bool("force"), c.App.Writer)
	if err != nil {
		return err
	}
	defer out.Abort()
	bw := bufio.NewWriterSize(out, 256<<10)
	w := rdb.NewWriter(bw, o)
	defer writeGC()()
	if err := convert.WriteEngine(e, w, filter); err != nil {
		return newFileError(inPath, nil, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Commit(c.Bool("force")); err != nil {
		return err
	}
	reportDropped(c, w)
	msg := fmt.Sprintf("replayed %d files: %d keys from RDB parts, %d commands", st.Files, st.RDBKeys, st.Commands)
	if st.Stopped != "" {
		msg += "; stopped " + st.Stopped
	}
	if st.TornTail {
		msg += fmt.Sprintf("; a torn tail at offset %d of the last file was dropped, as Redis does", st.TornOffset)
	}
	fmt.Fprintln(c.App.ErrWriter, "rdbtool: "+msg)
	return nil
}

// replayError classifies replay failures: damaged input is invalid (exit 3),
// a command the engine does not implement is unsupported (exit 4).
func replayError(err error) error {
	var ue *engine.UnsupportedError
	var uc *engine.UnknownCommandError
	switch {
	case errors.As(err, &ue), errors.As(err, &uc):
		return &rdb.ParseError{Op: "replay", Err: &rdb.UnsupportedError{What: err.Error()}}
	}
	if e := rdbError(err, ""); e != err {
		return e
	}
	return err
}

// replayForCLI replays IN with the engine under the --until* flags and returns
// the writer options of --target/--rdb-version (default: Redis 7.0's format).
func replayForCLI(c *cli.Context, inPath string) (*engine.Engine, convert.ReplayStats, []convert.AOFFile, rdb.WriterOptions, error) {
	var st convert.ReplayStats
	files, err := convert.AOFFiles(inPath)
	if err != nil {
		return nil, st, nil, rdb.WriterOptions{}, newFileError(inPath, nil, rdbError(err, ""))
	}
	srv := convert.DetectServer(files)
	if v := c.String("server-version"); v != "" {
		if srv, err = convert.ParseServer(v); err != nil {
			return nil, st, files, rdb.WriterOptions{}, usagef(c.Command.Name, "--server-version: %v", err)
		}
	}
	e := engine.New(engine.Options{Version: srv.Version, Valkey: srv.Valkey, Clock: replayClock(c)})
	ro := convert.ReplayOptions{
		UntilTimestamp: c.Int64("until"), UntilOffset: c.Int64("until-offset"), UntilCommand: c.String("until-command")}
	st, err = replayWithProgress(c, files, e, ro) // cmd_replay.go
	if err != nil {
		return nil, st, files, rdb.WriterOptions{}, newFileError(inPath, nil, replayError(err))
	}
	o, err := writerOptions(c, rdb.Header{Magic: "REDIS", Version: 10})
	o.CompressWorkers = runtime.GOMAXPROCS(0) // same bytes, the LZF work on every core
	o.UniqueElements = true                   // the engine's values never repeat an element
	return e, st, files, o, err
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
