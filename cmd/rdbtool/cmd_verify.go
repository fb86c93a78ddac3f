package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/rdbtool/rdbtool/internal/dupkeys"
	"github.com/rdbtool/rdbtool/internal/membudget"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/resp"
	"github.com/urfave/cli/v2"
)

func init() { register(verifyCommand) }

const verifyDescription = `Reads every record of each file with the strict checks on (empty collections,
element order, stream and consumer-group consistency), decodes every value,
checks the CRC-64 trailer, and looks at what follows it. Prints one line per
file:

   dump.rdb: OK (REDIS0011, 412 keys in 3 dbs, checksum ok, 1.2 MiB in 0.05s)
   bad.rdb: INVALID at offset 494 (key "k"): ziplist entry: ...
   old.rdb: UNSUPPORTED at offset 1262 (key "m"): value type: ...
   gone.rdb: ERROR: open gone.rdb: no such file or directory

AOF inputs are checked too: a single-file AOF (RESP, or an RDB preamble
followed by RESP), an AOF folder (appendonlydir/ or its manifest: manifest
consistency, every listed file present, the base and every incr file in load
order), or a Redis data folder, for which verify says what a server would load
at startup (the AOF when there is one, as Redis does) and checks that. A torn
tail is reported with its offset and what cutting it would cost:

   appendonlydir: INVALID at offset 1509: appendonly.aof.2.incr.aof: argument: unexpected end of input: ...; torn tail: cutting at offset 1476 ... loses 110 bytes and 0 commands; 'rdbtool repair' does it

Bytes after an RDB's checksum that are not RESP commands are a warning (exactly
40 hex characters are the EOF mark of a diskless replication transfer);
--strict-trailing makes them an error.
Compressed inputs (gzip, zstd) are decompressed on the fly and offsets count
bytes of the decompressed stream.

The exit code is 0 when every file is OK, otherwise that of the worst file:
3 if any file is invalid, else 4 if any is unsupported, else 1 (I/O errors).

Examples:
   rdbtool verify dump.rdb
   rdbtool verify --format json /backups/*.rdb.zst > report.jsonl
   redis-cli --rdb - | rdbtool verify -
   rdbtool verify /var/lib/redis              the data folder: what a restart would load
   rdbtool verify redis://127.0.0.1:6379      a fresh snapshot of a live server (see pull)
   rdbtool verify --strict-trailing --no-progress a.rdb b.rdb.gz`

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:        "verify",
		Usage:       "check RDB and AOF files (or AOF and data folders) end to end",
		UsageText:   "rdbtool verify [--format text|json] [--config REDIS.CONF] [--strict-trailing] [--workers N] [--no-progress] PATH...",
		Description: verifyDescription,
		ArgsUsage:   "PATH...",
		Flags: []cli.Flag{
			formatFlag("text", "text", "json (one object per line)"),
			&cli.StringFlag{
				Name:  "config",
				Usage: "read `REDIS.CONF` for a data folder's dir, dbfilename, appenddirname, appendfilename and appendonly; with no PATH, verify its dir",
			},
			&cli.BoolFlag{
				Name:  "strict-trailing",
				Usage: "treat any byte after the checksum trailer as an error (exit 3), the diskless EOF mark included",
			},
			&cli.IntFlag{
				Name:  "workers",
				Value: defaultWorkers(),
				Usage: "goroutines that check inner blobs and compressed strings of a local RDB file while the parser moves on (0: all on one; the results are the same)",
			},
			noProgressFlag(),
		},
		Action: runVerify,
	}
}

