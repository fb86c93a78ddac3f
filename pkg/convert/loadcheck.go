package convert

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/rdbtool/rdbtool/internal/dupkeys"
	"github.com/rdbtool/rdbtool/internal/lualib"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// LoadCheck follows the records of an RDB file as a server loading it would
// and finds what makes the server refuse a file that is well-formed: a key
// twice in one database (rdbLoad: "Duplicated key found in RDB file"), a
// function library Redis would not load (its code, or a library or function
// name taken twice). It also notes databases beyond the default 16, which a
// server loads only when configured with more.
//
// Keys cost 16 bytes each up to LoadCheckOptions.MemoryBytes and are spilled
// to a temporary folder past it (internal/dupkeys); call Close.
type LoadCheck struct {
	keys  *dupkeys.Finder
	libs  LibraryCheck
	maxDB int
}

// LibraryCheck checks the function libraries of an RDB file in file order
// as Redis loads them: each must load (internal/lualib), its name and its
// functions' names must not be taken. The zero value is ready.
type LibraryCheck struct {
	set lualib.Set
}

// Check looks at one record: a library Redis refuses is a *rdb.ParseError
// wrapping rdb.ErrCorrupt, naming the library; other records pass.
func (c *LibraryCheck) Check(e *rdb.Entry) error {
	if e.Kind != rdb.EntryFunction || e.FunctionPreGA != nil {
		// A Redis 7.0 release candidate's record has no metadata line, and
		// no released server loads it anyway.
		return nil
	}
	if _, err := c.set.Add(e.Function, false); err != nil {
		return LibraryError(e.Offset, err)
	}
	return nil
}

// LoadCheckOptions configure a LoadCheck.
type LoadCheckOptions struct {
	MemoryBytes int64  // for the key hashes (16 bytes a key); default 256 MiB
	TempDir     string // where they spill; default os.TempDir()
}

// defaultDatabases is redis.conf's default "databases".
const defaultDatabases = 16

// NewLoadCheck returns an empty LoadCheck.
func NewLoadCheck(o LoadCheckOptions) *LoadCheck {
	if o.MemoryBytes <= 0 {
		o.MemoryBytes = 256 << 20
	}
	return &LoadCheck{keys: dupkeys.New(dupkeys.Options{MemoryBytes: o.MemoryBytes, TempDir: o.TempDir}), maxDB: -1}
}

// Entry looks at one record, in file order. A library Redis refuses is an
// error at once (a *rdb.ParseError wrapping rdb.ErrCorrupt); keys are only
// recorded, for Duplicates.
func (c *LoadCheck) Entry(e *rdb.Entry) error {
	switch e.Kind {
	case rdb.EntryKey:
		c.maxDB = max(c.maxDB, e.DB)
		c.keys.Add(e.DB, e.Key, e.Offset)
	case rdb.EntrySelectDB:
		c.maxDB = max(c.maxDB, e.DB)
	case rdb.EntryFunction:
		return c.libs.Check(e)
	}
	return nil
}

// LibraryError is the *rdb.ParseError for a library Redis refuses to load.
func LibraryError(offset int64, err error) error {
	op, msg := "function library", err.Error()
	var le *lualib.Error
	if errors.As(err, &le) {
		msg = le.Msg
		if le.Library != "" {
			op += " " + le.Library
		}
	}
	return &rdb.ParseError{Offset: offset, Op: op, Err: rdb.ErrCorrupt,
		Detail: msg + " (Redis refuses to load it, and with it the whole file)"}
}

// DatabaseWarning says when the file uses databases beyond the default 16:
// "" when it does not.
func (c *LoadCheck) DatabaseWarning() string {
	return DatabasesWarning(c.maxDB)
}

// DatabasesWarning is the warning for a highest database number maxDB.
func DatabasesWarning(maxDB int) string {
	if maxDB < defaultDatabases {
		return ""
	}
	return fmt.Sprintf("database %d is used: a server loads this file only with 'databases %d' or more in redis.conf (the default is 16; with fewer it refuses to start)", maxDB, maxDB+1)
}

// Keys is the number of keys seen.
func (c *LoadCheck) Keys() int64 { return c.keys.Keys() }

// Duplicates finishes the key check: it finds the keys recorded twice in one
// database. Candidates (keys whose 64-bit hashes are equal) are confirmed by
// reading their keys again through reread, which returns the keys found at
// the given offsets; when reread is nil (the input cannot be read twice) the
// candidates are returned unconfirmed, with confirmed false.
func (c *LoadCheck) Duplicates(reread func(offsets []int64) (map[int64]dupkeys.Key, error)) (dups []dupkeys.Duplicate, confirmed bool, err error) {
	groups, err := c.keys.Finish()
	if err != nil || len(groups) == 0 {
		return nil, true, err
	}
	if reread == nil {
		for _, g := range groups {
			dups = append(dups, dupkeys.Duplicate{DB: -1, Offsets: g})
		}
		return dups, false, nil
	}
	keys, err := reread(dupkeys.Offsets(groups))
	if err != nil {
		return nil, false, err
	}
	return dupkeys.Confirm(groups, keys), true, nil
}

// Close releases the key records (and their temporary folder).
func (c *LoadCheck) Close() error { return c.keys.Close() }

// DuplicateKeyError is the *rdb.ParseError for a key found twice: at its second
// offset, naming the first.
func DuplicateKeyError(d dupkeys.Duplicate) error {
	detail := fmt.Sprintf("also at offset %d in database %d: Redis refuses to load the file (\"Duplicated key found in RDB file\")", d.Offsets[0], d.DB)
	if d.DB < 0 {
		detail = fmt.Sprintf("the keys at offsets %d and %d have the same 64-bit hash, probably the same key twice (standard input cannot be read again to confirm it)", d.Offsets[0], d.Offsets[1])
		return &rdb.ParseError{Offset: d.Offsets[1], Op: "possible duplicate key", Err: rdb.ErrCorrupt, Detail: detail}
	}
	return &rdb.ParseError{Offset: d.Offsets[1], Key: d.Key, Op: "duplicate key", Err: rdb.ErrCorrupt, Detail: detail}
}

// KeysAt reads an RDB stream and returns the keys of the records that start
// at the given offsets (sorted ascending), stopping after the last one.
func KeysAt(r *rdb.Reader, offsets []int64) (map[int64]dupkeys.Key, error) {
	out := make(map[int64]dupkeys.Key, len(offsets))
	if len(offsets) == 0 {
		return out, nil
	}
	last := offsets[len(offsets)-1]
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		if _, ok := slices.BinarySearch(offsets, e.Offset); ok {
			out[e.Offset] = dupkeys.Key{DB: e.DB, Key: slices.Clone(e.Key)}
		}
		if e.Offset >= last {
			return out, nil
		}
	}
}
