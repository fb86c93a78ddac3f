package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestReadDifferential builds random datasets on a real Redis 7.0 and in the
// engine with the differential test's write commands (large collections
// included), then sends both the same random read-only commands and compares
// the replies: exactly, but for the order of replies Redis takes from its
// hash tables (compared sorted), random picks (compared by shape and
// membership), times measured from "now" (within a margin), and SCAN
// cursors (each side's full iteration is compared). Each seed is checked
// twice: against the engine that executed the writes, and against an engine
// that loaded Redis's own RDB snapshot of the dataset (as replay loads one),
// with Redis restarted from that snapshot. ENGINE_READ_SEEDS sets the seeds
// (default 20).
func TestReadDifferential(t *testing.T) {
	seeds := 20
	if s, err := strconv.Atoi(os.Getenv("ENGINE_READ_SEEDS")); err == nil && s > 0 {
		seeds = s
	}
	readDifferential(t, seeds, redistest.Options{}, 700, false)
}

// TestReadDifferentialValkey is TestReadDifferential against the Valkey 8
// build of ../shared/servers, with the engine emulating Valkey (7.2's reply
// formats: shortest doubles, ZRANK WITHSCORE, XINFO's active-time).
func TestReadDifferentialValkey(t *testing.T) {
	seeds := 10
	if s, err := strconv.Atoi(os.Getenv("ENGINE_READ_SEEDS")); err == nil && s > 0 {
		seeds = max(1, s/2)
	}
	bin := redistest.RequireNewer(t, redistest.Valkey8)
	readDifferential(t, seeds, redistest.Options{Binaries: bin}, 800, true)
}

func readDifferential(t *testing.T, seeds int, opts redistest.Options, version int, valkey bool) {
	dir := t.TempDir()
	opts.Dir = dir
	opts.Args = append(opts.Args, "--save", "", "--appendonly", "no", "--enable-debug-command", "yes")
	srv := redistest.Start(t, opts)
	c := srv.Client(t)
	reads := 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		for _, cmd := range [][]any{{"SELECT", 0}, {"FLUSHALL"}, {"FUNCTION", "FLUSH"}} {
			if _, err := c.Do(cmd...); err != nil {
				t.Fatal(err)
			}
		}
		eng := engine.New(engine.Options{Mode: engine.ModeLive, Expired: engine.ExpiredDrop, Version: version, Valkey: valkey,
			Clock: func() int64 { return time.Now().UnixMilli() }})
		g := &gen{r: rand.New(rand.NewPCG(seed, seed*31)), big: seed%2 == 0}
		for i := 0; i < 300; i++ {
			for _, args := range resetErrno(g.next()) {
				if string(args[0]) == "__DUMPRESTORE" || string(args[0]) == "SPOP" {
					continue // SPOP picks at random on the server
				}
				anyArgs := make([]any, len(args))
				for j, a := range args {
					anyArgs[j] = a
				}
				if _, err := c.Do(anyArgs...); err != nil {
					var re redistest.Error
					if !errors.As(err, &re) {
						t.Fatal(err)
					}
				}
				eng.Apply(args)
			}
		}
		if eng.InMulti() {
			c.Do("DISCARD")
			eng.Apply(bs("DISCARD"))
		}
		c.Do("SELECT", 0)
		eng.Apply(bs("SELECT", "0"))
		want := normalize(srv.Snapshot(t, redistest.SnapshotOptions{DBs: []int{0, 1, 2}}))
		if d := diffLines(want, normalize(engineLines(t, eng))); d != "" {
			t.Fatalf("seed %d: the datasets differ before the reads:\n%s", seed, d)
		}
		rg := &readGen{r: rand.New(rand.NewPCG(seed, 99)), g: g}
		reads += compareReads(t, fmt.Sprintf("seed %d (live)", seed), c, eng, rg, 400)
		if t.Failed() {
			return
		}
		// The same dataset loaded from Redis's own snapshot.
		if _, err := c.Do("SAVE"); err != nil {
			t.Fatal(err)
		}
		loaded := engine.New(engine.Options{Version: version, Valkey: valkey, Clock: func() int64 { return time.Now().UnixMilli() }})
		loadRDB(t, filepath.Join(dir, "dump.rdb"), loaded)
		if _, err := c.Do("DEBUG", "RELOAD"); err != nil {
			t.Fatal(err)
		}
		c.Do("SELECT", 0)
		reads += compareReads(t, fmt.Sprintf("seed %d (loaded)", seed), c, loaded, rg, 400)
		if t.Failed() {
			return
		}
	}
	t.Logf("%d seeds, %d read commands: the same replies", seeds, reads)
}

