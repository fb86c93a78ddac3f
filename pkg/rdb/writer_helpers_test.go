package rdb_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// wSource is an RDB file written by a real server, used as writer input.
type wSource struct {
	name string
	data []byte
	hdr  rdb.Header
}

// writerRoot is the module root (two levels above this file).
func writerRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// writerSources returns the fixtures and every generated corpus dump. The
// corpus part is skipped (with a log line) when absent, and its absence fails
// the test under CI=true.
func writerSources(t testing.TB) []wSource {
	t.Helper()
	root := writerRoot()
	paths, _ := filepath.Glob(filepath.Join(root, "fixtures", "*.rdb"))
	if len(paths) == 0 {
		t.Fatal("no fixtures/*.rdb")
	}
	if corpus := testenv.OptionalCorpus(t); corpus != "" {
		more, _ := filepath.Glob(filepath.Join(corpus, "generated", "*", "*", "dump.rdb"))
		paths = append(paths, more...)
	}
	var out []wSource
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if filepath.Base(p) == "dump.rdb" {
			name = filepath.Base(filepath.Dir(filepath.Dir(p))) + "/" + filepath.Base(filepath.Dir(p))
		}
		r := rdb.NewReaderBytes(b, rdb.ReaderOptions{})
		h, err := r.Header()
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, wSource{name: name, data: b, hdr: h})
	}
	return out
}

// copyMode selects how keys travel from the Reader to the Writer.
type copyMode int

const (
	copyValues copyMode = iota // ReadValue + WriteKey
	copyElems                  // NextElem + StartKey/WriteElem/EndKey with UnknownCount
)

// rdbCopy reads src and writes every record with opts.
func rdbCopy(src []byte, opts rdb.WriterOptions, mode copyMode) ([]byte, *rdb.Writer, error) {
	r := rdb.NewReaderBytes(src, rdb.ReaderOptions{})
	defer r.Close()
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, w, err
		}
		if e.Kind != rdb.EntryKey {
			if err := w.WriteEntry(e); err != nil {
				return nil, w, err
			}
			continue
		}
		if mode == copyValues {
			v, err := r.ReadValue(0)
			if err != nil {
				return nil, w, err
			}
			if err := w.WriteKey(e, v); err != nil {
				return nil, w, err
			}
			continue
		}
		if err := w.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
			return nil, w, err
		}
		for {
			el, err := r.NextElem()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, w, err
			}
			if err := w.WriteElem(el); err != nil {
				return nil, w, err
			}
		}
		if err := w.EndKey(); err != nil {
			return nil, w, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, w, err
	}
	return out.Bytes(), w, nil
}

// sourceAux returns a file's AUX fields, in order.
func sourceAux(t testing.TB, data []byte) [][2]string {
	t.Helper()
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var aux [][2]string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return aux
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryAux {
			aux = append(aux, [2]string{string(e.AuxName), string(e.AuxValue)})
		}
	}
}

// ownOptions are the writer options that reproduce a source at its own
// version, AUX fields included.
func ownOptions(t testing.TB, s wSource) rdb.WriterOptions {
	o := rdb.WriterOptions{Version: s.hdr.Version, Valkey: s.hdr.IsValkey()}
	for _, a := range sourceAux(t, s.data) {
		switch a[0] {
		case "redis-ver":
			o.ServerVersion = a[1]
		case "valkey-ver":
			o.ServerVersion, o.Valkey = a[1], true
		}
	}
	return o
}

// lowerOptions are the options for writing a source down to version v,
// dropping what v cannot hold.
func lowerOptions(v int) rdb.WriterOptions {
	return rdb.WriterOptions{Version: v, DropFieldTTLs: v < 12, DropFunctions: v < 10, DropStreams: v < 9, DropIDMP: v < 13}
}

func canonLines(t testing.TB, data []byte) []string {
	t.Helper()
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true})
	defer r.Close()
	lines, err := canon.FromRDB(r, true)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// expectView says how a target version changes a dataset's canonical form.
type expectView struct {
	version  int  // target RDB version
	redis70  bool // as a Redis 7.0 server shows it after loading (else as our reader reads it)
	dbOffset int  // added to every database number
}

