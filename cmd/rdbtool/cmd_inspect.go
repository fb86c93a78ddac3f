package main

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func init() { register(inspectCommand) }

const inspectDescription = `Reads the whole file once and reports: the header, checksum and what follows
it; the aux fields (ctime also as UTC time, used-mem in MiB, binary values
escaped); per database the keys by logical type and by encoding, keys with an
expiry, keys already expired when the snapshot was taken (relative to the ctime
aux field) and the RESIZEDB hints; function libraries; module types (from keys
and module aux records); the total serialized size of the keys; and the top N
keys by serialized size and by element count.

The serialized size of a key is every byte of its record: expiry and LRU/LFU
prefixes, type byte, name and value. Elements are list elements, set and
sorted-set members, hash fields, stream entries; a string counts 1.

PATH may also be an AOF: a file (one with an RDB preamble when its name ends in
.aof), an AOF folder or its manifest, or a Redis data folder. It is replayed
offline as a server loading it would (the --until* options stop early, as in
"rdbtool convert"), and the report is of the RDB file that server would save,
with a "replayed" line (JSON: "replay") saying what the replay applied.

Memory stays bounded whatever the number of keys: only the top N keys are
kept. Keys are shown as is when printable and Go-quoted otherwise. JSON output
is one document whose layout is documented in docs/cli.md; it depends only on
the input, so it can be diffed.

Examples:
   rdbtool inspect dump.rdb
   rdbtool inspect --top 25 dump.rdb.zst
   rdbtool inspect --format json dump.rdb | jq '.top.by_bytes[0]'
   cat dump.rdb | rdbtool inspect --format text -
   rdbtool inspect /var/lib/redis/appendonlydir`

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:        "inspect",
		Usage:       "summarize an RDB file or AOF: header, aux fields, key counts per type and encoding, biggest keys",
		UsageText:   "rdbtool inspect [--format table|text|json] [--top N] [--no-progress] [--until* ...] PATH",
		Description: inspectDescription,
		ArgsUsage:   "PATH",
		Flags: append([]cli.Flag{
			formatFlag("table", "table", "text", "json"),
			&cli.IntFlag{
				Name:  "top",
				Value: 10,
				Usage: "list the `N` biggest keys by serialized size and by element count (0: none)",
			},
			noProgressFlag(),
		}, replayFlags()...),
		Action: runInspect,
	}
}

// inspectReport is the whole result; with --format json it is printed as is,
// in this field order.
type inspectReport struct {
	Path            string     `json:"path"`
	Compression     string     `json:"compression"`
	CompressedBytes int64      `json:"compressed_bytes,omitempty"`
	Replay          *replayed  `json:"replay,omitempty"` // an AOF input: the report is of the RDB a server would save after loading it
	Header          string     `json:"header"`
	Magic           string     `json:"magic"`
	RDBVersion      int        `json:"rdb_version"`
	Bytes           int64      `json:"bytes"`
	Checksum        string     `json:"checksum"`
	CRC64           string     `json:"crc64,omitempty"`
	TrailingBytes   int64      `json:"trailing_bytes"`
	Trailing        string     `json:"trailing,omitempty"`
	Aux             []auxField `json:"aux"`
	Databases       []*dbStats `json:"databases"`
	Totals          totals     `json:"totals"`
	Functions       []function `json:"functions"`
	Modules         []*module  `json:"modules"`
	SlotInfo        int64      `json:"slot_info_records"`
	SlotImports     int64      `json:"slot_import_records"`
	Top             topReport  `json:"top"`

	name string
}

// replayed says what the replay of an AOF input applied.
type replayed struct {
	Files          int    `json:"files"`
	RDBKeys        int64  `json:"rdb_keys"`
	Commands       int64  `json:"commands"`
	ErrorReplies   int64  `json:"error_replies"`
	Stopped        string `json:"stopped,omitempty"`
	TornTailOffset *int64 `json:"torn_tail_offset,omitempty"`
}

