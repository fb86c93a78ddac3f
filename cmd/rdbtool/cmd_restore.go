package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/restore"
	"github.com/urfave/cli/v2"
)

func init() { register(restoreCommand) }

const restoreDescription = `Writes the keys of SRC into a live server or cluster. SRC is anything rdbtool
reads: an RDB file, an AOF file, an AOF folder (appendonlydir/ or its
manifest), a Redis data folder, or rdbtool's JSON Lines; compressed or not;
"-" for standard input (RDB or JSON).

` + urlHelp + `

Each key goes as RESTORE key ttl payload ABSTTL [IDLETIME|FREQ] with the
value's own bytes as its DUMP payload when the target takes payloads of
SRC's RDB version; otherwise (an older target, or a value longer than the
target's proto-max-bulk-len) as the commands that rebuild it, in a MULTI/EXEC
that builds it under a helper key and renames it, so the key appears whole or
not at all. Keys whose TTL has passed are not sent. Function libraries go
first, with FUNCTION RESTORE, to every master. An AOF or JSON source is first
turned into an RDB stream for the target's version.

A key that exists in the target stops the run (BUSYKEY), naming it, unless
--replace overwrites or --skip-existing keeps it.

A cluster is recognized by INFO (cluster_enabled:1) or named with --cluster:
the slot map comes from CLUSTER SHARDS (CLUSTER SLOTS on older servers), every
master gets its own pipeline, MOVED and ASK redirections are followed while
slots move (resharding may go on during the restore), and TRYAGAIN and
CLUSTERDOWN are retried for up to --retry-timeout. A cluster has database 0
only: a source with keys in other databases is refused unless --db (one
database, which goes to 0) or --map-db says what goes there.

--check says how much is checked, and when:
  first    (the default) a file source is read once end to end before anything
           is written (its checksum and every value checked, its databases
           counted), so a damaged backup is found before the server holds half
           of it. Values are then sent as their bytes are framed (lengths read,
           contents not decoded again): the file must still be the one checked
           (same file, size and time) before anything is sent, and its CRC-64
           the one checked at the end. A file without a CRC-64 has its values
           checked again as they are sent.
  as-sent  no first pass: every value is decoded and checked just before it is
           sent, so nothing damaged reaches the server, but a damaged file
           stops the run part way, after the keys before the damage were sent.
  none     (also --no-check) values are sent as framed, unchecked: a file cut
           short is still refused where it fails, but damage inside a value is
           found only by the file's CRC-64 at the end, after that value reached
           the server, which (with sanitize-dump-payload no, its default) may
           take it and fail later. For files you trust: it costs the least CPU.
Standard input is never read twice: with first it is checked as sent.

--resume FILE keeps, in FILE, how far the target has acknowledged. After a
failure (a node gone, a refused key, Ctrl-C), the same command finishes the
job: keys already acknowledged are not sent again, and keys that were in
flight when the run stopped are accepted if the target has them.

The summary (standard error, or --format json on standard output) counts keys,
bytes, seconds, redirections and retries, per master for a cluster.

Examples:
   rdbtool restore dump.rdb redis://127.0.0.1:6379
   REDISCLI_AUTH=secret rdbtool restore --replace backup.rdb.zst redis://10.0.0.5
   rdbtool restore --resume restore.state dump.rdb redis://node1:7000
   rdbtool restore --db 3 --key 'user:*' dump.rdb rediss://admin@cache:6380/0
   rdbtool restore --map-db 1:0 --map-db 2:0 dump.rdb redis://node1:7000
   rdbtool restore --rate 5000 /var/lib/redis/appendonlydir redis://new-host`

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:        "restore",
		Usage:       "write an RDB, AOF or JSON dump into a live server or Redis Cluster",
		UsageText:   "rdbtool restore [options] SRC URL",
		Description: restoreDescription,
		ArgsUsage:   "SRC URL",
		Flags: append(append([]cli.Flag{
			&cli.BoolFlag{Name: "cluster", Usage: "the target is a Redis Cluster (default: ask it)"},
			&cli.BoolFlag{Name: "replace", Usage: "overwrite keys (and function libraries) that exist in the target"},
			&cli.BoolFlag{Name: "skip-existing", Usage: "keep keys (and function libraries) that exist in the target"},
			&cli.StringSliceFlag{Name: "map-db", Usage: "write source database `A:B` into database B (repeatable)"},
			&cli.StringFlag{Name: "resume", Usage: "record progress in `FILE`; run the same command again to finish a run that stopped"},
			&cli.StringFlag{Name: "rate", Usage: "cap the load: `N` keys per second, or bytes per second with a unit (10MB, 500KB)"},
			&cli.IntFlag{Name: "window", Value: 1024, Usage: "keys in flight per connection (pipelining depth)"},
			&cli.IntFlag{Name: "max-inflight-mb", Value: 64, Usage: "`MiB` of commands waiting for their replies, in all"},
			&cli.DurationFlag{Name: "retry-timeout", Value: time.Minute, Usage: "how long to retry a key refused with TRYAGAIN, CLUSTERDOWN or LOADING"},
			&cli.BoolFlag{Name: "drop-field-ttls", Usage: "leave out hash-field TTLs a target before Redis 7.4 cannot hold"},
			&cli.BoolFlag{Name: "drop-functions", Usage: "leave out function libraries a target before Redis 7.0 cannot hold"},
			&cli.IntFlag{Name: "target-rdb-version", Usage: "the RDB `VERSION` the target takes, when it cannot be asked (FUNCTION DUMP refused, unknown version)"},
			&cli.StringFlag{Name: "check", Value: checkFirst, Usage: "`WHEN` values are checked: first (the whole file, before anything is written), as-sent (each value just before it is sent) or none (see below)"},
			&cli.BoolFlag{Name: "no-check", Usage: "the same as --check none: values go unchecked (damage inside one is found by the file's CRC-64 only at the end)"},
			&cli.BoolFlag{Name: "as-commands", Usage: "send every value as the commands that rebuild it, never RESTORE (for servers or proxies that refuse RESTORE; module values are then refused)"},
			serverVersionFlag(),
			formatFlag("text", "text", "json"),
			noProgressFlag(),
		}, tlsFlags()...), filterFlags()...),
		Action: runRestore,
	}
}

