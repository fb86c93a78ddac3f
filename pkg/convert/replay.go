package convert

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync/atomic"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// ReplayOptions choose how much of an AOF to apply.
type ReplayOptions struct {
	// UntilTimestamp stops at the first "#TS:" annotation later than this Unix
	// time (seconds); 0 means no limit.
	UntilTimestamp int64
	// UntilOffset stops before the first command that starts at or after this
	// offset of the last file; 0 means no limit.
	UntilOffset int64
	// UntilCommand stops just before the first command of that name (for
	// example FLUSHALL, to undo an accidental one); "" means no limit.
	UntilCommand string
	// Strict makes a command that returns an error reply fatal; by default
	// it is counted and skipped, as Redis does while loading an AOF.
	Strict bool
	// Open opens a file of the AOF by its AOFFile.Path; nil opens it in the
	// fs.FS AOFFiles listed it from. A caller passes its own to read
	// compressed files, to check what a file is before opening it, and to
	// stop a replay: once Open's reader fails (say, with context.Canceled
	// after an interrupt), the replay applies the commands already parsed, at
	// most a few batches, and returns that error.
	Open func(path string) (io.ReadCloser, error)
	// Context, when set, stops the replay once it is done: it is checked
	// before each batch of commands (at most a few thousand) or keys, and
	// its error returned.
	Context context.Context
	// Progress, when set, counts the bytes read from the files so far (for a
	// progress bar on another goroutine).
	Progress *atomic.Int64
}

// interrupted returns the error of a done Context.
func (o *ReplayOptions) interrupted() error {
	if o.Context == nil {
		return nil
	}
	return o.Context.Err()
}

// ReplayStats says what a replay applied.
type ReplayStats struct {
	Files      int
	RDBKeys    int64 // keys loaded from RDB parts
	Commands   int64 // commands applied
	Stopped    string
	TornTail   bool  // the last file ended inside a command, which was dropped (as Redis does)
	TornOffset int64 // where the dropped tail began
	// ErrorReplies counts the commands that returned an error reply and were
	// skipped (replay_errors.go); FirstErrorReplies describes the first few.
	ErrorReplies      int64
	FirstErrorReplies []ErrorReply
}

// AOFFile is one file of an AOF in load order.
type AOFFile struct {
	Path string // its name in the file system AOFFiles was given, for ReplayOptions.Open
	Last bool   // the last file: a torn tail is tolerated here only

	fsys fs.FS // the file system AOFFiles listed it from
}

// open opens f with open, or else in the file system it was listed from.
func (f AOFFile) open(open func(path string) (io.ReadCloser, error)) (io.ReadCloser, error) {
	switch {
	case open != nil:
		return open(f.Path)
	case f.fsys != nil:
		return f.fsys.Open(f.Path)
	}
	return nil, errNoOpener
}

// AOFFiles lists what a server would load for name in fsys: an AOF folder
// (or its manifest), a Redis data folder ("." for the root of fsys), or a
// single AOF file, in load order.
func AOFFiles(fsys fs.FS, name string) ([]AOFFile, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	var paths []string
	switch {
	case !st.IsDir() && !strings.HasSuffix(name, ".manifest"):
		paths = []string{name}
	default:
		dir := name
		if !st.IsDir() {
			dir = path.Dir(name)
		}
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			return nil, err
		}
		d, err := aof.OpenDirFS(sub)
		if err == nil {
			if err := d.Validate(); err != nil {
				return nil, err
			}
			for _, f := range d.LoadOrder() {
				paths = append(paths, path.Join(dir, f.Name))
			}
			break
		}
		if errors.Is(err, aof.ErrCorrupt) {
			return nil, err // a manifest a server rejects
		}
		dd, err := aof.InspectDataDir(sub, aof.DataDirOptions{})
		if err != nil {
			return nil, err
		}
		if dd.Source == aof.SourceNone && dd.AOFDirErr != nil {
			return nil, dd.AOFDirErr
		}
		if dd.Source == aof.SourceNone {
			return nil, errors.New("no AOF to replay (no manifest, no appendonly.aof)")
		}
		for _, f := range dd.Files {
			paths = append(paths, path.Join(dir, f))
		}
	}
	files := make([]AOFFile, len(paths))
	for i, p := range paths {
		files[i] = AOFFile{Path: p, Last: i == len(paths)-1, fsys: fsys}
	}
	return files, nil
}

// errStop ends a replay early at a point-in-time limit.
var errStop = errors.New("stop")

// errNoOpener is the error of a replay without ReplayOptions.Open.
var errNoOpener = errors.New("convert: no opener for an AOFFile not listed by AOFFiles (set ReplayOptions.Open)")