func replayedOf(st convert.ReplayStats) *replayed {
	r := &replayed{Files: st.Files, RDBKeys: st.RDBKeys, Commands: st.Commands, ErrorReplies: st.ErrorReplies, Stopped: st.Stopped}
	if st.TornTail {
		r.TornTailOffset = &st.TornOffset
	}
	return r
}

type auxField struct {
	Name  string    `json:"name"`
	Value jsonBytes `json:"value"`
	Note  string    `json:"note,omitempty"` // ctime as UTC time, used-mem humanized, yes/no flags
}

type dbStats struct {
	DB             int              `json:"db"`
	Keys           int64            `json:"keys"`
	Expires        int64            `json:"expires"`
	ExpiredAtCtime *int64           `json:"expired_at_ctime,omitempty"`
	KeyBytes       int64            `json:"key_bytes"`
	ByType         map[string]int64 `json:"by_type"`
	ByEncoding     map[string]int64 `json:"by_encoding"`
	Resize         *resizeHint      `json:"resizedb,omitempty"`

	expiredAtCtime int64
	byType         map[rdb.Type]int64 // counted by Type, named at the end
}

type resizeHint struct {
	Keys    uint64 `json:"keys"`
	Expires uint64 `json:"expires"`
}

type totals struct {
	Keys      int64    `json:"keys"`
	Databases int      `json:"databases"`
	KeyBytes  int64    `json:"key_bytes"`
	Largest   *keyInfo `json:"largest_key"`
}

type function struct {
	Name   string `json:"name"`
	Engine string `json:"engine"`
	Bytes  int    `json:"bytes"`
	PreGA  bool   `json:"pre_ga,omitempty"`
}

type module struct {
	Name       string `json:"name"`
	EncVer     int    `json:"encver"`
	Keys       int64  `json:"keys"`
	AuxRecords int64  `json:"aux_records"`
}

type topReport struct {
	N          int        `json:"n"`
	ByBytes    []*keyInfo `json:"by_bytes"`
	ByElements []*keyInfo `json:"by_elements"`
}

// keyInfo is one key of a top list.
type keyInfo struct {
	DB       int       `json:"db"`
	Key      jsonBytes `json:"key"`
	Type     string    `json:"type"`
	Encoding string    `json:"encoding"`
	Bytes    int64     `json:"bytes"`
	Elements uint64    `json:"elements"`

	seq int64    // file order, to break ties deterministically
	typ rdb.Type // Type and Encoding are filled from it for the report
}

func (k *keyInfo) name() *keyInfo {
	k.Type, k.Encoding = k.typ.Kind().String(), k.typ.String()
	return k
}

func runInspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("inspect", "inspect needs exactly one PATH (\"-\" for standard input), got %d", c.NArg())
	}
	if err := checkPaths(c, c.Args().Slice()); err != nil {
		return err
	}
	format, err := checkFormat(c, "table", "text", "json")
	if err != nil {
		return err
	}
	top := c.Int("top")
	if top < 0 {
		return usagef("inspect", "--top must be 0 or more, got %d", top)
	}
	rep, err := inspectFile(c, c.Args().First(), top)
	if err != nil {
		return err
	}
	out := c.App.Writer
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return renderReport(out, rep.sections(), format)
}

