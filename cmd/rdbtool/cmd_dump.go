package main

import (
	"fmt"
	"regexp"
	"runtime"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(dumpCommand) }

const dumpDescription = `Writes every key of an RDB file as JSON, one line per key, in file order; the
output depends only on the input and the options. The first line names the
file format ({"magic":"REDIS","rdb_version":10}); aux fields, function
libraries and module aux data get lines of their own, so that nothing in the
file is lost and "rdbtool convert" can turn the JSON back into an RDB file.

A key line looks like
   {"db":0,"key":"user:1","type":"hash","expire_at_ms":1767225600000,"value":{"name":"Ada"}}
Byte strings are JSON strings when they are valid UTF-8 and {"base64":"..."}
otherwise. docs/json.md documents every line and value form.

--format json writes the same objects as one JSON array; --format csv writes
one row per key with the columns of the redis-rdb-tools memory report
(database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,
expiry), size_in_bytes being the memory the key takes in a Redis 7.0 server
that loaded the file: the rows of "rdbtool memory --format csv".

Filters combine (a key must pass all of them): --db (repeatable), --key with
Redis glob syntax (*, ?, [abc], [^a], [a-z], \x), --key-regex (Go RE2 syntax,
matched against the raw key bytes), --type (repeatable: string, list, set,
zset, hash, stream, module) and --expired (keys whose TTL is past at --now).

Memory stays bounded whatever the size of a key: big values are written as
they are read; a sorted set stored highest-first, or a hash, is held up to
--spool-mb and then spilled to a temporary file to be put in order.

PATH may also be an AOF: a file (one with an RDB preamble when its name ends in
.aof), an AOF folder or its manifest, or a Redis data folder. It is replayed
offline as a server loading it would (the --until* options stop early, as in
"rdbtool convert"), and the dataset is dumped as the RDB file that server would
save: keys database by database in the order they were last written. A time the
replay makes (a stream consumer's seen time) is --now.

Examples:
   rdbtool dump dump.rdb > keys.jsonl
   rdbtool dump --db 0 --key 'user:*' --type hash dump.rdb
   rdbtool dump --format csv -o memory.csv dump.rdb.gz
   rdbtool dump --expired exclude --format json -o live.json dump.rdb
   rdbtool dump --until-command FLUSHALL /var/lib/redis/appendonlydir`

func dumpCommand() *cli.Command {
	return &cli.Command{
		Name:        "dump",
		Usage:       "write the keys of an RDB file or AOF as JSON Lines, JSON or a CSV memory report",
		UsageText:   "rdbtool dump [--format jsonl|json|csv] [-o OUT] [filters] [--until* ...] PATH",
		Description: dumpDescription,
		ArgsUsage:   "PATH",
		Flags: append([]cli.Flag{
			formatFlag("jsonl", "jsonl", "json", "csv"),
			outputFlags()[0], outputFlags()[1],
			&cli.IntFlag{Name: "spool-mb", Value: 8, Usage: "memory one key may use while it is put in order, in `MiB`, before spilling to a temporary file"},
			&cli.IntFlag{Name: "workers", Value: runtime.GOMAXPROCS(0), Usage: "goroutines rendering JSON beside the parser for a local file (0: all on one; the output is the same)"},
			noProgressFlag(),
		}, append(filterFlags(), replayFlags()...)...),
		Action: runDump,
	}
}

// outputFlags are -o/--output and --force, shared by the commands that write files.
func outputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-", Usage: "write to `OUT` (\"-\" for standard output); written to a temporary file and renamed when complete (a device or FIFO is written directly)"},
		&cli.BoolFlag{Name: "force", Usage: "replace OUT if it exists and is what rdbtool writes (a regular file, or an AOF folder); never an input"},
	}
}

// filterFlags are the key filters shared by dump and convert.
func filterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntSliceFlag{Name: "db", Usage: "keep keys of database `N` (repeatable)"},
		&cli.StringFlag{Name: "key", Usage: "keep keys matching the Redis glob `PATTERN`"},
		&cli.StringFlag{Name: "key-regex", Usage: "keep keys matching the regular expression `RE`"},
		&cli.StringSliceFlag{Name: "type", Usage: "keep keys of type `T` (repeatable): string, list, set, zset, hash, stream, module"},
		&cli.StringFlag{Name: "expired", Value: "include", Usage: "keys whose TTL is past: include, exclude or only"},
		&cli.Int64Flag{Name: "now", Usage: "the time expiry is judged against, in Unix `MS` (default: the current time)"},
	}
}

// parseFilter builds a convert.Filter from the filter flags.
func parseFilter(c *cli.Context) (convert.Filter, error) {
	cmd := c.Command.Name
	f := convert.Filter{DBs: c.IntSlice("db"), KeyGlob: c.String("key"), NowMs: c.Int64("now")}
	if f.NowMs == 0 {
		f.NowMs = time.Now().UnixMilli()
	}
	for _, db := range f.DBs {
		if db < 0 {
			return f, usagef(cmd, "--db must be 0 or more, got %d", db)
		}
	}
	if re := c.String("key-regex"); re != "" {
		rx, err := regexp.Compile(re)
		if err != nil {
			return f, usagef(cmd, "--key-regex: %v", err)
		}
		f.KeyRegex = rx
	}
	for _, t := range c.StringSlice("type") {
		k, err := convert.ParseKind(t)
		if err != nil {
			return f, usagef(cmd, "--type: %v", err)
		}
		f.Kinds = append(f.Kinds, k)
	}
	var err error
	if f.Expired, err = convert.ParseExpiredMode(c.String("expired")); err != nil {
		return f, usagef(cmd, "%v", err)
	}
	return f, nil
}

func runDump(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("dump", "dump needs exactly one PATH (\"-\" for standard input), got %d", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	format, err := checkFormat(c, "jsonl", "json", "csv")
	if err != nil {
		return err
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}
	if c.Int("spool-mb") < 1 {
		return usagef("dump", "--spool-mb must be at least 1")
	}
	if c.Int("workers") < 0 {
		return usagef("dump", "--workers must be 0 or more")
	}
	path := c.Args().First()
	in, isAOF, err := openDataset(c, path)
	if err != nil {
		return err
	}
	if in != nil {
		defer in.Close()
		if err := sniffRDB(in); err != nil {
			return newFileError(in.Name, in, err)
		}
	}
	out, err := createOutput(c, c.String("output"), readPaths(path)...)
	if err != nil {
		return err
	}
	defer out.Abort()
	var replay convert.ReplayStats
	if isAOF {
		if in, replay, err = replayDataset(c, path, false); err != nil {
			return err
		}
		defer in.Close()
		defer writeGC()()
	}
	r, stop := openRDB(in, rdb.ReaderOptions{})
	defer stop()
	prog := startProgress(!c.Bool("no-progress") && !isAOF, c.App.ErrWriter, in.Name, in.Size, progressOf(in))
	defer prog.Stop()

	switch format {
	case "csv":
		_, err = convert.DumpCSV(r, out, filter)
	default:
		_, err = convert.DumpJSON(r, out, convert.DumpOptions{Filter: filter, Array: format == "json", SpoolBudget: c.Int("spool-mb") << 20, Workers: c.Int("workers")})
	}
	if err != nil {
		return newFileError(in.Name, in, err)
	}
	prog.Stop()
	if err := out.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", c.String("output"), err)
	}
	if isAOF {
		fmt.Fprintln(c.App.ErrWriter, "rdbtool: "+replayMessage(replay))
	}
	return nil
}
