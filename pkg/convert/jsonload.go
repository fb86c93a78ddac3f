package convert

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/rdbtool/rdbtool/internal/dupkeys"
	"github.com/rdbtool/rdbtool/internal/lualib"
	"github.com/rdbtool/rdbtool/internal/membudget"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// JSONToRDBOptions configure JSONToRDB.
type JSONToRDBOptions struct {
	Filter Filter
	// WriterOptions picks the writer's options from the input's header line
	// (the CLI applies --target and --rdb-version there).
	WriterOptions func(rdb.Header) (rdb.WriterOptions, error)
	// Reread, when set, opens the input again, to confirm that two keys whose
	// hashes are equal really are the same key. Without it (standard input)
	// such keys are reported as a duplicate, probable rather than certain.
	Reread func() (io.ReadCloser, error)
	// KeyMemoryBytes bounds the memory of the duplicate-key check (16 bytes a
	// key, spilled to a temporary folder past it); default 256 MiB.
	KeyMemoryBytes int64
	// Warn is told about what a server may refuse without its configuration
	// saying otherwise (databases beyond 15).
	Warn func(string)
	// Context, when set, stops the conversion once it is done (checked every
	// 1024 lines); its error is returned.
	Context context.Context
	// MaxLine bounds a line (a key's whole value is one line); default 1 GiB.
	// A longer line is a *membudget.Error (the CLI derives it from the
	// memory budget).
	MaxLine int
}

// JSONToRDB reads rdbtool's JSON form (docs/json.md) from in and writes the
// RDB file it describes to out, refusing, as invalid input naming the JSON
// line, anything that would make a file Redis refuses to load: the same key
// twice in a database (both lines named), the same function library twice, a
// library Redis would not load. It returns the writer, closed, for its
// counts of what the target could not hold (Dropped).
func JSONToRDB(in io.Reader, out io.Writer, o JSONToRDBOptions) (*rdb.Writer, error) {
	if o.MaxLine <= 0 {
		o.MaxLine = 1 << 30
	}
	if o.KeyMemoryBytes <= 0 {
		o.KeyMemoryBytes = 256 << 20
	}
	invalid := func(line int, format string, args ...any) error {
		return &rdb.ParseError{Op: "JSON input", Err: rdb.ErrCorrupt, Detail: fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)}
	}
	jr := NewJSONReader(in, o.MaxLine)
	keys := dupkeys.New(dupkeys.Options{MemoryBytes: o.KeyMemoryBytes})
	defer keys.Close()
	var libs lualib.Set
	libLine := map[string]int{}
	maxDB := -1
	var w *rdb.Writer
	for n := 0; ; n++ {
		if o.Context != nil && n%1024 == 0 {
			if err := o.Context.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := jr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var je *JSONError
			if errors.As(err, &je) && errors.Is(err, bufio.ErrTooLong) {
				return nil, &membudget.Error{What: fmt.Sprintf("JSON line %d, longer than %s (decoding a line takes about 6 times its size)", je.Line, membudget.Bytes(int64(o.MaxLine))),
					Need: 6 * int64(o.MaxLine), InUse: membudget.HeapInUse(), Limit: membudget.Limit()}
			}
			if errors.As(err, &je) && je.Err == nil {
				return nil, invalid(je.Line, "%s", je.Msg)
			}
			return nil, err // the input could not be read (I/O, an interrupt)
		}
		if rec.Header != nil {
			wo, err := o.WriterOptions(*rec.Header)
			if err != nil {
				return nil, err
			}
			w = rdb.NewWriter(out, wo)
			continue
		}
		e := rec.Entry
		switch e.Kind {
		case rdb.EntryFunction:
			lib, err := libs.Add(e.Function, false)
			if err != nil {
				var le *lualib.Error
				if errors.As(err, &le) && le.Library != "" && libLine[le.Library] != 0 && le.Msg == fmt.Sprintf("Library '%s' already exists", le.Library) {
					return nil, invalid(rec.Line, "function library %s is also on line %d: Redis refuses a file holding a library twice", le.Library, libLine[le.Library])
				}
				return nil, invalid(rec.Line, "%v: Redis refuses to load it", err)
			}
			libLine[lib.Name] = rec.Line
		case rdb.EntryKey:
			if !o.Filter.Match(e) {
				continue
			}
			maxDB = max(maxDB, e.DB)
			keys.Add(e.DB, e.Key, int64(rec.Line))
		}
		if rec.Value == nil {
			err = w.WriteEntry(e)
		} else {
			err = w.WriteKey(e, rec.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", rec.Line, err)
		}
	}
	groups, err := keys.Finish()
	if err != nil {
		return nil, err
	}
	if len(groups) > 0 {
		if err := duplicateLines(groups, o.Reread, invalid); err != nil {
			return nil, err
		}
	}
	if msg := DatabasesWarning(maxDB); msg != "" && o.Warn != nil {
		o.Warn(msg)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return w, nil
}

// duplicateLines turns candidate groups of line numbers into the error for
// the first key that really is on two lines.
func duplicateLines(groups [][]int64, reread func() (io.ReadCloser, error), invalid func(int, string, ...any) error) error {
	if reread == nil {
		g := groups[0]
		return invalid(int(g[1]), "probably the key of line %d again (their 64-bit hashes are equal; standard input cannot be read again to compare them): Redis refuses a file holding a key twice in a database", g[0])
	}
	in, err := reread()
	if err != nil {
		return err
	}
	defer in.Close()
	lines := dupkeys.Offsets(groups)
	found := map[int64]dupkeys.Key{}
	jr := NewJSONReader(in, 1<<30)
	for {
		rec, err := jr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if _, ok := slices.BinarySearch(lines, int64(rec.Line)); ok && rec.Entry != nil && rec.Entry.Kind == rdb.EntryKey {
			found[int64(rec.Line)] = dupkeys.Key{DB: rec.Entry.DB, Key: rec.Entry.Key}
		}
		if int64(rec.Line) >= lines[len(lines)-1] {
			break
		}
	}
	dups := dupkeys.Confirm(groups, found)
	if len(dups) == 0 {
		return nil
	}
	d := dups[0]
	return invalid(int(d.Offsets[1]), "key %s of database %d is also on line %d: Redis refuses a file holding a key twice in a database", rdb.QuoteBytes(d.Key), d.DB, d.Offsets[0])
}
