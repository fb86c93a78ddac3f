package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestRestoreStandalone restores every fixture and every generated corpus
// dataset a Redis 7.0 server holds (RDB files as DUMP payloads, AOF folders,
// a single-file AOF, a JSON dump, a compressed file, standard input) into a
// 7.0 server that wants a password, and one that wants an ACL user; after
// each, the server's dataset must be the source's.
func TestRestoreStandalone(t *testing.T) {
	bin := redistest.Require(t)
	root := moduleRoot(t)
	fixtures, _ := filepath.Glob(filepath.Join(root, "fixtures", "*.rdb"))
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}

	t.Run("password", func(t *testing.T) {
		s := startLive(t, bin, "password")
		for _, f := range fixtures {
			s.flush(t)
			j := restoreRun(t, 0, f, s.url())
			if j.AsCommands != 0 || j.RDBVersion != 10 {
				t.Errorf("%s: %+v", f, j)
			}
			sameDataset(t, filepath.Base(f), expectedOf(t, f, false), s.snapshot(t))
		}
		// The same file as JSON Lines, gzip-compressed, and on standard input.
		types := filepath.Join(root, "fixtures", "types-7.0.rdb")
		want := expectedOf(t, types, false)
		jsonl := filepath.Join(t.TempDir(), "types.jsonl")
		if code, _, errOut := runCLI(t, nil, "dump", "-o", jsonl, types); code != 0 {
			t.Fatal(errOut)
		}
		s.flush(t)
		restoreRun(t, 0, jsonl, s.url())
		sameDataset(t, "types as JSON", want, s.snapshot(t))

		raw, _ := os.ReadFile(types)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		gzPath := filepath.Join(t.TempDir(), "types.rdb.gz")
		os.WriteFile(gzPath, gz.Bytes(), 0o644)
		s.flush(t)
		restoreRun(t, 0, gzPath, s.url())
		sameDataset(t, "types gzip", want, s.snapshot(t))

		s.flush(t)
		code, _, errOut := runCLI(t, bytes.NewReader(gz.Bytes()), "restore", "--no-progress", "-", s.url())
		if code != 0 || !strings.Contains(errOut, "restored 84 keys") {
			t.Fatalf("stdin: %d %s", code, errOut)
		}
		sameDataset(t, "types from stdin", want, s.snapshot(t))

		// A wrong password is an error before anything is read.
		code, _, errOut = runCLI(t, nil, "restore", "--no-progress", types, strings.Replace(s.url(), s.pass, "wrong", 1))
		if code != 1 || !strings.Contains(errOut, "WRONGPASS") {
			t.Errorf("wrong password: %d %s", code, errOut)
		}
		// The password from REDISCLI_AUTH.
		t.Setenv("REDISCLI_AUTH", s.pass)
		s.flush(t)
		restoreRun(t, 0, types, "redis://"+s.Addr())
	})

	t.Run("acl", func(t *testing.T) {
		corpus := corpusDir(t)
		s := startLive(t, bin, "acl")
		sets, _ := filepath.Glob(filepath.Join(corpus, "generated", "redis-7.0.15", "*"))
		for _, ds := range sets {
			name := "redis-7.0.15/" + filepath.Base(ds)
			s.flush(t)
			j := restoreRun(t, 0, filepath.Join(ds, "dump.rdb"), s.url())
			if j.AsCommands != 0 || j.Functions != 1 {
				t.Errorf("%s: %+v", name, j)
			}
			sameDataset(t, name+" rdb", expectedFile(t, filepath.Join(ds, "expected.jsonl"), false), s.snapshot(t))

			s.flush(t)
			restoreRun(t, 0, filepath.Join(ds, "appendonlydir"), s.url())
			aofWant := expectedFile(t, filepath.Join(ds, "aof-expected.jsonl"), false)
			sameDataset(t, name+" appendonlydir", aofWant, s.snapshot(t))
			if filepath.Base(ds) == "small" {
				s.flush(t)
				restoreRun(t, 0, filepath.Join(ds, "legacy.aof"), s.url())
				sameDataset(t, name+" legacy.aof", aofWant, s.snapshot(t))
			}
		}
	})
}