// verifyResult is one file's outcome; it is also the JSON object printed by
// --format json (field order is the documented order).
type verifyResult struct {
	Path            string     `json:"path"`
	Status          string     `json:"status"` // ok, invalid, unsupported, error
	Format          string     `json:"format"` // "rdb"
	Compression     string     `json:"compression"`
	Header          string     `json:"header,omitempty"`
	RDBVersion      int        `json:"rdb_version,omitempty"`
	Keys            int64      `json:"keys"`
	DBs             int        `json:"dbs"`
	Checksum        string     `json:"checksum"` // ok, disabled, absent, unknown
	CRC64           string     `json:"crc64,omitempty"`
	Bytes           int64      `json:"bytes"`
	CompressedBytes int64      `json:"compressed_bytes,omitempty"`
	TrailingBytes   int64      `json:"trailing_bytes"`
	Seconds         float64    `json:"seconds"`
	Offset          *int64     `json:"offset,omitempty"`
	Key             *jsonBytes `json:"key,omitempty"`
	Error           string     `json:"error,omitempty"`
	Warnings        []string   `json:"warnings"`
	// AOF inputs: commands checked, what a data folder's server would load,
	// and each file in load order.
	Commands int64           `json:"commands,omitempty"`
	Source   string          `json:"source,omitempty"`
	Files    []aofFileResult `json:"files,omitempty"`
	// Data folders: what a server loads under each appendonly setting.
	Loads []dataDirLoad `json:"loads,omitempty"`

	name       string // for the text line: the path, or <stdin>
	offsetNote string
	err        error
}

type verifyOptions struct {
	ctx            context.Context
	dataDir        aof.DataDirOptions // file names of a data folder (--config)
	appendOnly     string             // --config's appendonly: yes, no or ""
	keyMemory      int64              // for the duplicate-key check's hashes
	strictTrailing bool
	workers        int
	progress       bool
	stdin          io.Reader
	stderr         io.Writer
}

func runVerify(c *cli.Context) error {
	paths := c.Args().Slice()
	var conf *serverConfig
	if p := c.String("config"); p != "" {
		var err error
		if conf, err = readServerConfig(p); err != nil {
			return usagef("verify", "--config: %v", err)
		}
		if len(paths) == 0 {
			// Redis takes a relative dir from its working directory.
			paths = []string{conf.dir}
			if conf.dir == "" {
				paths = []string{"."}
			}
		}
	}
	if len(paths) == 0 {
		return usagef("verify", "verify needs at least one PATH (\"-\" for standard input), or --config")
	}
	if err := checkPaths(c, paths); err != nil {
		return err
	}
	format, err := checkFormat(c, "text", "json")
	if err != nil {
		return err
	}
	opts := verifyOptions{
		ctx:            c.Context,
		keyMemory:      keyHashMemory(),
		dataDir:        conf.dataDirOptions(),
		appendOnly:     conf.appendOnlySetting(),
		strictTrailing: c.Bool("strict-trailing"),
		workers:        c.Int("workers"),
		progress:       !c.Bool("no-progress") && isTerminal(c.App.ErrWriter),
		stdin:          c.App.Reader,
		stderr:         c.App.ErrWriter,
	}
	out := c.App.Writer
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	worst, tally := exitOK, map[string]int{}
	var worstErr error
	var unchecked []string
	stopped := false
	for i, p := range paths {
		res, ferr := verifyFile(c.Context, p, opts)
		tally[res.Status]++
		if format == "json" {
			err = enc.Encode(res)
		} else {
			_, err = fmt.Fprintln(out, res.line())
		}
		if err != nil {
			return err // stdout is gone (closed pipe): stop
		}
		if code := exitCode(ferr); worse(code, worst) {
			worst, worstErr = code, ferr
		}
		if err := interrupted(c.Context); err != nil {
			// Interrupted (the file in progress said so): say what was not
			// checked, and never exit 0.
			stopped, unchecked, worstErr = true, paths[i+1:], err
			if len(unchecked) > 0 {
				fmt.Fprintf(c.App.ErrWriter, "rdbtool: interrupted: %d of %d files not checked: %s\n", len(unchecked), len(paths), strings.Join(unchecked, ", "))
			}
			break
		}
	}
	if len(paths) > 1 && format == "text" {
		done := tally["ok"] + tally["invalid"] + tally["unsupported"] + tally["error"]
		line := fmt.Sprintf("%d files: %d ok, %d invalid, %d unsupported, %d errors", done, tally["ok"], tally["invalid"], tally["unsupported"], tally["error"])
		if len(unchecked) > 0 {
			line += fmt.Sprintf(", %d not checked (interrupted)", len(unchecked))
		}
		fmt.Fprintln(c.App.ErrWriter, line)
	}
	if stopped {
		// The interruption outranks what the checked files found: the
		// answer is incomplete (exit 130).
		for _, p := range unchecked {
			if format == "json" {
				enc.Encode(verifyResult{Path: p, Status: "not-checked", Warnings: []string{}, Error: "interrupted before this file"})
			}
		}
		return worstErr
	}
	if worstErr != nil {
		return &reportedError{Err: worstErr}
	}
	return nil
}

