package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/restore"
	"github.com/urfave/cli/v2"
)

func init() { register(splitRDBCommand) }

const splitDescription = `Splits a dataset by Redis Cluster slots: one RDB file per master, holding
exactly the keys of its slots (and every function library), ready for that
node to load at startup. The slot map comes from one of:

   --cluster URL    a live cluster (CLUSTER SHARDS, or SLOTS before 7.0);
                    each file is written for the RDB version its node takes
   --nodes FILE     a nodes.conf file, or the output of CLUSTER NODES
   --slots SPEC     by hand: one master per comma-separated item, several
                    ranges of one master joined with "+":
                    0-5460,5461-10922,10923-16383

A cluster node has database 0 only: a source with keys elsewhere is refused
unless --db N names the database to split (its keys go to 0). The files are
named after their master's address (127.0.0.1-7000.rdb), else its node ID or
part number, and listed on standard output with their slots and key counts.

SRC is an RDB file (or an AOF, AOF folder, data folder or JSON dump, converted
first), compressed or not, or "-". OUTDIR is written as a temporary folder
beside it and renamed when every file is complete; an existing OUTDIR is
replaced only with --force, and only when it holds nothing but .rdb files.
The key filters of "rdbtool dump" apply.

Examples:
   rdbtool split --cluster redis://127.0.0.1:7000 dump.rdb parts/
   rdbtool split --nodes /var/lib/redis/nodes.conf --db 0 dump.rdb parts/
   rdbtool split --slots 0-8191,8192-16383 dump.rdb halves/`

// splitRDBCommand is "split" (splitCommand is replay's command-line splitter).
func splitRDBCommand() *cli.Command {
	return &cli.Command{
		Name:        "split",
		Usage:       "split a dataset into one RDB per cluster master, by slot",
		UsageText:   "rdbtool split (--cluster URL | --nodes FILE | --slots SPEC) [options] SRC OUTDIR",
		Description: splitDescription,
		ArgsUsage:   "SRC OUTDIR",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "cluster", Usage: "take the slot map from the live cluster at `URL`"},
			&cli.StringFlag{Name: "nodes", Usage: "take the slot map from a nodes.conf `FILE` (or CLUSTER NODES output)"},
			&cli.StringFlag{Name: "slots", Usage: "the slot map by hand: `SPEC` such as 0-5460,5461-10922,10923-16383"},
			&cli.StringFlag{Name: "rdb-version", Usage: "RDB `VERSION` of the files: 7-13 or VALKEY080 (default: the source's, or with --cluster the nodes')"},
			&cli.BoolFlag{Name: "force", Usage: "replace OUTDIR if it exists and holds only .rdb files"},
			noProgressFlag(),
		}, tlsFlags()...), filterFlags()...),
		Action: runSplit,
	}
}