// TestRestoreNewerSources restores the RDB 11 and 12 datasets of the newer
// servers into Redis 7.0 (their payloads are too new for it: the values are
// re-encoded as RDB 10 payloads, field TTLs dropped) and into the newer
// servers themselves. Every key goes as a RESTORE, so pending entries whose
// stream entry was deleted come through too.
func TestRestoreNewerSources(t *testing.T) {
	corpus := corpusDir(t)
	gen := func(server, ds string) string { return filepath.Join(corpus, "generated", server, ds) }
	type source struct {
		dir           string
		dropFieldTTLs bool
	}
	check := func(t *testing.T, s liveServer, srcs []source) {
		for _, src := range srcs {
			name := filepath.Base(filepath.Dir(src.dir)) + "/" + filepath.Base(src.dir)
			s.flush(t)
			args := []string{filepath.Join(src.dir, "dump.rdb"), s.url()}
			if src.dropFieldTTLs {
				args = append([]string{"--drop-field-ttls"}, args...)
			}
			j := restoreRun(t, 0, args...)
			if j.AsCommands > 0 {
				t.Errorf("%s: %d keys as commands, want every key as a payload", name, j.AsCommands)
			}
			want, got := expectedFile(t, filepath.Join(src.dir, "expected.jsonl"), src.dropFieldTTLs), s.snapshot(t)
			sameDataset(t, name, want, got)
		}
	}
	t.Run("redis-7.0", func(t *testing.T) {
		s := startLive(t, redistest.Require(t), "password")
		var srcs []source
		for _, ds := range []string{"small", "medium"} {
			srcs = append(srcs, source{gen(redistest.Valkey8, ds), false}, source{gen(redistest.Redis74, ds), true})
		}
		check(t, s, srcs)
		// Without --drop-field-ttls the hash-field TTLs are an error that
		// says what to do, found by the check before anything is written.
		s.flush(t)
		code, _, errOut := runCLI(t, nil, "restore", "--no-progress", filepath.Join(gen(redistest.Redis74, "small"), "dump.rdb"), s.url())
		if code != 4 || !strings.Contains(errOut, "hash-field TTLs") || !strings.Contains(errOut, "--drop-field-ttls") {
			t.Errorf("field TTLs into 7.0: exit %d\n%s", code, errOut)
		}
	})
	t.Run(redistest.Redis74, func(t *testing.T) {
		s := startLive(t, redistest.RequireNewer(t, redistest.Redis74), "acl")
		check(t, s, []source{
			{gen("redis-7.0.15", "small"), false},
			{gen(redistest.Valkey8, "small"), false},
			{gen(redistest.Redis74, "small"), false},
			{gen(redistest.Redis74, "medium"), false},
		})
	})
	t.Run(redistest.Valkey8, func(t *testing.T) {
		s := startLive(t, redistest.RequireNewer(t, redistest.Valkey8), "password")
		check(t, s, []source{
			{gen("redis-7.0.15", "small"), false},
			{gen(redistest.Valkey8, "medium"), false},
			{gen(redistest.Redis74, "small"), true},
		})
	})
}