func inspectFile(c *cli.Context, path string, topN int) (*inspectReport, error) {
	rep := &inspectReport{Path: path, name: path, Aux: []auxField{}, Databases: []*dbStats{},
		Functions: []function{}, Modules: []*module{}, Top: topReport{N: topN}}
	if path == "-" {
		rep.name = "<stdin>"
	}
	in, isAOF, err := openDataset(c, path)
	if err != nil {
		return nil, err
	}
	if isAOF {
		var st convert.ReplayStats
		if in, st, err = replayDataset(c, path, true); err != nil {
			return nil, err
		}
		rep.Replay = replayedOf(st)
		defer writeGC()()
	}
	defer in.Close()
	fail := func(err error) (*inspectReport, error) { return nil, newFileError(rep.name, in, err) }
	prog := startProgress(!c.Bool("no-progress") && !isAOF && isTerminal(c.App.ErrWriter), c.App.ErrWriter, in.Name, in.Size, in.Done)
	defer prog.Stop()

	if err := sniffRDB(in); err != nil {
		return fail(err)
	}
	r := rdb.NewReader(in, rdb.ReaderOptions{})
	defer r.Close()

	var (
		dbs       = map[int]*dbStats{}
		modules   = map[string]*module{}
		byBytes   = newTopKeys(topN, func(k *keyInfo) uint64 { return uint64(k.Bytes) })
		byElems   = newTopKeys(topN, func(k *keyInfo) uint64 { return k.Elements })
		largest   keyInfo
		haveCtime bool
		ctimeMs   int64
		seq       int64
		cur       keyInfo
	)
	db := func(n int) *dbStats {
		d := dbs[n]
		if d == nil {
			d = &dbStats{DB: n, ByType: map[string]int64{}, ByEncoding: map[string]int64{}, byType: map[rdb.Type]int64{}}
			dbs[n] = d
		}
		return d
	}
	mod := func(name string, encver int) *module {
		k := name + "/" + strconv.Itoa(encver)
		m := modules[k]
		if m == nil {
			m = &module{Name: name, EncVer: encver}
			modules[k] = m
		}
		return m
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch e.Kind {
		case rdb.EntryAux:
			f := auxField{Name: displayBytes(e.AuxName, 0), Value: jsonBytes(bytes.Clone(e.AuxValue))}
			f.Note = auxNote(string(e.AuxName), string(e.AuxValue))
			if string(e.AuxName) == "ctime" {
				if v, err := strconv.ParseInt(string(e.AuxValue), 10, 64); err == nil {
					haveCtime, ctimeMs = true, v*1000
				}
			}
			rep.Aux = append(rep.Aux, f)
		case rdb.EntryResizeDB:
			db(e.DB).Resize = &resizeHint{Keys: e.DBSize, Expires: e.ExpiresSize}
		case rdb.EntryFunction:
			rep.Functions = append(rep.Functions, functionOf(e))
		case rdb.EntryModuleAux:
			mod(e.Module.Name, e.Module.EncVer).AuxRecords++
		case rdb.EntrySlotInfo:
			rep.SlotInfo++
		case rdb.EntrySlotImport:
			rep.SlotImports++
		case rdb.EntryKey:
			d := db(e.DB)
			d.Keys++
			d.byType[e.Type]++
			if e.HasExpire {
				d.Expires++
				if haveCtime && e.ExpireAtMs <= ctimeMs {
					d.expiredAtCtime++
				}
			}
			// Drain the value here rather than in Next, so that the offset
			// and the element count still belong to this key.
			for {
				el, err := r.NextElem()
				if err == io.EOF {
					break
				}
				if err != nil {
					return fail(err)
				}
				if el.Kind == rdb.ElemModule {
					mod(el.Module.Name, el.Module.EncVer).Keys++
				}
			}
			seq++
			cur = keyInfo{DB: e.DB, Key: e.Key, typ: e.Type, Bytes: r.Offset() - e.Offset, Elements: r.ElemCount(), seq: seq}
			d.KeyBytes += cur.Bytes
			rep.Totals.KeyBytes += cur.Bytes
			rep.Totals.Keys++
			if largest.seq == 0 || cur.Bytes > largest.Bytes {
				buf := largest.Key[:0]
				largest = cur
				largest.Key = append(buf, cur.Key...) // cur.Key belongs to the reader
			}
			byBytes.offer(&cur)
			byElems.offer(&cur)
		}
	}
	h, _ := r.Header()
	rep.Header, rep.Magic, rep.RDBVersion = h.String(), h.Magic, h.Version
	state, crc := r.Checksum()
	rep.Checksum = checksumName(state)
	if state == rdb.ChecksumOK {
		rep.CRC64 = fmt.Sprintf("0x%016x", crc)
	}
	end := r.Offset()
	n, head, err := drainTrailing(r.Rest())
	rep.TrailingBytes, rep.Bytes = n, end+n
	if err != nil {
		return fail(&rdb.ParseError{Offset: end + n, Op: "data after the checksum", Err: err})
	}
	if n > 0 {
		rep.Trailing = trailingWarning(n, head)
	}
	if in.Compressed() {
		rep.Compression, rep.CompressedBytes = in.Compression, in.Done()
	} else {
		rep.Compression = "none"
	}

	for _, d := range dbs {
		for t, n := range d.byType {
			d.ByType[t.Kind().String()] += n
			d.ByEncoding[t.String()] += n
		}
		if haveCtime {
			d.ExpiredAtCtime = &d.expiredAtCtime
		}
		rep.Databases = append(rep.Databases, d)
		if d.Keys > 0 {
			rep.Totals.Databases++
		}
	}
	sort.Slice(rep.Databases, func(i, j int) bool { return rep.Databases[i].DB < rep.Databases[j].DB })
	for _, m := range modules {
		rep.Modules = append(rep.Modules, m)
	}
	sort.Slice(rep.Modules, func(i, j int) bool {
		a, b := rep.Modules[i], rep.Modules[j]
		return a.Name < b.Name || a.Name == b.Name && a.EncVer < b.EncVer
	})
	if largest.seq != 0 {
		rep.Totals.Largest = largest.name()
	}
	rep.Top.ByBytes, rep.Top.ByElements = byBytes.sorted(), byElems.sorted()
	for _, k := range rep.Top.ByBytes {
		k.name()
	}
	for _, k := range rep.Top.ByElements {
		k.name()
	}
	return rep, nil
}