// ReplayAOF applies the files of an AOF, in order, to e: RDB parts (a preamble
// or an RDB base) are loaded key by key, RESP commands applied as Redis would
// apply them while loading. A torn tail of the last file is dropped, as Redis
// does with aof-load-truncated; anywhere else it is an error.
func ReplayAOF(files []AOFFile, e *engine.Engine, o ReplayOptions) (ReplayStats, error) {
	var st ReplayStats
	for _, f := range files {
		st.Files++
		err := replayFile(f, e, o, &st)
		if err == errStop {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return st, nil
}

func replayFile(f AOFFile, e *engine.Engine, o ReplayOptions, st *ReplayStats) error {
	file, err := f.open(o.Open)
	if err != nil {
		return err
	}
	defer file.Close()
	// Reads of 64 KiB and more go around the buffer: it only serves the peek.
	var src io.Reader = file
	if o.Progress != nil {
		src = &countingReader{r: file, n: o.Progress}
	}
	in := bufio.NewReaderSize(src, 64<<10)
	var rest io.Reader = in
	var base int64
	head, err := in.Peek(9)
	if err != nil && err != io.EOF {
		return err
	}
	if aof.SniffFormat(head) == aof.FormatRDB {
		r := rdb.NewReader(in, rdb.ReaderOptions{})
		defer r.Close()
		if err := loadRDB(r, e, st); err != nil {
			return err
		}
		base, rest = r.Offset(), r.Rest()
	}
	ar := aof.NewReader(rest, aof.ReaderOptions{BaseOffset: base})
	return applyCommands(ar, f, e, o, st)
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// WriteEngine saves the dataset of e (the keys f selects) as an RDB file
// through w, functions first, and closes w. With w's
// WriterOptions.CompressWorkers > 0, keys are encoded on that many goroutines
// (writeEngineParallel): the same file, in less time on several cores.
func WriteEngine(e *engine.Engine, w *rdb.Writer, f Filter) error {
	for _, lib := range e.Functions() {
		if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryFunction, Function: lib}); err != nil {
			return err
		}
	}
	var err error
	if workers := w.Options().CompressWorkers; workers > 0 {
		err = writeEngineParallel(e, w, f, workers)
	} else {
		err = e.EachReused(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
			if !f.Match(ent) {
				return nil
			}
			return w.WriteKey(ent, v)
		})
	}
	if err != nil {
		return err
	}
	return w.Close()
}

// Server is the server whose behaviour a replay follows where releases
// differ: engine.Options's Version and Valkey.
type Server struct {
	Valkey  bool
	Version int // major*100+minor; 0: the newest known
}

func (s Server) String() string {
	name := "redis"
	if s.Valkey {
		name = "valkey"
	}
	if s.Version == 0 {
		return name + " (newest)"
	}
	return fmt.Sprintf("%s:%d.%d", name, s.Version/100, s.Version%100)
}

// DetectServer guesses which server wrote an AOF from the redis-ver or
// valkey-ver aux field of its RDB base or preamble (Valkey 7.2 and 8 also
// write redis-ver 7.2.4: valkey-ver wins); the zero Server (the newest
// Redis) when there is none, as in a RESP-only AOF or an RDB part without
// either field.
//
// It reads the first file through open, as ReplayOptions.Open does (a
// compressed AOF file is judged by what it holds; nil: in the fs.FS of
// AOFFiles). An error opening or reading it, up to the first key, is
// returned: the replay would fail on it too.
func DetectServer(files []AOFFile, open func(path string) (io.ReadCloser, error)) (Server, error) {
	if len(files) == 0 {
		return Server{}, nil
	}
	f, err := files[0].open(open)
	if err != nil {
		return Server{}, err
	}
	defer f.Close()
	in := bufio.NewReader(f)
	if head, err := in.Peek(9); aof.SniffFormat(head) != aof.FormatRDB {
		if err == io.EOF {
			err = nil // a short file: no RDB part
		}
		return Server{}, err // RESP commands: no server named
	}
	r := rdb.NewReader(in, rdb.ReaderOptions{})
	defer r.Close()
	var srv Server
	for {
		e, err := r.Next()
		if err == io.EOF || err == nil && e.Kind == rdb.EntryKey {
			return srv, nil
		}
		if err != nil {
			return srv, fmt.Errorf("%s: %w", files[0].Path, err)
		}
		if e.Kind != rdb.EntryAux {
			continue
		}
		switch string(e.AuxName) {
		case "redis-ver":
			if !srv.Valkey {
				srv.Version = ParseServerVersion(string(e.AuxValue))
			}
		case "valkey-ver":
			srv = Server{Valkey: true, Version: ParseServerVersion(string(e.AuxValue))}
		}
	}
}

// ParseServer parses --server-version: "7.0" or "redis:7.0" for Redis,
// "valkey:8.0" for Valkey.
func ParseServer(s string) (Server, error) {
	family, ver, found := strings.Cut(s, ":")
	if !found {
		family, ver = "redis", s
	}
	var srv Server
	switch strings.ToLower(family) {
	case "redis":
	case "valkey":
		srv.Valkey = true
	default:
		return srv, fmt.Errorf("unknown server %q (want redis or valkey)", family)
	}
	if srv.Version = ParseServerVersion(ver); srv.Version == 0 {
		return srv, fmt.Errorf("want MAJOR.MINOR such as 7.0, not %q", ver)
	}
	return srv, nil
}

// ParseServerVersion turns "7.0.15" into 700; 0 for anything else (test builds
// report 255.255.255 and behave like the newest release).
func ParseServerVersion(s string) int {
	var major, minor int
	if _, err := fmt.Sscanf(s, "%d.%d", &major, &minor); err != nil || major > 99 || minor > 99 {
		return 0
	}
	return major*100 + minor
}
