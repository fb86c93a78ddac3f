package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rdbtool/rdbtool/internal/commandtable"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// aofFileResult is one file of an AOF as verify saw it.
type aofFileResult struct {
	Name   string           `json:"name"`
	Type   string           `json:"type,omitempty"` // base, incr (multi-part AOF)
	Format string           `json:"format"`         // resp, rdb (+ resp tail), empty, missing
	Keys   int64            `json:"keys,omitempty"` // RDB part
	Check  *aof.CheckResult `json:"-"`              // as "check" in verify's schema (verify_check_json.go)
}

// rdbError turns a pkg/aof error into the rdb error forms the CLI classifies and
// prints, so both packages' failures read and exit alike.
func rdbError(err error, detail string) error {
	if err == nil {
		return nil
	}
	var pe *aof.ParseError
	if !errors.As(err, &pe) {
		return err // a *aof.ManifestError is reported as it is (describe)
	}
	sentinel := pe.Err
	switch {
	case errors.Is(pe.Err, aof.ErrCorrupt):
		sentinel = rdb.ErrCorrupt
	case errors.Is(pe.Err, aof.ErrTruncated):
		sentinel = rdb.ErrTruncated
	case errors.Is(pe.Err, aof.ErrArgTooLarge):
		sentinel = rdb.ErrValueTooLarge
	}
	d := pe.Detail
	if detail != "" {
		if d != "" {
			d += "; "
		}
		d += detail
	}
	return &rdb.ParseError{Offset: pe.Offset, Op: pe.Op, Err: sentinel, Detail: d}
}

// repairHint says what a cut at the repair point costs.
func repairHint(c *aof.CheckResult) string {
	p := c.Problem
	if p == nil || p.Kind == "io" {
		return "" // not a problem of the AOF's own bytes: nothing to cut
	}
	what, where := "cutting", "end of the last complete command"
	if p.TornTail {
		what = "torn tail: cutting"
	}
	if p.MultiStart >= 0 {
		where += ", before the open MULTI"
	}
	return fmt.Sprintf("%s at offset %d (%s) loses %s and %s; 'rdbtool repair' does it",
		what, c.RepairOffset, where, plural(p.LostBytes, "byte", "bytes"), plural(p.LostCommands, "command", "commands"))
}

// checkRESP checks a RESP stream (a whole file, or what follows an RDB) and
// fills res; the returned error classifies a problem.
func checkRESP(r io.Reader, base int64, fr *aofFileResult, res *verifyResult) error {
	c, err := aof.Check(r, aof.CheckOptions{BaseOffset: base, Command: serverCommandCheck(func(w string) { res.Warnings = append(res.Warnings, w) })})
	fr.Check = c
	res.Commands += c.Commands
	if err != nil {
		hint := repairHint(c)
		if c.Problem != nil && c.Problem.Op == "command" {
			hint = "" // not damage a cut repairs: the command itself is refused
		}
		return rdbError(err, hint)
	}
	return nil
}

// serverCommandCheck refuses a command that every server rdbtool knows
// refuses to load (an unknown command or subcommand, a container without
// its subcommand, a wrong argument count), and notes with warn, once, one
// that only some of them refuse, and a module's command. verify and repair
// judge commands with it alike.
func serverCommandCheck(warn func(string)) aof.CommandCheck {
	noted, notedModule := false, false
	return func(name, second []byte, argc int64) error {
		var first error
		var refusedBy, loadedBy []string
		for _, s := range commandtable.Servers {
			if err := commandtable.CheckHeads(s, name, second, int(argc)); err != nil {
				if first == nil {
					first = err
				}
				refusedBy = append(refusedBy, s.String())
			} else {
				loadedBy = append(loadedBy, s.String())
			}
		}
		var r *commandtable.Refusal
		switch {
		case first == nil:
			return nil
		case errors.As(first, &r) && r.Reason == "unknown command" && bytes.IndexByte(name, '.') > 0:
			// Module commands are named "module.command": the AOF loads on a
			// server that loads the module.
			if !notedModule {
				notedModule = true
				warn(fmt.Sprintf("module command %q: a server loads this AOF only with the module that provides it", name))
			}
			return nil
		case len(loadedBy) == 0:
			return first
		case !noted:
			noted = true
			warn(fmt.Sprintf("%v; %s load it, %s do not", first, strings.Join(loadedBy, " and "), strings.Join(refusedBy, " and ")))
		}
		return nil
	}
}

