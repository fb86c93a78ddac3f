package convert_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// targetServer is a real server and the target name that writes for it.
type targetServer struct {
	name      string
	target    string
	bin       func(t *testing.T) redistest.Binaries
	fieldTTLs bool // it holds hash field TTLs
}

var (
	redis70Server = targetServer{"redis-7.0", "redis:7.0", func(t *testing.T) redistest.Binaries {
		b := redistest.Require(t)
		if !b.AtLeast(7, 0) {
			t.Skipf("redis-server %s cannot load what Redis 7.0 reads", b.Version)
		}
		return b
	}, false}
	valkey8Server = targetServer{redistest.Valkey8, "valkey:8.0", func(t *testing.T) redistest.Binaries {
		return redistest.RequireNewer(t, redistest.Valkey8)
	}, false}
	redis74Server = targetServer{redistest.Redis74, "redis:7.4", func(t *testing.T) redistest.Binaries {
		return redistest.RequireNewer(t, redistest.Redis74)
	}, true}
)

// targetSource is a dataset written by a real server, with what it holds.
type targetSource struct {
	name        string
	data        []byte
	want        []string // canonical lines, strict
	wantAOF     []string // canonical lines as an AOF load shows them (no seen_time)
	ttlFields   int      // hash fields with a TTL
	firstTTLKey []byte   // the first key in file order with such a field
}

func targetSources(t *testing.T) []targetSource {
	var out []targetSource
	for _, p := range datasets(t) {
		name, _ := filepath.Rel(moduleRoot(), p[0])
		data, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		want, err := canon.ReadFile(p[1])
		if err != nil {
			t.Fatal(err)
		}
		s := targetSource{name: name, data: data, want: want, wantAOF: normalizeForAOF(t, want, false, false)}
		eachRecord(t, data, func(e *rdb.Entry, r *rdb.Reader) error {
			if e.Kind != rdb.EntryKey || e.Type.Kind() != rdb.KindHash {
				return nil
			}
			key := bytes.Clone(e.Key)
			v, err := r.ReadValue(0)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range v.Hash {
				if f.ExpireAtMs != 0 {
					s.ttlFields++
					if s.firstTTLKey == nil {
						s.firstTTLKey = key
					}
				}
			}
			return nil
		})
		out = append(out, s)
	}
	return out
}

// dbStride separates the databases of the sources merged into one file.
const dbStride = 16