// transformLines rewrites canonical lines (of a source) into what a file
// written at the view's version holds. Lines are re-marshalled with sorted
// members, so compare only lines that went through it.
func transformLines(t testing.TB, lines []string, view expectView) []string {
	t.Helper()
	var out []string
	for _, line := range lines {
		m := decodeLine(t, line)
		if _, ok := m["functions"]; ok {
			if view.version < 10 {
				continue
			}
			out = append(out, encodeLine(t, m))
			continue
		}
		db, _ := m["db"].(json.Number).Int64()
		m["db"] = json.Number(strconv.FormatInt(db+int64(view.dbOffset), 10))
		if view.version < 12 {
			delete(m, "field_expire_at_ms")
		}
		if m["type"] == "stream" {
			if view.version < 9 {
				continue
			}
			if view.version < 10 {
				lowerStream(m["value"].(map[string]any), view.redis70)
			}
		}
		out = append(out, encodeLine(t, m))
	}
	slices.Sort(out)
	return out
}

// lowerStream applies what a type-15 stream loses: entries_added becomes the
// length, max_deleted_entry_id 0-0; entries_read is unknown for our reader,
// and Redis 7.0 estimates it (streamEstimateDistanceFromFirstEverEntry).
func lowerStream(s map[string]any, redis70 bool) {
	length := s["length"].(json.Number)
	s["entries_added"] = length
	s["max_deleted_entry_id"] = "0-0"
	n, _ := length.Int64()
	last := parseCanonID(s["last_id"].(string))
	var first rdb.StreamID
	haveFirst := false
	if es, ok := s["entries"].([]any); ok && len(es) > 0 {
		first = parseCanonID(es[0].([]any)[0].(string))
		haveFirst = true
	}
	groups, _ := s["groups"].([]any)
	for _, g := range groups {
		gm := g.(map[string]any)
		if !redis70 {
			gm["entries_read"] = nil
			continue
		}
		id := parseCanonID(gm["last_delivered"].(string))
		var est any
		switch {
		case n == 0:
			est = json.Number("0")
		case id == last:
			est = length
		case last.Less(id):
			est = nil
		case haveFirst && id.Less(first):
			est = json.Number("0")
		case haveFirst && id == first:
			est = json.Number("1")
		default:
			est = nil
		}
		gm["entries_read"] = est
	}
}

func parseCanonID(s string) rdb.StreamID {
	a, b, _ := strings.Cut(s, "-")
	ms, _ := strconv.ParseUint(a, 10, 64)
	seq, _ := strconv.ParseUint(b, 10, 64)
	return rdb.StreamID{Ms: ms, Seq: seq}
}

func decodeLine(t testing.TB, line string) map[string]any {
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("canonical line %q: %v", line, err)
	}
	return m
}

func encodeLine(t testing.TB, m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// diffLines reports the first differences between two sorted line sets.
func diffLines(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	ws := map[string]bool{}
	for _, l := range want {
		ws[l] = true
	}
	gs := map[string]bool{}
	for _, l := range got {
		gs[l] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d lines wanted, %d got\n", len(want), len(got))
	n := 0
	for _, l := range want {
		if !gs[l] && n < 4 {
			fmt.Fprintf(&b, "  missing: %.400s\n", l)
			n++
		}
	}
	n = 0
	for _, l := range got {
		if !ws[l] && n < 4 {
			fmt.Fprintf(&b, "  unexpected: %.400s\n", l)
			n++
		}
	}
	return b.String()
}

// recordDump renders every record of a file, values included, in a form
// that ignores only what a rewrite legitimately changes: the order of
// unordered collections (a hashtable set may become an intset) and the
// on-disk encoding.
func recordDump(t testing.TB, data []byte) []string {
	t.Helper()
	return recordDumpOpts(t, data, rdb.ReaderOptions{Strict: true})
}

func recordDumpOpts(t testing.TB, data []byte, opts rdb.ReaderOptions) []string {
	t.Helper()
	r := rdb.NewReaderBytes(data, opts)
	defer r.Close()
	var out []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch e.Kind {
		case rdb.EntryAux:
			out = append(out, fmt.Sprintf("aux %q=%q", e.AuxName, e.AuxValue))
		case rdb.EntrySelectDB:
			out = append(out, fmt.Sprintf("select %d", e.DB))
		case rdb.EntryResizeDB:
			out = append(out, fmt.Sprintf("resize %d %d", e.DBSize, e.ExpiresSize))
		case rdb.EntryFunction:
			code := e.Function
			if f := e.FunctionPreGA; f != nil { // as Redis 7.0 (and the Writer) convert it
				code = []byte("#!" + string(f.Engine) + " name=" + string(f.Name) + "\n" + string(f.Code))
			}
			out = append(out, fmt.Sprintf("function %q", code))
		case rdb.EntryModuleAux:
			out = append(out, fmt.Sprintf("module-aux %d %d %x", e.Module.ID, e.Module.When, e.Module.Raw))
		case rdb.EntrySlotInfo:
			out = append(out, fmt.Sprintf("slot %d %d %d", e.Slot, e.SlotSize, e.SlotExpiresSize))
		case rdb.EntrySlotImport:
			out = append(out, fmt.Sprintf("slot-import %q %v", e.SlotImport.JobName, e.SlotImport.Ranges))
		case rdb.EntryKey:
			head := fmt.Sprintf("key db=%d %q %s exp=%v/%d idle=%v/%d freq=%v/%d meta=%x", e.DB, e.Key, e.Type.Kind(),
				e.HasExpire, e.ExpireAtMs, e.HasIdle, e.IdleSeconds, e.HasFreq, e.Freq, e.KeyMeta)
			v, err := r.ReadValue(1 << 30)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, head+" "+valueDump(v))
		}
	}
}