// verifyRESPFile checks a single-file AOF that is RESP from its first byte.
func verifyRESPFile(in *input, res *verifyResult) error {
	res.Format = "aof"
	fr := aofFileResult{Name: in.Name, Format: "resp"}
	defer func() { res.Files = append(res.Files, fr) }()
	// Streamed, not mapped: the check runs at about the speed of a mapped one
	// and keeps the resident set at its buffer size.
	err := checkRESP(in, 0, &fr, res)
	res.Bytes = fr.Check.End
	return err
}

// verifyAOFPath verifies a directory (an AOF folder with a manifest, or a Redis
// data folder) or a manifest file.
func verifyAOFPath(ctx context.Context, path string, o verifyOptions, res *verifyResult) error {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path) // a .manifest file: its folder
	}
	if _, err := aof.OpenDir(dir); err == nil {
		return verifyAOFDir(ctx, dir, o, res)
	} else if errors.Is(err, aof.ErrCorrupt) {
		res.Format = "aof-dir" // a manifest a server rejects: it refuses to start
		return err
	}
	return verifyDataDir(ctx, dir, o, res)
}

// verifyAOFDir checks the manifest, that every listed file exists, and every
// file a server loads, in load order.
func verifyAOFDir(ctx context.Context, dir string, o verifyOptions, res *verifyResult) error {
	d, err := aof.OpenDir(dir)
	if err != nil {
		return rdbError(err, "")
	}
	if res.Format != "data-dir" {
		res.Format = "aof-dir"
	}
	if err := d.Validate(); err != nil {
		return rdbError(err, "")
	}
	for _, f := range d.LoadOrder() {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := verifyOneFile(ctx, f.Path, o, res, f.Type.String()); err != nil {
			var pe *rdb.ParseError
			if errors.As(err, &pe) {
				pe.Op = strings.TrimSuffix(f.Name+": "+pe.Op, ": ")
			}
			return err
		}
	}
	return nil
}

// verifyOneFile verifies one file of an AOF (or the RDB of a data folder),
// accumulating into res.
func verifyOneFile(ctx context.Context, path string, o verifyOptions, res *verifyResult, typ string) error {
	in, err := openInput(ctx, path, nil)
	if err != nil {
		return err
	}
	defer in.Close()
	res.Bytes += max(in.Size, 0)
	head, _ := in.Peek(9)
	fr := aofFileResult{Name: filepath.Base(path), Type: typ}
	switch aof.SniffFormat(head) {
	case aof.FormatEmpty:
		fr.Format = "empty"
		res.Files = append(res.Files, fr)
		return nil
	case aof.FormatRESP:
		fr.Format = "resp"
		err := checkRESP(in, 0, &fr, res)
		res.Files = append(res.Files, fr)
		return err
	}
	fr.Format = "rdb"
	sub := verifyResult{Warnings: []string{}}
	err = verifyRDBStream(in, o, &sub, true)
	fr.Keys = sub.Keys
	res.Keys += sub.Keys
	res.Header, res.RDBVersion, res.Checksum, res.CRC64 = sub.Header, sub.RDBVersion, sub.Checksum, sub.CRC64
	res.Commands += sub.Commands
	res.Warnings = append(res.Warnings, sub.Warnings...)
	if len(sub.Files) > 0 { // the RESP tail after the RDB
		fr.Format = "rdb+resp"
		fr.Check = sub.Files[0].Check
	}
	res.Files = append(res.Files, fr)
	return err
}

// dirOrManifest reports whether path names an AOF folder, a data folder or a
// manifest, which verify handles as a whole.
func dirOrManifest(path string) bool {
	if path == "-" {
		return false
	}
	if strings.HasSuffix(path, ".manifest") {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}
