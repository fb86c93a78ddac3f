package engine_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// The differential test drives a real redis-server and the engine with the
// same seeded random commands and compares every reply's success or error
// (with its text) and, at the end of each seed, the whole dataset as
// canonical lines. Times are absolute and far in the future (or far in the
// past, which deletes), stream IDs explicit, so nothing depends on the
// moment the commands run; the only "now" left is the delivery time that
// XREADGROUP / XAUTOCLAIM / XCLAIM without TIME set, which both sides
// compare as "recent".
//
//	go test ./pkg/engine -run Differential -diff.seeds 500
//	ENGINE_DIFF_SEEDS=500 go test ./pkg/engine -run Differential
var (
	diffSeeds = flag.Int("diff.seeds", 0, "number of seeds for TestDifferential (default 200, or ENGINE_DIFF_SEEDS)")
	diffFirst = flag.Int("diff.first", 1, "first seed of TestDifferential")
	diffOps   = flag.Int("diff.ops", 300, "commands per seed")
	diffTail  = flag.Int("diff.tail", 40, "commands shown before a dataset divergence")
	diffEach  = flag.Bool("diff.each", false, "compare the datasets after every command (slow; to find where they diverge)")
)

func seedCount() int {
	if *diffSeeds > 0 {
		return *diffSeeds
	}
	if v, err := strconv.Atoi(os.Getenv("ENGINE_DIFF_SEEDS")); err == nil && v > 0 {
		return v
	}
	return 200
}

func TestDifferential(t *testing.T) {
	differential(t, seedCount(), false, redistest.Options{}, engine.Options{Version: 700})
}

// TestDifferentialLarge is TestDifferential with collections that cross
// the thresholds between packed and large encodings, in both directions
// (bulk adds, then removals, DUMP/RESTORE and the STORE commands, which
// build new values). ENGINE_DIFF_SEEDS sets its seeds too (a quarter of them).
func TestDifferentialLarge(t *testing.T) {
	differential(t, max(1, seedCount()/4), true, redistest.Options{}, engine.Options{Version: 700})
}

// TestDifferentialValkey runs the differential test, small and large
// collections, against the Valkey 8 build of ../shared/servers with the
// engine emulating Valkey (Options.Valkey).
func TestDifferentialValkey(t *testing.T) {
	bin := redistest.RequireNewer(t, redistest.Valkey8)
	n := max(1, seedCount()/2)
	differential(t, n, false, redistest.Options{Binaries: bin}, engine.Options{Valkey: true, Version: 800})
	differential(t, n, true, redistest.Options{Binaries: bin}, engine.Options{Valkey: true, Version: 800})
}

func differential(t *testing.T, n int, big bool, srvOpts redistest.Options, engOpts engine.Options) {
	srv := redistest.Start(t, srvOpts)
	c := srv.Client(t)
	start := time.Now()
	cmds := 0
	var st stats
	for seed := *diffFirst; seed < *diffFirst+n; seed++ {
		cmds += runSeed(t, srv, c, uint64(seed), *diffOps, big, engOpts, &st)
		if t.Failed() {
			t.Fatalf("seed %d diverged (rerun with -diff.first %d -diff.seeds 1)", seed, seed)
		}
	}
	t.Logf("%d seeds, %d commands (%d ok, %d errors), %d keys compared (%d streams), %v",
		n, cmds, st.ok, st.errs, st.lines, st.streams, time.Since(start))
}

type stats struct{ ok, errs, lines, streams int }