// loadRDB loads an RDB file into e key by key, as replay does.
func loadRDB(t *testing.T, path string, e *engine.Engine) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	for {
		ent, err := r.Next()
		if err != nil {
			break
		}
		if ent.Kind == rdb.EntryFunction {
			e.Apply(bs("FUNCTION", "LOAD", "REPLACE", string(ent.Function)))
			continue
		}
		if ent.Kind != rdb.EntryKey {
			continue
		}
		v, err := r.ReadValue(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Load(ent.DB, ent, v); err != nil {
			t.Fatal(err)
		}
	}
}

// compareReads sends n random read commands to both and compares.
func compareReads(t *testing.T, label string, c *redistest.Client, eng *engine.Engine, rg *readGen, n int) int {
	t.Helper()
	for i := 0; i < n; i++ {
		args := rg.command()
		if string(args[0]) == "SCAN" || strings.HasSuffix(string(args[0]), "SCAN") {
			want, err := scanAll(func(a [][]byte) (string, []string) { return redisDo(t, c, a) }, args)
			got, err2 := scanAll(func(a [][]byte) (string, []string) {
				r := eng.Exec(a)
				return canonEngine(r), flatEngine(r)
			}, args)
			if err != err2 || !slices.Equal(want, got) {
				t.Errorf("%s: %s: redis %v %s, engine %v %s", label, quote(args), want, err, got, err2)
				return i
			}
			continue
		}
		want, wantFlat := redisDo(t, c, args)
		r := eng.Exec(args)
		got, gotFlat := canonEngine(r), flatEngine(r)
		if msg := compareRead(args, want, got, wantFlat, gotFlat, c); msg != "" {
			t.Errorf("%s: %s: %s", label, quote(args), msg)
			return i
		}
	}
	return n
}

func redisDo(t *testing.T, c *redistest.Client, args [][]byte) (string, []string) {
	anyArgs := make([]any, len(args))
	for j, a := range args {
		anyArgs[j] = a
	}
	r, err := c.Do(anyArgs...)
	var re redistest.Error
	if err != nil && !errors.As(err, &re) {
		t.Fatalf("%s: %v", quote(args), err)
	}
	if err != nil {
		r = re
	}
	return canonRedis(r), flatRedis(r)
}

// scanAll runs a *SCAN from cursor 0 to the end and returns what it saw,
// sorted (pairs kept together for HSCAN and ZSCAN).
func scanAll(do func([][]byte) (string, []string), args [][]byte) ([]string, string) {
	at := 1
	if string(args[0]) != "SCAN" {
		at = 2
	}
	pairs := string(args[0]) == "HSCAN" || string(args[0]) == "ZSCAN"
	var all []string
	args = slices.Clone(args)
	args[at] = []byte("0")
	for range 100000 {
		canon, flat := do(args)
		if strings.HasPrefix(canon, "-") || strings.HasPrefix(canon, "+") {
			return nil, canon
		}
		if len(flat) < 1 {
			return nil, "bad reply " + canon
		}
		items := flat[1:]
		if pairs {
			for i := 0; i+1 < len(items); i += 2 {
				all = append(all, items[i]+"="+items[i+1])
			}
		} else {
			all = append(all, items...)
		}
		if flat[0] == "$0" {
			break
		}
		args[at] = []byte(strings.TrimPrefix(flat[0], "$"))
	}
	slices.Sort(all)
	all = slices.Compact(all)
	return all, ""
}