// line renders the one-line text report.
func (r *verifyResult) line() string {
	if r.Status == "ok" && r.Format != "rdb" {
		return r.aofLine()
	}
	if r.Status == "ok" {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: OK (%s, %s in %s, %s, %s", r.name, r.Header,
			plural(r.Keys, "key", "keys"), plural(int64(r.DBs), "db", "dbs"), checksumText(r.Checksum), humanBytes(r.Bytes))
		if r.Compression != "none" {
			fmt.Fprintf(&b, " from %s %s", humanBytes(r.CompressedBytes), r.Compression)
		}
		fmt.Fprintf(&b, " in %.2fs)", r.Seconds)
		for _, w := range r.Warnings {
			b.WriteString("; warning: " + w)
		}
		return b.String()
	}
	return failureLine(r.name, r.err, r.offsetNote)
}

func checksumText(state string) string {
	switch state {
	case "ok":
		return "checksum ok"
	case "disabled":
		return "checksum disabled (zero)"
	case "absent":
		return "no checksum (RDB < 5)"
	}
	return "checksum not reached"
}

func checksumName(s rdb.ChecksumState) string {
	switch s {
	case rdb.ChecksumOK:
		return "ok"
	case rdb.ChecksumDisabled:
		return "disabled"
	case rdb.ChecksumAbsent:
		return "absent"
	}
	return "unknown"
}

// verifyFile checks one file. The error, if any, classifies the failure and is
// already described in the result.
func verifyFile(ctx context.Context, path string, o verifyOptions) (res verifyResult, err error) {
	start := time.Now()
	res = verifyResult{Path: path, Status: "ok", Format: "rdb", Compression: "none", Checksum: "unknown", Warnings: []string{}, name: path}
	if path == "-" {
		res.name = "<stdin>"
	}
	var in *input
	defer func() {
		res.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
		if in != nil && in.Compressed() {
			res.CompressedBytes = in.Done()
		}
		if err == nil {
			return
		}
		res.Status, res.err = statusWord(err), err
		f := describe(err)
		res.Offset, res.Error = f.Offset, f.What
		if f.Key != nil {
			k := jsonBytes(f.Key)
			res.Key = &k
		}
	}()

	if resp.LooksLikeURL(path) {
		// A live server: a fresh snapshot over replication (cmd_pull.go).
		return res, verifyServer(ctx, path, o, &res)
	}
	if dirOrManifest(path) {
		return res, verifyAOFPath(ctx, path, o, &res)
	}
	in, err = openInput(ctx, path, o.stdin)
	if err != nil {
		return res, err
	}
	defer in.Close()
	res.Compression, res.offsetNote = in.Compression, in.offsetNote()
	if head, _ := in.Peek(9); convert.SniffInput(head, "") == convert.InputAOF {
		return res, verifyRESPFile(in, &res)
	}
	if in.Size == 0 && path != "-" && !strings.HasSuffix(path, ".rdb") {
		// Redis loads an empty append-only file as an empty dataset.
		res.Format = "aof"
		res.Warnings = append(res.Warnings, "empty file: a valid, empty AOF (as an RDB it would be invalid)")
		return res, nil
	}
	if err := sniffRDB(in); err != nil {
		return res, err
	}
	return res, verifyRDBStream(in, o, &res, false)
}