// restoreSource is SRC as an RDB stream, whatever it was.
type restoreSource struct {
	name  string
	kind  string // "rdb", "aof" or "json"
	r     *rdb.Reader
	in    *input       // nil for AOF sources
	conv  chan error   // the converting goroutine's result (AOF, JSON)
	stop  func()       // closes the reader and the input
	dbs   map[int]bool // databases holding selected keys (nil: not known)
	keys  int64        // selected keys, when dbs is known
	print string       // what identifies the source, for --resume
	// framed: the values may go as their bytes are framed, not decoded
	// (restore.Options.FramedValues): --no-check, a source rdbtool wrote
	// itself (AOF, JSON), or a file the check pass verified with a CRC-64,
	// then checked identifies that pass (sameAsChecked compares).
	framed  bool
	checked *checkedFile
	// checkSeconds is how long the check pass took (0: there was none).
	checkSeconds float64
}

// afterRestoreCheck, when set (by tests), runs between the check pass and
// the sending pass: where a file may change under a restore.
var afterRestoreCheck func(path string)

// checkedFile is what the check pass saw of a file: the file (its identity,
// size and modification time, when it began and when it ended) and the
// CRC-64 its trailer holds, which the check pass verified.
type checkedFile struct {
	before, after os.FileInfo
	crc           uint64
}

