package aof

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/internal/filemode"
)

// Format is what a file holds, judged by its first bytes, never by its name.
type Format uint8

const (
	FormatMissing Format = iota // the file does not exist, or is not a regular file (see DirFile.Irregular)
	FormatEmpty                 // zero bytes: a valid, empty AOF
	FormatRDB                   // "REDIS" or "VALKEY" magic: an RDB, maybe followed by RESP
	FormatRESP                  // anything else: RESP commands for Reader
)

func (f Format) String() string {
	switch f {
	case FormatMissing:
		return "missing"
	case FormatEmpty:
		return "empty"
	case FormatRDB:
		return "rdb"
	case FormatRESP:
		return "resp"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// SniffFormat tells an RDB from RESP by the first bytes of a file, as Redis's
// loader does (an empty prefix is FormatEmpty).
func SniffFormat(prefix []byte) Format {
	switch {
	case len(prefix) == 0:
		return FormatEmpty
	case hasRDBMagic(prefix):
		return FormatRDB
	}
	return FormatRESP
}

// DirFile is a manifest entry with what the directory holds for it.
type DirFile struct {
	ManifestFile
	Path   string // the file's path: the directory joined with Name
	Size   int64  // -1 when missing
	Format Format
	Load   bool // a server loads it: the base and the incr files, not history
	// Link is the target of a symbolic link, "" for a regular file. A server
	// follows links; rdbtool reads through them but never writes through one.
	Link string
	// Irregular says what the entry is when it is neither a regular file nor
	// a link to one ("a FIFO", "a folder", ...). Format is then
	// FormatMissing: the entry is never opened (opening a FIFO blocks until
	// something writes to it), and Validate refuses it.
	Irregular string
	// Compressed is "gzip" or "zstd" when the file starts with that magic. A
	// server reads AOF files as they are, so it cannot load it; Validate
	// refuses it.
	Compressed string
}

// Dir is a multi-part AOF directory (appendonlydir) and its manifest.
type Dir struct {
	Path         string // the directory as given
	ManifestName string // e.g. "appendonly.aof.manifest"
	Manifest     *Manifest
	// Files lists the base (if any), then the incr files in manifest order
	// (together: the load order), then the history files, which are listed
	// but never loaded.
	Files []DirFile
}

// OpenDir reads the manifest of the multi-part AOF directory dir and looks at
// every file it lists. The manifest is "appendonly.aof.manifest" when present,
// otherwise the one "*.manifest" in dir that is not a "temp-" file. Missing
// listed files are not an error here (see Dir.Validate); an unreadable or
// invalid manifest is.
func OpenDir(dir string) (*Dir, error) {
	d, err := OpenDirFS(os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	d.Path = dir
	for i := range d.Files {
		d.Files[i].Path = filepath.Join(dir, d.Files[i].Name)
	}
	return d, nil
}

// OpenDirFS is OpenDir on a file system whose root is the AOF directory.
func OpenDirFS(fsys fs.FS) (*Dir, error) {
	name, err := findManifest(fsys)
	if err != nil {
		return nil, err
	}
	return openDir(fsys, name)
}

func openDir(fsys fs.FS, name string) (*Dir, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ParseManifest(f)
	if err != nil {
		return nil, err
	}
	d := &Dir{Path: ".", ManifestName: name, Manifest: m}
	add := func(mf ManifestFile, load bool) {
		df := DirFile{ManifestFile: mf, Path: mf.Name, Load: load}
		statFile(fsys, &df)
		d.Files = append(d.Files, df)
	}
	if m.Base != nil {
		add(*m.Base, true)
	}
	for _, f := range m.Incr {
		add(f, true)
	}
	for _, f := range m.History {
		add(f, false)
	}
	return d, nil
}

func findManifest(fsys fs.FS) (string, error) {
	const preferred = "appendonly.aof.manifest"
	if fi, err := fs.Stat(fsys, preferred); err == nil && fi.Mode().IsRegular() {
		return preferred, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", err
	}
	var found []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ".manifest") && !strings.HasPrefix(n, "temp-") && e.Type().IsRegular() {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return "", &ManifestError{Err: errNoManifest, Detail: "no *.manifest file in the directory"}
	case 1:
		return found[0], nil
	}
	sort.Strings(found)
	return "", &ManifestError{Err: ErrCorrupt, Detail: "several manifests, cannot tell which one a server uses: " + strings.Join(found, ", ")}
}

// statFile fills in what the directory holds for a listed file, without
// opening anything but a regular file. A name Redis accepts but a file system
// cannot hold (empty, ".", "..") is missing.
func statFile(fsys fs.FS, df *DirFile) {
	name := df.Name
	df.Size, df.Format = -1, FormatMissing
	if name == "" || !fs.ValidPath(name) || path.Base(name) != name {
		return
	}
	if lfs, ok := fsys.(fs.ReadLinkFS); ok {
		lfi, err := lfs.Lstat(name)
		if err != nil {
			return
		}
		if lfi.Mode()&fs.ModeSymlink != 0 {
			df.Link, _ = lfs.ReadLink(name)
			if df.Link == "" {
				df.Link = "?"
			}
		}
	}
	fi, err := fs.Stat(fsys, name) // follows a link, never opens
	if err != nil {
		return
	}
	if !fi.Mode().IsRegular() {
		df.Irregular = filemode.Describe(fi.Mode())
		return
	}
	f, err := fsys.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	var head [6]byte
	n, _ := io.ReadFull(f, head[:])
	df.Size, df.Format = fi.Size(), SniffFormat(head[:n])
	df.Compressed = compression(head[:n])
}

// compression names the compressed format a file starts with, "" for none.
func compression(head []byte) string {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return "gzip"
	case len(head) >= 4 && string(head[:4]) == "\x28\xb5\x2f\xfd":
		return "zstd"
	}
	return ""
}

// DirLayout names the files of a fresh multi-part AOF folder as Redis 7 does
// after a rewrite: the base "<appendFilename>.1.base.rdb" (".aof" for a RESP
// base), an empty "<appendFilename>.1.incr.aof", and the manifest
// "<appendFilename>.manifest", whose content m lists both.
func DirLayout(appendFilename string, rdbBase bool) (base, incr, manifest string, m *Manifest) {
	base = appendFilename + ".1.base.aof"
	if rdbBase {
		base = appendFilename + ".1.base.rdb"
	}
	incr = appendFilename + ".1.incr.aof"
	m = &Manifest{
		Base: &ManifestFile{Name: base, Seq: 1, Type: TypeBase},
		Incr: []ManifestFile{{Name: incr, Seq: 1, Type: TypeIncr}},
	}
	return base, incr, appendFilename + ".manifest", m
}

// LoadOrder returns the files a server loads, in order.
func (d *Dir) LoadOrder() []DirFile {
	var out []DirFile
	for _, f := range d.Files {
		if f.Load {
			out = append(out, f)
		}
	}
	return out
}

// Missing returns the listed files that are absent or not regular files,
// history included.
func (d *Dir) Missing() []DirFile {
	var out []DirFile
	for _, f := range d.Files {
		if f.Format == FormatMissing {
			out = append(out, f)
		}
	}
	return out
}

// Validate reports the first listed base or incr file that makes
// redis-server refuse to start, as a *ManifestError wrapping ErrCorrupt: one
// that is missing, that is not a regular file (a FIFO, a folder, ...), or
// that is compressed. Missing history files are harmless (Redis deletes them
// itself).
func (d *Dir) Validate() error {
	for _, f := range d.Files {
		if !f.Load {
			continue
		}
		what := "the " + f.Type.String() + " file " + strconv.Quote(f.Name) + " listed in " + d.ManifestName
		switch {
		case f.Irregular != "":
			return &ManifestError{Line: f.Line, Err: ErrCorrupt,
				Detail: what + " is " + f.Irregular + ", not a regular file: redis-server cannot load it (rdbtool does not open it)"}
		case f.Format == FormatMissing:
			return &ManifestError{Line: f.Line, Err: ErrCorrupt,
				Detail: what + " does not exist"}
		case f.Compressed != "":
			return &ManifestError{Line: f.Line, Err: ErrCorrupt,
				Detail: what + " is " + f.Compressed + "-compressed: redis-server reads AOF files as they are and cannot load it; decompress it in place first"}
		}
	}
	return nil
}

// DataDirOptions name the files of a Redis data directory; empty fields take
// Redis's defaults.
type DataDirOptions struct {
	AppendFilename string // appendfilename, default "appendonly.aof"
	AppendDirname  string // appenddirname, default "appendonlydir"
	DBFilename     string // dbfilename, default "dump.rdb"
}

// Source is what a server loads at startup.
type Source uint8

const (
	SourceNone      Source = iota // nothing: the server starts empty
	SourceMultiPart               // the multi-part AOF in the append directory
	SourceLegacyAOF               // a Redis <= 6.2 single-file AOF, upgraded into the directory first
	SourceRDB                     // the RDB snapshot
)

func (s Source) String() string {
	switch s {
	case SourceNone:
		return "none"
	case SourceMultiPart:
		return "multi-part AOF"
	case SourceLegacyAOF:
		return "single-file AOF"
	case SourceRDB:
		return "RDB"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// DataDir describes a Redis data directory (the server's "dir"). Its paths
// are names in the file system InspectDataDir was given.
type DataDir struct {
	Names     DataDirOptions // the names looked for, defaults filled in
	AOFDir    *Dir           // the multi-part AOF, nil when absent or unreadable
	AOFDirErr error          // why the append directory could not be read, if it exists
	// ManifestErr says that AOFDirErr is about the manifest itself: it is
	// there but cannot be used, and redis-server refuses to start with
	// appendonly yes.
	ManifestErr bool
	LegacyAOF   string // path of a single-file AOF in the directory, "" if none
	RDB         string // path of the RDB snapshot, "" if none

	// Source is what a server started on this directory loads when appendonly
	// is on, if any AOF file exists; otherwise what it loads with appendonly
	// off. Redis itself decides by its appendonly setting alone, and with it on
	// never falls back to the RDB; AOF files present suggest it was on.
	Source Source
	// Files are the paths that source reads, in order.
	Files []string
	// AppendOnlyYes and AppendOnlyNo are what a server loads under each
	// appendonly setting: with yes the multi-part AOF (or a legacy AOF it
	// upgrades) and never the RDB, SourceNone when there is no AOF (it then
	// starts empty); with no the RDB, or SourceNone.
	AppendOnlyYes, AppendOnlyNo Source

	// What else a server does with the directory:
	NoManifest bool // the append directory exists but holds no manifest of the expected name
	// LegacyIgnored is set when a single-file AOF is there but the manifest
	// takes precedence, so a server never reads it. (When it does not,
	// Source is SourceLegacyAOF: with appendonly yes Redis 7+ moves it into
	// the append directory as the base and loads it.)
	LegacyIgnored bool
	// Invalid is why a server refuses to start on the multi-part AOF it
	// would load (Dir.Validate), nil when it does not.
	Invalid error
}

// InspectDataDir looks at a Redis data directory, the root of fsys, and
// reports what a server would load from it at startup, following
// loadDataFromDisk and loadAppendOnlyFiles of Redis 7: the multi-part AOF
// when its manifest lists files; a single-file AOF left by Redis <= 6.2 when
// the directory or its manifest is missing (Redis moves it in as the base);
// otherwise the RDB. Files are judged with fs.Stat, which follows symbolic
// links as a server does; only regular files count.
func InspectDataDir(fsys fs.FS, opts DataDirOptions) (*DataDir, error) {
	if opts.AppendFilename == "" {
		opts.AppendFilename = "appendonly.aof"
	}
	if opts.AppendDirname == "" {
		opts.AppendDirname = "appendonlydir"
	}
	if opts.DBFilename == "" {
		opts.DBFilename = "dump.rdb"
	}
	fi, err := fs.Stat(fsys, ".")
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, &fs.PathError{Op: "inspect", Path: ".", Err: errors.New("not a directory")}
	}
	d := &DataDir{Names: opts}
	regular := func(name string) bool {
		fi, err := fs.Stat(fsys, name)
		return err == nil && fi.Mode().IsRegular()
	}
	if regular(opts.DBFilename) {
		d.RDB = opts.DBFilename
	}
	if regular(opts.AppendFilename) {
		d.LegacyAOF = opts.AppendFilename
	}
	aofDir := opts.AppendDirname
	manifestName := opts.AppendFilename + ".manifest"
	var m *Manifest // nil when there is no manifest (or it is invalid)
	if fi, err := fs.Stat(fsys, aofDir); err == nil && fi.IsDir() {
		if _, err := fs.Stat(fsys, path.Join(aofDir, manifestName)); err == nil {
			sub, err := fs.Sub(fsys, aofDir)
			if err == nil {
				d.AOFDir, err = openDir(sub, manifestName)
			}
			if d.AOFDirErr, d.ManifestErr = err, err != nil; err == nil {
				m = d.AOFDir.Manifest
				d.AOFDir.Path = aofDir
				for i := range d.AOFDir.Files {
					d.AOFDir.Files[i].Path = path.Join(aofDir, d.AOFDir.Files[i].Name)
				}
			}
		} else if errors.Is(err, fs.ErrNotExist) {
			d.NoManifest = true
		} else {
			d.AOFDirErr = err
		}
	}
	// aofUpgradePrepare's conditions: no manifest, a manifest listing nothing,
	// or one naming only the old file as base while it is not in the directory.
	if d.LegacyAOF != "" && d.AOFDirErr == nil {
		upgrade := m == nil ||
			m.Base == nil && len(m.Incr) == 0 ||
			m.Base != nil && len(m.Incr) == 0 && m.Base.Name == opts.AppendFilename && !regular(path.Join(aofDir, opts.AppendFilename))
		if upgrade {
			d.Source, d.Files = SourceLegacyAOF, []string{d.LegacyAOF}
		} else {
			d.LegacyIgnored = true
		}
	}
	if d.Source == SourceNone && d.AOFDir != nil && len(d.AOFDir.LoadOrder()) > 0 {
		d.Source = SourceMultiPart
		for _, f := range d.AOFDir.LoadOrder() {
			d.Files = append(d.Files, f.Path)
		}
		d.Invalid = d.AOFDir.Validate()
	}
	d.AppendOnlyYes = d.Source
	if d.RDB != "" {
		d.AppendOnlyNo = SourceRDB
	}
	if d.Source == SourceNone && d.RDB != "" {
		d.Source, d.Files = SourceRDB, []string{d.RDB}
	}
	return d, nil
}