// auxNote renders the aux fields whose raw value is not self-explanatory.
func auxNote(name, value string) string {
	switch name {
	case "ctime":
		if v, err := strconv.ParseInt(value, 10, 64); err == nil {
			return time.Unix(v, 0).UTC().Format(time.RFC3339)
		}
	case "used-mem":
		if v, err := strconv.ParseInt(value, 10, 64); err == nil {
			return humanBytes(v)
		}
	case "aof-base", "aof-preamble":
		switch value {
		case "0":
			return "no"
		case "1":
			return "yes"
		}
	}
	return ""
}

// functionOf reads a library's name and engine from its "#!lua name=mylib"
// shebang (or from the pre-GA record, which has them as fields).
func functionOf(e *rdb.Entry) function {
	f := function{Bytes: len(e.Function)}
	if p := e.FunctionPreGA; p != nil {
		f.Name, f.Engine, f.PreGA = displayBytes(p.Name, 0), displayBytes(p.Engine, 0), true
		return f
	}
	line := e.Function
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if rest, ok := bytes.CutPrefix(line, []byte("#!")); ok {
		fields := strings.Fields(string(rest))
		if len(fields) > 0 {
			f.Engine = displayBytes([]byte(fields[0]), 0)
		}
		for _, kv := range fields[min(1, len(fields)):] {
			if v, ok := strings.CutPrefix(kv, "name="); ok {
				f.Name = displayBytes([]byte(v), 0)
			}
		}
	}
	return f
}

// topKeys keeps the n biggest keys by one measure in a min-heap: the smallest
// of the kept keys is at the root and is the one displaced, so memory is O(n)
// whatever the number of keys. Ties go to the key that came first in the file.
type topKeys struct {
	n     int
	value func(*keyInfo) uint64
	items []*keyInfo
}

func newTopKeys(n int, value func(*keyInfo) uint64) *topKeys {
	return &topKeys{n: n, value: value}
}

// above reports whether a ranks above b.
func (t *topKeys) above(a, b *keyInfo) bool {
	va, vb := t.value(a), t.value(b)
	return va > vb || va == vb && a.seq < b.seq
}

func (t *topKeys) Len() int           { return len(t.items) }
func (t *topKeys) Less(i, j int) bool { return t.above(t.items[j], t.items[i]) }
func (t *topKeys) Swap(i, j int)      { t.items[i], t.items[j] = t.items[j], t.items[i] }
func (t *topKeys) Push(x any)         { t.items = append(t.items, x.(*keyInfo)) }
func (t *topKeys) Pop() any {
	x := t.items[len(t.items)-1]
	t.items = t.items[:len(t.items)-1]
	return x
}

