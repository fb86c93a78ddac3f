package redistest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/testenv"
)

func TestClient(t *testing.T) {
	s := Start(t, Options{})
	c := s.Client(t)

	bin := []byte{0, 1, 0xff, '\r', '\n', '$'}
	if r, err := c.Do("SET", bin, bin); err != nil || r != SimpleString("OK") {
		t.Fatalf("SET = %s, %v", Describe(r), err)
	}
	if got, err := ToBytes(c.Do("GET", bin)); err != nil || string(got) != string(bin) {
		t.Fatalf("GET = %q, %v", got, err)
	}
	if r, err := c.Do("GET", "missing"); err != nil || r == nil || !isNil(r) {
		t.Fatalf("GET missing = %s, %v", Describe(r), err)
	}
	if n, err := ToInt(c.Do("RPUSH", "l", 1, int64(-2), uint8(3), 1.5, math.Inf(-1), true)); err != nil || n != 6 {
		t.Fatalf("RPUSH = %d, %v", n, err)
	}
	l, err := ToBytesList(c.Do("LRANGE", "l", 0, -1))
	if err != nil || strings.Join(strSlice(l), ",") != "1,-2,3,1.5,-inf,1" {
		t.Fatalf("LRANGE = %q, %v", l, err)
	}
	r, err := c.Do("INCR", "l")
	var e Error
	if !errors.As(err, &e) || !strings.HasPrefix(string(e), "WRONGTYPE") || r != Reply(e) {
		t.Fatalf("INCR on a list = %s, %v", Describe(r), err)
	}
	// The connection is still usable after an error reply.
	if r, err := c.Do("PING"); err != nil || r != SimpleString("PONG") {
		t.Fatalf("PING = %s, %v", Describe(r), err)
	}
	if _, err := c.Do("SET", "k", struct{}{}); err == nil {
		t.Fatal("Do accepted a struct argument")
	}
	big := strings.Repeat("x", 1<<20+3)
	if _, err := c.Do("SET", "big", big); err != nil {
		t.Fatal(err)
	}
	if got, err := ToString(c.Do("GET", "big")); err != nil || got != big {
		t.Fatalf("GET big: %d bytes, %v", len(got), err)
	}
}

func TestLookupOverride(t *testing.T) {
	t.Setenv("REDIS_SERVER", filepath.Join(t.TempDir(), "no-such-redis-server"))
	if _, err := Lookup(); err == nil || !strings.Contains(err.Error(), "REDIS_SERVER") {
		t.Fatalf("Lookup with a missing REDIS_SERVER: %v", err)
	}
}

func TestAtLeast(t *testing.T) {
	b := Binaries{Version: "7.0.15"}
	for _, tc := range []struct {
		major, minor int
		want         bool
	}{{6, 2, true}, {7, 0, true}, {7, 2, false}, {8, 0, false}} {
		if got := b.AtLeast(tc.major, tc.minor); got != tc.want {
			t.Errorf("7.0.15 AtLeast(%d, %d) = %v", tc.major, tc.minor, got)
		}
	}
}

func strSlice(b [][]byte) []string {
	s := make([]string, len(b))
	for i := range b {
		s[i] = string(b[i])
	}
	return s
}

