package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/memory"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(memoryCommand) }

const memoryDescription = `Reports what every key of an RDB file costs in RAM once a server has loaded
it: the figure MEMORY USAGE key SAMPLES 0 gives on Redis 7.0 built with
jemalloc, predicted by a model that replays what the loading server allocates
(see docs/memory.md for the model and its measured accuracy). Files written by
other servers (Valkey, Redis 7.2 and later) are measured as Redis 7.0 would
hold their data; the report names the model.

The report: totals; per database; per type and encoding; the top N keys; key
prefixes (split at --separator, ":" by default, to --depth levels) with their
key count, memory and share; keys by time left to their TTL (relative to
--now); keys by element count and elements by size; the largest elements.

Prefixes are counted in bounded memory: when more than --max-prefixes distinct
ones are seen, the smallest are dropped along the way and the report says by
how much the figures may then be low.

Formats:
   table, text   the report for people
   json          the whole report as one document (docs/cli.md)
   jsonl         one line per key: {"db":0,"key":"user:1","type":"hash",
                 "encoding":"listpack","memory_bytes":96,"elements":2,
                 "largest_element_bytes":12,"expire_at_ms":1767225600000}
                 (keys in the byte-string form of docs/json.md; expire_at_ms
                 only with a TTL)
   csv           redis-rdb-tools' memory columns: database,type,key,
                 size_in_bytes,encoding,num_elements,len_largest_element,expiry
   parquet       the jsonl columns, for DuckDB or Spark
   html          one self-contained page: a treemap of memory by prefix, the
                 breakdowns and the top keys (works offline)

The filters are dump's: --db, --key, --key-regex, --type, --expired.

Examples:
   rdbtool memory dump.rdb
   rdbtool memory --separator : --separator / --depth 3 dump.rdb.gz
   rdbtool memory --format html -o memory.html dump.rdb
   rdbtool memory --format csv -o memory.csv --db 0 dump.rdb
   rdbtool memory --format parquet -o keys.parquet dump.rdb`

func memoryCommand() *cli.Command {
	return &cli.Command{
		Name:        "memory",
		Usage:       "report the memory every key of an RDB file takes in a Redis server, by type, prefix, TTL and size",
		UsageText:   "rdbtool memory [--format table|text|json|jsonl|csv|parquet|html] [-o OUT] [options] [filters] PATH",
		Description: memoryDescription,
		ArgsUsage:   "PATH",
		Flags: append([]cli.Flag{
			formatFlag("table", memoryFormats...),
			outputFlags()[0], outputFlags()[1],
			&cli.IntFlag{Name: "top", Value: 20, Usage: "list the `N` largest keys and the N largest elements (0: none)"},
			&cli.StringSliceFlag{Name: "separator", Usage: "split keys into prefixes at `SEP` (repeatable; default \":\")"},
			&cli.IntFlag{Name: "depth", Value: 2, Usage: "aggregate prefixes to `N` levels (0: no prefixes)"},
			&cli.IntFlag{Name: "prefixes", Value: 50, Usage: "show the `N` largest prefixes"},
			&cli.IntFlag{Name: "workers", Value: runtime.GOMAXPROCS(0), Usage: "goroutines measuring values beside the parser for a local file (0: all on one; the output is the same)"},
			&cli.IntFlag{Name: "max-prefixes", Value: 100000, Usage: "hold at most `N` distinct prefixes at once (the smallest are dropped beyond it, and the report says so)"},
			noProgressFlag(),
		}, filterFlags()...),
		Action: runMemory,
	}
}

var memoryFormats = []string{"table", "text", "json", "jsonl", "csv", "parquet", "html"}