// offer considers k, whose Key the caller may reuse: it is copied only when k
// is kept.
func (t *topKeys) offer(k *keyInfo) {
	if t.n == 0 {
		return
	}
	if len(t.items) < t.n {
		c := *k
		c.Key = bytes.Clone(k.Key)
		heap.Push(t, &c)
		return
	}
	root := t.items[0]
	if !t.above(k, root) {
		return
	}
	buf := root.Key[:0]
	*root = *k
	root.Key = append(buf, k.Key...)
	heap.Fix(t, 0)
}

// sorted returns the kept keys, biggest first.
func (t *topKeys) sorted() []*keyInfo {
	out := append([]*keyInfo{}, t.items...)
	sort.Slice(out, func(i, j int) bool { return t.above(out[i], out[j]) })
	return out
}

// sections lays the report out for the table and text formats.
func (rep *inspectReport) sections() []section {
	var secs []section

	file := section{Title: "File", KV: [][2]string{
		{"path", rep.name},
		{"header", rep.Header},
		{"size", sizeText(rep.Bytes)},
	}}
	if r := rep.Replay; r != nil {
		// An AOF: the rest describes the RDB file a server would save after
		// loading it.
		file.KV[1][1] += " (the RDB a server would save after loading the AOF)"
		what := fmt.Sprintf("%s: %d keys from RDB parts, %d commands", plural(int64(r.Files), "file", "files"), r.RDBKeys, r.Commands)
		if r.ErrorReplies > 0 {
			what += fmt.Sprintf(", %d skipped (error replies)", r.ErrorReplies)
		}
		if r.Stopped != "" {
			what += ", stopped " + r.Stopped
		}
		if r.TornTailOffset != nil {
			what += fmt.Sprintf(", a torn tail at offset %d of the last file dropped", *r.TornTailOffset)
		}
		file.KV = append(file.KV, [2]string{"replayed", what})
	}
	if rep.Compression != "none" {
		file.KV = append(file.KV, [2]string{"compression", rep.Compression + ", " + humanBytes(rep.CompressedBytes) + " stored"})
	}
	ck := map[string]string{"ok": "ok", "disabled": "disabled (zero: written with rdbchecksum no)",
		"absent": "none (RDB version < 5)"}[rep.Checksum]
	if rep.CRC64 != "" {
		ck += " (" + rep.CRC64 + ")"
	}
	file.KV = append(file.KV, [2]string{"checksum", ck})
	trailing := "none"
	if rep.TrailingBytes > 0 {
		trailing = rep.Trailing
	}
	file.KV = append(file.KV, [2]string{"after checksum", trailing})
	secs = append(secs, file)

	aux := section{Title: "Aux fields", KV: [][2]string{}}
	for _, a := range rep.Aux {
		v := displayBytes(a.Value, 200)
		if a.Note != "" {
			v += " (" + a.Note + ")"
		}
		aux.KV = append(aux.KV, [2]string{a.Name, v})
	}
	if len(aux.KV) == 0 {
		aux.KV = nil
	}
	secs = append(secs, aux)

	largest := "none"
	if l := rep.Totals.Largest; l != nil {
		largest = displayBytes(l.Key, 64) + " (db " + strconv.Itoa(l.DB) + ", " + l.Encoding + ", " + humanBytes(l.Bytes) + ")"
	}
	secs = append(secs, section{Title: "Totals", KV: [][2]string{
		{"keys", count(rep.Totals.Keys)},
		{"databases with keys", count(rep.Totals.Databases)},
		{"key bytes", sizeText(rep.Totals.KeyBytes)},
		{"largest key", largest},
	}})

	ctime := false
	for _, d := range rep.Databases {
		ctime = ctime || d.ExpiredAtCtime != nil
	}
	dbSec := section{Title: "Databases", Header: []string{"db", "keys", "expires"}, Right: []bool{true, true, true}}
	if ctime {
		dbSec.Header = append(dbSec.Header, "expired at ctime")
		dbSec.Right = append(dbSec.Right, true)
	}
	dbSec.Header = append(dbSec.Header, "resizedb hint (keys/expires)", "key bytes")
	dbSec.Right = append(dbSec.Right, true, true)
	var byType, byEnc section
	byType = section{Title: "Keys by type", Header: []string{"db", "type", "keys"}, Right: []bool{true, false, true}}
	byEnc = section{Title: "Keys by encoding", Header: []string{"db", "encoding", "type", "keys"}, Right: []bool{true, false, false, true}}
	for _, d := range rep.Databases {
		row := []string{strconv.Itoa(d.DB), count(d.Keys), count(d.Expires)}
		if ctime {
			v := int64(0)
			if d.ExpiredAtCtime != nil {
				v = *d.ExpiredAtCtime
			}
			row = append(row, count(v))
		}
		hint := "-"
		if d.Resize != nil {
			hint = count(d.Resize.Keys) + "/" + count(d.Resize.Expires)
		}
		row = append(row, hint, humanBytes(d.KeyBytes))
		dbSec.Rows = append(dbSec.Rows, row)
		for _, t := range sortedKeys(d.ByType) {
			byType.Rows = append(byType.Rows, []string{strconv.Itoa(d.DB), t, count(d.ByType[t])})
		}
		for _, enc := range sortedKeys(d.ByEncoding) {
			byEnc.Rows = append(byEnc.Rows, []string{strconv.Itoa(d.DB), enc, encodingKind(enc), count(d.ByEncoding[enc])})
		}
	}
	secs = append(secs, dbSec, byType, byEnc)

	fn := section{Title: "Functions", Header: []string{"library", "engine", "bytes"}, Right: []bool{false, false, true}}
	for _, f := range rep.Functions {
		name := f.Name
		if f.PreGA {
			name += " (7.0 RC format)"
		}
		fn.Rows = append(fn.Rows, []string{name, f.Engine, count(f.Bytes)})
	}
	mods := section{Title: "Modules", Header: []string{"module type", "encver", "keys", "aux records"}, Right: []bool{false, true, true, true}}
	for _, m := range rep.Modules {
		mods.Rows = append(mods.Rows, []string{m.Name, strconv.Itoa(m.EncVer), count(m.Keys), count(m.AuxRecords)})
	}
	secs = append(secs, fn, mods)
	if rep.SlotInfo > 0 || rep.SlotImports > 0 {
		secs = append(secs, section{Title: "Cluster records", KV: [][2]string{
			{"slot info", count(rep.SlotInfo)},
			{"slot import (Valkey)", count(rep.SlotImports)},
		}})
	}
	if rep.Top.N > 0 {
		secs = append(secs,
			topSection("Top "+strconv.Itoa(rep.Top.N)+" keys by serialized size", rep.Top.ByBytes),
			topSection("Top "+strconv.Itoa(rep.Top.N)+" keys by element count", rep.Top.ByElements))
	}
	return secs
}

// sizeText renders "1.2 MiB (1,234,567 bytes)", or "512 B".
func sizeText(n int64) string {
	if n < 1024 {
		return humanBytes(n)
	}
	return humanBytes(n) + " (" + count(n) + " bytes)"
}

func topSection(title string, keys []*keyInfo) section {
	s := section{Title: title, Header: []string{"#", "db", "key", "type", "encoding", "bytes", "elements"},
		Right: []bool{true, true, false, false, false, true, true}}
	for i, k := range keys {
		s.Rows = append(s.Rows, []string{strconv.Itoa(i + 1), strconv.Itoa(k.DB), displayBytes(k.Key, 64),
			k.Type, k.Encoding, count(k.Bytes), count(k.Elements)})
	}
	return s
}

// encodingKind maps an encoding name back to its logical type.
func encodingKind(enc string) string {
	for t := rdb.Type(0); t < 0x200; t++ {
		if t.String() == enc {
			return t.Kind().String()
		}
	}
	return ""
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