func runSeed(t *testing.T, srv *redistest.Server, c *redistest.Client, seed uint64, ops int, big bool, opts engine.Options, st *stats) int {
	t.Helper()
	for _, cmd := range [][]any{{"SELECT", 0}, {"FLUSHALL"}, {"FUNCTION", "FLUSH"}} {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatal(err)
		}
	}
	opts.Mode, opts.Expired = engine.ModeLive, engine.ExpiredDrop
	opts.Clock = func() int64 { return time.Now().UnixMilli() }
	eng := engine.New(opts)
	g := &gen{r: rand.New(rand.NewPCG(seed, seed*7919)), big: big}
	var history []string
	count := 0
	for i := 0; i < ops; i++ {
		block := g.next()
		for _, args := range resetErrno(block) {
			if string(args[0]) == "__DUMPRESTORE" {
				// RESTORE dst with the payload the server DUMPs of src
				// (outside MULTI, where DUMP would only be queued).
				if eng.InMulti() {
					continue
				}
				payload, err := redistest.ToBytes(c.Do("DUMP", string(args[1])))
				if err != nil || payload == nil {
					continue
				}
				args = append(bs("RESTORE", string(args[2]), "0", string(payload)), args[3:]...)
			}
			count++
			history = append(history, quote(args))
			anyArgs := make([]any, len(args))
			for j, a := range args {
				anyArgs[j] = a
			}
			reply, rerr := c.Do(anyArgs...)
			var redisErr redistest.Error
			if rerr != nil && !errors.As(rerr, &redisErr) {
				t.Fatalf("seed %d: %s: %v", seed, quote(args), rerr)
			}
			eerr := eng.Apply(args)
			if rerr == nil {
				st.ok++
			} else {
				st.errs++
			}
			if msg := compareReply(args, reply, rerr, eerr); msg != "" {
				t.Errorf("seed %d: command %d %s: %s\nlast commands:\n%s", seed, count, quote(args), msg, tail(history, *diffTail))
				return count
			}
			if *diffEach && !eng.InMulti() {
				want := normalize(srv.Snapshot(t, redistest.SnapshotOptions{DBs: []int{0, 1, 2}}))
				if d := diffLines(want, normalize(engineLines(t, eng))); d != "" {
					t.Errorf("seed %d: datasets differ after command %d (- redis, + engine):\n%s\nlast commands:\n%s", seed, count, d, tail(history, *diffTail))
					return count
				}
			}
		}
	}
	if eng.InMulti() {
		if _, err := c.Do("DISCARD"); err != nil {
			t.Fatal(err)
		}
		eng.Apply(bs("DISCARD"))
	}
	want := normalize(srv.Snapshot(t, redistest.SnapshotOptions{DBs: []int{0, 1, 2}}))
	got := normalize(engineLines(t, eng))
	st.lines += len(want)
	for _, l := range want {
		if strings.Contains(l, `"type":"stream"`) {
			st.streams++
		}
	}
	if d := diffLines(want, got); d != "" {
		t.Errorf("seed %d: datasets differ (- redis, + engine):\n%s\nlast commands:\n%s", seed, d, tail(history, *diffTail))
		return count
	}
	if d := compareEncodings(t, c, eng, []int{0, 1, 2}, opts.Valkey || opts.Version >= 702); d != "" {
		t.Errorf("seed %d: encodings differ: %s\nlast commands:\n%s", seed, d, tail(history, *diffTail))
	}
	return count
}

// compareEncodings compares OBJECT ENCODING of every key of the databases
// (strings excepted: their encoding depends on how they were built; lists too
// from Redis 7.2 on, whose listpack/quicklist choice depends on quicklist node
// boundaries the engine does not keep).
func compareEncodings(t *testing.T, c *redistest.Client, eng *engine.Engine, dbs []int, skipLists bool) string {
	t.Helper()
	defer c.Do("SELECT", 0)
	var diffs []string
	for _, db := range dbs {
		if _, err := c.Do("SELECT", db); err != nil {
			t.Fatal(err)
		}
		keys, err := redistest.ToBytesList(c.Do("KEYS", "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			typ, err := redistest.ToString(c.Do("TYPE", k))
			if err != nil {
				t.Fatal(err)
			}
			if typ == "string" || typ == "list" && skipLists {
				continue
			}
			want, err := redistest.ToString(c.Do("OBJECT", "ENCODING", k))
			if err != nil {
				t.Fatal(err)
			}
			if got := engine.ObjectEncoding(eng, db, k); got != want {
				diffs = append(diffs, fmt.Sprintf("db %d %s %q: redis %s, engine %s", db, typ, k, want, got))
			}
		}
	}
	return strings.Join(diffs, "; ")
}

// resetErrno puts a ZADD XX of a missing key before each SORT. SORT's
// strtod check reads errno without clearing it, so an ERANGE left by an
// earlier command (of any client) makes Redis refuse the next numeric SORT;
// ZADD's string2d clears errno. The engine cannot model that stale state.
func resetErrno(block [][][]byte) [][][]byte {
	var out [][][]byte
	for _, args := range block {
		if strings.EqualFold(string(args[0]), "SORT") {
			out = append(out, bs("ZADD", "__errno", "XX", "1", "m"))
		}
		out = append(out, args)
	}
	return out
}

func tail(h []string, n int) string {
	if len(h) > n {
		h = h[len(h)-n:]
	}
	return "  " + strings.Join(h, "\n  ")
}

func quote(args [][]byte) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = strconv.Quote(string(a))
	}
	return strings.Join(parts, " ")
}

// compareReply checks that the engine failed exactly when Redis did, with the
// same message; EXEC compares per queued command.
func compareReply(args [][]byte, reply redistest.Reply, rerr, eerr error) string {
	if strings.EqualFold(string(args[0]), "EXEC") && rerr == nil {
		arr, _ := reply.(redistest.Array)
		var errs []error
		var ee *engine.ExecError
		if errors.As(eerr, &ee) {
			errs = ee.Errs
		} else if eerr != nil {
			return fmt.Sprintf("redis EXEC ran, engine: %v", eerr)
		}
		for i, r := range arr {
			var e error
			if i < len(errs) {
				e = errs[i]
			}
			re, isErr := r.(redistest.Error)
			switch {
			case isErr && e == nil:
				return fmt.Sprintf("queued command %d: redis error %q, engine ok", i+1, string(re))
			case !isErr && e != nil:
				return fmt.Sprintf("queued command %d: redis ok, engine %v", i+1, e)
			case isErr && string(re) != e.Error():
				return fmt.Sprintf("queued command %d: redis error %q, engine %q", i+1, string(re), e.Error())
			}
		}
		return ""
	}
	switch {
	case rerr == nil && eerr == nil:
		return ""
	case rerr != nil && eerr == nil:
		return fmt.Sprintf("redis error %q, engine ok", rerr.Error())
	case rerr == nil && eerr != nil:
		return fmt.Sprintf("redis ok (%s), engine error %v", redistest.Describe(reply), eerr)
	}
	if rerr.Error() != eerr.Error() {
		return fmt.Sprintf("redis error %q, engine error %q", rerr.Error(), eerr.Error())
	}
	return ""
}