// TestRestoreResume stops a run twice, once on a key that exists in the
// target and once by interruption, and finishes it with --resume: every key
// arrives exactly once, and a third run has nothing to do.
func TestRestoreResume(t *testing.T) {
	s := startLive(t, redistest.Require(t), "")
	dir := t.TempDir()
	src := filepath.Join(dir, "big.rdb")
	bigDataset(t, src, 20000, cluster.NumSlots, cluster.Tag)
	want := expectedOf(t, src, false)
	state := filepath.Join(dir, "restore.state")

	// A key of the source is in the way: the run stops there, naming it.
	clash := "k:{" + cluster.Tag(15000) + "}:15000"
	c := s.client(t)
	if _, err := c.Do("SET", clash, "not from the source"); err != nil {
		t.Fatal(err)
	}
	j := restoreRun(t, 1, "--resume", state, src, s.url())
	if !strings.Contains(j.Error, clash) || !strings.Contains(j.Error, "BUSYKEY") || j.Keys < 10000 {
		t.Fatalf("first run: %+v", j)
	}
	if _, err := c.Do("DEL", clash); err != nil {
		t.Fatal(err)
	}

	// The second run is interrupted part way.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"rdbtool", "restore", "--no-progress", "--rate", "5000", "--resume", state, src, s.url()}, nil, &out, &errOut)
	if code != exitInterrupted || !strings.Contains(errOut.String(), "interrupted") || !strings.Contains(errOut.String(), "run the same command again") {
		t.Fatalf("interrupted run: exit %d\n%s", code, errOut.String())
	}

	// A run with other options may not use that state.
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", "--key", "k:*", "--resume", state, src, s.url()); code != 2 || !strings.Contains(errOut, "another restore") {
		t.Errorf("other options: exit %d\n%s", code, errOut)
	}

	j = restoreRun(t, 0, "--resume", state, src, s.url())
	if j.Resumed < 10000 || j.Keys+j.Resumed+j.Present != 20000 {
		t.Errorf("resumed run: %+v", j)
	}
	sameDataset(t, "after resuming", want, s.snapshot(t))
	code, _, errS := runCLI(t, nil, "restore", "--no-progress", "--resume", state, src, s.url())
	if code != 0 || !strings.Contains(errS, "complete; nothing to do") {
		t.Errorf("third run: exit %d\n%s", code, errS)
	}
}

// TestRestoreCommandsAndLimits sends values longer than the target's
// proto-max-bulk-len (as commands: a string in APPENDed pieces, a list in
// batches), with --replace and --skip-existing, and moves databases.
func TestRestoreCommandsAndLimits(t *testing.T) {
	s := startLive(t, redistest.Require(t), "password", "--databases", "32")
	c := s.client(t)
	if _, err := c.Do("CONFIG", "SET", "proto-max-bulk-len", "1mb"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	o, _ := rdb.TargetVersion("redis:7.0")
	w := rdb.NewWriter(&buf, o)
	// Random bytes, which LZF cannot shrink below the limit.
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	// Its payload (type, length, bytes, footer) is over the limit, the
	// string is not.
	big := noise(1<<20 - 4)
	var list [][]byte
	for range 3000 {
		list = append(list, noise(1000))
	}
	for _, kv := range []struct {
		key string
		v   rdb.Value
	}{
		{"big:string", rdb.Value{Kind: rdb.KindString, String: big}},
		{"big:list", rdb.Value{Kind: rdb.KindList, List: list}},
		{"small", rdb.Value{Kind: rdb.KindString, String: []byte("x")}},
	} {
		if err := w.WriteKey(&rdb.Entry{Key: []byte(kv.key), HasExpire: kv.key == "big:list", ExpireAtMs: 4102444800000}, &kv.v); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	src := filepath.Join(t.TempDir(), "big.rdb")
	os.WriteFile(src, buf.Bytes(), 0o644)
	want := expectedOf(t, src, false)

	j := restoreRun(t, 0, src, s.url())
	if j.AsCommands != 2 || j.Keys != 3 {
		t.Errorf("%+v", j)
	}
	sameDataset(t, "values over proto-max-bulk-len", want, s.snapshot(t))
	if j = restoreRun(t, 0, "--skip-existing", src, s.url()); j.Skipped != 3 {
		t.Errorf("--skip-existing: %+v", j)
	}
	c.Do("RPUSH", "big:list", "extra")
	if j = restoreRun(t, 0, "--replace", src, s.url()); j.Keys != 3 {
		t.Errorf("--replace: %+v", j)
	}
	sameDataset(t, "replaced", want, s.snapshot(t))
	j = restoreRun(t, 1, "--key", "big:*", src, s.url())
	if !strings.Contains(j.Error, "big:") || !strings.Contains(j.Error, "exists") {
		t.Errorf("existing key sent as commands: %+v", j)
	}
	// A string longer than the limit cannot be held at all.
	w = rdb.NewWriter(&buf, o)
	buf.Reset()
	w.WriteKey(&rdb.Entry{Key: []byte("huge")}, &rdb.Value{Kind: rdb.KindString, String: noise(1<<20 + 1)})
	w.Close()
	os.WriteFile(src, buf.Bytes(), 0o644)
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", src, s.url()); code != 4 || !strings.Contains(errOut, "proto-max-bulk-len") {
		t.Errorf("a string over the limit: exit %d\n%s", code, errOut)
	}

	// Databases: --db picks, --map-db and the URL's /db move.
	types := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	s.flush(t)
	restoreRun(t, 0, "--db", "1", "--map-db", "1:20", types, s.url())
	restoreRun(t, 0, "--db", "5", types, s.url()+"/21")
	info, _ := c.Do("INFO", "keyspace")
	ks := string(info.(redistest.Bulk))
	if !strings.Contains(ks, "db20:keys=4,") || !strings.Contains(ks, "db21:keys=3,") || strings.Contains(ks, "db0:") {
		t.Errorf("keyspace:\n%s", ks)
	}
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", types, s.url()+"/3"); code != 2 || !strings.Contains(errOut, "databases 0, 1, 5, 15") {
		t.Errorf("several databases into /3: exit %d\n%s", code, errOut)
	}
}

