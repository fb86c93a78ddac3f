package main

import (
	"bufio"
	"errors"
	"fmt"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(mergeCommand) }

const mergeDescription = `Merges several RDB files into one: every key of every input, input after
input, and the union of their function libraries. A key held by more than one
input (same database, same name) is an error that lists them, and nothing is
written, unless --on-duplicate says which copy wins: first (the earliest
input on the command line) or last. Two function libraries of one name with
different code are treated the same way. Module aux data is kept from the
first input that has it for a module.

The inputs are read up to three times (once to fingerprint every key, once
more only when fingerprints collide, once to write), so they must be files,
not "-"; they may be compressed. Memory is 8 bytes per key.

OUT is written at --rdb-version (or --target), by default the newest of the
inputs' versions; it goes to a temporary file beside it and is renamed when
complete, and an existing OUT is replaced only with --force. The key filters
of "rdbtool dump" apply.

Examples:
   rdbtool merge node1.rdb node2.rdb node3.rdb whole.rdb
   rdbtool merge --on-duplicate last old.rdb new.rdb merged.rdb
   rdbtool merge --target redis:7.0 --db 0 a.rdb.gz b.rdb.zst out.rdb`

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:        "merge",
		Usage:       "merge several RDB files into one",
		UsageText:   "rdbtool merge [--on-duplicate error|first|last] [options] IN IN... OUT",
		Description: mergeDescription,
		ArgsUsage:   "IN IN... OUT",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "on-duplicate", Value: "error", Usage: "a key in several inputs: error, first (the earliest input wins) or last"},
			&cli.StringFlag{Name: "rdb-version", Usage: "RDB `VERSION` to write: 7-13, or VALKEY080 (default: the newest input's)"},
			&cli.StringFlag{Name: "target", Usage: "write for `SERVER`, e.g. redis:7.0 (see docs/versions.md)"},
			&cli.BoolFlag{Name: "drop-field-ttls", Usage: "leave out hash-field TTLs the target cannot hold"},
			&cli.BoolFlag{Name: "drop-functions", Usage: "leave out function libraries the target cannot hold"},
			outputFlags()[1],
			noProgressFlag(),
		}, filterFlags()...),
		Action: runMerge,
	}
}

func runMerge(c *cli.Context) error {
	args := c.Args().Slice()
	if len(args) < 3 {
		return usagef("merge", "merge needs at least two inputs and OUT, got %d arguments", len(args))
	}
	if err := checkPaths(c, args); err != nil {
		return err
	}
	inputs, outPath := args[:len(args)-1], args[len(args)-1]
	for _, p := range inputs {
		if p == "-" {
			return usagef("merge", "the inputs are read more than once: give files, not \"-\"")
		}
	}
	policy, err := convert.ParseDuplicatePolicy(c.String("on-duplicate"))
	if err != nil {
		return usagef("merge", "--on-duplicate: %v", err)
	}
	if c.IsSet("rdb-version") && c.IsSet("target") {
		return usagef("merge", "give --rdb-version or --target, not both")
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}

	// Every open input stays open until Merge moves on to the next.
	var cur *input
	curIdx := 0
	closeCur := func() {
		if cur != nil {
			cur.Close()
			cur = nil
		}
	}
	defer closeCur()
	open := func(i int) (*rdb.Reader, error) {
		closeCur()
		curIdx = i
		in, err := openInput(c.Context, inputs[i], c.App.Reader)
		if err != nil {
			return nil, newFileError(inputs[i], nil, err)
		}
		if err := sniffRDB(in); err != nil {
			in.Close()
			return nil, newFileError(in.Name, in, err)
		}
		cur = in
		r, _ := openRDB(in, rdb.ReaderOptions{})
		return r, nil
	}

	name := c.String("target")
	if name == "" {
		name = c.String("rdb-version")
	}
	if name == "" {
		newest := rdb.Header{}
		for i := range inputs {
			r, err := open(i)
			if err != nil {
				return err
			}
			h, err := r.Header()
			r.Close()
			if err != nil {
				return newFileError(inputs[i], cur, err)
			}
			if newest.Magic != "" && (h.Version >= 12 && newest.IsValkey() || h.IsValkey() && newest.Version >= 12 && !newest.IsValkey()) {
				return usagef("merge", "the inputs mix Valkey 9 (%s) and Redis 7.4+ (%s) files: choose the output with --rdb-version or --target", newest, h)
			}
			if h.IsValkey() || (!newest.IsValkey() && h.Version > newest.Version) {
				newest = h
			}
		}
		closeCur()
		name = newest.String()
	}
	wopts, err := rdb.TargetVersion(name)
	if err != nil {
		return usagef("merge", "%v", err)
	}
	wopts.DropFieldTTLs, wopts.DropFunctions = c.Bool("drop-field-ttls"), c.Bool("drop-functions")

	out, err := createOutput(c, outPath, inputs...)
	if err != nil {
		return err
	}
	defer out.Abort()
	bw := bufio.NewWriterSize(out, 256<<10)
	w := rdb.NewWriter(bw, wopts)
	st, err := convert.Merge(open, len(inputs), w, convert.MergeOptions{OnDuplicate: policy, Filter: filter})
	closeCur()
	if err != nil {
		var pe *rdb.ParseError
		var de *convert.DuplicateError
		switch {
		case errors.As(err, &de):
			return err
		case errors.As(err, &pe):
			return newFileError(inputs[curIdx], nil, err)
		}
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := out.Commit(); err != nil {
		return err
	}
	reportDropped(c, w)
	msg := fmt.Sprintf("rdbtool: merged %s keys from %d files into %s (RDB %d)", count(st.Keys), len(inputs), outPath, wopts.Version)
	if st.Duplicates > 0 {
		msg += fmt.Sprintf("; %s keys were in several inputs (%s copies left out, --on-duplicate %s)", count(st.Duplicates), count(st.Dropped), c.String("on-duplicate"))
	}
	if st.Functions > 0 {
		msg += fmt.Sprintf("; %d function libraries", st.Functions)
	}
	if st.ModuleAux > 0 {
		msg += fmt.Sprintf("; %d module aux records of later inputs left out", st.ModuleAux)
	}
	fmt.Fprintln(c.App.ErrWriter, msg)
	return nil
}