// compareRead compares two canonical replies under the command's rules.
func compareRead(args [][]byte, want, got string, wantFlat, gotFlat []string, c *redistest.Client) string {
	name := strings.ToUpper(string(args[0]))
	if want == got {
		return ""
	}
	if strings.HasPrefix(want, "-") || strings.HasPrefix(got, "-") {
		return fmt.Sprintf("redis %s, engine %s", want, got)
	}
	switch name {
	case "KEYS", "SMEMBERS", "SINTER", "SUNION", "SDIFF", "HKEYS", "HVALS":
		if sortedEqual(wantFlat, gotFlat) {
			return ""
		}
	case "HGETALL":
		if sortedEqual(pairsOf(wantFlat), pairsOf(gotFlat)) {
			return ""
		}
	case "RANDOMKEY", "SRANDMEMBER", "HRANDFIELD", "ZRANDMEMBER":
		if len(wantFlat) == len(gotFlat) && strings.HasPrefix(want, "[") == strings.HasPrefix(got, "[") {
			return ""
		}
	case "TTL", "PTTL":
		w, _ := strconv.ParseInt(strings.TrimPrefix(want, ":"), 10, 64)
		g, _ := strconv.ParseInt(strings.TrimPrefix(got, ":"), 10, 64)
		if d := w - g; d > -2000 && d < 2000 && (w < 0) == (g < 0) {
			return ""
		}
	case "XINFO", "XPENDING":
		if maskTimes(wantFlat) == maskTimes(gotFlat) {
			return ""
		}
	case "GET", "GETRANGE", "MGET":
		// PFCOUNT on the server caches the cardinality in the HLL string
		// (bytes 8-15); Exec changes nothing.
		if len(wantFlat) == len(gotFlat) {
			same := true
			for i := range wantFlat {
				w, g := wantFlat[i], gotFlat[i]
				if strings.HasPrefix(w, "$HYLL") && len(w) == len(g) && len(w) > 17 {
					w, g = w[:9]+w[17:], g[:9]+g[17:]
				}
				same = same && w == g
			}
			if same {
				return ""
			}
		}
	case "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZRANGE":
		// Lex ranges assume equal scores; with mixed ones a skiplist's answer
		// depends on its random levels.
		if flat, err := redistest.ToBytesList(c.Do("ZRANGE", args[1], 0, -1, "WITHSCORES")); err == nil {
			scores := map[string]bool{}
			for i := 1; i < len(flat); i += 2 {
				scores[string(flat[i])] = true
			}
			if len(scores) > 1 && (name != "ZRANGE" || slices.ContainsFunc(args, func(b []byte) bool { return strings.EqualFold(string(b), "BYLEX") })) {
				return ""
			}
		}
	case "OBJECT":
		if typ, _ := redistest.ToString(c.Do("TYPE", args[2])); typ == "string" {
			return "" // a string's encoding depends on the commands that built it
		}
	}
	return fmt.Sprintf("redis %s\nengine %s", want, got)
}