func engineLines(t *testing.T, eng *engine.Engine) []string {
	var lines []string
	err := eng.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		exp := int64(0)
		if ent.HasExpire {
			exp = ent.ExpireAtMs
		}
		l, err := canon.KeyLine(db, key, exp, v, false)
		if err != nil {
			return err
		}
		lines = append(lines, canon.Marshal(l))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if f := eng.Functions(); len(f) > 0 {
		lines = append(lines, canon.Marshal(canon.Functions{Libraries: f}))
	}
	canon.Sort(lines)
	return lines
}

// recentRE matches a PEL entry's delivery time; times after 2020 were set
// from "now" and differ by milliseconds between the two sides.
var recentRE = regexp.MustCompile(`("s:[^"]*",)(1[6-9]\d{11})(,\d+\])`)

func normalize(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = roundDistances(recentRE.ReplaceAllString(l, "${1}NOW${3}"))
	}
	return out
}

var (
	distKeyRE = regexp.MustCompile(`"key":"s:gd\d"`)
	scoreRE   = regexp.MustCompile(`","([-+0-9.e]+)"\]`)
)

// roundDistances rounds the scores of the STOREDIST destinations gd0, gd1 to
// 12 digits: glibc's sin and cos are not always correctly rounded, the
// engine's are, so a distance may differ in its last bit.
func roundDistances(l string) string {
	if !distKeyRE.MatchString(l) {
		return l
	}
	return scoreRE.ReplaceAllStringFunc(l, func(m string) string {
		num := scoreRE.FindStringSubmatch(m)[1]
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return m
		}
		return `","` + strconv.FormatFloat(f, 'g', 12, 64) + `"]`
	})
}

