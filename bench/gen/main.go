// Command gen writes Redis commands in RESP (the form `redis-cli --pipe` reads)
// to standard output, for the benchmark datasets of bench/run.sh. The output is
// a pure function of the flags: the same -seed gives the same bytes.
//
//	gen -dataset strings -target-mb 450 | redis-cli -p PORT --pipe
//
// Datasets (docs/benchmarks.md describes them in full):
//
//	strings  SET key:<n> with incompressible 40-200 byte values (most small),
//	         ~1% integers, ~1% with a far-future PEXPIREAT, until -target-mb
//	         MiB of keys and values.
//	mixed    every encoding Redis 7.0 writes (strings, listpack and hashtable
//	         hashes, quicklists with large elements, intsets, hashtable sets,
//	         listpack and skiplist zsets, streams with consumer groups and
//	         PELs), TTLs, four databases and a function library; about equal
//	         bytes per type family, until -target-mb MiB.
//	biglist  one list of -elems short elements (RPUSH, 1000 per command).
//	bighash  one hash of -elems fields (HSET, 500 pairs per command).
//	pages    -keys SET commands of compressible page fragments (HTML and
//	         JSON, 100 B-2.4 KB, most stored LZF-compressed) and some opaque
//	         tokens; 10% with a far-future PEXPIREAT.
//
// A summary (commands, keys, payload bytes per family) goes to standard error.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
)

// config is what the flags set.
type config struct {
	Dataset  string
	TargetMB int   // strings, mixed: MiB of payload (keys, fields, values)
	Elems    int64 // biglist, bighash: elements or fields
	Keys     int64 // pages: keys
	Seed     uint64
	// PlainThreshold, when > 0, makes the mixed dataset start with
	// DEBUG QUICKLIST-PACKED-THRESHOLD so that list elements at least this big
	// are stored as plain quicklist nodes (the server must run with
	// --enable-debug-command local). 0 leaves the server's default (1 GB).
	PlainThreshold int
}

// stats describes what a run emitted.
type stats struct {
	Commands int64
	Keys     int64            // distinct keys created (all databases)
	KeysByDB map[int]int64    // distinct keys per database
	Payload  int64            // bytes of keys, fields and values
	ByFamily map[string]int64 // payload per type family (mixed), or per dataset
}

const (
	mib = 1 << 20
	// year2100 is 2100-01-01T00:00:00Z in Unix milliseconds: every TTL the
	// generator sets is later than this, so no key expires during a benchmark.
	year2100 = 4102444800000
	century  = 100 * 365 * 24 * 3600 * 1000
)

