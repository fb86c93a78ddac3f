package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

// What an output's target server can hold, as the command line says it.

// dropFlag is the command-line flag that leaves out a feature the target
// cannot hold.
func dropFlag(f rdb.Feature) string {
	if f == rdb.FeatureModuleAux {
		return "--drop-modules"
	}
	return "--drop-" + f.String()
}

// describeRefusal renders a refusal of something the output's target cannot
// hold (an *rdb.UnsupportedError with a Feature): the key or record, what
// and why, and the flag that leaves such things out. ok is false for other
// errors.
func describeRefusal(err error) (text string, ok bool) {
	var ue *rdb.UnsupportedError
	if !errors.As(err, &ue) || ue.Feature == 0 {
		return "", false
	}
	var where string
	var we *rdb.WriteError
	var ke *convert.KeyError
	switch {
	case errors.As(err, &we) && we.Key != nil:
		where = "key " + rdb.QuoteBytes(we.Key) + ": "
	case errors.As(err, &we) && we.Op != "":
		where = we.Op + ": "
	case errors.As(err, &ke):
		where = "key " + rdb.QuoteBytes(ke.Key) + ": "
	}
	return fmt.Sprintf("%s%s; %s leaves them out", where, ue.What, dropFlag(ue.Feature)), true
}

// reportDrops says on standard error what the target could not hold.
func reportDrops(c *cli.Context, drops []rdb.DropCount) {
	for _, d := range drops {
		fmt.Fprintf(c.App.ErrWriter, "rdbtool: dropped %d × %s (not supported by the target)\n", d.Count, d.Feature)
	}
}

// aofOptions resolves --target / --rdb-version for an AOF written from r
// (default: r's own version) and the other --to aof flags.
func aofOptions(c *cli.Context, r *rdb.Reader, f convert.Filter) (convert.AOFOptions, error) {
	h, err := r.Header()
	if err != nil {
		return convert.AOFOptions{}, err
	}
	o, err := writerOptions(c, h)
	return convert.AOFOptions{Filter: f, Restore: c.Bool("restore"), Target: o}, err
}

// replayTarget is the RDB version a replayed AOF is written at when neither
// --target nor --rdb-version says: the version its data needs. That is the
// version of its RDB base (or preamble), so that the server that wrote the
// AOF reads the result; RDB 10 (Redis 7.0) for an AOF of RESP commands only,
// which does not say which server wrote it; and more when the replayed
// dataset holds what that version cannot: hash field TTLs (HPEXPIREAT from a
// Redis 7.4, or from one upgraded since the base was written) need 12,
// function libraries 10, streams 9.
//
// Whether the data has field TTLs (or streams) the engine says
// (Engine.Holds: a walk of its hashes and streams, not a read of the AOF
// again nor an export of the dataset).
// open reads a file of the AOF (decompressing a gzip or zstd one).
func replayTarget(files []convert.AOFFile, e *engine.Engine, open aofOpener) rdb.Header {
	h := rdb.Header{Magic: "REDIS", Version: 10}
	base, ok := baseHeader(files, open)
	if ok {
		h = base
	}
	if h.IsValkey() || h.Version >= 12 {
		return h // holds everything a replay makes
	}
	need := h.Version
	if len(e.Functions()) > 0 {
		need = max(need, 10)
	}
	held := e.Holds()
	if held.Streams {
		need = max(need, 9)
	}
	if held.FieldTTLs {
		need = 12
	}
	if need != h.Version {
		h = rdb.Header{Magic: "REDIS", Version: need}
	}
	return h
}

// aofOpener opens a file of an AOF for reading (replayOpener).
type aofOpener = func(path string) (io.ReadCloser, error)

// baseHeader is the header of the RDB part that starts an AOF: its base or
// preamble; ok is false for a RESP-only AOF.
func baseHeader(files []convert.AOFFile, open aofOpener) (rdb.Header, bool) {
	if len(files) == 0 {
		return rdb.Header{}, false
	}
	f, err := open(files[0].Path)
	if err != nil {
		return rdb.Header{}, false
	}
	defer f.Close()
	r := rdb.NewReader(f, rdb.ReaderOptions{})
	defer r.Close()
	h, err := r.Header()
	return h, err == nil
}