func runSplit(c *cli.Context) error {
	if c.NArg() != 2 {
		return usagef("split", "split needs SRC and OUTDIR, got %d arguments", c.NArg())
	}
	srcPath, outDir := c.Args().Get(0), c.Args().Get(1)
	if err := checkPaths(c, []string{srcPath, outDir}); err != nil {
		return err
	}
	given := 0
	for _, f := range []string{"cluster", "nodes", "slots"} {
		if c.String(f) != "" {
			given++
		}
	}
	if given != 1 {
		return usagef("split", "give the slot map with exactly one of --cluster, --nodes and --slots")
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}
	db := 0
	if len(filter.DBs) > 1 {
		return usagef("split", "--db names the one database to split")
	}
	if len(filter.DBs) == 1 {
		db = filter.DBs[0]
	}
	nodes, version, err := splitMap(c)
	if err != nil {
		return err
	}
	m, err := cluster.NewMap(nodes)
	if err != nil {
		return usagef("split", "the slot map: %v", err)
	}
	// The files' version: --rdb-version, else what the cluster's nodes
	// take, else the source's own (10, Redis 7.0, for AOF and JSON sources).
	if v := c.String("rdb-version"); v != "" {
		version = v
	}
	so := sourceOptions{version: 10}
	if version != "" {
		wo, err := rdb.TargetVersion(version)
		if err != nil {
			return usagef("split", "%v", err)
		}
		so.version = wo.Version
	}
	src, err := openRestoreSource(c, srcPath, filter, so)
	if err != nil {
		return err
	}
	defer src.stop()
	h, err := src.r.Header()
	if err != nil {
		return newFileError(src.name, src.in, err)
	}
	if version == "" {
		version = h.String()
	}
	wopts, err := rdb.TargetVersion(version)
	if err != nil {
		return usagef("split", "%v", err)
	}

	out, err := createOutputDirOf(c, outDir, splitFolder, readPaths(srcPath)...)
	if err != nil {
		return err
	}
	defer out.Abort()
	names := partNames(m.Nodes)
	var files []*dirFile
	var bufs []*bufio.Writer
	parts := make([]*rdb.Writer, len(m.Nodes))
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := range m.Nodes {
		f, err := out.Create(names[i])
		if err != nil {
			return err
		}
		files = append(files, f)
		bw := bufio.NewWriterSize(f, 256<<10)
		bufs = append(bufs, bw)
		parts[i] = rdb.NewWriter(bw, wopts)
	}
	var prog *progress
	if src.in != nil {
		prog = startProgress(!c.Bool("no-progress") && isTerminal(c.App.ErrWriter), c.App.ErrWriter, src.name, src.in.Size, progressOf(src.in))
	}
	st, err := convert.Split(src.r, m.Owner, parts, convert.SplitOptions{Filter: filter, DB: db})
	prog.Stop()
	if src.conv != nil {
		if cerr := <-src.conv; cerr != nil && err != nil {
			err = cerr
		}
	}
	if err != nil {
		var pe *rdb.ParseError
		if errors.As(err, &pe) {
			return newFileError(src.name, src.in, err)
		}
		return err
	}
	for i, f := range files {
		if err := errors.Join(bufs[i].Flush(), f.Close()); err != nil {
			return err
		}
	}
	files = nil
	if err := out.Commit(); err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "FILE\tMASTER\tSLOTS\tKEYS")
	for i, n := range m.Nodes {
		master := n.Addr
		if master == "" {
			master = n.ID
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", filepath.Join(outDir, names[i]), master, shortRanges(n), count(st.Keys[i]))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.ErrWriter, "rdbtool: split %s keys into %d files (RDB %d)", count(sum(st.Keys)), len(parts), wopts.Version)
	if st.Functions > 0 {
		fmt.Fprintf(c.App.ErrWriter, "; %d function libraries in each", st.Functions)
	}
	if st.Filtered > 0 {
		fmt.Fprintf(c.App.ErrWriter, "; %s keys left out by the filters", count(st.Filtered))
	}
	fmt.Fprintln(c.App.ErrWriter)
	return nil
}

// splitMap reads the slot map the flags name, and for a live cluster the
// RDB version its oldest master takes.
func splitMap(c *cli.Context) ([]cluster.Node, string, error) {
	switch {
	case c.String("slots") != "":
		nodes, err := cluster.ParseRanges(c.String("slots"))
		if err != nil {
			return nil, "", usagef("split", "--slots: %v", err)
		}
		return nodes, "", nil
	case c.String("nodes") != "":
		b, err := os.ReadFile(c.String("nodes"))
		if err != nil {
			return nil, "", err
		}
		nodes, err := cluster.ParseNodes(string(b))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", c.String("nodes"), err)
		}
		return nodes, "", nil
	}
	srv, err := parseServer(c, c.String("cluster"))
	if err != nil {
		return nil, "", err
	}
	conn, err := srv.dialDB0(c.Context, "")
	if err != nil {
		return nil, "", fmt.Errorf("connecting to %s: %w", srv.url, err)
	}
	defer conn.Close()
	nodes, err := restore.LoadNodes(conn)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", srv.url, err)
	}
	version := 0
	for _, n := range nodes {
		if n.Addr == "" {
			continue
		}
		nc, err := srv.dialDB0(c.Context, n.Addr)
		if err != nil {
			return nil, "", fmt.Errorf("connecting to %s: %w", n.Addr, err)
		}
		p, err := restore.Probe(nc)
		nc.Close()
		if err != nil {
			return nil, "", err
		}
		if p.RDBVersion != 0 && (version == 0 || p.RDBVersion < version) {
			version = p.RDBVersion
		}
	}
	if version == 0 {
		return nodes, "", nil
	}
	return nodes, fmt.Sprint(version), nil
}

// partNames names each master's file after its address, else its ID.
func partNames(nodes []cluster.Node) []string {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		base := n.ID
		if n.Addr != "" {
			base = n.Addr
		} else if len(base) == 40 {
			base = base[:8]
		}
		names[i] = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
				return r
			}
			return '-'
		}, base) + ".rdb"
	}
	return names
}

func shortRanges(n cluster.Node) string {
	s := n.RangesText()
	if len(s) > 24 {
		s = s[:20] + "...(" + fmt.Sprint(n.Slots()) + ")"
	}
	return s
}

func sum(v []int64) int64 {
	var t int64
	for _, x := range v {
		t += x
	}
	return t
}

// splitFolder accepts, for --force, a folder holding nothing but RDB files:
// what split writes (and an empty folder).
func splitFolder(cmd, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".rdb") {
			return usagef(cmd, "--force replaces only a folder split writes (RDB files and nothing else), and %s holds %s; remove it yourself or write elsewhere", dir, e.Name())
		}
	}
	return nil
}