func runMemory(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("memory", "memory needs exactly one PATH (\"-\" for standard input), got %d", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	format, err := checkFormat(c, memoryFormats...)
	if err != nil {
		return err
	}
	filter, err := parseFilter(c)
	if err != nil {
		return err
	}
	for _, name := range []string{"top", "depth", "prefixes", "workers"} {
		if c.Int(name) < 0 {
			return usagef("memory", "--%s must be 0 or more", name)
		}
	}
	if c.Int("max-prefixes") < 1 {
		return usagef("memory", "--max-prefixes must be at least 1")
	}
	opts := memory.ReportOptions{
		Match:       filter.Match,
		TopKeys:     orNone(c.Int("top")),
		TopElements: orNone(c.Int("top")),
		Separators:  c.StringSlice("separator"),
		PrefixDepth: orNone(c.Int("depth")),
		MaxPrefixes: c.Int("max-prefixes"),
		NowMs:       filter.NowMs,
		Workers:     c.Int("workers"),
		Context:     c.Context,
	}
	if filter.IsZero() {
		opts.Match = nil
	}
	for _, s := range opts.Separators {
		if s == "" {
			return usagef("memory", "--separator must not be empty")
		}
	}

	path := c.Args().First()
	in, err := openInput(c.Context, path, c.App.Reader)
	if err != nil {
		return newFileError(path, nil, err)
	}
	defer in.Close()
	if err := sniffRDB(in); err != nil {
		return newFileError(in.Name, in, err)
	}
	r, stop := openRDB(in, rdb.ReaderOptions{})
	defer stop()
	prog := startProgress(!c.Bool("no-progress") && isTerminal(c.App.ErrWriter), c.App.ErrWriter, in.Name, in.Size, progressOf(in))
	defer prog.Stop()

	out, err := createOutput(c, c.String("output"), in.Path)
	if err != nil {
		return err
	}
	defer out.Abort()
	bw := bufio.NewWriterSize(out, 256<<10)
	perKey, finishKeys, err := memoryKeyWriter(format, bw)
	if err != nil {
		return err
	}
	opts.OnKey = perKey
	rep, err := memory.Analyze(r, opts)
	if err != nil {
		return newFileError(in.Name, in, err)
	}
	prog.Stop()
	if finishKeys != nil {
		err = finishKeys()
	} else {
		view := newMemoryView(in.Name, rep, c.Int("prefixes"), c.Int("max-prefixes"))
		switch format {
		case "json":
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			err = enc.Encode(view.json())
		case "html":
			err = writeMemoryHTML(bw, view)
		default:
			err = renderReport(bw, view.sections(), format)
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", c.String("output"), err)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("writing %s: %w", c.String("output"), err)
	}
	return nil
}

// orNone maps the CLI's 0 ("none") to the library's negative "none".
func orNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// memoryKeyWriter returns, for the per-key formats, what writes each key and
// what finishes the output; nil for the report formats.
func memoryKeyWriter(format string, w io.Writer) (func(*memory.KeyRecord) error, func() error, error) {
	switch format {
	case "jsonl":
		var line []byte
		return func(k *memory.KeyRecord) error {
			line = convert.AppendMemoryJSON(line[:0], k)
			line = append(line, '\n')
			_, err := w.Write(line)
			return err
		}, func() error { return nil }, nil
	case "csv":
		cw, err := convert.NewCSVWriter(w)
		if err != nil {
			return nil, nil, err
		}
		return cw.Write, cw.Flush, nil
	case "parquet":
		pw := newMemoryParquet(w)
		return pw.write, pw.close, nil
	}
	return nil, nil, nil
}

// memoryView lays a report out for people and for JSON.
type memoryView struct {
	name        string
	rep         *memory.Report
	maxPrefixes int // shown
	capacity    int // held at once (--max-prefixes)
}

func newMemoryView(name string, rep *memory.Report, prefixes, capacity int) *memoryView {
	return &memoryView{name: name, rep: rep, maxPrefixes: prefixes, capacity: capacity}
}

func (v *memoryView) share(b int64) string {
	if v.rep.Total.Bytes == 0 {
		return "0.0%"
	}
	return strconv.FormatFloat(100*float64(b)/float64(v.rep.Total.Bytes), 'f', 1, 64) + "%"
}

func (v *memoryView) prefixes() []memory.PrefixStats {
	p := v.rep.Prefixes.Prefixes
	return p[:min(len(p), v.maxPrefixes)]
}

func (v *memoryView) ttl(k *memory.KeyRecord) string {
	if !k.HasExpire {
		return ""
	}
	left := k.ExpireAtMs - v.rep.NowMs
	if left <= 0 {
		return "expired"
	}
	return timeLeft(left)
}

// newerNote says how a file Redis 7.0 cannot load is measured.
func newerNote(h rdb.Header) string {
	if h.IsValkey() || h.Version > 10 {
		return "written by a newer server (" + h.String() + "): measured as Redis 7.0 would hold its data"
	}
	return ""
}

// timeLeft renders milliseconds for people: 45s, 12m30s, 5h20m, 3d4h, 812d.
func timeLeft(ms int64) string {
	s := ms / 1000
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%dm", s/3600, s/60%60)
	case s < 100*86400:
		return fmt.Sprintf("%dd%dh", s/86400, s/3600%24)
	}
	return strconv.FormatInt(s/86400, 10) + "d"
}

// preview renders the start of an element, marked when the element is longer.
func preview(p []byte, size int) string {
	s := displayBytes(p[:min(len(p), 24)], 0)
	if size > min(len(p), 24) {
		s += "…"
	}
	return s
}

func (v *memoryView) sections() []section {
	rep := v.rep
	summary := section{Title: "Memory", KV: [][2]string{
		{"file", v.name},
		{"format", rep.Header.String()},
		{"model", rep.Model + " (MEMORY USAGE key SAMPLES 0 after a Redis 7.0 load)"},
		{"keys", count(rep.Total.Keys)},
		{"memory", humanBytes(rep.Total.Bytes) + " (" + count(rep.Total.Bytes) + " bytes)"},
		{"elements", count(rep.Total.Elements)},
	}}
	if n := newerNote(rep.Header); n != "" {
		summary.KV = append(summary.KV, [2]string{"note", n})
	}
	if rep.Filtered > 0 {
		summary.KV = append(summary.KV, [2]string{"left out by filters", plural(rep.Filtered, "key", "keys")})
	}
	secs := []section{summary}

	dbs := section{Title: "Databases", Header: []string{"db", "keys", "memory", "share", "with TTL"}, Right: []bool{true, true, true, true, true}}
	for _, d := range rep.DBs {
		dbs.Rows = append(dbs.Rows, []string{strconv.Itoa(d.DB), count(d.Keys), humanBytes(d.Bytes), v.share(d.Bytes), count(d.Expires)})
	}
	types := section{Title: "Types", Header: []string{"type", "encoding", "keys", "memory", "share", "elements"}, Right: []bool{false, false, true, true, true, true}}
	for _, t := range rep.Types {
		types.Rows = append(types.Rows, []string{t.Type.String(), t.Encoding, count(t.Keys), humanBytes(t.Bytes), v.share(t.Bytes), count(t.Elements)})
	}
	top := section{Title: "Top keys", Header: []string{"#", "db", "key", "type", "encoding", "memory", "elements", "largest element", "TTL"}, Right: []bool{true, true, false, false, false, true, true, true, false}}
	for i := range rep.TopKeys {
		k := &rep.TopKeys[i]
		top.Rows = append(top.Rows, []string{strconv.Itoa(i + 1), strconv.Itoa(k.DB), displayBytes(k.Key, 60), k.Type.Kind().String(), k.Usage.Encoding,
			humanBytes(k.Usage.Bytes), count(int64(k.Usage.Elements)), humanBytes(int64(k.Usage.LargestElement)), v.ttl(k)})
	}
	pr := rep.Prefixes
	prefixes := section{Title: "Prefixes (separators " + strconv.Quote(joinSeps(pr.Separators)) + ", depth " + strconv.Itoa(pr.Depth) + ")",
		Header: []string{"prefix", "depth", "keys", "memory", "share"}, Right: []bool{false, true, true, true, true}}
	for _, p := range v.prefixes() {
		prefixes.Rows = append(prefixes.Rows, []string{displayBytes(p.Prefix, 60) + "*", strconv.Itoa(p.Depth), count(p.Keys), humanBytes(p.Bytes), v.share(p.Bytes)})
	}
	if pr.NoPrefixKeys > 0 {
		prefixes.Rows = append(prefixes.Rows, []string{"(no separator)", "", count(pr.NoPrefixKeys), humanBytes(pr.NoPrefixBytes), v.share(pr.NoPrefixBytes)})
	}
	if pr.Pruned {
		prefixes.Title += ", approximate"
		secs[0].KV = append(secs[0].KV, [2]string{"prefixes", fmt.Sprintf("approximate: more than %d distinct prefixes, the smallest were dropped along the way; a prefix's figures may be low by up to %s", v.capacity, humanBytes(pr.MaxUndercount))})
	}
	expiry := section{Title: "Expiry (relative to " + time.UnixMilli(rep.NowMs).UTC().Format(time.RFC3339) + ")", Header: []string{"time left", "keys", "memory", "share"}, Right: []bool{false, true, true, true}}
	for _, b := range rep.Expiry {
		expiry.Rows = append(expiry.Rows, []string{b.Label, count(b.Count), humanBytes(b.Bytes), v.share(b.Bytes)})
	}
	counts := section{Title: "Elements per key", Header: []string{"elements", "keys", "memory", "share"}, Right: []bool{false, true, true, true}}
	for _, b := range rep.ElementCounts {
		counts.Rows = append(counts.Rows, []string{b.Label, count(b.Count), humanBytes(b.Bytes), v.share(b.Bytes)})
	}
	sizes := section{Title: "Element sizes", Header: []string{"size", "elements", "bytes"}, Right: []bool{false, true, true}}
	for _, b := range rep.ElementSizes {
		sizes.Rows = append(sizes.Rows, []string{b.Label, count(b.Count), humanBytes(b.Bytes)})
	}
	elems := section{Title: "Largest elements", Header: []string{"#", "db", "key", "type", "size", "element"}, Right: []bool{true, true, false, false, true, false}}
	for i, e := range rep.LargestElements {
		elems.Rows = append(elems.Rows, []string{strconv.Itoa(i + 1), strconv.Itoa(e.DB), displayBytes(e.Key, 40), e.Type.String(), humanBytes(int64(e.Size)), preview(e.Preview, e.Size)})
	}
	secs = append(secs, dbs, types)
	if len(rep.TopKeys) > 0 {
		secs = append(secs, top)
	}
	if pr.Depth > 0 {
		secs = append(secs, prefixes)
	}
	secs = append(secs, expiry, counts, sizes)
	if len(rep.LargestElements) > 0 {
		secs = append(secs, elems)
	}
	return secs
}

func joinSeps(seps []string) string {
	s := ""
	for i, x := range seps {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s
}

// The --format json document (documented in docs/cli.md).
type memoryJSON struct {
	File            string              `json:"file"`
	Magic           string              `json:"magic"`
	RDBVersion      int                 `json:"rdb_version"`
	Model           string              `json:"model"`
	Note            string              `json:"note,omitempty"`
	NowMs           int64               `json:"now_ms"`
	Config          memoryJSONConfig    `json:"config"`
	Total           memoryJSONTotals    `json:"total"`
	FilteredKeys    int64               `json:"filtered_keys"`
	Databases       []memoryJSONDB      `json:"databases"`
	Types           []memoryJSONType    `json:"types"`
	TopKeys         []json.RawMessage   `json:"top_keys"`
	Prefixes        memoryJSONPrefixes  `json:"prefixes"`
	Expiry          []memoryJSONBucket  `json:"expiry"`
	ElementCounts   []memoryJSONBucket  `json:"element_counts"`
	ElementSizes    []memoryJSONBucket  `json:"element_sizes"`
	LargestElements []memoryJSONElement `json:"largest_elements"`
}

type memoryJSONConfig struct {
	HashMaxListpackEntries int `json:"hash_max_listpack_entries"`
	HashMaxListpackValue   int `json:"hash_max_listpack_value"`
	ZSetMaxListpackEntries int `json:"zset_max_listpack_entries"`
	ZSetMaxListpackValue   int `json:"zset_max_listpack_value"`
	SetMaxIntsetEntries    int `json:"set_max_intset_entries"`
	ListMaxListpackSize    int `json:"list_max_listpack_size"`
}

type memoryJSONTotals struct {
	Keys        int64 `json:"keys"`
	MemoryBytes int64 `json:"memory_bytes"`
	Elements    int64 `json:"elements"`
}

type memoryJSONDB struct {
	DB int `json:"db"`
	memoryJSONTotals
	Expires int64 `json:"keys_with_ttl"`
}

type memoryJSONType struct {
	Type     string `json:"type"`
	Encoding string `json:"encoding"`
	memoryJSONTotals
}

type memoryJSONPrefixes struct {
	Separators         []string           `json:"separators"`
	Depth              int                `json:"depth"`
	Approximate        bool               `json:"approximate"`
	MaxUndercountBytes int64              `json:"max_undercount_bytes"`
	NoSeparatorKeys    int64              `json:"no_separator_keys"`
	NoSeparatorBytes   int64              `json:"no_separator_memory_bytes"`
	Items              []memoryJSONPrefix `json:"items"`
}

type memoryJSONPrefix struct {
	Prefix      json.RawMessage `json:"prefix"`
	Depth       int             `json:"depth"`
	Keys        int64           `json:"keys"`
	MemoryBytes int64           `json:"memory_bytes"`
}

type memoryJSONBucket struct {
	Bucket string `json:"bucket"`
	Min    int64  `json:"min"`
	Max    int64  `json:"max"`
	Count  int64  `json:"count"`
	Bytes  int64  `json:"bytes"`
}

type memoryJSONElement struct {
	DB      int             `json:"db"`
	Key     json.RawMessage `json:"key"`
	Type    string          `json:"type"`
	Bytes   int             `json:"bytes"`
	Preview json.RawMessage `json:"preview"`
}

func rawBytes(b []byte) json.RawMessage { return convert.AppendJSONBytes(nil, b) }

func (v *memoryView) json() memoryJSON {
	rep := v.rep
	cfg := rep.Config
	j := memoryJSON{
		File: v.name, Magic: rep.Header.Magic, RDBVersion: rep.Header.Version, Model: rep.Model, Note: newerNote(rep.Header), NowMs: rep.NowMs,
		Config: memoryJSONConfig{cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue, cfg.ZSetMaxListpackEntries,
			cfg.ZSetMaxListpackValue, cfg.SetMaxIntsetEntries, cfg.ListMaxListpackSize},
		Total:        memoryJSONTotals{rep.Total.Keys, rep.Total.Bytes, rep.Total.Elements},
		FilteredKeys: rep.Filtered,
		Databases:    []memoryJSONDB{}, Types: []memoryJSONType{}, TopKeys: []json.RawMessage{},
		LargestElements: []memoryJSONElement{},
	}
	for _, d := range rep.DBs {
		j.Databases = append(j.Databases, memoryJSONDB{d.DB, memoryJSONTotals{d.Keys, d.Bytes, d.Elements}, d.Expires})
	}
	for _, t := range rep.Types {
		j.Types = append(j.Types, memoryJSONType{t.Type.String(), t.Encoding, memoryJSONTotals{t.Keys, t.Bytes, t.Elements}})
	}
	for i := range rep.TopKeys {
		j.TopKeys = append(j.TopKeys, convert.AppendMemoryJSON(nil, &rep.TopKeys[i]))
	}
	pr := rep.Prefixes
	j.Prefixes = memoryJSONPrefixes{Separators: pr.Separators, Depth: pr.Depth, Approximate: pr.Pruned, MaxUndercountBytes: pr.MaxUndercount,
		NoSeparatorKeys: pr.NoPrefixKeys, NoSeparatorBytes: pr.NoPrefixBytes, Items: []memoryJSONPrefix{}}
	for _, p := range v.prefixes() {
		j.Prefixes.Items = append(j.Prefixes.Items, memoryJSONPrefix{rawBytes(p.Prefix), p.Depth, p.Keys, p.Bytes})
	}
	buckets := func(bs []memory.Bucket) []memoryJSONBucket {
		out := make([]memoryJSONBucket, len(bs))
		for i, b := range bs {
			out[i] = memoryJSONBucket{b.Label, b.Min, b.Max, b.Count, b.Bytes}
			if b.Max == math.MaxInt64 {
				out[i].Max = -1 // open-ended
			}
		}
		return out
	}
	j.Expiry, j.ElementCounts, j.ElementSizes = buckets(rep.Expiry), buckets(rep.ElementCounts), buckets(rep.ElementSizes)
	for _, e := range rep.LargestElements {
		j.LargestElements = append(j.LargestElements, memoryJSONElement{e.DB, rawBytes(e.Key), e.Type.String(), e.Size, rawBytes(e.Preview)})
	}
	return j
}