// verifyRDBStream reads an RDB (and, when RESP commands follow its trailer, the
// RESP tail of an RDB-preamble AOF) into res.
func verifyRDBStream(in *input, o verifyOptions, res *verifyResult, inAOF bool) error {
	ropts := rdb.ReaderOptions{Strict: true, Workers: o.workers, Warn: func(w *rdb.ParseError) {
		res.Warnings = append(res.Warnings, w.Error())
	}}
	r, stop := openRDB(in, ropts)
	defer stop()
	prog := startProgress(o.progress, o.stderr, in.Name, in.Size, progressOf(in))
	defer prog.Stop()
	lc := convert.NewLoadCheck(convert.LoadCheckOptions{MemoryBytes: o.keyMemory})
	defer lc.Close()
	firstKey := map[int]int64{} // database -> KeysRead at its first key
	lastDB := -1
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := in.Interrupted(); err != nil { // a mapped file reads nothing that would notice
				return err
			}
		}
		e, nerr := r.Next()
		if nerr == io.EOF {
			break
		}
		if nerr == nil {
			nerr = lc.Entry(e)
		}
		if nerr != nil {
			// With workers, Next may have run past the failing key: count
			// what a sequential read would have counted.
			res.Header, res.RDBVersion = headerOf(r)
			res.Bytes, res.Keys = r.Offset(), r.KeysRead()
			for _, k := range firstKey {
				if k <= res.Keys {
					res.DBs++
				}
			}
			return nerr
		}
		if e.Kind == rdb.EntryKey && e.DB != lastDB {
			// Keys come database by database: a map lookup per key would
			// show on files of millions of small keys.
			lastDB = e.DB
			if _, seen := firstKey[e.DB]; !seen {
				firstKey[e.DB] = r.KeysRead()
			}
		}
	}
	res.Keys = r.KeysRead()
	if err := checkDuplicates(o, in, lc); err != nil {
		res.Header, res.RDBVersion = headerOf(r)
		res.Bytes = r.Offset()
		return err
	}
	if w := lc.DatabaseWarning(); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
	dbs := firstKey
	res.Header, res.RDBVersion = headerOf(r)
	res.DBs = len(dbs)
	state, crc := r.Checksum()
	res.Checksum = checksumName(state)
	if state == rdb.ChecksumOK {
		res.CRC64 = fmt.Sprintf("0x%016x", crc)
	}
	end := r.Offset()
	res.Bytes = end

	rest := bufio.NewReader(r.Rest())
	if head, _ := rest.Peek(9); convert.SniffInput(head, "") == convert.InputAOF {
		// An AOF with an RDB preamble (Redis 4-6), or an RDB base followed by
		// commands: check the RESP tail.
		if !inAOF {
			res.Format = "aof-preamble"
		}
		fr := aofFileResult{Name: in.Name, Format: "resp"}
		err := checkRESP(rest, end, &fr, res)
		res.Files = append(res.Files, fr)
		if !inAOF {
			res.Bytes = fr.Check.End
		}
		return err
	}
	n, head, terr := drainTrailing(rest)
	res.TrailingBytes, res.Bytes = n, end+n
	if terr != nil {
		return &rdb.ParseError{Offset: end + n, Op: "data after the checksum", Err: terr}
	}
	if n > 0 {
		w := trailingWarning(n, head)
		if o.strictTrailing {
			return &rdb.ParseError{Offset: end, Op: "trailing data", Err: rdb.ErrCorrupt, Detail: w + " (--strict-trailing)"}
		}
		res.Warnings = append(res.Warnings, w)
	}
	return nil
}

// keyHashMemory is the memory the duplicate-key check keeps its hashes in
// before spilling them to disk: an eighth of the memory budget, between
// 8 MiB and 1 GiB (16 bytes a key: 64 million keys in 1 GiB).
func keyHashMemory() int64 {
	l := membudget.Limit()
	if l <= 0 {
		return 256 << 20
	}
	return min(max(l/8, 8<<20), 1<<30)
}