func TestRestoreFlags(t *testing.T) {
	for in, want := range map[string][2]float64{
		"": {0, 0}, "5000": {5000, 0}, "10MB": {0, 10e6}, "500 KiB": {0, 500 << 10}, "2.5mb/s": {0, 2.5e6}, "1GiB": {0, 1 << 30},
	} {
		k, b, err := parseRate(in)
		if err != nil || k != want[0] || b != want[1] {
			t.Errorf("parseRate(%q) = %v, %v, %v", in, k, b, err)
		}
	}
	for _, bad := range []string{"-1", "0", "fast", "10XB"} {
		if _, _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q) accepted", bad)
		}
	}
	m, err := parseMapDB([]string{"1:0", "2:0", "15:3"})
	if err != nil || len(m) != 3 || m[15] != 3 {
		t.Errorf("parseMapDB: %v %v", m, err)
	}
	for _, bad := range [][]string{{"1"}, {"a:b"}, {"1:2", "1:3"}, {"-1:0"}} {
		if _, err := parseMapDB(bad); err == nil {
			t.Errorf("parseMapDB(%q) accepted", bad)
		}
	}
	// Usage errors come before any connection.
	for _, args := range [][]string{
		{"restore", "only-one"},
		{"restore", "--replace", "--skip-existing", "a.rdb", "redis://127.0.0.1:1"},
		{"restore", "a.rdb", "http://127.0.0.1:1"},
		{"restore", "--tls-ca", "x", "a.rdb", "redis://127.0.0.1:1"},
		{"restore", "--rate", "x", "a.rdb", "redis://127.0.0.1:1"},
		{"pull", "redis://127.0.0.1:1"},
		{"split", "a.rdb", "out"},
		{"merge", "a.rdb", "out.rdb"},
		{"merge", "--on-duplicate", "newest", "a.rdb", "b.rdb", "out.rdb"},
	} {
		if code, _, errOut := runCLI(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errOut)
		}
	}
	// A server that is not there: exit 1, saying where.
	if code, _, errOut := runCLI(t, nil, "restore", filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb"), "redis://127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "127.0.0.1:1") {
		t.Errorf("no server: exit %d\n%s", code, errOut)
	}
}