func runRestore(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("restore", "restore needs SRC and URL, got %d arguments", c.NArg())
	}
	srcPath, rawURL := c.Args().Get(0), c.Args().Get(1)
	if err := checkPaths(c, []string{srcPath}); err != nil {
		return err
	}
	format, err := checkFormat(c, "text", "json")
	if err != nil {
		return err
	}
	if c.Bool("replace") && c.Bool("skip-existing") {
		return usagef("restore", "--replace and --skip-existing exclude each other")
	}
	srv, err := parseServer(c, rawURL)
	if err != nil {
		return err
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}
	keysPerSec, bytesPerSec, err := parseRate(c.String("rate"))
	if err != nil {
		return err
	}
	if c.Int("window") < 1 || c.Int("max-inflight-mb") < 1 {
		return usagef("restore", "--window and --max-inflight-mb must be at least 1")
	}
	mapped, err := parseMapDB(c.StringSlice("map-db"))
	if err != nil {
		return err
	}

	// Ask the target first: whether it is a cluster, and the RDB version an
	// AOF or JSON source is converted to.
	ctx := c.Context
	probe, err := probeServer(ctx, srv)
	if err != nil {
		return err
	}
	isCluster := probe.Cluster || c.Bool("cluster")
	if c.Bool("cluster") && !probe.Cluster {
		return fmt.Errorf("%s is not a cluster node (INFO cluster: cluster_enabled:0)", srv.url)
	}
	targetVersion := probe.RDBVersion
	if v := c.Int("target-rdb-version"); v > 0 {
		targetVersion = v
	}

	// An AOF that does not say which server wrote it is replayed as the
	// target would replay it.
	serverVersion := c.String("server-version")
	if serverVersion == "" && convert.ParseServerVersion(probe.Version) != 0 {
		serverVersion = probe.Family + ":" + probe.Version
	}
	check, err := restoreCheckMode(c)
	if err != nil {
		return err
	}
	src, err := openRestoreSource(c, srcPath, filter, sourceOptions{
		version: targetVersion, check: check, dropFieldTTLs: c.Bool("drop-field-ttls"),
		dropFunctions: c.Bool("drop-functions"), serverVersion: serverVersion, explicitServer: c.String("server-version") != "",
		fieldTTLsRefused: !restore.HoldsFieldTTLs(targetVersion) && !c.Bool("drop-field-ttls"), target: probe.Name()})
	if err != nil {
		return err
	}
	// stop runs twice when a conversion feeds the source (below, then here).
	src.stop = sync.OnceFunc(src.stop)
	defer src.stop()
	mapDB, err := dbMapping(srv, src, filter, mapped, isCluster)
	if err != nil {
		return err
	}

	o := restore.Options{
		Dial:    srv.dialDB0,
		Seed:    srv.url.Addr(),
		Cluster: restore.ClusterOff,
		Replace: c.Bool("replace"), SkipExisting: c.Bool("skip-existing"),
		Filter: filter, MapDB: mapDB, NowMs: filter.NowMs,
		DropFieldTTLs: c.Bool("drop-field-ttls"), DropFunctions: c.Bool("drop-functions"),
		TargetRDBVersion: c.Int("target-rdb-version"), AsCommands: c.Bool("as-commands"),
		Window: c.Int("window"), MaxBytes: int64(c.Int("max-inflight-mb")) << 20,
		KeysPerSecond: keysPerSec, BytesPerSecond: bytesPerSec,
		RetryTimeout: c.Duration("retry-timeout"),
		FramedValues: src.framed,
	}
	if isCluster {
		o.Cluster = restore.ClusterOn
	}
	resumePath := c.String("resume")
	if resumePath != "" {
		o.ResumeKey = resumeKey(c, src, srv)
		data, err := os.ReadFile(resumePath)
		switch {
		case err == nil:
			if restore.ResumeComplete(data) {
				fmt.Fprintf(c.App.ErrWriter, "rdbtool: %s says this restore is complete; nothing to do (remove it to restore again)\n", resumePath)
				return nil
			}
			o.Resume = data
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("reading the resume file: %w", err)
		}
		o.SaveResume = func(b []byte) error { return writeFileAtomic(resumePath, b) }
	}

	var prog *progress
	if src.in != nil {
		prog = startProgress(!c.Bool("no-progress") && isTerminal(c.App.ErrWriter), c.App.ErrWriter, src.name, src.in.Size, progressOf(src.in))
	}
	st, runErr := restore.Run(ctx, src.r, o)
	prog.Stop()
	if runErr == nil {
		runErr = src.endsAsChecked(src.r)
	}
	if src.conv != nil {
		// Closing the pipe's reading end unblocks a converter still writing
		// into it (the restore failed part way): without it the wait below
		// never ends.
		src.stop()
		if cerr := <-src.conv; cerr != nil && runErr != nil && !errors.Is(cerr, io.ErrClosedPipe) {
			runErr = cerr // the conversion's own error says more than the pipe's
		}
	}
	runErr = restoreError(src, runErr)
	if runErr != nil {
		fmt.Fprintf(c.App.ErrWriter, "rdbtool: %s\n", strings.TrimSpace(runErr.Error()))
	}
	if format == "json" {
		if err := writeRestoreJSON(c.App.Writer, srv, st, src.checkSeconds, runErr); err != nil {
			return err
		}
	} else {
		printRestoreSummary(c.App.ErrWriter, srv, st, src.checkSeconds, runErr, resumePath)
	}
	if runErr != nil {
		return &reportedError{Err: runErr}
	}
	return nil
}

// restoreError classifies a failure for the exit code: what the source
// reader found keeps its class; a target that cannot hold the data is
// unsupported (4), resume state of another run a usage error (2).
func restoreError(src *restoreSource, err error) error {
	var te *restore.TargetError
	var re *restore.ResumeError
	var pe *rdb.ParseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return &rdb.UnsupportedError{What: te.Msg}
	case errors.As(err, &re):
		return &usageError{cmd: "restore", msg: re.Error() + "; use another --resume file, or remove this one to start over"}
	case errors.As(err, &pe):
		return newFileError(src.name, src.in, err)
	}
	return err
}