// checkDuplicates finishes the duplicate-key check of an RDB read from in:
// candidates are confirmed by reading the file again (only up to the last of
// them), or reported as probable when the input was standard input.
func checkDuplicates(o verifyOptions, in *input, lc *convert.LoadCheck) error {
	var reread func([]int64) (map[int64]dupkeys.Key, error)
	if in.Path != "-" {
		reread = func(offsets []int64) (map[int64]dupkeys.Key, error) {
			again, err := openInput(o.ctx, in.Path, nil)
			if err != nil {
				return nil, err
			}
			defer again.Close()
			r := rdb.NewReader(again, rdb.ReaderOptions{})
			defer r.Close()
			return convert.KeysAt(r, offsets)
		}
	}
	dups, _, err := lc.Duplicates(reread)
	if err != nil {
		return err
	}
	if len(dups) > 0 {
		return convert.DuplicateKeyError(dups[0])
	}
	return nil
}

// headerOf returns the header once the reader has parsed it.
func headerOf(r *rdb.Reader) (string, int) {
	h, _ := r.Header()
	if h.Magic == "" {
		return "", 0
	}
	return h.String(), h.Version
}

// sniffRDB rejects input that does not even start like an RDB file with the
// message users look for; the reader judges everything else.
func sniffRDB(in *input) error {
	b, err := in.Peek(9)
	if err != nil && err != io.EOF && len(b) == 0 {
		return err
	}
	if len(b) == 0 {
		return &rdb.ParseError{Offset: 0, Op: "header", Err: rdb.ErrCorrupt, Detail: "not an RDB file: the input is empty"}
	}
	for _, magic := range []string{"REDIS", "VALKEY"} {
		k := min(len(b), len(magic))
		if string(b[:k]) == magic[:k] {
			return nil
		}
	}
	return &rdb.ParseError{Offset: 0, Op: "header", Err: rdb.ErrCorrupt,
		Detail: "not an RDB file: expected magic REDIS or VALKEY, found " + strconv.Quote(string(b))}
}

// drainTrailing reads what follows the checksum, keeping its first bytes.
func drainTrailing(rest io.Reader) (int64, []byte, error) {
	head := make([]byte, 41)
	k, err := io.ReadFull(rest, head)
	head = head[:k]
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return int64(k), head, nil
	}
	if err != nil {
		return int64(k), head, err
	}
	n, err := io.Copy(io.Discard, rest)
	return int64(k) + n, head, err
}

func trailingWarning(n int64, head []byte) string {
	if n == 40 && isHex(head) {
		return "40 bytes after the checksum: the EOF mark of a diskless replication transfer (" + string(head) + ")"
	}
	show := head
	if len(show) > 16 {
		show = show[:16]
	}
	w := fmt.Sprintf("%d trailing bytes after the checksum, starting %s", n, strconv.Quote(string(show)))
	if bytes.HasPrefix(head, []byte("*")) {
		w += " (RESP commands: an AOF with an RDB preamble?)"
	}
	return w
}

func isHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// aofLine is the OK line of an AOF, an AOF folder or a data folder.
func (r *verifyResult) aofLine() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: OK (", r.name)
	switch r.Format {
	case "data-dir":
		fmt.Fprintf(&b, "data folder: %s; ", r.loadsText())
	case "aof-dir":
		fmt.Fprintf(&b, "multi-part AOF, %s; ", plural(int64(len(r.Files)), "file", "files"))
	case "aof-preamble":
		b.WriteString("AOF with an RDB preamble; ")
	default:
		b.WriteString("AOF; ")
	}
	if r.Header != "" {
		fmt.Fprintf(&b, "%s %s, ", r.Header, plural(r.Keys, "key", "keys"))
	}
	fmt.Fprintf(&b, "%s, %s in %.2fs)", plural(r.Commands, "command", "commands"), humanBytes(r.Bytes), r.Seconds)
	for _, w := range r.Warnings {
		b.WriteString("; note: " + w)
	}
	return b.String()
}
