package main

import (
	"errors"
	"fmt"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(diffCommand) }

const diffDescription = `Compares two RDB files key by key and writes the keys that differ: keys only
in A, keys only in B, keys whose value changed and keys whose TTL changed.
Values compare as data: the order of set and hash elements, encodings, LRU/LFU
metadata and the server that wrote the file do not count.

Output: first the keys of A that are not in B or differ, as A has them, in A's
order, each as "- " and the key's line in dump's form (docs/json.md); then the
keys of B that are not in A or differ, as B has them, with "+ ":
   - {"db":0,"key":"user:1","type":"hash","value":{"name":"Ada"}}
   + {"db":0,"key":"user:1","type":"hash","value":{"name":"Ada L."}}
--format jsonl writes {"change":"removed|added|changed|ttl","line":{...}}
instead. A summary goes to standard error.

Memory stays under --memory-mb whatever the number of keys: beyond it the
keys are partitioned by hash into temporary files (in --tmp-dir), removed when
diff ends, also when it fails or is interrupted. Each file is read twice, so
PATHs must be files, not "-" (gzip and zstd files are fine).

Exit codes: 0 the files hold the same data, 5 they differ, and as every
command: 1 I/O failure, 2 usage, 3 invalid input, 4 unsupported input
(docs/exit-codes.md says why 5 rather than diff(1)'s 1).

Examples:
   rdbtool diff yesterday.rdb today.rdb
   rdbtool diff --format jsonl -o changes.jsonl a.rdb.gz b.rdb.gz
   rdbtool diff a.rdb b.rdb >/dev/null && echo same`

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:        "diff",
		Usage:       "list the keys that differ between two RDB files (added, removed, changed, TTL changed)",
		UsageText:   "rdbtool diff [--format text|jsonl] [-o OUT] [--memory-mb N] [--tmp-dir DIR] A B",
		Description: diffDescription,
		ArgsUsage:   "A B",
		Flags: []cli.Flag{
			formatFlag("text", "text", "jsonl"),
			outputFlags()[0], outputFlags()[1],
			&cli.IntFlag{Name: "memory-mb", Value: 256, Usage: "memory the table of keys may take, in `MiB`, before keys are partitioned into temporary files"},
			&cli.StringFlag{Name: "tmp-dir", Usage: "where temporary partition files go (`DIR`, default the system's)"},
			noProgressFlag(),
		},
		Action: runDiff,
	}
}

// differentError says that diff found differences: exit code 5.
type differentError struct{ stats convert.DiffStats }

func (e *differentError) Error() string { return "the files differ" }

func runDiff(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("diff", "diff needs two PATHs, got %d", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	for _, p := range c.Args().Slice() {
		if p == "-" {
			return usagef("diff", "diff reads each file twice, so it cannot read standard input; save it to a file first")
		}
	}
	format, err := checkFormat(c, "text", "jsonl")
	if err != nil {
		return err
	}
	if c.Int("memory-mb") < 1 {
		return usagef("diff", "--memory-mb must be at least 1")
	}
	showProgress := !c.Bool("no-progress") && isTerminal(c.App.ErrWriter)
	opener := func(path string) convert.OpenRDB {
		pass := 0
		return func() (*rdb.Reader, func(), error) {
			pass++
			in, err := openInput(c.Context, path, nil)
			if err != nil {
				return nil, nil, newFileError(path, nil, err)
			}
			if err := sniffRDB(in); err != nil {
				in.Close()
				return nil, nil, newFileError(in.Name, in, err)
			}
			r, stop := openRDB(in, rdb.ReaderOptions{})
			label := fmt.Sprintf("%s (pass %d of 2)", in.Name, pass)
			prog := startProgress(showProgress, c.App.ErrWriter, label, in.Size, progressOf(in))
			return r, func() { prog.Stop(); stop(); in.Close() }, nil
		}
	}
	out, err := createOutput(c, c.String("output"), c.Args().Get(0), c.Args().Get(1))
	if err != nil {
		return err
	}
	defer out.Abort()
	a, b := c.Args().Get(0), c.Args().Get(1)
	st, err := convert.Diff(c.Context, opener(a), opener(b), out, convert.DiffOptions{
		Budget: int64(c.Int("memory-mb")) << 20, TempDir: c.String("tmp-dir"), JSONL: format == "jsonl",
	})
	var ie *convert.DiffInputError
	if errors.As(err, &ie) {
		return newFileError(c.Args().Get(ie.Side), nil, ie.Err)
	}
	if err != nil {
		return fmt.Errorf("diff %s %s: %w", a, b, err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", c.String("output"), err)
	}
	part := ""
	if st.Partitions > 0 {
		part = fmt.Sprintf(" (keys partitioned into %d temporary files)", st.Partitions)
	}
	fmt.Fprintf(c.App.ErrWriter, "diff: %d only in %s, %d only in %s, %d changed, %d TTL changed, %d same%s\n",
		st.OnlyA, a, st.OnlyB, b, st.Changed, st.TTLChanged, st.Same, part)
	if st.Differ() {
		return &reportedError{Err: &differentError{st}}
	}
	return nil
}