// probeServer connects once to learn what the target is.
func probeServer(ctx context.Context, srv server) (restore.Server, error) {
	conn, err := srv.dialDB0(ctx, "")
	if err != nil {
		return restore.Server{}, fmt.Errorf("connecting to %s: %w", srv.url, err)
	}
	defer conn.Close()
	p, err := restore.Probe(conn)
	if err != nil {
		return p, fmt.Errorf("%s: %w", srv.url, err)
	}
	return p, nil
}

// The values of --check.
const (
	checkFirst  = "first"
	checkAsSent = "as-sent"
	checkNone   = "none"
)

// restoreCheckMode reads --check and its shorthand --no-check.
func restoreCheckMode(c *cli.Context) (string, error) {
	mode := c.String("check")
	switch mode {
	case checkFirst, checkAsSent, checkNone:
	default:
		return "", usagef(c.Command.Name, "--check takes first, as-sent or none, not %q", mode)
	}
	if c.Bool("no-check") {
		if c.IsSet("check") && mode != checkNone {
			return "", usagef(c.Command.Name, "--no-check contradicts --check %s", mode)
		}
		mode = checkNone
	}
	return mode, nil
}

// sourceOptions say how openRestoreSource reads SRC.
type sourceOptions struct {
	version       int    // RDB version AOF and JSON sources are converted to
	check         string // checkFirst, checkAsSent or checkNone
	dropFieldTTLs bool   // in the conversion
	dropFunctions bool
	serverVersion string // --server-version, for AOF replay
	// explicitServer: serverVersion was given, and overrides what the AOF's
	// RDB part says; otherwise it is only the default.
	explicitServer bool
	// fieldTTLsRefused: the check pass refuses hash-field TTLs (the target
	// cannot hold them and they are not to be dropped), naming target.
	fieldTTLsRefused bool
	target           string
}

// openRestoreSource opens SRC as an RDB stream. AOF and JSON sources are
// converted on a goroutine into an RDB of version so.version (the target's,
// so that their keys go as payloads it takes). A file source is checked (and
// its databases counted) first when so.check is checkFirst.
func openRestoreSource(c *cli.Context, path string, filter convert.Filter, so sourceOptions) (*restoreSource, error) {
	src := &restoreSource{name: path, kind: "rdb", stop: func() {}}
	if path == "-" {
		src.name = "<stdin>"
	}
	src.print = fingerprint(path)
	if dirOrManifest(path) {
		return openAOFSource(c, src, path, filter, so)
	}
	in, err := openInput(c.Context, path, c.App.Reader)
	if err != nil {
		return nil, newFileError(path, nil, err)
	}
	head, _ := in.Peek(9)
	format := convert.SniffInput(head, inputName(path))
	kind := format.String()
	switch format {
	case convert.InputAOF:
		in.Close()
		if path == "-" {
			return nil, usagef(c.Command.Name, "an AOF source must be a file or folder, not standard input")
		}
		return openAOFSource(c, src, path, filter, so)
	case convert.InputUnknown, convert.InputEmpty:
		in.Close()
		return nil, newFileError(src.name, in, &rdb.ParseError{Offset: 0, Op: "input", Err: rdb.ErrCorrupt,
			Detail: "neither an RDB file (REDIS/VALKEY magic), an AOF, nor rdbtool JSON"})
	}
	if path != "-" && so.check == checkFirst {
		in.Close()
		if err := checkSource(c, src, path, kind, filter, so); err != nil {
			return nil, err
		}
		if afterRestoreCheck != nil {
			afterRestoreCheck(path)
		}
		if in, err = openInput(c.Context, path, c.App.Reader); err != nil {
			return nil, newFileError(path, nil, err)
		}
		if err := src.sameAsChecked(in); err != nil {
			in.Close()
			return nil, err
		}
	}
	// Values are framed rather than decoded again when the check pass
	// verified them under a CRC-64 (compared again at the end), when the
	// source is rdbtool's own conversion, or with --check none.
	src.framed = so.check == checkNone || kind != "rdb" || src.checked != nil
	src.in, src.kind = in, kind
	if kind == "rdb" {
		r, stop := openRDB(in, rdb.ReaderOptions{})
		src.r, src.stop = r, func() { stop(); in.Close() }
		return src, nil
	}
	pr, pw := io.Pipe()
	src.conv = make(chan error, 1)
	go func() {
		err := jsonToRDBStream(in, bufio.NewWriterSize(pw, 256<<10), so)
		pw.CloseWithError(err)
		src.conv <- err
	}()
	src.r = rdb.NewReader(pr, rdb.ReaderOptions{})
	src.stop = func() { src.r.Close(); pr.Close(); in.Close() }
	return src, nil
}