func TestSnapshotTypes(t *testing.T) {
	s := Start(t, Options{})
	c := s.Client(t)
	for _, cmd := range [][]any{
		{"SET", "s", "v<&>"},
		{"SET", []byte{0xff}, []byte{0x80}},
		{"PEXPIREAT", "s", int64(4102444800000)},
		{"RPUSH", "l", "b", "a"},
		{"SADD", "set", "b", "a", "10"},
		{"ZADD", "z", "inf", "i", "0", "m0", "1.5", "x", "-3e300", "n"},
		{"HSET", "h", "f2", "v2", "f1", "v1"},
		{"SELECT", 3},
		{"XADD", "st", "1-1", "f", "v"},
		{"XADD", "st", "1-2", "f", "w"},
		{"XGROUP", "CREATE", "st", "g", "0"},
		{"XREADGROUP", "GROUP", "g", "alice", "COUNT", 1, "STREAMS", "st", ">"},
		{"XGROUP", "CREATECONSUMER", "st", "g", "bob"},
		{"FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)"},
	} {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	lines, err := Snapshot(c, SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"db":0,"key":"s:h","type":"hash","value":[["s:f1","s:v1"],["s:f2","s:v2"]]}`,
		`{"db":0,"key":"s:l","type":"list","value":["s:b","s:a"]}`,
		`{"db":0,"key":"s:s","type":"string","expire_at_ms":4102444800000,"value":"s:v\u003c\u0026\u003e"}`,
		`{"db":0,"key":"s:set","type":"set","value":["s:10","s:a","s:b"]}`,
		`{"db":0,"key":"s:z","type":"zset","value":[["s:n","-3e+300"],["s:m0","0"],["s:x","1.5"],["s:i","inf"]]}`,
		`{"db":0,"key":"x:ff","type":"string","value":"x:80"}`,
		`{"db":3,"key":"s:st","type":"stream","value":{"entries":[["1-1",["s:f","s:v"]],["1-2",["s:f","s:w"]]],"entries_added":2,"groups":[{"consumers":[{"name":"s:alice","pel":["1-1"]},{"name":"s:bob","pel":null}],"entries_read":1,"last_delivered":"1-1","name":"s:g","pel":[["1-1","s:alice",DT,1]]}],"last_id":"1-2","length":2,"max_deleted_entry_id":"0-0"}}`,
		`{"functions":["s:#!lua name=lib\nredis.register_function('f', function() return 1 end)"]}`,
	}
	// The delivery time is the server's clock; take it from the group's PEL.
	if len(lines) == len(want) {
		if i := strings.LastIndex(lines[6], `"s:alice",`); i >= 0 {
			dt := lines[6][i+len(`"s:alice",`):]
			dt = dt[:strings.IndexByte(dt, ',')]
			want[6] = strings.Replace(want[6], "DT", dt, 1)
		}
	}
	if d := canon.Diff(want, lines); d != "" {
		t.Fatal(d)
	}
	strict, err := Snapshot(c, SnapshotOptions{Strict: true, DBs: []int{3}})
	if err != nil {
		t.Fatal(err)
	}
	if len(strict) != 2 || strings.Count(strict[0], `"seen_time":`) != 2 {
		t.Fatalf("strict snapshot of db 3: %q", strict)
	}
}

func TestStartErrLoadFailure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		args  []string
		log   string
	}{
		{"corrupt rdb", map[string]string{"dump.rdb": "REDIS0010\xfa\x09redis-ver\xff\xff"}, nil,
			"Terminating server after rdb file reading failure"},
		{"bad aof", map[string]string{
			"appendonlydir/appendonly.aof.manifest":   "file appendonly.aof.1.incr.aof seq 1 type i\n",
			"appendonlydir/appendonly.aof.1.incr.aof": "garbage\r\n",
		}, []string{"--appendonly", "yes"}, "Bad file format reading the append only file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s, err := StartErr(t, Options{Dir: dir, Args: tc.args})
			if err == nil {
				t.Fatal("the server came up")
			}
			if s == nil || !s.Exited() {
				t.Fatalf("StartErr: server %v not exited", s)
			}
			if !strings.Contains(err.Error(), tc.log) || !strings.Contains(s.Log(), tc.log) {
				t.Fatalf("want %q in the error and the log; error: %v\nlog:\n%s", tc.log, err, s.Log())
			}
		})
	}
}

// corpusDir is the shared corpus (testenv decides what its absence means).
func corpusDir(t *testing.T) string {
	t.Helper()
	return testenv.Corpus(t)
}

// TestCorpus70 checks Snapshot against the generated corpus: a 7.0 server that
// loads each redis-7.0.15 dump.rdb must hold exactly expected-strict.jsonl and
// expected.jsonl, and loading its appendonlydir must give aof-expected.jsonl.
func TestCorpus70(t *testing.T) {
	bin := Require(t)
	if !bin.AtLeast(7, 0) {
		t.Skipf("redis-server %s cannot load RDB 10", bin.Version)
	}
	checkCorpus(t, bin, "redis-7.0.15")
}

// TestCorpusNewer is TestCorpus70 for the newer builds and the datasets they
// made: Snapshot must read hash field TTLs from the Redis 7.4 build and
// Valkey's replies (XINFO STREAM FULL, COMMAND INFO) as the corpus holds them.
func TestCorpusNewer(t *testing.T) {
	for _, name := range []string{Redis74, Valkey8} {
		t.Run(name, func(t *testing.T) {
			checkCorpus(t, RequireNewer(t, name), name)
		})
	}
}

// checkCorpus loads each dataset a server made into that server and compares
// Snapshot with the dataset's expected files.
func checkCorpus(t *testing.T, bin Binaries, serverID string) {
	root := filepath.Join(corpusDir(t), "generated", serverID)
	dirs, err := filepath.Glob(filepath.Join(root, "*", "dump.rdb"))
	if err != nil || len(dirs) == 0 {
		testenv.Missing(t, "the "+serverID+" datasets of the generated corpus")
	}
	for _, dump := range dirs {
		ds := filepath.Dir(dump)
		t.Run(filepath.Base(ds), func(t *testing.T) {
			t.Run("rdb", func(t *testing.T) {
				s := Start(t, Options{RDB: dump, Binaries: bin})
				for _, tc := range []struct {
					file   string
					strict bool
				}{{"expected-strict.jsonl", true}, {"expected.jsonl", false}} {
					want, err := canon.ReadFile(filepath.Join(ds, tc.file))
					if err != nil {
						t.Fatal(err)
					}
					got := s.Snapshot(t, SnapshotOptions{Strict: tc.strict})
					if d := canon.Diff(want, got); d != "" {
						t.Errorf("%s vs snapshot (strict=%v):\n%s", tc.file, tc.strict, d)
					} else {
						t.Logf("%s: %d lines, 0 differ", tc.file, len(got))
					}
				}
			})
			t.Run("aof", func(t *testing.T) {
				s := Start(t, Options{AOFDir: filepath.Join(ds, "appendonlydir"), Binaries: bin})
				want, err := canon.ReadFile(filepath.Join(ds, "aof-expected.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				got := s.Snapshot(t, SnapshotOptions{})
				if d := canon.Diff(want, got); d != "" {
					t.Errorf("aof-expected.jsonl vs snapshot:\n%s", d)
				} else {
					t.Logf("aof-expected.jsonl: %d lines, 0 differ", len(got))
				}
			})
		})
	}
}

// TestNewerServers starts each newer build of the shared folder, saves one key
// and checks the RDB version of the file it writes: the number tests rely on
// to tell the builds apart.
func TestNewerServers(t *testing.T) {
	for _, name := range []string{Redis74, Valkey8} {
		t.Run(name, func(t *testing.T) {
			bin := RequireNewer(t, name)
			s := Start(t, Options{Binaries: bin})
			c := s.Client(t)
			if _, err := c.Do("SET", "k", "v"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Do("SAVE"); err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 9)
			f, err := os.Open(filepath.Join(s.Dir(), "dump.rdb"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := io.ReadFull(f, head); err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("REDIS%04d", bin.RDBVersion); string(head) != want {
				t.Fatalf("%s wrote %q, want %q", name, head, want)
			}
			out, err := exec.Command(bin.CheckRDB, filepath.Join(s.Dir(), "dump.rdb")).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", bin.CheckRDB, err, out)
			}
		})
	}
}

// TestPipeline checks that replies come back in order, an error reply among
// them.
func TestPipeline(t *testing.T) {
	s := Start(t, Options{})
	c := s.Client(t)
	replies, err := c.Pipeline([][]any{{"SET", "k", "v"}, {"INCR", "k"}, {"GET", "k"}, {"RPUSH", "l", 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(replies) != 4 || replies[0] != SimpleString("OK") || replies[3] != Int(2) {
		t.Fatalf("replies %s", Describe(Array(replies)))
	}
	if e, ok := replies[1].(Error); !ok || !strings.HasPrefix(string(e), "ERR") {
		t.Fatalf("INCR of a string: %s", Describe(replies[1]))
	}
	if b, err := ToBytes(replies[2], nil); err != nil || string(b) != "v" {
		t.Fatalf("GET: %q %v", b, err)
	}
	if _, err := c.Pipeline([][]any{{"SET", "k", struct{}{}}}); err == nil {
		t.Fatal("a bad argument was sent")
	}
	if r, err := c.Do("PING"); err != nil || r != SimpleString("PONG") {
		t.Fatalf("the connection after a refused pipeline: %s, %v", Describe(r), err)
	}
}

// TestSnapshotPages checks Snapshot on values larger than one page: a list,
// a stream, and (on the Redis 7.4 build) a hash whose field TTLs take two
// HPEXPIRETIME commands.
func TestSnapshotPages(t *testing.T) {
	s := Start(t, Options{Binaries: RequireNewer(t, Redis74)})
	c := s.Client(t)
	const n = pageSize + 7
	var cmds [][]any
	for i := range n {
		cmds = append(cmds, []any{"RPUSH", "list", i}, []any{"XADD", "stream", fmt.Sprintf("1-%d", i+1), "f", i},
			[]any{"HSET", "hash", i, i})
		if i%3 == 0 {
			cmds = append(cmds, []any{"HPEXPIREAT", "hash", 4102444800000 + int64(i), "FIELDS", 1, i})
		}
		if len(cmds) > 2000 {
			if _, err := c.Pipeline(cmds); err != nil {
				t.Fatal(err)
			}
			cmds = cmds[:0]
		}
	}
	if _, err := c.Pipeline(cmds); err != nil {
		t.Fatal(err)
	}
	lines := s.Snapshot(t, SnapshotOptions{})
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch m["type"] {
		case "list":
			if v := m["value"].([]any); len(v) != n || v[n-1] != "s:"+strconv.Itoa(n-1) {
				t.Errorf("list: %d elements", len(v))
			}
		case "stream":
			if v := m["value"].(map[string]any)["entries"].([]any); len(v) != n {
				t.Errorf("stream: %d entries", len(v))
			}
		case "hash":
			ttls := m["field_expire_at_ms"].(map[string]any)
			if v := m["value"].([]any); len(v) != n || len(ttls) != (n+2)/3 || ttls["s:"+strconv.Itoa(n-1)] != nil && (n-1)%3 != 0 {
				t.Errorf("hash: %d fields, %d TTLs", len(v), len(ttls))
			}
			if ms := ttls["s:"+strconv.Itoa(pageSize+2)]; ms != float64(4102444800000+pageSize+2) {
				t.Errorf("hash: TTL of field %d on the second page: %v", pageSize+2, ms)
			}
		}
	}
}
