package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// dataDirLoad is what a server started on a data folder loads under one
// appendonly setting, as verify found it (the JSON "loads" array).
type dataDirLoad struct {
	AppendOnly string   `json:"appendonly"` // "yes" or "no"
	Source     string   `json:"source"`     // what aof.Source names; "none": the server starts empty
	Files      []string `json:"files,omitempty"`
	Status     string   `json:"status"` // ok, invalid, unsupported, error; "" for none
	Keys       int64    `json:"keys"`
	Commands   int64    `json:"commands"`
	Error      string   `json:"error,omitempty"`
	Configured bool     `json:"configured,omitempty"` // the setting of --config's redis.conf
}

// verifyDataDir checks every file a server could load from a data folder:
// the RDB (loaded with appendonly no) and the AOF (the multi-part folder, or
// a legacy single file it would upgrade; loaded with appendonly yes). Each
// is verified in full; the folder is OK only if every one is.
func verifyDataDir(ctx context.Context, dir string, o verifyOptions, res *verifyResult) error {
	dd, err := inspectDataDir(dir, o.dataDir)
	if err != nil {
		return err
	}
	res.Format = "data-dir"
	res.Source = dd.Source.String()
	res.Warnings = append(res.Warnings, dataDirNotes(dd)...)
	dbFile, appendFile, appendDir := dataDirNames(o.dataDir)
	if dd.AOFDirErr != nil {
		return withPrefix(rdbError(dd.AOFDirErr, "redis-server refuses to start with appendonly yes"), "appendonly yes: "+appendDir)
	}
	if dd.AppendOnlyYes == aof.SourceNone && dd.AppendOnlyNo == aof.SourceNone {
		return &rdb.ParseError{Op: "data folder", Err: rdb.ErrCorrupt, Detail: "no " + dbFile + ", " + appendFile + " or " + appendDir + "/ with a manifest: a server would start empty"}
	}
	var worstErr error
	worst := exitOK
	for _, setting := range []string{"no", "yes"} {
		src := dd.AppendOnlyNo
		if setting == "yes" {
			src = dd.AppendOnlyYes
		}
		load := dataDirLoad{AppendOnly: setting, Source: src.String(), Configured: o.appendOnly == setting}
		if src == aof.SourceNone {
			load.Source = "none"
			res.Loads = append(res.Loads, load)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		sub := verifyResult{Warnings: []string{}}
		var err error
		switch src {
		case aof.SourceRDB:
			load.Files = []string{dd.RDB}
			err = verifyOneFile(ctx, dd.RDB, o, &sub, "")
		case aof.SourceLegacyAOF:
			load.Files = []string{dd.LegacyAOF}
			err = verifyOneFile(ctx, dd.LegacyAOF, o, &sub, "")
		case aof.SourceMultiPart:
			load.Files = dd.Files
			sub.Format = "data-dir"
			err = verifyAOFDir(ctx, dd.AOFDir.Path, o, &sub)
		}
		load.Keys, load.Commands, load.Status = sub.Keys, sub.Commands, "ok"
		res.Files = append(res.Files, sub.Files...)
		res.Bytes += sub.Bytes
		for _, w := range sub.Warnings {
			res.Warnings = append(res.Warnings, "appendonly "+setting+": "+w)
		}
		if setting == o.effectiveAppendOnly(dd) {
			res.Keys, res.Commands, res.Header, res.RDBVersion = sub.Keys, sub.Commands, sub.Header, sub.RDBVersion
			res.Checksum, res.CRC64 = sub.Checksum, sub.CRC64
		}
		if err != nil {
			part := appendDir // verifyAOFDir names the file
			if src != aof.SourceMultiPart {
				part = filepath.Base(load.Files[0])
			}
			err = withPrefix(err, "appendonly "+setting+": "+part)
			load.Status, load.Error = statusWord(err), describe(err).What
			if code := exitCode(err); worse(code, worst) {
				worst, worstErr = code, err
			}
		}
		res.Loads = append(res.Loads, load)
	}
	return worstErr
}

// inspectDataDir is aof.InspectDataDir of the folder dir, with its paths
// made paths of the operating system (dir joined with each).
func inspectDataDir(dir string, opts aof.DataDirOptions) (*aof.DataDir, error) {
	dd, err := aof.InspectDataDir(os.DirFS(dir), opts)
	if err != nil {
		return nil, err
	}
	join := func(name string) string {
		if name == "" {
			return ""
		}
		return filepath.Join(dir, filepath.FromSlash(name))
	}
	dd.RDB, dd.LegacyAOF = join(dd.RDB), join(dd.LegacyAOF)
	for i := range dd.Files {
		dd.Files[i] = join(dd.Files[i])
	}
	if d := dd.AOFDir; d != nil {
		d.Path = join(d.Path)
		for i := range d.Files {
			d.Files[i].Path = join(d.Files[i].Path)
		}
	}
	return dd, nil
}

// dataDirNotes explains, one sentence each, what a server makes of a data
// folder beyond what it loads: verify's warnings.
func dataDirNotes(dd *aof.DataDir) []string {
	var notes []string
	n := dd.Names
	manifest := n.AppendFilename + ".manifest"
	switch {
	case dd.ManifestErr:
		notes = append(notes, "the manifest "+manifest+" cannot be used ("+dd.AOFDirErr.Error()+"): redis-server refuses to start with appendonly yes")
	case dd.NoManifest:
		notes = append(notes, n.AppendDirname+"/ has no "+manifest)
	}
	switch {
	case dd.Source == aof.SourceLegacyAOF:
		notes = append(notes, "with appendonly yes Redis 7+ moves "+n.AppendFilename+" into "+n.AppendDirname+"/ as the base and loads it")
	case dd.LegacyIgnored:
		notes = append(notes, n.AppendFilename+" is ignored: the manifest in "+n.AppendDirname+"/ takes precedence")
	}
	if dd.Invalid != nil {
		notes = append(notes, dd.Invalid.Error()+": redis-server refuses to start")
	}
	switch {
	case (dd.Source == aof.SourceMultiPart || dd.Source == aof.SourceLegacyAOF) && dd.RDB != "":
		notes = append(notes, "with appendonly no the server loads "+n.DBFilename+" instead")
	case dd.Source == aof.SourceRDB && dd.AOFDir != nil:
		notes = append(notes, "with appendonly yes the server loads nothing (the manifest lists no file) and ignores "+n.DBFilename)
	case dd.Source == aof.SourceNone && dd.AOFDirErr == nil:
		notes = append(notes, "no AOF and no RDB file: the server starts empty")
	}
	return notes
}

// withPrefix names the part of a data folder a *rdb.ParseError is about.
func withPrefix(err error, prefix string) error {
	var pe *rdb.ParseError
	if errors.As(err, &pe) {
		pe.Op = strings.TrimSuffix(prefix+": "+pe.Op, ": ")
		return err
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// effectiveAppendOnly is the setting whose load the OK line counts: the
// configured one, else the AOF when there is one (a folder holding an AOF
// most likely belongs to a server with appendonly yes), else no.
func (o verifyOptions) effectiveAppendOnly(dd *aof.DataDir) string {
	switch {
	case o.appendOnly != "":
		return o.appendOnly
	case dd.AppendOnlyYes != aof.SourceNone:
		return "yes"
	}
	return "no"
}

// loadsText renders the loads of a data folder for the OK line.
func (r *verifyResult) loadsText() string {
	var parts []string
	for _, l := range r.Loads {
		what := "nothing (the server starts empty)"
		switch {
		case l.Source == "RDB" || l.Source == "single-file AOF":
			what = filepath.Base(l.Files[0])
		case l.Source != "none":
			what = "the " + l.Source + " (" + plural(int64(len(l.Files)), "file", "files") + ")"
		}
		s := "appendonly " + l.AppendOnly + " loads " + what
		if l.Configured {
			s += " [redis.conf]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// serverConfig is what verify reads of a redis.conf: where the data folder
// is and what its files are called.
type serverConfig struct {
	dir        string
	appendOnly string // "yes", "no" or "" when not set
	names      aof.DataDirOptions
}

// dataDirOptions are the file names of the folder; a nil config has none.
func (c *serverConfig) dataDirOptions() aof.DataDirOptions {
	if c == nil {
		return aof.DataDirOptions{}
	}
	return c.names
}

func (c *serverConfig) appendOnlySetting() string {
	if c == nil {
		return ""
	}
	return c.appendOnly
}

// readServerConfig reads the settings verify needs from a redis.conf: dir,
// dbfilename, appendfilename, appenddirname and appendonly (the last
// occurrence of each wins, as in Redis; include files are not followed).
func readServerConfig(path string) (*serverConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	conf := &serverConfig{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		value := strings.Trim(strings.Join(fields[1:], " "), `"'`)
		switch strings.ToLower(fields[0]) {
		case "dir":
			conf.dir = value
		case "dbfilename":
			conf.names.DBFilename = value
		case "appendfilename":
			conf.names.AppendFilename = value
		case "appenddirname":
			conf.names.AppendDirname = value
		case "appendonly":
			switch strings.ToLower(value) {
			case "yes", "no":
				conf.appendOnly = strings.ToLower(value)
			default:
				return nil, fmt.Errorf("%s:%d: appendonly %q is neither yes nor no", path, line, value)
			}
		}
	}
	return conf, sc.Err()
}

// dataDirNames returns the file names of a data folder, Redis's defaults
// where the options leave them empty.
func dataDirNames(o aof.DataDirOptions) (dbFile, appendFile, appendDir string) {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	return or(o.DBFilename, "dump.rdb"), or(o.AppendFilename, "appendonly.aof"), or(o.AppendDirname, "appendonlydir")
}