// checkSource reads a file source end to end before anything is written,
// counting the databases of the keys the filter keeps, and finding the
// hash-field TTLs a target may not hold.
func checkSource(c *cli.Context, src *restoreSource, path, kind string, filter convert.Filter, so sourceOptions) error {
	in, err := openInput(c.Context, path, c.App.Reader)
	if err != nil {
		return newFileError(path, nil, err)
	}
	defer in.Close()
	src.dbs = map[int]bool{}
	note := func(e *rdb.Entry) bool {
		if filter.Match(e) {
			src.dbs[e.DB] = true
			src.keys++
			return true
		}
		return false
	}
	fieldTTLs := func(key []byte) error {
		return &rdb.UnsupportedError{What: fmt.Sprintf("key %s has hash-field TTLs, which the target (%s) cannot hold: they need Redis 7.4 or Valkey 9; --drop-field-ttls leaves them out", rdb.QuoteBytes(key), so.target)}
	}
	prog := startProgress(!c.Bool("no-progress") && isTerminal(c.App.ErrWriter), c.App.ErrWriter, "checking "+src.name, in.Size, in.Done)
	defer prog.Stop()
	start := time.Now()
	defer func() { src.checkSeconds = time.Since(start).Seconds() }()
	if kind == "json" {
		jr := convert.NewJSONReader(in, 1<<30)
		for {
			rec, err := jr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return newFileError(src.name, in, &rdb.ParseError{Op: "JSON input", Err: rdb.ErrCorrupt, Detail: err.Error()})
			}
			if rec.Value != nil && note(rec.Entry) && so.fieldTTLsRefused && rec.Value.Kind == rdb.KindHash {
				for _, f := range rec.Value.Hash {
					if f.ExpireAtMs != 0 {
						return fieldTTLs(rec.Entry.Key)
					}
				}
			}
		}
	}
	var before os.FileInfo
	if in.file != nil {
		before, _ = in.file.Stat()
	}
	r, stop := openRDB(in, rdb.ReaderOptions{Workers: defaultWorkers()})
	defer stop()
	for {
		e, err := r.Next()
		if err == io.EOF {
			src.checked = checkedAs(in, r, before)
			return nil
		}
		if err != nil {
			return newFileError(src.name, in, err)
		}
		if e.Kind != rdb.EntryKey || !note(e) || !so.fieldTTLsRefused || !mayHaveFieldTTLs(e.Type) {
			continue
		}
		for {
			el, err := r.NextElem()
			if err == io.EOF {
				break
			}
			if err != nil {
				return newFileError(src.name, in, err)
			}
			if el.ExpireAtMs != 0 {
				return fieldTTLs(e.Key)
			}
		}
	}
}

// checkedAs describes the file the check pass read to the end with r, when
// a CRC-64 covered it (a trailer of zeros, or a file before RDB 5, has none:
// then nothing would tell the bytes sent from the bytes checked).
func checkedAs(in *input, r *rdb.Reader, before os.FileInfo) *checkedFile {
	state, crc := r.Checksum()
	if state != rdb.ChecksumOK || before == nil {
		return nil
	}
	after, err := in.file.Stat()
	if err != nil || !sameFileState(before, after) {
		return nil
	}
	return &checkedFile{before: before, after: after, crc: crc}
}