// valueDump renders a value exactly, sorting only unordered collections.
func valueDump(v *rdb.Value) string {
	var b strings.Builder
	q := func(x []byte) string { return strconv.Quote(string(x)) }
	switch v.Kind {
	case rdb.KindString:
		b.WriteString(q(v.String))
	case rdb.KindList:
		for _, e := range v.List {
			b.WriteString(q(e) + ",")
		}
	case rdb.KindSet:
		s := make([]string, len(v.Set))
		for i, m := range v.Set {
			s[i] = q(m)
		}
		sort.Strings(s)
		b.WriteString(strings.Join(s, ","))
	case rdb.KindZSet:
		s := make([]string, len(v.ZSet))
		for i, m := range v.ZSet {
			s[i] = fmt.Sprintf("%s:%x", q(m.Member), math.Float64bits(m.Score))
		}
		sort.Strings(s)
		b.WriteString(strings.Join(s, ","))
	case rdb.KindHash:
		s := make([]string, len(v.Hash))
		for i, f := range v.Hash {
			s[i] = fmt.Sprintf("%s=%s@%d", q(f.Field), q(f.Value), f.ExpireAtMs)
		}
		sort.Strings(s)
		b.WriteString(strings.Join(s, ","))
	case rdb.KindStream:
		st := v.Stream
		fmt.Fprintf(&b, "len=%d last=%v first=%v maxdel=%v added=%d groups=%d;", st.Length, st.LastID, st.FirstID, st.MaxDeletedID, st.EntriesAdded, st.GroupCount)
		for _, e := range st.Entries {
			fmt.Fprintf(&b, "%v", e.ID)
			for _, f := range e.Fields {
				b.WriteString("," + q(f))
			}
			b.WriteString(";")
		}
		for _, g := range st.Groups {
			fmt.Fprintf(&b, "group %s %v %d pel[", q(g.Name), g.LastDelivered, g.EntriesRead)
			for _, p := range g.PEL {
				fmt.Fprintf(&b, "%v %d %d %s,", p.ID, p.DeliveryTimeMs, p.DeliveryCount, q(p.Consumer))
			}
			b.WriteString("] consumers[")
			for _, c := range g.Consumers {
				fmt.Fprintf(&b, "%s %d %d %v,", q(c.Name), c.SeenTimeMs, c.ActiveTimeMs, c.PEL)
			}
			b.WriteString("];")
		}
		if st.IDMP != nil {
			fmt.Fprintf(&b, "idmp %+v", st.IDMP.StreamIDMP)
			for _, e := range st.IDMP.Entries {
				fmt.Fprintf(&b, " %s/%s/%v", q(e.Producer), q(e.IID), e.ID)
			}
		}
	case rdb.KindModule:
		fmt.Fprintf(&b, "module %d %s", v.Module.ID, hex.EncodeToString(v.Module.Raw))
	}
	return b.String()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func globCount(dir string) (int, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*"))
	return len(m), err
}