func diffLines(want, got []string) string {
	w := map[string]bool{}
	for _, l := range want {
		w[l] = true
	}
	g := map[string]bool{}
	for _, l := range got {
		g[l] = true
	}
	var b strings.Builder
	for _, l := range want {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range got {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func bs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// gen produces random commands over a small key space so that keys collide
// across types.
type gen struct {
	r      *rand.Rand
	prefix string // key prefix of the current command's family
	xms    uint64 // stream ID clock
	// big draws members from a large pool, some of them long, and adds bulk
	// commands, so that collections cross the thresholds between their
	// packed and large encodings (both ways).
	big bool
}

func (g *gen) pick(s ...string) string { return s[g.r.IntN(len(s))] }

func (g *gen) pickS(s ...[]string) []string { return s[g.r.IntN(len(s))] }

// key is usually a key of the family's own prefix, sometimes a shared one
// (so that wrong types and cross-type RENAME/COPY happen).
func (g *gen) key() string {
	if g.r.IntN(4) == 0 {
		return "k" + strconv.Itoa(g.r.IntN(3))
	}
	return g.prefix + strconv.Itoa(g.r.IntN(3))
}

func (g *gen) member() string {
	if g.big {
		switch g.r.IntN(12) {
		case 0:
			return "long-" + strings.Repeat("x", 60+g.r.IntN(10)) + strconv.Itoa(g.r.IntN(20))
		case 1, 2, 3, 4:
			return strconv.Itoa(g.r.IntN(700) - 100)
		case 5, 6, 7, 8:
			return "m" + strconv.Itoa(g.r.IntN(700))
		}
	}
	return g.pick("a", "b", "c", "d", "1", "2", "10", "-1", "3.5", "", "x\x00y", "héllo", "e")
}

func (g *gen) intArg() string {
	return g.pick("0", "1", "2", "3", "-1", "-2", "5", "10", "100", "-100", "9223372036854775807",
		"-9223372036854775808", "abc", "1.5", "+1", "007", "")
}

func (g *gen) floatArg() string {
	return g.pick("0", "1", "1.5", "-2.25", "0.1", "1e3", "-1e-3", "3.0000000000000001", "inf", "-inf",
		"+inf", "abc", "", " 1", "1 ", "0x10", "nan", "1e400", "12345678901234567890", "-0")
}

func (g *gen) futureMs() string {
	return strconv.FormatInt(4102444800000+g.r.Int64N(1e9), 10) // 2100-01-01 + up to 11 days
}

func (g *gen) futureS() string { return strconv.FormatInt(4102444800+g.r.Int64N(1e6), 10) }

func (g *gen) pastMs() string { return g.pick("1", "1000", "1600000000000") }

func (g *gen) streamID() string {
	switch g.r.IntN(10) {
	case 0:
		return g.pick("0-0", "0-1", "-", "+", "abc", "1-", "18446744073709551615-18446744073709551615")
	case 1, 2:
		return strconv.FormatUint(g.xms, 10) + "-" + strconv.Itoa(g.r.IntN(3))
	case 3:
		return strconv.FormatUint(g.xms, 10) + "-*"
	case 4:
		return strconv.FormatUint(g.xms+uint64(g.r.IntN(3)), 10)
	}
	g.xms += uint64(g.r.IntN(3))
	return strconv.FormatUint(g.xms, 10) + "-" + strconv.Itoa(g.r.IntN(5))
}

func (g *gen) group() string { return g.pick("g1", "g2") }

func (g *gen) consumer() string { return g.pick("c1", "c2", "c3") }

func (g *gen) members(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.member()
	}
	return out
}

func cat(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

// next returns one command, or a MULTI ... EXEC block.
func (g *gen) next() [][][]byte {
	if g.r.IntN(25) == 0 {
		n := 1 + g.r.IntN(5)
		block := [][][]byte{bs("MULTI")}
		for i := 0; i < n; i++ {
			block = append(block, bs(g.command()...))
		}
		if g.r.IntN(8) == 0 {
			block = append(block, bs("DISCARD"))
		} else {
			block = append(block, bs("EXEC"))
		}
		return block
	}
	return [][][]byte{bs(g.command()...)}
}

// bulkCommand adds or removes many members at once (big mode).
func (g *gen) bulkCommand() []string {
	g.prefix = g.pick("s", "l", "z", "h")
	k := g.key()
	n := 50 + g.r.IntN(600)
	var args []string
	switch g.prefix {
	case "s":
		cmd := g.pick("SADD", "SADD", "SREM")
		for range n {
			args = append(args, g.member())
		}
		return cat(cmd, k, args)
	case "l":
		if g.r.IntN(3) == 0 {
			return cat("LTRIM", k, strconv.Itoa(g.r.IntN(40)), strconv.Itoa(-1-g.r.IntN(40)))
		}
		for range n {
			args = append(args, g.member())
		}
		return cat(g.pick("RPUSH", "LPUSH"), k, args)
	case "z":
		if g.r.IntN(3) == 0 {
			return cat("ZREMRANGEBYRANK", k, strconv.Itoa(g.r.IntN(40)), strconv.Itoa(-1-g.r.IntN(40)))
		}
		for range n / 4 {
			args = append(args, g.pick(g.floatArg(), "1", "2", strconv.Itoa(g.r.IntN(1000))), g.member())
		}
		return cat("ZADD", k, args)
	}
	if g.r.IntN(3) == 0 {
		for range n {
			args = append(args, g.member())
		}
		return cat("HDEL", k, args)
	}
	for range n {
		args = append(args, g.member(), g.member())
	}
	return cat("HSET", k, args)
}

func (g *gen) command() []string {
	if g.big && g.r.IntN(8) == 0 {
		return g.bulkCommand()
	}
	fam := g.r.IntN(20)
	g.prefix = [...]string{"k", "s", "s", "l", "l", "t", "t", "z", "z", "h", "h", "x", "x", "k", "p", "p", "l", "z", "g", "g"}[fam]
	k := g.key()
	switch fam {
	case 0: // keyspace
		g.prefix = g.pick("s", "l", "t", "z", "h", "x")
		k = g.key()
		switch g.r.IntN(17) {
		default: // 16
			return cat("RENAME", k, k)
		case 0:
			return cat("DEL", k, g.key())
		case 1:
			return cat("UNLINK", k)
		case 2:
			return cat("PEXPIREAT", k, g.futureMs(), g.pickS([]string{}, []string{"NX"}, []string{"XX"}, []string{"GT"}, []string{"LT"}, []string{"NX", "XX"}, []string{"FOO"}))
		case 3:
			return cat("EXPIREAT", k, g.futureS(), g.pickS([]string{}, []string{"GT"}, []string{"LT"}))
		case 4:
			return cat("PEXPIREAT", k, g.pastMs())
		case 5:
			return cat("PERSIST", k)
		case 6:
			return cat("RENAME", k, g.key())
		case 7:
			return cat("RENAMENX", k, g.key())
		case 8:
			return cat("MOVE", k, g.pick("0", "1", "2", "16", "x"))
		case 9:
			return cat("COPY", k, g.key(), g.pickS([]string{}, []string{"REPLACE"}, []string{"DB", g.pick("0", "1", "2")}, []string{"DB", "1", "REPLACE"}, []string{"DB", "99"}))
		case 10:
			return cat("SELECT", g.pick("0", "0", "1", "2", "16", "-1"))
		case 11:
			return cat("SWAPDB", g.pick("0", "1", "2"), g.pick("0", "1", "2", "20"))
		case 12:
			if g.r.IntN(6) == 0 {
				return cat("FLUSHDB", g.pickS([]string{}, []string{"ASYNC"}, []string{"SYNC"}))
			}
			return cat("PERSIST", k)
		case 15:
			return cat("__DUMPRESTORE", k, g.key(), g.pickS([]string{}, []string{"REPLACE"}, []string{"REPLACE", "ABSTTL"}))
		case 13:
			if g.r.IntN(20) == 0 {
				return cat("FLUSHALL")
			}
			return cat("EXPIREAT", k, "100")
		case 14:
			return cat("PEXPIREAT", k, g.intArg())
		}
	case 1, 2: // strings
		switch g.r.IntN(18) {
		case 0:
			return cat("SET", k, g.member(), g.pickS([]string{}, []string{"NX"}, []string{"XX"}, []string{"GET"}, []string{"KEEPTTL"}, []string{"PXAT", g.futureMs()}, []string{"EXAT", g.futureS()}, []string{"XX", "GET", "KEEPTTL"}, []string{"NX", "XX"}, []string{"PXAT", "0"}, []string{"PXAT", g.pastMs()}, []string{"KEEPTTL", "PXAT", g.futureMs()}))
		case 1:
			return cat("SETNX", k, g.member())
		case 2:
			return cat("MSET", k, g.member(), g.key(), g.member())
		case 3:
			return cat("MSETNX", k, g.member(), g.key(), g.member())
		case 4:
			return cat("APPEND", k, g.member())
		case 5:
			return cat("SETRANGE", k, g.pick("0", "1", "5", "-1", "x"), g.member())
		case 6:
			return cat(g.pick("INCR", "DECR"), k)
		case 7:
			return cat(g.pick("INCRBY", "DECRBY"), k, g.intArg())
		case 8:
			return cat("INCRBYFLOAT", k, g.floatArg())
		case 9:
			return cat("GETSET", k, g.member())
		case 10:
			return cat("GETDEL", k)
		case 11:
			return cat("GETEX", k, g.pickS([]string{}, []string{"PERSIST"}, []string{"PXAT", g.futureMs()}, []string{"EXAT", g.futureS()}, []string{"PXAT", g.pastMs()}, []string{"PXAT", "-5"}, []string{"PERSIST", "PXAT", "1"}))
		case 12:
			return cat("SETBIT", k, g.pick("0", "1", "7", "8", "100", "-1", "x"), g.pick("0", "1", "2"))
		case 13:
			return cat("BITFIELD", k, g.bitfieldOps())
		case 14:
			return cat("BITOP", g.pick("AND", "OR", "XOR", "NOT", "FOO"), k, g.key(), g.pickS([]string{}, []string{g.key()}))
		case 15:
			return cat("SET", k, g.intArg())
		case 16:
			return cat("SET", k, g.floatArg())
		default:
			return cat("INCRBYFLOAT", k, g.pick("0.1", "1.1", "-0.3", "10.5", "1e17", "0.000001"))
		}
	case 3, 4: // lists
		switch g.r.IntN(14) {
		case 0:
			return cat(g.pick("LPUSH", "RPUSH"), k, g.members(1+g.r.IntN(3)))
		case 1:
			return cat(g.pick("LPUSHX", "RPUSHX"), k, g.members(1+g.r.IntN(2)))
		case 2:
			return cat("LINSERT", k, g.pick("BEFORE", "AFTER", "X"), g.member(), g.member())
		case 3:
			return cat("LSET", k, g.pick("0", "1", "-1", "-5", "10", "x"), g.member())
		case 4:
			return cat("LREM", k, g.pick("0", "1", "-1", "2", "-2", "x"), g.member())
		case 5:
			return cat("LTRIM", k, g.pick("0", "1", "-1", "-3", "5"), g.pick("0", "-1", "2", "-2", "100"))
		case 6:
			return cat(g.pick("LPOP", "RPOP"), k, g.pickS([]string{}, []string{"0"}, []string{"1"}, []string{"2"}, []string{"10"}, []string{"-1"}, []string{"1", "2"}))
		case 7:
			return cat("RPOPLPUSH", k, g.key())
		case 8:
			return cat("LMOVE", k, g.key(), g.pick("LEFT", "RIGHT"), g.pick("LEFT", "RIGHT", "UP"))
		case 9:
			return cat("LMPOP", g.pick("1", "2", "0"), k, g.key(), g.pick("LEFT", "RIGHT", "MID"), g.pickS([]string{}, []string{"COUNT", "2"}, []string{"COUNT", "0"}))
		default:
			return cat("RPUSH", k, g.members(1+g.r.IntN(4)))
		}
	case 5, 6: // sets
		switch g.r.IntN(8) {
		case 0, 1:
			return cat("SADD", k, g.members(1+g.r.IntN(4)))
		case 2:
			return cat("SREM", k, g.members(1+g.r.IntN(3)))
		case 3:
			return cat("SMOVE", k, g.key(), g.member())
		case 4:
			if g.big { // a count smaller than the set picks at random on the server
				return cat("SPOP", k, g.pick("0", "100000", "-1", "x"))
			}
			return cat("SPOP", k, g.pick("0", "100", "-1", "x"))
		case 5:
			return cat(g.pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), k, g.key(), g.pickS([]string{}, []string{g.key()}))
		default:
			return cat("SADD", k, g.member())
		}
	case 7, 8: // zsets
		switch g.r.IntN(12) {
		case 0, 1:
			opts := g.pickS([]string{}, []string{"NX"}, []string{"XX"}, []string{"GT"}, []string{"LT", "CH"}, []string{"INCR"}, []string{"NX", "INCR"}, []string{"XX", "NX"}, []string{"GT", "LT"})
			pairs := []string{}
			for i := 0; i < 1+g.r.IntN(3); i++ {
				pairs = append(pairs, g.pick(g.floatArg(), "1", "2", "3"), g.member())
			}
			return cat("ZADD", k, opts, pairs)
		case 2:
			return cat("ZINCRBY", k, g.floatArg(), g.member())
		case 3:
			return cat("ZREM", k, g.members(1+g.r.IntN(2)))
		case 4:
			return cat("ZREMRANGEBYSCORE", k, g.pick("-inf", "(1", "1", "0", "x"), g.pick("+inf", "(2", "2", "3"))
		case 5:
			return cat("ZREMRANGEBYRANK", k, g.pick("0", "1", "-1", "-2"), g.pick("0", "-1", "1", "5"))
		case 6:
			return cat("ZREMRANGEBYLEX", k, g.pick("-", "[a", "(b", "x", "+"), g.pick("+", "[c", "(d", "-"))
		case 7:
			return cat(g.pick("ZPOPMIN", "ZPOPMAX"), k, g.pickS([]string{}, []string{"0"}, []string{"2"}, []string{"-1"}))
		case 8:
			return cat("ZMPOP", g.pick("1", "2"), k, g.key(), g.pick("MIN", "MAX", "MID"), g.pickS([]string{}, []string{"COUNT", "2"}))
		case 9:
			op := g.pick("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE")
			extra := g.pickS([]string{}, []string{"WEIGHTS", "2", "0.5"}, []string{"AGGREGATE", g.pick("MIN", "MAX", "SUM", "AVG")}, []string{"WEIGHTS", "1", "inf"})
			return cat(op, k, g.pick("2", "0", "3"), g.key(), g.key(), extra)
		case 10:
			return cat("ZRANGESTORE", k, g.key(), g.pick("0", "1", "-1", "(1", "-inf", "[a", "-"), g.pick("-1", "2", "+inf", "(3", "+", "[c"), g.pickS([]string{}, []string{"BYSCORE"}, []string{"BYLEX"}, []string{"BYSCORE", "REV"}, []string{"REV"}, []string{"BYSCORE", "LIMIT", "1", "2"}, []string{"LIMIT", "0", "1"}))
		default:
			return cat("GEOADD", k, g.pickS([]string{}, []string{"NX"}, []string{"XX", "CH"}), g.pick("13.361389", "-73.9", "200", "0"), g.pick("38.115556", "40.7", "0", "89"), g.member())
		}
	case 9, 10: // hashes
		switch g.r.IntN(6) {
		case 0, 1:
			return cat(g.pick("HSET", "HMSET"), k, g.member(), g.member(), g.pickS([]string{}, []string{g.member(), g.member()}, []string{g.member()}))
		case 2:
			return cat("HSETNX", k, g.member(), g.member())
		case 3:
			return cat("HDEL", k, g.members(1+g.r.IntN(2)))
		case 4:
			return cat("HINCRBY", k, g.member(), g.intArg())
		default:
			return cat("HINCRBYFLOAT", k, g.member(), g.floatArg())
		}
	case 11, 12: // streams
		return g.streamCommand(k)
	case 14, 15: // HyperLogLog
		return g.hllCommand(k)
	case 16, 17: // SORT
		return g.sortCommand(k)
	case 18, 19: // GEO searches that store
		return g.geoCommand(k)
	default:
		switch g.r.IntN(3) {
		case 0:
			lib := "lib" + strconv.Itoa(g.r.IntN(3))
			code := "#!lua name=" + lib + "\nredis.register_function('f" + lib + "', function() return 1 end)"
			return cat("FUNCTION", "LOAD", g.pickS([]string{}, []string{"REPLACE"}), code)
		case 1:
			return cat("FUNCTION", "DELETE", "lib"+strconv.Itoa(g.r.IntN(4)))
		default:
			return cat(g.pick("SET", "LPUSH", "SADD", "ZADD", "HSET"), k)
		}
	}
}

// hllCommand mixes small PFADDs (sparse registers, merges of VAL opcodes),
// bulk ones that promote to dense, PFCOUNT (which caches the cardinality
// in the stored value) and PFMERGE.
func (g *gen) hllCommand(k string) []string {
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return cat("PFADD", k, g.members(g.r.IntN(4)))
	case 3:
		n := []int{20, 100, 400, 1500, 3000}[g.r.IntN(5)]
		base := g.r.IntN(5000)
		els := make([]string, n)
		for i := range els {
			els[i] = "e" + strconv.Itoa(base+i)
		}
		return cat("PFADD", k, els)
	case 4, 5, 6:
		if g.r.IntN(3) == 0 {
			return cat("PFCOUNT", k, g.key())
		}
		return cat("PFCOUNT", k)
	case 7:
		return cat("SET", k, g.pick("HYLL", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "x"))
	default:
		return cat("PFMERGE", k, g.pickS([]string{}, []string{g.key()}, []string{g.key(), g.key()}))
	}
}

// sortCommand sorts lists, zsets, sets (and wrong types) by weights in
// w_<member> strings and wh_<member> hashes. Its zsets are y0-y2, which no
// other command touches: SORT converts a zset to a skiplist for good, and a
// skiplist's ZREMRANGEBYLEX over members whose lex and score orders differ
// depends on the skiplist's random levels. ALPHA is not combined with a
// BY pattern: its ties (missing or equal weights) leave Redis's order to
// qsort and the set's iteration order.
func (g *gen) sortCommand(k string) []string {
	switch g.r.IntN(6) {
	case 0:
		return cat("SET", "w_"+g.member(), g.pick(g.floatArg(), "1", "2", "3", "-5", "b", "a"))
	case 1:
		return cat("HSET", "wh_"+g.member(), g.pick("f", "g"), g.pick(g.floatArg(), "1", "2", "7", "c"))
	}
	src := g.pick("l", "t", "y", "s") + strconv.Itoa(g.r.IntN(3))
	if src[0] == 'y' && g.r.IntN(2) == 0 {
		return cat("ZADD", src, g.pick("1", "2", "-1", "0", "3.5"), g.member())
	}
	var opts []string
	alpha := false
	switch g.r.IntN(5) {
	case 0:
		opts = append(opts, "BY", g.pick("w_*", "wh_*->f", "wh_*->g", "w_*->", "*"))
	case 1:
		opts = append(opts, "BY", g.pick("nosort", "w_", "#"))
		alpha = g.r.IntN(2) == 0
	default:
		alpha = g.r.IntN(2) == 0
	}
	if g.r.IntN(3) == 0 {
		opts = append(opts, "LIMIT", g.pick("0", "1", "-1", "5", "x"), g.pick("0", "1", "2", "-1", "10"))
	}
	for i := g.r.IntN(3); i > 0; i-- {
		opts = append(opts, "GET", g.pick("#", "w_*", "wh_*->f", "wh_*->", "nostar", "#x"))
	}
	if g.r.IntN(2) == 0 {
		opts = append(opts, g.pick("ASC", "DESC"))
	}
	if alpha {
		opts = append(opts, "ALPHA")
	}
	if g.r.IntN(15) == 0 {
		opts = append(opts, g.pick("FOO", "LIMIT"))
	}
	return cat("SORT", src, opts, "STORE", g.pick(g.key(), "l0", "k1", src))
}

// geoCommand adds members at random places (so that distances do not tie)
// to g0-g2 and runs the storing searches over them. COUNT ANY only comes
// with a COUNT larger than the members, where the box scan order does not
// matter.
func (g *gen) geoCommand(k string) []string {
	src := "g" + strconv.Itoa(g.r.IntN(3))
	coord := func(span float64) string { return strconv.FormatFloat((g.r.Float64()*2-1)*span, 'f', 5, 64) }
	if g.r.IntN(3) == 0 {
		return cat("GEOADD", src, coord(3), coord(3), g.member(), coord(3), coord(3), "m"+strconv.Itoa(g.r.IntN(20)))
	}
	unit := g.pick("m", "km", "mi", "ft", "km", "yd")
	radius := g.pick("100", "250", "500", "0", "-1", "x")
	if unit == "m" || unit == "ft" {
		radius = g.pick("100000", "300000", "1")
	}
	var opts []string
	switch g.r.IntN(4) {
	case 0:
		opts = append(opts, "COUNT", g.pick("1", "2", "3", "0"))
	case 1:
		opts = append(opts, "COUNT", "100", "ANY")
	case 2:
		opts = append(opts, g.pick("ASC", "DESC", "ANY", "WITHDIST"))
	}
	dst := g.pick(k, "g0", "g3", "k1")
	storeKw := g.pick("STORE", "STOREDIST")
	storeDist := g.pickS([]string{}, []string{"STOREDIST"})
	if storeKw == "STOREDIST" || len(storeDist) > 0 {
		dst = "gd" + strconv.Itoa(g.r.IntN(2)) // see roundDistances
	}
	switch g.r.IntN(4) {
	case 0:
		return cat("GEORADIUS", src, coord(3), coord(3), radius, unit, opts, storeKw, dst)
	case 1:
		return cat("GEORADIUSBYMEMBER", src, g.pick("a", "b", "m1", "m2", "zz"), radius, unit, opts, storeKw, dst)
	default:
		from := g.pickS([]string{"FROMMEMBER", g.pick("a", "b", "m1", "m2", "zz")}, []string{"FROMLONLAT", coord(3), coord(3)}, []string{"FROMLONLAT", "200", "0"})
		by := g.pickS([]string{"BYRADIUS", radius, unit}, []string{"BYBOX", radius, g.pick("100", "300", "50"), unit})
		if g.r.IntN(10) == 0 {
			by = nil
		}
		return cat("GEOSEARCHSTORE", dst, src, from, by, opts, storeDist)
	}
}

func (g *gen) bitfieldOps() []string {
	var out []string
	for i := 0; i < 1+g.r.IntN(3); i++ {
		typ := g.pick("u8", "i8", "u4", "i16", "u63", "i64", "u64", "x8")
		off := g.pick("0", "3", "#1", "100", "-1")
		switch g.r.IntN(4) {
		case 0:
			out = append(out, "GET", typ, off)
		case 1:
			out = append(out, "SET", typ, off, g.intArg())
		case 2:
			out = append(out, "INCRBY", typ, off, g.pick("1", "-1", "200", "-300", "9223372036854775807"))
		default:
			out = append(out, "OVERFLOW", g.pick("WRAP", "SAT", "FAIL", "BAD"))
		}
	}
	return out
}

func (g *gen) streamCommand(k string) []string {
	switch g.r.IntN(16) {
	case 0, 1, 2:
		trim := g.pickS([]string{}, []string{}, []string{"MAXLEN", g.pick("0", "1", "3", "-1")}, []string{"MAXLEN", "=", "2"}, []string{"MINID", g.streamID()}, []string{"NOMKSTREAM"}, []string{"MAXLEN", "1", "LIMIT", "5"})
		return cat("XADD", k, trim, g.streamID(), g.member(), g.member(), g.pickS([]string{}, []string{"f2", "v2"}, []string{"odd"}))
	case 3:
		return cat("XDEL", k, g.streamID(), g.pickS([]string{}, []string{g.streamID()}))
	case 4:
		return cat("XTRIM", k, g.pickS([]string{"MAXLEN", g.pick("0", "2", "5")}, []string{"MINID", g.streamID()}, []string{"MAXLEN", "=", "1"}, []string{}, []string{"FOO"}))
	case 5:
		return cat("XSETID", k, g.streamID(), g.pickS([]string{}, []string{"ENTRIESADDED", g.pick("0", "5", "100", "-1")}, []string{"MAXDELETEDID", g.streamID()}, []string{"ENTRIESADDED", "50", "MAXDELETEDID", "0-1"}))
	case 6:
		return cat("XGROUP", "CREATE", k, g.group(), g.pick("$", "0", "0-0", g.streamID()), g.pickS([]string{}, []string{"MKSTREAM"}, []string{"ENTRIESREAD", g.pick("0", "3", "-1", "-2")}, []string{"MKSTREAM", "ENTRIESREAD", "1"}))
	case 7:
		return cat("XGROUP", "SETID", k, g.group(), g.pick("$", "0", g.streamID()), g.pickS([]string{}, []string{"ENTRIESREAD", g.pick("0", "2", "-1")}))
	case 8:
		if g.r.IntN(4) == 0 {
			return cat("XGROUP", "DESTROY", k, g.group())
		}
		return cat("XGROUP", g.pick("CREATECONSUMER", "DELCONSUMER"), k, g.group(), g.consumer())
	case 9:
		return cat("XACK", k, g.group(), g.streamID(), g.pickS([]string{}, []string{g.streamID()}))
	case 10, 11:
		opts := g.pickS([]string{}, []string{"TIME", g.pick("1000", "2000")}, []string{"FORCE", "JUSTID", "TIME", "1500"}, []string{"RETRYCOUNT", "7", "TIME", "1200"}, []string{"LASTID", g.streamID(), "TIME", "1300"}, []string{"FORCE", "TIME", "900", "RETRYCOUNT", "2", "JUSTID"}, []string{"BOGUS"})
		return cat("XCLAIM", k, g.group(), g.consumer(), g.pick("0", "3600000"), g.streamID(), g.pickS([]string{}, []string{g.streamID()}), opts)
	case 12:
		return cat("XAUTOCLAIM", k, g.group(), g.consumer(), g.pick("0", "3600000"), g.pick("0", "0-0", "(0-0", g.streamID()), g.pickS([]string{}, []string{"COUNT", "2"}, []string{"JUSTID"}, []string{"COUNT", "0"}))
	default:
		return cat("XREADGROUP", "GROUP", g.group(), g.consumer(), g.pickS([]string{}, []string{"COUNT", "2"}, []string{"NOACK"}), "STREAMS", k, g.pick(">", ">", "0", "$"))
	}
}