// sameFileState: the same file (device and inode), of the same size, not
// modified in between.
func sameFileState(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// errChangedSinceCheck says that the file the check pass verified is not
// the one being restored.
func errChangedSinceCheck(name, how string) error {
	return fmt.Errorf("%s %s since the check pass verified it: what is sent may not be what was checked (restore it again, or from a copy nobody writes to)", name, how)
}

// sameAsChecked makes sure the file the sending pass opened is the one the
// check pass verified, before anything is sent.
func (src *restoreSource) sameAsChecked(in *input) error {
	if src.checked == nil || in.file == nil {
		return nil
	}
	now, err := in.file.Stat()
	if err != nil {
		return err
	}
	if !sameFileState(src.checked.after, now) {
		return errChangedSinceCheck(src.name, "was replaced or modified")
	}
	return nil
}

// endsAsChecked compares, once r has read to the end, the file's CRC-64
// (verified by the sending pass as well) and its state with what the check
// pass saw.
func (src *restoreSource) endsAsChecked(r *rdb.Reader) error {
	if src.checked == nil {
		return nil
	}
	state, crc := r.Checksum()
	if state != rdb.ChecksumOK || crc != src.checked.crc {
		return errChangedSinceCheck(src.name, fmt.Sprintf("changed (CRC-64 %016x, the check pass verified %016x)", crc, src.checked.crc))
	}
	if src.in != nil && src.in.file != nil {
		if now, err := src.in.file.Stat(); err == nil && !sameFileState(src.checked.after, now) {
			return errChangedSinceCheck(src.name, "was modified while it was restored")
		}
	}
	return nil
}

// mayHaveFieldTTLs tells the hash encodings that carry field TTLs.
func mayHaveFieldTTLs(t rdb.Type) bool {
	switch t {
	case rdb.TypeHashMetadata, rdb.TypeHashListpackEx, rdb.TypeHashMetadataPreGA, rdb.TypeHashListpackExPreGA, rdb.TypeValkeyHash2:
		return true
	}
	return false
}

// openAOFSource replays an AOF (file, folder, data folder) and streams the
// dataset as an RDB of the target's version.
func openAOFSource(c *cli.Context, src *restoreSource, path string, filter convert.Filter, so sourceOptions) (*restoreSource, error) {
	files, err := aofFiles(path)
	if err != nil {
		return nil, newFileError(path, nil, rdbError(err, ""))
	}
	open := replayOpener(c.Context, path)
	srv, _ := convert.DetectServer(files, open) // a file it cannot read fails the replay
	if v := so.serverVersion; v != "" && (srv.Version == 0 || so.explicitServer) {
		if srv, err = convert.ParseServer(v); err != nil {
			return nil, usagef(c.Command.Name, "--server-version: %v", err)
		}
	}
	e := engine.New(engine.Options{Version: srv.Version, Valkey: srv.Valkey})
	if _, err := convert.ReplayAOF(files, e, convert.ReplayOptions{Open: open, Context: c.Context}); err != nil {
		return nil, newFileError(path, nil, err)
	}
	src.kind = "aof"
	src.framed = true // rdbtool writes the RDB stream itself
	src.dbs = map[int]bool{}
	err = e.EachReused(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		if !filter.Match(ent) {
			return nil
		}
		src.dbs[db] = true
		src.keys++
		if so.fieldTTLsRefused && v.Kind == rdb.KindHash {
			for _, f := range v.Hash {
				if f.ExpireAtMs != 0 {
					return &rdb.UnsupportedError{What: fmt.Sprintf("key %s has hash-field TTLs, which the target (%s) cannot hold: they need Redis 7.4 or Valkey 9; --drop-field-ttls leaves them out", rdb.QuoteBytes(key), so.target)}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	o, err := writerFor(so)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	src.conv = make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(pw, 256<<10)
		err := convert.WriteEngine(e, rdb.NewWriter(bw, o), convert.Filter{})
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
		src.conv <- err
	}()
	src.r = rdb.NewReader(pr, rdb.ReaderOptions{})
	src.stop = func() { src.r.Close(); pr.Close() }
	return src, nil
}

// writerFor is the RDB writer for the conversion of an AOF or JSON source:
// at so.version, and at least 7, the oldest the writer produces (older
// targets get commands anyway).
func writerFor(so sourceOptions) (rdb.WriterOptions, error) {
	o, err := rdb.TargetVersion(strconv.Itoa(max(so.version, 7)))
	if err != nil {
		return o, err
	}
	o.DropFieldTTLs, o.DropFunctions = so.dropFieldTTLs, so.dropFunctions
	return o, nil
}

// jsonToRDBStream turns rdbtool JSON into an RDB for so, with the checks of
// every JSON load (duplicate keys and libraries, what Redis refuses).
func jsonToRDBStream(in io.Reader, out *bufio.Writer, so sourceOptions) error {
	_, err := convert.JSONToRDB(in, out, convert.JSONToRDBOptions{
		WriterOptions: func(rdb.Header) (rdb.WriterOptions, error) { return writerFor(so) },
	})
	if err != nil {
		return err
	}
	return out.Flush()
}

// parseMapDB reads --map-db A:B values.
func parseMapDB(vals []string) (map[int]int, error) {
	m := map[int]int{}
	for _, v := range vals {
		a, b, ok := strings.Cut(v, ":")
		from, err1 := strconv.Atoi(a)
		to, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || from < 0 || to < 0 {
			return nil, usagef("restore", "--map-db wants SOURCE:TARGET database numbers such as 1:0, not %q", v)
		}
		if _, dup := m[from]; dup {
			return nil, usagef("restore", "--map-db gives database %d twice", from)
		}
		m[from] = to
	}
	return m, nil
}

// dbMapping decides where each source database goes: --map-db first, then
// the URL's /db (every database there), else where it was; on a cluster
// everything must end in 0, and one database chosen with --db goes there.
func dbMapping(srv server, src *restoreSource, filter convert.Filter, mapped map[int]int, isCluster bool) (func(int) (int, bool), error) {
	var dbs []int
	for db := range src.dbs {
		dbs = append(dbs, db)
	}
	slices.Sort(dbs)
	target := func(db int) int {
		if to, ok := mapped[db]; ok {
			return to
		}
		if srv.url.HasDB {
			return srv.url.DB
		}
		if isCluster && len(filter.DBs) == 1 {
			return 0
		}
		return db
	}
	if srv.url.HasDB && len(mapped) == 0 && len(dbs) > 1 {
		return nil, usagef("restore", "%s has keys in databases %s; the URL's /%d takes one: pick it with --db, or use --map-db", src.name, intsText(dbs), srv.url.DB)
	}
	if isCluster {
		if srv.url.HasDB && srv.url.DB != 0 {
			return nil, usagef("restore", "a cluster has database 0 only, not /%d", srv.url.DB)
		}
		var bad []int
		for _, db := range dbs {
			if target(db) != 0 {
				bad = append(bad, db)
			}
		}
		if len(bad) > 0 {
			return nil, usagef("restore", "%s has keys in databases %s and a cluster has database 0 only: pick one with --db N (it goes to 0), or say where each goes with --map-db N:0", src.name, intsText(dbs))
		}
	}
	return func(db int) (int, bool) { return target(db), true }, nil
}

func intsText(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// parseRate reads --rate: keys per second, or bytes per second with a unit.
func parseRate(s string) (keys, bytes float64, err error) {
	if s == "" {
		return 0, 0, nil
	}
	t := strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "/S")
	units := []struct {
		suffix string
		mult   float64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v <= 0 {
				break
			}
			return 0, v * u.mult, nil
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, 0, usagef("restore", "--rate wants keys per second (5000) or bytes per second (10MB), not %q", s)
	}
	return v, 0, nil
}

// fingerprint identifies a source file for --resume: path, size, time.
func fingerprint(path string) string {
	if path == "-" {
		return "<stdin>"
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	st, err := os.Stat(path)
	if err != nil {
		return abs
	}
	return fmt.Sprintf("%s (%d bytes, modified %s)", abs, st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano))
}

// resumeKey names a restore: the source, the target and every option that
// changes which keys go where, so that a state file is never applied to
// another run.
func resumeKey(c *cli.Context, src *restoreSource, srv server) string {
	var b strings.Builder
	fmt.Fprintf(&b, "source %s; target %s", src.print, srv.url.Addr())
	if srv.url.HasDB {
		fmt.Fprintf(&b, "/%d", srv.url.DB)
	}
	for _, name := range []string{"replace", "skip-existing", "drop-field-ttls", "drop-functions"} {
		if c.Bool(name) {
			b.WriteString("; --" + name)
		}
	}
	for _, name := range []string{"key", "key-regex", "expired"} {
		if v := c.String(name); v != "" && !(name == "expired" && v == "include") {
			fmt.Fprintf(&b, "; --%s %q", name, v)
		}
	}
	if v := c.IntSlice("db"); len(v) > 0 {
		fmt.Fprintf(&b, "; --db %v", v)
	}
	if v := c.StringSlice("type"); len(v) > 0 {
		fmt.Fprintf(&b, "; --type %v", v)
	}
	if v := c.StringSlice("map-db"); len(v) > 0 {
		fmt.Fprintf(&b, "; --map-db %v", v)
	}
	return b.String()
}

// writeFileAtomic replaces path with data: a temporary file beside it,
// synced, renamed over it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// printRestoreSummary says what a run did, and after a failure what was
// written and how to finish.
func printRestoreSummary(w io.Writer, srv server, st restore.Stats, checkSeconds float64, err error, resumePath string) {
	secs := max(st.Seconds, 1e-3)
	verb := "restored"
	if err != nil {
		verb = "stopped after writing"
	}
	fmt.Fprintf(w, "rdbtool: %s %s keys into %s (%s, RDB %d) in %.2fs: %s, %s keys/s, %s/s\n",
		verb, count(st.Keys), srv.url, st.TargetServer, st.TargetRDB, st.Seconds,
		humanBytes(st.Bytes), count(int64(float64(st.Keys)/secs)), humanBytes(int64(float64(st.Bytes)/secs)))
	var notes []string
	if checkSeconds > 0 {
		notes = append(notes, fmt.Sprintf("checked first, in %.2fs", checkSeconds))
	}
	add := func(n int64, what string) {
		if n > 0 {
			notes = append(notes, count(n)+" "+what)
		}
	}
	add(st.AsCommands, "sent as commands")
	add(st.Skipped, "existing keys kept")
	add(st.Present, "already written by the interrupted run")
	add(st.Resumed, "done by an earlier run")
	add(st.Expired, "expired (not sent)")
	add(st.Filtered, "left out by the filters")
	add(st.Functions, "function libraries restored")
	add(st.FieldTTLsOff, "hash-field TTLs dropped")
	add(st.ModuleAux, "module aux records not restorable (no command loads them)")
	if len(notes) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(notes, "; "))
	}
	if st.Cluster {
		fmt.Fprintf(w, "  cluster: %d masters; %s MOVED, %s ASK, %s TRYAGAIN, %s CLUSTERDOWN\n",
			len(st.Masters), count(st.Moved), count(st.Ask), count(st.TryAgain), count(st.ClusterDown))
	}
	if st.Cluster || err != nil {
		for _, m := range st.Masters {
			line := fmt.Sprintf("  %-22s %s keys", m.Addr, count(m.Keys))
			if m.InFlight > 0 {
				line += fmt.Sprintf(", %s in flight", count(m.InFlight))
			}
			if m.Err != "" {
				line += " — failed: " + m.Err
			}
			fmt.Fprintln(w, line)
		}
	}
	errs := int64(0)
	if err != nil {
		errs = 1
	}
	fmt.Fprintf(w, "  %s\n", plural(errs, "error", "errors"))
	if err == nil {
		return
	}
	if st.InFlight > 0 {
		fmt.Fprintf(w, "  %s keys were in flight when it stopped: whether the target applied them is unknown\n", count(st.InFlight))
	}
	if resumePath != "" {
		fmt.Fprintf(w, "  %s records what the target acknowledged: run the same command again to finish\n", resumePath)
	} else {
		fmt.Fprintf(w, "  with --resume FILE a later run could have finished the job without writing a key twice\n")
	}
}

// restoreJSON is the --format json summary (field order is the documented order).
type restoreJSON struct {
	Target       string           `json:"target"`
	Status       string           `json:"status"`
	Error        string           `json:"error,omitempty"`
	Server       string           `json:"server"`
	RDBVersion   int              `json:"rdb_version"`
	Keys         int64            `json:"keys"`
	Bytes        int64            `json:"bytes"`
	Seconds      float64          `json:"seconds"`
	CheckSeconds float64          `json:"check_seconds"`
	AsCommands   int64            `json:"as_commands"`
	Skipped      int64            `json:"skipped_existing"`
	Present      int64            `json:"present_from_interrupted_run"`
	Resumed      int64            `json:"done_by_earlier_run"`
	Expired      int64            `json:"expired"`
	Filtered     int64            `json:"filtered"`
	Functions    int64            `json:"functions"`
	FieldTTLsOff int64            `json:"field_ttls_dropped"`
	ModuleAux    int64            `json:"module_aux_not_restored"`
	InFlight     int64            `json:"in_flight"`
	Cluster      bool             `json:"cluster"`
	Moved        int64            `json:"moved"`
	Ask          int64            `json:"ask"`
	TryAgain     int64            `json:"tryagain"`
	ClusterDown  int64            `json:"clusterdown"`
	Masters      []restoreJSONMst `json:"masters"`
}

type restoreJSONMst struct {
	Addr     string `json:"addr"`
	Keys     int64  `json:"keys"`
	InFlight int64  `json:"in_flight"`
	Error    string `json:"error,omitempty"`
}

func writeRestoreJSON(w io.Writer, srv server, st restore.Stats, checkSeconds float64, err error) error {
	j := restoreJSON{Target: srv.url.String(), Status: "ok", Server: st.TargetServer, RDBVersion: st.TargetRDB,
		Keys: st.Keys, Bytes: st.Bytes, Seconds: st.Seconds, CheckSeconds: checkSeconds, AsCommands: st.AsCommands, Skipped: st.Skipped,
		Present: st.Present, Resumed: st.Resumed, Expired: st.Expired, Filtered: st.Filtered, Functions: st.Functions,
		FieldTTLsOff: st.FieldTTLsOff, ModuleAux: st.ModuleAux, InFlight: st.InFlight, Cluster: st.Cluster,
		Moved: st.Moved, Ask: st.Ask, TryAgain: st.TryAgain, ClusterDown: st.ClusterDown, Masters: []restoreJSONMst{}}
	for _, m := range st.Masters {
		j.Masters = append(j.Masters, restoreJSONMst{Addr: m.Addr, Keys: m.Keys, InFlight: m.InFlight, Error: m.Err})
	}
	if err != nil {
		j.Status, j.Error = statusWord(err), err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}