func sortedEqual(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func pairsOf(flat []string) []string {
	var out []string
	for i := 0; i+1 < len(flat); i += 2 {
		out = append(out, flat[i]+"="+flat[i+1])
	}
	return out
}

// maskTimes blanks what depends on the moment or on Redis's memory layout:
// integers after idle/inactive/seen-time/radix-tree fields, and large
// integers that are times.
func maskTimes(flat []string) string {
	out := slices.Clone(flat)
	for i := range out {
		switch out[i] {
		case "$idle", "$inactive", "$radix-tree-keys", "$radix-tree-nodes", "$seen-time", "$active-time":
			if i+1 < len(out) {
				out[i+1] = "T"
			}
		}
		if strings.HasPrefix(out[i], ":") {
			if v, err := strconv.ParseInt(out[i][1:], 10, 64); err == nil && (v > 1e12 || v > 1000 && v < 1e7) {
				out[i] = "T"
			}
		}
	}
	return strings.Join(out, " ")
}

func canonRedis(r redistest.Reply) string {
	switch v := r.(type) {
	case redistest.SimpleString:
		return "+" + string(v)
	case redistest.Error:
		return "-" + string(v)
	case redistest.Int:
		return ":" + strconv.FormatInt(int64(v), 10)
	case redistest.Bulk:
		if v == nil {
			return "nil"
		}
		return "$" + strconv.Quote(string(v))
	case redistest.Array:
		if v == nil {
			return "nil"
		}
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = canonRedis(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return "?"
}

func canonEngine(r engine.Reply) string {
	switch r.Kind {
	case engine.ReplyStatus:
		return "+" + string(r.Str)
	case engine.ReplyError:
		return "-" + string(r.Str)
	case engine.ReplyInt:
		return ":" + strconv.FormatInt(r.Int, 10)
	case engine.ReplyBulk:
		return "$" + strconv.Quote(string(r.Str))
	case engine.ReplyArray:
		parts := make([]string, len(r.Elems))
		for i, e := range r.Elems {
			parts[i] = canonEngine(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return "nil"
}

// flatRedis and flatEngine list the leaves of a reply, depth first (bulk
// strings as "$" + text, integers as ":" + value).
func flatRedis(r redistest.Reply) []string {
	switch v := r.(type) {
	case redistest.Array:
		var out []string
		for _, e := range v {
			out = append(out, flatRedis(e)...)
		}
		return out
	case redistest.Bulk:
		if v == nil {
			return []string{"nil"}
		}
		return []string{"$" + string(v)}
	}
	return []string{canonRedis(r)}
}

func flatEngine(r engine.Reply) []string {
	switch r.Kind {
	case engine.ReplyArray:
		var out []string
		for _, e := range r.Elems {
			out = append(out, flatEngine(e)...)
		}
		return out
	case engine.ReplyBulk:
		return []string{"$" + string(r.Str)}
	}
	return []string{canonEngine(r)}
}

// readGen produces random read-only commands over the write generator's keys.
type readGen struct {
	r *rand.Rand
	g *gen
}

func (rg *readGen) pick(s ...string) string { return s[rg.r.IntN(len(s))] }

func (rg *readGen) key(prefix string) string {
	if rg.r.IntN(5) == 0 {
		prefix = rg.pick("k", "s", "l", "t", "z", "h", "x", "p", "g")
	}
	return prefix + strconv.Itoa(rg.r.IntN(3))
}

func (rg *readGen) member() string { return rg.g.member() }

func (rg *readGen) idx() string {
	return rg.pick("0", "1", "2", "-1", "-2", "5", "-100", "100", "x", "3")
}

func (rg *readGen) score() string {
	return rg.pick("-inf", "+inf", "0", "1", "(1", "2", "(2.5", "3", "-1", "x", "1e3")
}

func (rg *readGen) lex() string { return rg.pick("-", "+", "[a", "(b", "[c", "(m1", "[m5", "x") }

func (rg *readGen) id() string {
	return rg.pick("-", "+", "0", "0-0", "1", "(1", strconv.FormatUint(rg.g.xms, 10), strconv.FormatUint(rg.g.xms/2, 10)+"-1", "x")
}

func (rg *readGen) command() [][]byte {
	var c []string
	switch rg.r.IntN(11) {
	case 0: // keyspace
		k := rg.key(rg.pick("s", "l", "t", "z", "h", "x"))
		c = []string{rg.pick("EXISTS", "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "TOUCH"), k}
		switch rg.r.IntN(8) {
		case 0:
			c = []string{"DBSIZE"}
		case 1:
			c = []string{"KEYS", rg.pick("*", "s*", "?1", "[lz]*", "h[^0]", "x\\*", "*2")}
		case 2:
			c = []string{"SCAN", "0", "MATCH", rg.pick("*", "z*", "?0"), "COUNT", rg.pick("1", "3", "100")}
		case 3:
			c = []string{"SCAN", "0", "TYPE", rg.pick("string", "set", "zset", "hash", "list", "stream")}
		case 4:
			c = []string{"OBJECT", "ENCODING", k}
		case 5:
			c = []string{"RANDOMKEY"}
		case 6:
			c = []string{"SELECT", rg.pick("0", "1", "2", "0")}
		}
	case 1: // strings
		k := rg.key("s")
		switch rg.r.IntN(9) {
		case 0:
			c = []string{"GET", k}
		case 1:
			c = []string{"MGET", k, rg.key("s"), rg.key("s")}
		case 2:
			c = []string{"STRLEN", k}
		case 3:
			c = []string{"GETRANGE", k, rg.idx(), rg.idx()}
		case 4:
			c = []string{"GETBIT", k, rg.pick("0", "1", "7", "8", "100", "-1")}
		case 5:
			c = append([]string{"BITCOUNT", k}, rg.opt([]string{}, []string{"0", "-1"}, []string{"1", "2", "BIT"}, []string{"-2", "-1", "BYTE"}, []string{"0"})...)
		case 6:
			c = append([]string{"BITPOS", k, rg.pick("0", "1")}, rg.opt([]string{}, []string{"1"}, []string{"0", "-1"}, []string{"2", "9", "BIT"})...)
		case 7:
			c = []string{"BITFIELD_RO", k, "GET", rg.pick("u8", "i4", "u1", "i64"), rg.pick("0", "3", "#1")}
		default:
			c = []string{"PFCOUNT", rg.key("p")}
			if rg.r.IntN(2) == 0 {
				c = append(c, rg.key("p"))
			}
		}
	case 2: // lists
		k := rg.key("l")
		switch rg.r.IntN(4) {
		case 0:
			c = []string{"LLEN", k}
		case 1:
			c = []string{"LINDEX", k, rg.idx()}
		case 2:
			c = []string{"LRANGE", k, rg.idx(), rg.idx()}
		default:
			c = append([]string{"LPOS", k, rg.member()}, rg.opt([]string{}, []string{"RANK", "-1"}, []string{"COUNT", "0"}, []string{"RANK", "2", "COUNT", "2"}, []string{"MAXLEN", "3"})...)
		}
	case 3: // sets
		k := rg.key("t")
		switch rg.r.IntN(8) {
		case 0:
			c = []string{"SCARD", k}
		case 1:
			c = []string{"SISMEMBER", k, rg.member()}
		case 2:
			c = []string{"SMISMEMBER", k, rg.member(), rg.member()}
		case 3:
			c = []string{"SMEMBERS", k}
		case 4:
			c = []string{rg.pick("SINTER", "SUNION", "SDIFF"), k, rg.key("t")}
		case 5:
			c = []string{"SINTERCARD", "2", k, rg.key("t")}
		case 6:
			c = []string{"SSCAN", k, "0", "COUNT", rg.pick("5", "50")}
		default:
			c = append([]string{"SRANDMEMBER", k}, rg.opt([]string{}, []string{"3"}, []string{"-5"}, []string{"0"})...)
		}
	case 4, 5: // sorted sets
		k := rg.key("z")
		switch rg.r.IntN(14) {
		case 0:
			c = []string{"ZCARD", k}
		case 1:
			c = []string{"ZSCORE", k, rg.member()}
		case 2:
			c = []string{"ZMSCORE", k, rg.member(), rg.member()}
		case 3:
			c = []string{rg.pick("ZRANK", "ZREVRANK"), k, rg.member()}
		case 4:
			c = []string{"ZCOUNT", k, rg.score(), rg.score()}
		case 5:
			c = []string{"ZLEXCOUNT", k, rg.lex(), rg.lex()}
		case 6:
			c = append([]string{"ZRANGE", k, rg.idx(), rg.idx()}, rg.opt([]string{}, []string{"WITHSCORES"}, []string{"REV"}, []string{"REV", "WITHSCORES"})...)
		case 7:
			c = append([]string{"ZRANGE", k, rg.score(), rg.score(), "BYSCORE"}, rg.opt([]string{}, []string{"WITHSCORES"}, []string{"REV"}, []string{"LIMIT", "1", "2"}, []string{"REV", "LIMIT", "0", "3", "WITHSCORES"})...)
		case 8:
			c = append([]string{"ZRANGE", k, rg.lex(), rg.lex(), "BYLEX"}, rg.opt([]string{}, []string{"REV"}, []string{"LIMIT", "1", "2"})...)
		case 9:
			c = append([]string{rg.pick("ZRANGEBYSCORE", "ZREVRANGEBYSCORE"), k, rg.score(), rg.score()}, rg.opt([]string{}, []string{"WITHSCORES"}, []string{"LIMIT", "0", "2"})...)
		case 10:
			c = []string{rg.pick("ZRANGEBYLEX", "ZREVRANGEBYLEX"), k, rg.lex(), rg.lex()}
		case 11:
			c = append([]string{rg.pick("ZUNION", "ZINTER", "ZDIFF"), "2", k, rg.key("z")}, rg.opt([]string{}, []string{"WITHSCORES"})...)
		case 12:
			c = []string{"ZSCAN", k, "0"}
		default:
			c = append([]string{"ZRANDMEMBER", k}, rg.opt([]string{}, []string{"2"}, []string{"-3", "WITHSCORES"})...)
		}
	case 6, 7: // hashes
		k := rg.key("h")
		switch rg.r.IntN(8) {
		case 0:
			c = []string{"HGET", k, rg.member()}
		case 1:
			c = []string{"HMGET", k, rg.member(), rg.member()}
		case 2:
			c = []string{"HEXISTS", k, rg.member()}
		case 3:
			c = []string{"HSTRLEN", k, rg.member()}
		case 4:
			c = []string{rg.pick("HLEN", "HGETALL", "HKEYS", "HVALS"), k}
		case 5:
			c = []string{"HSCAN", k, "0", "COUNT", "7"}
		default:
			c = append([]string{"HRANDFIELD", k}, rg.opt([]string{}, []string{"2"}, []string{"-2", "WITHVALUES"})...)
		}
	case 8, 9: // streams
		k := rg.key("x")
		switch rg.r.IntN(8) {
		case 0:
			c = []string{"XLEN", k}
		case 1:
			c = append([]string{"XRANGE", k, rg.id(), rg.id()}, rg.opt([]string{}, []string{"COUNT", "2"})...)
		case 2:
			c = append([]string{"XREVRANGE", k, rg.id(), rg.id()}, rg.opt([]string{}, []string{"COUNT", "1"})...)
		case 3:
			c = []string{"XREAD", "COUNT", rg.pick("1", "5"), "STREAMS", k, rg.pick("0", "0-0", strconv.FormatUint(rg.g.xms/2, 10))}
		case 4:
			c = append([]string{"XINFO", "STREAM", k}, rg.opt([]string{}, []string{"FULL"}, []string{"FULL", "COUNT", "2"})...)
		case 5:
			c = []string{"XINFO", "GROUPS", k}
		case 6:
			c = []string{"XINFO", "CONSUMERS", k, rg.pick("g1", "g2")}
		default:
			c = append([]string{"XPENDING", k, rg.pick("g1", "g2")}, rg.opt([]string{}, []string{"-", "+", "10"}, []string{"-", "+", "5", rg.pick("c1", "c2")}, []string{"IDLE", "0", "-", "+", "3"})...)
		}
	default: // geo
		k := rg.key("g")
		switch rg.r.IntN(3) {
		case 0:
			c = []string{"GEOPOS", k, rg.member(), rg.member()}
		case 1:
			c = append([]string{"GEODIST", k, rg.member(), rg.member()}, rg.opt([]string{}, []string{"km"}, []string{"mi"})...)
		default:
			c = []string{"GEOHASH", k, rg.member()}
		}
	}
	return bs(c...)
}

func (rg *readGen) opt(choices ...[]string) []string { return choices[rg.r.IntN(len(choices))] }