// TestRestoreStopsItsConverter: a restore from an AOF or a JSON dump reads an
// RDB that a converting goroutine writes into a pipe; when the restore stops
// part way (here at a key in the way), the converter must be stopped too.
// It used to stay blocked on the pipe, and the command never ended.
func TestRestoreStopsItsConverter(t *testing.T) {
	s := startLive(t, redistest.Require(t), "")
	dir := t.TempDir()
	src := filepath.Join(dir, "big.rdb")
	bigDataset(t, src, 20000, cluster.NumSlots, cluster.Tag)
	aofPath := filepath.Join(dir, "big.aof")
	jsonPath := filepath.Join(dir, "big.jsonl")
	for _, args := range [][]string{{"convert", "--to", "aof", src, aofPath}, {"dump", "-o", jsonPath, src}} {
		if code, _, e := runCLI(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, e)
		}
	}
	clash := "k:{" + cluster.Tag(100) + "}:100" // early: most of the data is still to come
	c := s.client(t)
	for _, in := range []string{aofPath, jsonPath} {
		if _, err := c.Do("FLUSHALL"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do("SET", clash, "in the way"); err != nil {
			t.Fatal(err)
		}
		done := make(chan restoreJSON, 1)
		go func() { done <- restoreRun(t, 1, in, s.url()) }()
		select {
		case j := <-done:
			if !strings.Contains(j.Error, "BUSYKEY") {
				t.Errorf("%s: %+v, want the run stopped at the key in the way", filepath.Base(in), j)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s: the restore did not end after stopping at a key in the way", filepath.Base(in))
		}
	}
}

// TestRestoreFramedValues: values go as their bytes are framed, not decoded
// again, with --no-check and after a check pass that verified the file's
// CRC-64. What the server then holds is still the source's dataset, and
// what is refused is still refused: a file changed between the two passes
// (before anything is sent), and with --no-check a value damaged inside,
// which only the file's CRC-64 reveals, at the end (exit 3).
func TestRestoreFramedValues(t *testing.T) {
	s := startLive(t, redistest.Require(t), "")
	root := moduleRoot(t)
	fixtures, _ := filepath.Glob(filepath.Join(root, "fixtures", "*.rdb"))
	for _, f := range fixtures {
		s.flush(t)
		restoreRun(t, 0, "--no-check", f, s.url())
		sameDataset(t, filepath.Base(f)+" --no-check", expectedOf(t, f, false), s.snapshot(t))
	}

	// Replaced, or modified in place, between the check pass and sending.
	dir := t.TempDir()
	types := filepath.Join(root, "fixtures", "types-7.0.rdb")
	raw, err := os.ReadFile(types)
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile(filepath.Join(root, "fixtures", "lru-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src.rdb")
	for name, change := range map[string]func(){
		"replaced": func() {
			tmp := src + ".new"
			os.WriteFile(tmp, other, 0o644)
			os.Rename(tmp, src)
		},
		"touched": func() {
			later := time.Now().Add(time.Hour)
			os.Chtimes(src, later, later)
		},
	} {
		if err := os.WriteFile(src, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		s.flush(t)
		afterRestoreCheck = func(string) { change() }
		code, _, errOut := runCLI(t, nil, "restore", "--no-progress", src, s.url())
		afterRestoreCheck = nil
		if code != 1 || !strings.Contains(errOut, "since the check pass verified it") {
			t.Errorf("%s after the check pass: exit %d\n%s", name, code, errOut)
		}
		if got := s.snapshot(t); len(got) != 0 {
			t.Errorf("%s after the check pass: %d keys written", name, len(got))
		}
	}

	// The CRC-64 the sending pass reads at the end must be the one the
	// check pass verified.
	r := rdb.NewReaderBytes(raw, rdb.ReaderOptions{})
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	_, crc := r.Checksum()
	rs := &restoreSource{name: "src.rdb", checked: &checkedFile{crc: crc}}
	if err := rs.endsAsChecked(r); err != nil {
		t.Errorf("the same CRC-64: %v", err)
	}
	rs.checked.crc++
	if err := rs.endsAsChecked(r); err == nil || !strings.Contains(err.Error(), "changed (CRC-64") {
		t.Errorf("another CRC-64: %v", err)
	}
	r.Close()

	// A byte inside a string value changed: framing cannot see it, the
	// file's CRC-64 does. The check pass refuses the file before writing;
	// with --no-check the keys before the end are sent, and the run fails.
	i := bytes.Index(raw, []byte("-2147483649")) // str:int:int32min-1, a plain string
	if i < 0 {
		t.Fatal("no string value -2147483649 in types-7.0.rdb")
	}
	damaged := bytes.Clone(raw)
	damaged[i+1] = '3'
	os.WriteFile(src, damaged, 0o644)
	s.flush(t)
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", src, s.url()); code != 3 || !strings.Contains(errOut, "checksum") {
		t.Errorf("damaged file: exit %d\n%s", code, errOut)
	}
	if got := s.snapshot(t); len(got) != 0 {
		t.Errorf("damaged file: %d keys written before the check pass refused it", len(got))
	}
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", "--no-check", src, s.url()); code != 3 || !strings.Contains(errOut, "checksum") {
		t.Errorf("damaged file, --no-check: exit %d\n%s", code, errOut)
	}
}

// TestRestoreCheckAsSent: with --check as-sent there is no first pass, and a
// value damaged inside (a listpack whose header lies about its size, in a
// file whose CRC-64 was made to match) is refused before it is sent: the keys
// before it reach the server, it does not, and the run exits 3.
func TestRestoreCheckAsSent(t *testing.T) {
	s := startLive(t, redistest.Require(t), "")
	raw, err := os.ReadFile(filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	var victimDB int
	r := rdb.NewReaderBytes(raw, rdb.ReaderOptions{})
	for victim == "" {
		e, err := r.Next()
		if err != nil {
			t.Fatalf("no small listpack hash in types-7.0.rdb: %v", err)
		}
		if e.Type != rdb.TypeHashListpack {
			continue
		}
		val, err := r.RawValue(nil)
		if err != nil {
			t.Fatal(err)
		}
		if val[0] >= 0x40 { // not a 6-bit length: long, or LZF-compressed
			continue
		}
		at := bytes.Index(raw, val)
		raw = bytes.Clone(raw)
		raw[at+1]++ // the listpack's total-bytes field
		victim, victimDB = string(e.Key), e.DB
	}
	r.Close()
	binary.LittleEndian.PutUint64(raw[len(raw)-8:], rdb.CRC64(raw[:len(raw)-8]))
	src := filepath.Join(t.TempDir(), "damaged.rdb")
	if err := os.WriteFile(src, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runCLI(t, nil, "restore", "--no-progress", "--check", "as-sent", src, s.url())
	if code != 3 || !strings.Contains(errOut, victim) {
		t.Errorf("--check as-sent: exit %d, want 3 naming %q\n%s", code, victim, errOut)
	}
	c := s.client(t)
	if _, err := c.Do("SELECT", victimDB); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Do("EXISTS", victim); err != nil || n != redistest.Int(0) {
		t.Errorf("--check as-sent: the damaged key %q reached the server (EXISTS: %v, %v)", victim, n, err)
	}
	if len(s.snapshot(t)) == 0 {
		t.Errorf("--check as-sent: no key before the damaged one was sent")
	}
	s.flush(t)
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", src, s.url()); code != 3 || len(s.snapshot(t)) != 0 {
		t.Errorf("--check first: exit %d with %d keys written\n%s", code, len(s.snapshot(t)), errOut)
	}
	if code, _, _ := runCLI(t, nil, "restore", "--no-progress", "--check", "sometimes", src, s.url()); code != 2 {
		t.Errorf("--check sometimes: exit %d, want 2", code)
	}
	if code, _, _ := runCLI(t, nil, "restore", "--no-progress", "--check", "first", "--no-check", src, s.url()); code != 2 {
		t.Errorf("--check first --no-check: exit %d, want 2", code)
	}
}