func main() {
	var cfg config
	var seed int64
	flag.StringVar(&cfg.Dataset, "dataset", "strings", "dataset: strings, mixed, biglist, bighash or pages")
	flag.IntVar(&cfg.TargetMB, "target-mb", 450, "strings, mixed: MiB of keys, fields and values to write")
	flag.Int64Var(&cfg.Elems, "elems", 20_000_000, "biglist, bighash: number of list elements or hash fields")
	flag.Int64Var(&cfg.Keys, "keys", 2_500_000, "pages: number of keys")
	flag.Int64Var(&seed, "seed", 1, "seed of the pseudo-random generator; the output is a function of the flags")
	flag.IntVar(&cfg.PlainThreshold, "plain-threshold", 0, "mixed: emit DEBUG QUICKLIST-PACKED-THRESHOLD N first (0: don't)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gen [-dataset strings|mixed|biglist|bighash|pages] [-target-mb N] [-elems N] [-keys N] [-seed N] > commands.resp\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	cfg.Seed = uint64(seed)
	st, err := generate(os.Stdout, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gen: dataset=%s commands=%d keys=%d payload=%d bytes (%.1f MiB)\n",
		cfg.Dataset, st.Commands, st.Keys, st.Payload, float64(st.Payload)/mib)
	fams := make([]string, 0, len(st.ByFamily))
	for f := range st.ByFamily {
		fams = append(fams, f)
	}
	sort.Strings(fams)
	for _, f := range fams {
		fmt.Fprintf(os.Stderr, "gen:   %-8s %6.1f MiB\n", f, float64(st.ByFamily[f])/mib)
	}
}

// generate writes the dataset's commands to out.
func generate(out io.Writer, cfg config) (*stats, error) {
	if cfg.TargetMB < 0 || cfg.Elems < 0 || cfg.Keys < 0 || cfg.PlainThreshold < 0 {
		return nil, errors.New("-target-mb, -elems, -keys and -plain-threshold must not be negative")
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], cfg.Seed)
	copy(seed[8:], "rdbtool-bench-gen")
	src := rand.NewChaCha8(seed)
	g := &gen{
		w:   resp{w: bw},
		src: src,
		rng: rand.New(src),
		st:  &stats{KeysByDB: map[int]int64{}, ByFamily: map[string]int64{}},
	}
	switch cfg.Dataset {
	case "strings":
		g.stringsDataset(int64(cfg.TargetMB) * mib)
	case "mixed":
		g.mixed(int64(cfg.TargetMB)*mib, cfg.PlainThreshold)
	case "biglist":
		g.biglist(cfg.Elems)
	case "bighash":
		g.bighash(cfg.Elems)
	case "pages":
		g.pagesDataset(cfg.Keys)
	default:
		return nil, fmt.Errorf("unknown dataset %q (want strings, mixed, biglist, bighash or pages)", cfg.Dataset)
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	g.st.Commands = g.w.cmds
	for _, n := range g.st.KeysByDB {
		g.st.Keys += n
	}
	return g.st, nil
}

// resp writes commands as RESP arrays of bulk strings. bufio.Writer's error is
// sticky, so only the final Flush is checked.
type resp struct {
	w    *bufio.Writer
	num  []byte
	cmds int64
}

// begin starts a command of n arguments (the command name included); exactly n
// calls of arg, argString or argInt must follow.
func (r *resp) begin(n int) {
	r.cmds++
	r.w.WriteByte('*')
	r.num = strconv.AppendInt(r.num[:0], int64(n), 10)
	r.w.Write(r.num)
	r.w.WriteString("\r\n")
}

func (r *resp) arg(b []byte) {
	r.w.WriteByte('$')
	r.num = strconv.AppendInt(r.num[:0], int64(len(b)), 10)
	r.w.Write(r.num)
	r.w.WriteString("\r\n")
	r.w.Write(b)
	r.w.WriteString("\r\n")
}

func (r *resp) argString(s string) {
	r.w.WriteByte('$')
	r.num = strconv.AppendInt(r.num[:0], int64(len(s)), 10)
	r.w.Write(r.num)
	r.w.WriteString("\r\n")
	r.w.WriteString(s)
	r.w.WriteString("\r\n")
}

func (r *resp) argInt(v int64) {
	var b [24]byte
	r.arg(strconv.AppendInt(b[:0], v, 10))
}

// cmd writes a whole command of string arguments.
func (r *resp) cmd(args ...string) {
	r.begin(len(args))
	for _, a := range args {
		r.argString(a)
	}
}

// gen holds the generator state shared by the datasets.
type gen struct {
	w   resp
	src *rand.ChaCha8
	rng *rand.Rand
	st  *stats
	db  int
	// scratch buffers, reused: what they return is valid until the next call
	// of the same helper.
	rbuf, abuf, tbuf []byte
}

// random returns n incompressible random bytes.
func (g *gen) random(n int) []byte {
	if cap(g.rbuf) < n {
		g.rbuf = make([]byte, n)
	}
	b := g.rbuf[:n]
	g.src.Read(b)
	return b
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// alnumStr returns n random letters and digits (never a valid integer when it
// starts with a letter; callers that need a non-integer use a prefix).
func (g *gen) alnumStr(n int) []byte {
	if cap(g.abuf) < n {
		g.abuf = make([]byte, n)
	}
	b := g.abuf[:n]
	g.src.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return b
}

var words = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do
eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis
nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat redis rdb
snapshot stream listpack quicklist intset skiplist`)

// text returns n bytes of words: LZF compresses it well.
func (g *gen) text(n int) []byte {
	b := g.tbuf[:0]
	for len(b) < n {
		b = append(b, words[g.rng.IntN(len(words))]...)
		b = append(b, ' ')
	}
	g.tbuf = b
	return b[:n]
}

// skewed returns a length in [lo, hi] where small values are much more likely.
func (g *gen) skewed(lo, hi int) int {
	u := g.rng.Float64()
	return lo + int(u*u*u*float64(hi-lo+1))
}

// pexpireat gives key a TTL at a random instant in the 22nd century.
func (g *gen) pexpireat(key []byte) {
	g.w.begin(3)
	g.w.argString("PEXPIREAT")
	g.w.arg(key)
	g.w.argInt(year2100 + g.rng.Int64N(century))
}

func (g *gen) selectDB(db int) {
	if db != g.db {
		g.w.cmd("SELECT", strconv.Itoa(db))
		g.db = db
	}
}

// newKey counts a key created in the current database.
func (g *gen) newKey() { g.st.KeysByDB[g.db]++ }

// stringsDataset: SET key:<n> value until target bytes of keys and values.
func (g *gen) stringsDataset(target int64) {
	var key []byte
	for n := int64(0); g.st.Payload < target; n++ {
		key = strconv.AppendInt(append(key[:0], "key:"...), n, 10)
		var val []byte
		if g.rng.IntN(100) == 0 {
			val = strconv.AppendInt(g.abuf[:0], g.rng.Int64N(1<<40)-(1<<39), 10)
		} else {
			val = g.random(g.skewed(40, 200))
		}
		g.setString(key, val, 100)
	}
	g.st.ByFamily["string"] = g.st.Payload
}

// setString writes SET key val for a new key, and gives one key in
// ttlOneIn a TTL.
func (g *gen) setString(key, val []byte, ttlOneIn int) {
	g.w.begin(3)
	g.w.argString("SET")
	g.w.arg(key)
	g.w.arg(val)
	g.newKey()
	g.st.Payload += int64(len(key) + len(val))
	if g.rng.IntN(ttlOneIn) == 0 {
		g.pexpireat(key)
	}
}

// biglist: one list of n short elements, 1000 per RPUSH.
func (g *gen) biglist(n int64) {
	const key = "biglist"
	if n > 0 {
		g.newKey()
	}
	for done := int64(0); done < n; {
		batch := min(n-done, 1000)
		g.w.begin(int(batch) + 2)
		g.w.argString("RPUSH")
		g.w.argString(key)
		for range batch {
			var e []byte
			if g.rng.IntN(10) == 0 {
				e = strconv.AppendInt(g.abuf[:0], g.rng.Int64N(1_000_000), 10)
			} else {
				e = g.alnumStr(4 + g.rng.IntN(13))
			}
			g.w.arg(e)
			g.st.Payload += int64(len(e))
		}
		done += batch
	}
	g.st.Payload += int64(len(key))
	g.st.ByFamily["list"] = g.st.Payload
}

// bighash: one hash of n fields, 500 field-value pairs per HSET.
func (g *gen) bighash(n int64) {
	const key = "bighash"
	if n > 0 {
		g.newKey()
	}
	var field []byte
	for done := int64(0); done < n; {
		batch := min(n-done, 500)
		g.w.begin(2*int(batch) + 2)
		g.w.argString("HSET")
		g.w.argString(key)
		for i := range batch {
			// Unique: the counter, then a random tail.
			field = strconv.AppendInt(append(field[:0], "f:"...), done+i, 10)
			field = append(field, ':')
			field = append(field, g.alnumStr(g.rng.IntN(7))...)
			g.w.arg(field)
			var v []byte
			if g.rng.IntN(5) == 0 {
				v = strconv.AppendInt(g.abuf[:0], g.rng.Int64N(1<<31), 10)
			} else {
				v = g.alnumStr(1 + g.rng.IntN(16))
			}
			g.w.arg(v)
			g.st.Payload += int64(len(field) + len(v))
		}
		done += batch
	}
	g.st.Payload += int64(len(key))
	g.st.ByFamily["hash"] = g.st.Payload
}