// mergeSources writes every source into one RDB 12 file, source i in
// databases 16i to 16i+15 and each function library once, so that one server
// load judges them all; the result is a targetSource of its own, and the
// number of databases a server needs for it.
func mergeSources(t *testing.T, srcs []targetSource) (targetSource, int) {
	t.Helper()
	opts, err := rdb.TargetVersion("redis:7.4")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	m := targetSource{name: "merged"}
	libs := map[string]string{} // library name -> code
	var codes canon.Set
	for i, src := range srcs {
		off := i * dbStride
		err := eachRecord(t, src.data, func(e *rdb.Entry, r *rdb.Reader) error {
			switch e.Kind {
			case rdb.EntryFunction:
				name, _, _ := strings.Cut(string(e.Function), "\n")
				if code, ok := libs[name]; ok {
					if code != string(e.Function) {
						t.Fatalf("%s: library %q differs from another source's", src.name, name)
					}
					return nil
				}
				libs[name] = string(e.Function)
				codes = append(codes, bytes.Clone(e.Function))
				return w.WriteEntry(e)
			case rdb.EntryKey:
				if e.DB >= dbStride {
					t.Fatalf("%s uses database %d; the merge assumes < %d", src.name, e.DB, dbStride)
				}
				e2 := *e
				e2.DB += off
				v, err := r.ReadValue(0)
				if err != nil {
					return err
				}
				return w.WriteKey(&e2, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		shift := func(lines []string) []string {
			var out []string
			for _, l := range normalizeKeep(t, lines, func(m map[string]any) {
				if db, ok := m["db"].(float64); ok {
					m["db"] = db + float64(off)
				}
			}) {
				if !strings.HasPrefix(l, `{"functions"`) {
					out = append(out, l)
				}
			}
			return out
		}
		m.want = append(m.want, shift(src.want)...)
		m.wantAOF = append(m.wantAOF, shift(src.wantAOF)...)
		m.ttlFields += src.ttlFields
		if m.firstTTLKey == nil {
			m.firstTTLKey = src.firstTTLKey
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(codes) > 0 {
		l := normalizeKeep(t, []string{canon.Marshal(canon.Functions{Libraries: codes})}, func(map[string]any) {})
		m.want, m.wantAOF = append(m.want, l...), append(m.wantAOF, l...)
	}
	canon.Sort(m.want)
	canon.Sort(m.wantAOF)
	m.data = out.Bytes()
	return m, dbStride * max(1, len(srcs))
}

// dropFieldTTLs removes field TTLs from canonical lines.
func dropFieldTTLs(t *testing.T, lines []string) []string {
	return normalizeKeep(t, lines, func(m map[string]any) { delete(m, "field_expire_at_ms") })
}

// normalizeKeep re-marshals lines after fn changed each, sorted.
func normalizeKeep(t *testing.T, lines []string, fn func(map[string]any)) []string {
	t.Helper()
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		m := decodeMap(t, l)
		fn(m)
		out = append(out, encodeMap(t, m))
	}
	canon.Sort(out)
	return out
}

// checkRefusal checks the error of a conversion that met field TTLs its
// target cannot hold: an *rdb.UnsupportedError for FeatureFieldTTLs naming
// the first such key and no Go option.
func checkRefusal(t *testing.T, err error, src targetSource) {
	t.Helper()
	var ue *rdb.UnsupportedError
	switch {
	case err == nil:
		t.Fatal("field TTLs were accepted by a target without them")
	case !errors.As(err, &ue) || ue.Feature != rdb.FeatureFieldTTLs:
		t.Fatalf("refusal %v is not an UnsupportedError for field TTLs", err)
	case !strings.Contains(err.Error(), rdb.QuoteBytes(src.firstTTLKey)):
		t.Fatalf("refusal %q does not name the first key with field TTLs, %s", err, rdb.QuoteBytes(src.firstTTLKey))
	case strings.Contains(err.Error(), "Drop"):
		t.Fatalf("refusal %q names a Go option", err)
	}
}

// droppedCount returns the count of one feature.
func droppedCount(d []rdb.DropCount, f rdb.Feature) uint64 {
	for _, c := range d {
		if c.Feature == f {
			return c.Count
		}
	}
	return 0
}

// TestRDBToAOFTargets converts every fixture and generated corpus dump
// (merged into one file, each in databases of its own) into AOF for Redis
// 7.0, Valkey 8 and Redis 7.4 (commands as a multi-part folder, and for 7.0
// also as one file; RESTORE payloads encoded for the target), has that
// server load each AOF and compares what it then holds with the sources:
// every key, value and TTL, stream groups, consumers and every PEL entry,
// those whose stream entry was deleted or trimmed included. Field TTLs are
// kept for Redis 7.4; for the others the conversion must first refuse them,
// naming the first key, and with the drop flag leave them out and count
// them.
func TestRDBToAOFTargets(t *testing.T) {
	srcs := targetSources(t)
	all, dbs := mergeSources(t, srcs)
	small, _ := mergeSources(t, withoutMedium(srcs))
	for _, ts := range []targetServer{redis70Server, valkey8Server, redis74Server} {
		modes := []string{"commands-dir", "restore"}
		if ts.name == redis70Server.name {
			modes = append(modes, "commands-file") // a lone appendonly.aof is adopted as a base
		}
		for _, mode := range modes {
			t.Run(ts.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				src := all
				if mode == "commands-file" {
					src = small // what differs from commands-dir is the layout only
				}
				bin := ts.bin(t)
				target, err := rdb.TargetVersion(ts.target)
				if err != nil {
					t.Fatal(err)
				}
				convertAOF := func(target rdb.WriterOptions) ([]byte, convert.AOFStats, error) {
					var buf bytes.Buffer
					r := rdb.NewReaderBytes(src.data, rdb.ReaderOptions{})
					defer r.Close()
					st, err := convert.RDBToAOF(r, aof.NewWriter(&buf), convert.AOFOptions{Restore: mode == "restore", Target: target})
					return buf.Bytes(), st, err
				}
				drop := src.ttlFields > 0 && !ts.fieldTTLs
				if drop {
					_, _, err := convertAOF(target)
					checkRefusal(t, err, src)
					target.DropFieldTTLs = true
				}
				out, st, err := convertAOF(target)
				if err != nil {
					t.Fatal(err)
				}
				if n := droppedCount(st.Dropped, rdb.FeatureFieldTTLs); drop && n != uint64(src.ttlFields) {
					t.Errorf("dropped %d field TTLs, the sources have %d", n, src.ttlFields)
				}
				dir := t.TempDir()
				opts := redistest.Options{Dir: dir, Binaries: bin, Args: []string{"--databases", strconv.Itoa(dbs)}}
				if mode == "commands-file" {
					// A single appendonly.aof: the server adopts it as the
					// base of a new multi-part folder.
					if err := os.WriteFile(filepath.Join(dir, "appendonly.aof"), out, 0o644); err != nil {
						t.Fatal(err)
					}
					opts.Args = append(opts.Args, "--appendonly", "yes")
				} else {
					opts.AOFDir = writeAOFDir(t, out)
				}
				srv := redistest.Start(t, opts)
				got := normalizeForAOF(t, srv.Snapshot(t, redistest.SnapshotOptions{}), drop, false)
				want := normalizeForAOF(t, src.wantAOF, drop, false)
				if d := canon.Diff(want, got); d != "" {
					t.Errorf("%s loading our AOF holds another dataset:\n%s", bin.Name, d)
				}
				d, n := pendingOfDeleted(t, want)
				t.Logf("%s: %d keys loaded and matched, %d of %d PEL entries of deleted entries included", bin.Name, len(want), d, n)
			})
		}
	}
}

// TestRDBTargets writes every fixture and generated corpus dump (merged into
// one file) as an RDB file for Valkey 8 and for Redis 7.4, has that server
// load it and compares its dataset with the sources' (field TTLs refused,
// then dropped, for Valkey; kept for Redis 7.4). Then the server writes its
// own files from that dataset, SAVE and BGREWRITEAOF (RDB preamble, then RESP
// base), and rdbtool must read them back exactly: the RDB with the Reader,
// the AOF folder by replaying it with the engine.
func TestRDBTargets(t *testing.T) {
	src, dbs := mergeSources(t, targetSources(t))
	for _, ts := range []targetServer{valkey8Server, redis74Server} {
		t.Run(ts.name, func(t *testing.T) {
			t.Parallel()
			bin := ts.bin(t)
			opts, err := rdb.TargetVersion(ts.target)
			if err != nil {
				t.Fatal(err)
			}
			drop := src.ttlFields > 0 && !ts.fieldTTLs
			if drop {
				_, err := writeRDB(t, src.data, opts)
				checkRefusal(t, err, src)
				opts.DropFieldTTLs = true
			}
			file, err := writeRDB(t, src.data, opts)
			if err != nil {
				t.Fatal(err)
			}
			want := src.want
			if drop {
				want = dropFieldTTLs(t, want)
			}
			path := filepath.Join(t.TempDir(), "dump.rdb")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			srv := redistest.Start(t, redistest.Options{RDB: path, Binaries: bin, Args: []string{"--databases", strconv.Itoa(dbs)}})
			strict := srv.Snapshot(t, redistest.SnapshotOptions{Strict: true})
			if d := canon.Diff(want, normalizeKeep(t, strict, func(map[string]any) {})); d != "" {
				t.Fatalf("%s loading our RDB holds another dataset:\n%s", bin.Name, d)
			}
			checkOwnFiles(t, srv, strict, dbs)
			t.Logf("%s: %d keys loaded and matched; its SAVE and BGREWRITEAOF read back as it holds them", bin.Name, len(want))
		})
	}
}

// eachRecord calls fn for every record of an RDB file, the Reader positioned
// on a key's value, and returns the first error fn returns; a file it cannot
// read fails the test.
func eachRecord(t *testing.T, data []byte, fn func(e *rdb.Entry, r *rdb.Reader) error) error {
	t.Helper()
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	for {
		e, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(e, r); err != nil {
			return err
		}
	}
}

// writeRDB copies an RDB file through a Writer with opts.
func writeRDB(t *testing.T, data []byte, opts rdb.WriterOptions) ([]byte, error) {
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	err := eachRecord(t, data, func(e *rdb.Entry, r *rdb.Reader) error {
		if e.Kind != rdb.EntryKey {
			return w.WriteEntry(e)
		}
		v, err := r.ReadValue(0)
		if err != nil {
			return err
		}
		return w.WriteKey(e, v)
	})
	if err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// checkOwnFiles has the server write its dataset (strict, its canonical
// lines) with SAVE and BGREWRITEAOF, and checks that rdbtool reads each file
// back as that dataset, or for an AOF as the server itself does: a RESP base
// loses PEL entries whose stream entry was deleted (XCLAIM ... FORCE skips
// them), so the judge is a second server loading the folder.
func checkOwnFiles(t *testing.T, srv *redistest.Server, strict []string, dbs int) {
	t.Helper()
	c := srv.Client(t)
	if _, err := c.Do("SAVE"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(srv.Dir(), "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true})
	got, err := canon.FromRDB(r, true)
	r.Close()
	if err != nil {
		t.Fatalf("reading the server's own SAVE: %v", err)
	}
	if d := canon.Diff(strict, got); d != "" {
		t.Errorf("the server's own SAVE reads as another dataset:\n%s", d)
	}

	loose := normalizeForAOF(t, strict, false, false)
	for _, preamble := range []string{"yes", "no"} {
		if _, err := c.Do("CONFIG", "SET", "aof-use-rdb-preamble", preamble); err != nil {
			t.Fatal(err)
		}
		if preamble == "yes" {
			_, err = c.Do("CONFIG", "SET", "appendonly", "yes") // starts a rewrite
		} else {
			_, err = c.Do("BGREWRITEAOF")
		}
		if err != nil {
			t.Fatal(err)
		}
		waitRewrite(t, c)
		aofDir := filepath.Join(srv.Dir(), "appendonlydir")
		judge := loose
		if preamble == "no" {
			// Redis's own RESP rewrite loses PEL entries whose stream entry
			// was deleted, and a sorted set's -0 scores: the judge is what the
			// server itself reads back.
			again := redistest.Start(t, redistest.Options{AOFDir: aofDir, Binaries: srv.Binaries(), Args: []string{"--databases", strconv.Itoa(dbs)}})
			judge = normalizeForAOF(t, again.Snapshot(t, redistest.SnapshotOptions{}), false, false)
			again.Stop()
		}
		files, err := convert.AOFFiles(aofDir)
		if err != nil {
			t.Fatal(err)
		}
		from := convert.DetectServer(files, nil)
		e := engine.New(engine.Options{Version: from.Version, Valkey: from.Valkey, Databases: dbs})
		if _, err := convert.ReplayAOF(files, e, convert.ReplayOptions{}); err != nil {
			t.Fatalf("replaying the server's own AOF (preamble %s): %v", preamble, err)
		}
		opts, _ := rdb.TargetVersion("12")
		var out bytes.Buffer
		if err := convert.WriteEngine(e, rdb.NewWriter(&out, opts), convert.Filter{}); err != nil {
			t.Fatal(err)
		}
		r := rdb.NewReaderBytes(out.Bytes(), rdb.ReaderOptions{Strict: true})
		got, err := canon.FromRDB(r, false)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = normalizeForAOF(t, got, false, false)
		if srv.Binaries().Family == "valkey" {
			// Known: Valkey sizes a new sorted set by the longest member of the
			// whole ZADD, Redis by the first, so Valkey keeps a -0 score that
			// the engine (Redis's rules) turns into 0. Issue 10 item 4 adds a
			// Valkey family to the engine; until then -0 and 0 compare equal
			// here.
			if d := canon.Diff(judge, got); d != "" {
				t.Logf("known difference (issue 10 item 4), -0 scores compared as 0:\n%s", d)
			}
			judge, got = zeroScores(t, judge), zeroScores(t, got)
		}
		if d := canon.Diff(judge, got); d != "" {
			t.Errorf("the server's own BGREWRITEAOF (preamble %s) replays as another dataset than the server's:\n%s", preamble, d)
		}
	}
}

// waitRewrite waits until no AOF rewrite is running or scheduled.
func waitRewrite(t *testing.T, c *redistest.Client) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		info, err := redistest.ToString(c.Do("INFO", "persistence"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "aof_rewrite_in_progress:0") && strings.Contains(info, "aof_rewrite_scheduled:0") &&
			!strings.Contains(info, "aof_rewrites_consecutive_failures:1") && strings.Contains(info, "aof_enabled:1") {
			if strings.Contains(info, "aof_last_bgrewrite_status:ok") {
				return
			}
			t.Fatalf("the rewrite failed:\n%s", info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the AOF rewrite did not finish in a minute")
}

func decodeMap(t *testing.T, line string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeMap(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// zeroScores turns -0 sorted-set scores into 0.
func zeroScores(t *testing.T, lines []string) []string {
	return normalizeKeep(t, lines, func(m map[string]any) {
		if m["type"] != "zset" {
			return
		}
		for _, p := range asList(m["value"]) {
			if pair := asList(p); len(pair) == 2 && pair[1] == "-0" {
				pair[1] = "0"
			}
		}
	})
}

// pendingOfDeleted counts the PEL entries of a dataset whose stream entry is
// gone (deleted or trimmed while pending): what Redis's own AOF rewrite
// loses.
func pendingOfDeleted(t *testing.T, lines []string) (deleted, total int) {
	for _, l := range lines {
		m := decodeMap(t, l)
		st, ok := m["value"].(map[string]any)
		if !ok || m["type"] != "stream" {
			continue
		}
		live := map[string]bool{}
		for _, e := range asList(st["entries"]) {
			live[asList(e)[0].(string)] = true
		}
		for _, g := range asList(st["groups"]) {
			for _, p := range asList(g.(map[string]any)["pel"]) {
				total++
				if !live[asList(p)[0].(string)] {
					deleted++
				}
			}
		}
	}
	return deleted, total
}

// TestPendingOfDeletedEntriesInCorpus makes sure the corpus exercises what
// TestRDBToAOFTargets proves: streams with pending entries whose entry was
// deleted or trimmed (the small datasets hold 28 of 484, the medium 298 of
// 1,614), so that a corpus without them fails here instead of passing there
// for nothing.
func TestPendingOfDeletedEntriesInCorpus(t *testing.T) {
	sum := 0
	for _, src := range targetSources(t) {
		d, n := pendingOfDeleted(t, src.want)
		t.Logf("%s: %d of %d PEL entries have no stream entry", src.name, d, n)
		sum += d
	}
	if sum == 0 && len(targetSources(t)) > 7 {
		t.Fatal("no dataset has a PEL entry whose stream entry was deleted")
	}
}

// TestPendingEntriesCornerCases writes streams in the shapes that break the
// usual RESP rebuild, converts them to AOF commands for Redis 7.0, Valkey 8
// and Redis 7.4, and has each server load them: every PEL entry (ID, owner,
// delivery time and count), every consumer, and the counters (last ID,
// entries added, max deleted ID, each group's last delivered ID and entries
// read) must come back as they were.
func TestPendingEntriesCornerCases(t *testing.T) {
	id := func(ms uint64) rdb.StreamID { return rdb.StreamID{Ms: 1700000000000 + ms} }
	entry := func(ms uint64) rdb.StreamEntry {
		return rdb.StreamEntry{ID: id(ms), Fields: [][]byte{[]byte("f"), []byte(strconv.FormatUint(ms, 10))}}
	}
	pending := func(ms uint64, owner string, count uint64) rdb.StreamPending {
		return rdb.StreamPending{ID: id(ms), DeliveryTimeMs: 1700000100000 + int64(ms), DeliveryCount: count, Consumer: []byte(owner)}
	}
	consumer := func(name string, pel ...uint64) rdb.StreamConsumer {
		c := rdb.StreamConsumer{Name: []byte(name), SeenTimeMs: 1700000200000, ActiveTimeMs: 1700000200000}
		for _, ms := range pel {
			c.PEL = append(c.PEL, id(ms))
		}
		return c
	}
	streams := map[string]*rdb.Stream{
		// Every entry deleted with XDEL while pending: nothing live.
		"all-deleted": {StreamMeta: rdb.StreamMeta{LastID: id(5), MaxDeletedID: id(5), EntriesAdded: 5},
			Groups: []rdb.StreamGroup{{Name: []byte("g"), LastDelivered: id(5), EntriesRead: 5,
				PEL:       []rdb.StreamPending{pending(1, "c1", 1), pending(3, "c2", 7), pending(5, "c1", 0)},
				Consumers: []rdb.StreamConsumer{consumer("c1", 1, 5), consumer("c2", 3), consumer("idle")}}}},
		// Every entry trimmed (XTRIM MAXLEN 0): the max deleted ID stays 0-0.
		"all-trimmed": {StreamMeta: rdb.StreamMeta{LastID: id(4), EntriesAdded: 4},
			Groups: []rdb.StreamGroup{{Name: []byte("g"), LastDelivered: id(4), EntriesRead: 4,
				PEL:       []rdb.StreamPending{pending(2, "c", 2), pending(4, "c", 1)},
				Consumers: []rdb.StreamConsumer{consumer("c", 2, 4)}}}},
		// Trimmed below the first live entry, deleted between and after live
		// ones; a group whose entries-read is unknown; a consumer without
		// pending entries; a second group sharing pending IDs.
		"mixed": {Entries: []rdb.StreamEntry{entry(2), entry(4), entry(6)},
			StreamMeta: rdb.StreamMeta{Length: 3, LastID: id(8), FirstID: id(2), MaxDeletedID: id(7), EntriesAdded: 8},
			Groups: []rdb.StreamGroup{
				{Name: []byte("unknown-read"), LastDelivered: id(7), EntriesRead: -1,
					PEL:       []rdb.StreamPending{pending(1, "a", 3), pending(2, "b", 1), pending(3, "a", 1), pending(7, "b", 2)},
					Consumers: []rdb.StreamConsumer{consumer("a", 1, 3), consumer("b", 2, 7), consumer("nothing-pending")}},
				{Name: []byte("second"), LastDelivered: id(3), EntriesRead: 3,
					PEL:       []rdb.StreamPending{pending(1, "x", 1), pending(3, "x", 4)},
					Consumers: []rdb.StreamConsumer{consumer("x", 1, 3)}},
			}},
		// No entries ever, a group and an idle consumer (XGROUP CREATE ... MKSTREAM).
		"never-written": {Groups: []rdb.StreamGroup{{Name: []byte("g"), EntriesRead: 0, Consumers: []rdb.StreamConsumer{consumer("c")}}}},
		// Deleted entries without pending ones: only the counters.
		"deleted-no-pel": {Entries: []rdb.StreamEntry{entry(3)},
			StreamMeta: rdb.StreamMeta{Length: 1, LastID: id(9), FirstID: id(3), MaxDeletedID: id(9), EntriesAdded: 9}},
	}
	var src bytes.Buffer
	w := rdb.NewWriter(&src, rdb.WriterOptions{Version: 10})
	var want []string
	for _, name := range []string{"all-deleted", "all-trimmed", "deleted-no-pel", "mixed", "never-written"} {
		s := streams[name]
		s.Length = uint64(len(s.Entries))
		v := &rdb.Value{Kind: rdb.KindStream, Stream: s}
		if err := w.WriteKey(&rdb.Entry{Key: []byte(name)}, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		line, err := canon.KeyLine(0, []byte(name), 0, v, false)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, canon.Marshal(line))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want = normalizeForAOF(t, want, false, false)
	if d, n := pendingOfDeleted(t, want); d != 10 || n != 11 {
		t.Fatalf("the cases have %d of %d PEL entries without a stream entry, want 10 of 11", d, n)
	}
	for _, ts := range []targetServer{redis70Server, valkey8Server, redis74Server} {
		t.Run(ts.name, func(t *testing.T) {
			bin := ts.bin(t)
			target, err := rdb.TargetVersion(ts.target)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			r := rdb.NewReaderBytes(src.Bytes(), rdb.ReaderOptions{Strict: true})
			defer r.Close()
			if _, err := convert.RDBToAOF(r, aof.NewWriter(&out), convert.AOFOptions{Target: target}); err != nil {
				t.Fatal(err)
			}
			srv := redistest.Start(t, redistest.Options{AOFDir: writeAOFDir(t, out.Bytes()), Binaries: bin})
			got := normalizeForAOF(t, srv.Snapshot(t, redistest.SnapshotOptions{}), false, false)
			if d := canon.Diff(want, got); d != "" {
				t.Errorf("%s loading our AOF holds other streams:\n%s\nAOF:\n%s", bin.Name, d, out.String())
			}
		})
	}
}

// withoutMedium leaves out the medium corpus datasets, which add time but no
// case the small ones lack to a test that varies the layout or the target.
func withoutMedium(srcs []targetSource) []targetSource {
	var out []targetSource
	for _, s := range srcs {
		if !strings.Contains(s.name, "medium") {
			out = append(out, s)
		}
	}
	return out
}

// TestRDBToAOFOldTarget converts every fixture and small corpus dump (merged) into
// an AOF for Redis 3.2 (RDB 7: no streams, functions or field TTLs, dropped
// with their flags; RESTORE without ABSTTL, so TTLs follow as PEXPIREAT),
// which Redis 7.0 loads: the rest of the dataset must come back exactly.
func TestRDBToAOFOldTarget(t *testing.T) {
	src, dbs := mergeSources(t, withoutMedium(targetSources(t)))
	for _, mode := range []string{"commands", "restore"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			bin := redis70Server.bin(t)
			target, err := rdb.TargetVersion("redis:3.2")
			if err != nil {
				t.Fatal(err)
			}
			target.DropFieldTTLs, target.DropStreams, target.DropFunctions = true, true, true
			var out bytes.Buffer
			r := rdb.NewReaderBytes(src.data, rdb.ReaderOptions{})
			defer r.Close()
			if _, err := convert.RDBToAOF(r, aof.NewWriter(&out), convert.AOFOptions{Restore: mode == "restore", Target: target}); err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"ABSTTL", "XADD", "FUNCTION", "HPEXPIREAT"} {
				if bytes.Contains(out.Bytes(), []byte("\r\n"+c+"\r\n")) {
					t.Errorf("%s written for Redis 3.2", c)
				}
			}
			var want []string
			for _, l := range dropFieldTTLs(t, src.wantAOF) {
				if !strings.Contains(l, `"type":"stream"`) && !strings.HasPrefix(l, `{"functions"`) {
					want = append(want, l)
				}
			}
			srv := redistest.Start(t, redistest.Options{AOFDir: writeAOFDir(t, out.Bytes()), Binaries: bin, Args: []string{"--databases", strconv.Itoa(dbs)}})
			got := normalizeForAOF(t, srv.Snapshot(t, redistest.SnapshotOptions{}), true, false)
			if d := canon.Diff(want, got); d != "" {
				t.Errorf("%s loading our AOF for Redis 3.2 holds another dataset:\n%s", bin.Name, d)
			}
		})
	}
}
