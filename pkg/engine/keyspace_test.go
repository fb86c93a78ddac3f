package engine

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// check verifies the invariants of the keyspace: every live entry is in the
// table once, every slot holds a live entry at or after its home, the counts
// of keys, bytes and objects agree with the arena.
func (d *DB) check() error {
	var live, dead int64
	n, refs := 0, 0
	for ci, c := range d.chunks {
		if len(c)%(1<<alignBits) != 0 {
			return fmt.Errorf("chunk %d: length %d not aligned", ci, len(c))
		}
		for off := 0; off < len(c); {
			en := parseEntry(c, off)
			if en.end() > len(c) {
				return fmt.Errorf("chunk %d offset %d: entry ends at %d, past %d", ci, off, en.end(), len(c))
			}
			if en.flags&fDead != 0 {
				dead += int64(en.size())
				off = en.end()
				continue
			}
			live += int64(en.size())
			n++
			if en.flags&fRef != 0 {
				refs++
				if int(en.idx) >= len(d.objs) || d.objs[en.idx] == nil {
					return fmt.Errorf("key %q: object %d missing", en.key(), en.idx)
				}
			}
			slot, _, ok := d.find(en.key())
			if !ok {
				return fmt.Errorf("key %q: not in the table", en.key())
			}
			if got := slotLoc(d.slots[slot]); got != makeLoc(ci, off) {
				return fmt.Errorf("key %q: slot points to %x, entry at %x", en.key(), got, makeLoc(ci, off))
			}
			off = en.end()
		}
	}
	used := 0
	mask := len(d.slots) - 1
	for i, s := range d.slots {
		if s == 0 {
			continue
		}
		used++
		en := d.at(slotLoc(s))
		if en.flags&fDead != 0 {
			return fmt.Errorf("slot %d: dead entry %q", i, en.key())
		}
		h := hashKey(en.key())
		if s>>locBits != h>>locBits {
			return fmt.Errorf("slot %d: hash bits of %q wrong", i, en.key())
		}
		home := int(h >> d.shift)
		for j := home; j != i; j = (j + 1) & mask {
			if d.slots[j] == 0 {
				return fmt.Errorf("slot %d: gap at %d after home %d", i, j, home)
			}
		}
	}
	nobj := 0
	for _, o := range d.objs {
		if o != nil {
			nobj++
		}
	}
	switch {
	case n != d.n || used != d.n:
		return fmt.Errorf("keys: %d in the arena, %d in the table, n=%d", n, used, d.n)
	case live != d.live || dead != d.dead:
		return fmt.Errorf("bytes: live %d dead %d, counted %d %d", live, dead, d.live, d.dead)
	case nobj != refs || len(d.objs)-len(d.free) != refs:
		return fmt.Errorf("objects: %d held, %d referenced, %d slots with %d free", nobj, refs, len(d.objs), len(d.free))
	case d.n*5 > len(d.slots)*4 && d.n > 0:
		return fmt.Errorf("table too full: %d keys in %d slots", d.n, len(d.slots))
	}
	return nil
}

func (e *Engine) check(t *testing.T) {
	t.Helper()
	for i, d := range e.dbs {
		if err := d.check(); err != nil {
			t.Fatalf("db %d: %v", i, err)
		}
	}
}

func args(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, a := range s {
		out[i] = []byte(a)
	}
	return out
}

func mustApply(t *testing.T, e *Engine, a ...string) {
	t.Helper()
	if err := e.Apply(args(a...)); err != nil {
		t.Fatalf("%q: %v", a, err)
	}
}

// order lists "key" or "key=value" (strings) in Each's order.
func order(t *testing.T, e *Engine) string {
	t.Helper()
	var out []string
	err := e.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		s := string(key)
		if db != 0 {
			s = strconv.Itoa(db) + ":" + s
		}
		if v.Kind == rdb.KindString {
			s += "=" + string(v.String)
		}
		if ent.HasExpire {
			s += "@" + strconv.FormatInt(ent.ExpireAtMs, 10)
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// TestKeyspaceOrder pins down Each's order: the order of writes, where a key
// moves only when its entry must be rewritten elsewhere.
func TestKeyspaceOrder(t *testing.T) {
	e := New(Options{Clock: func() int64 { return 1000 }})
	for _, step := range []struct{ cmd, want string }{
		{"SET a 1", "a=1"},
		{"SET b 22", "a=1 b=22"},
		{"SET c 333", "a=1 b=22 c=333"},
		{"SET a 9", "a=9 b=22 c=333"},                      // the same size: in place
		{"SET a 99999999", "b=22 c=333 a=99999999"},        // another size: moves
		{"PEXPIREAT b 5000", "c=333 a=99999999 b=22@5000"}, // a first TTL: moves
		{"PEXPIREAT b 6000", "c=333 a=99999999 b=22@6000"}, // in place
		{"PERSIST b", "c=333 a=99999999 b=22"},             // in place
		{"PEXPIREAT b 7000", "c=333 a=99999999 b=22@7000"}, // the field is still there
		{"SET b 33 KEEPTTL", "c=333 a=99999999 b=33@7000"}, // in place, TTL kept
		{"SET b 44", "c=333 a=99999999 b=44"},              // in place, TTL dropped
		{"INCR a", "c=333 b=44 a=100000000"},               // 8 -> 9 digits: moves
		{"INCR a", "c=333 b=44 a=100000001"},               // in place
		{"APPEND c x", "b=44 a=100000001 c=333x"},          // promoted: moves
		{"APPEND c y", "b=44 a=100000001 c=333xy"},         // an object now
		{"SET c 1", "b=44 a=100000001 c=1"},                // object -> inline: moves
		{"RPUSH l x", "b=44 a=100000001 c=1 l"},            // a new key
		{"DEL a", "b=44 c=1 l"},
		{"SET a 5", "b=44 c=1 l a=5"}, // new again
		{"RENAME b z", "c=1 l a=5 z=44"},
		{"SELECT 1", "c=1 l a=5 z=44"},
		{"SET q 1", "c=1 l a=5 z=44 1:q=1"}, // databases in order
		{"SWAPDB 0 1", "q=1 1:c=1 1:l 1:a=5 1:z=44"},
		{"FLUSHDB", "q=1"}, // db 1 is selected
		{"MSET m1 a m2 b q 2", "q=1 1:m1=a 1:m2=b 1:q=2"},
		{"SETEX m1 10 cc", "q=1 1:m2=b 1:q=2 1:m1=cc@11000"}, // relative TTL
		{"GETEX m1 PERSIST", "q=1 1:m2=b 1:q=2 1:m1=cc"},     // in place
		{"GETDEL m2", "q=1 1:q=2 1:m1=cc"},
		{"SET m1 d XX GET", "q=1 1:q=2 1:m1=d"},
		{"SET m1 e NX", "q=1 1:q=2 1:m1=d"}, // unchanged
		{"SET m3 e PXAT 8000", "q=1 1:q=2 1:m1=d 1:m3=e@8000"},
	} {
		mustApply(t, e, strings.Fields(step.cmd)...)
		if got := order(t, e); got != step.want {
			t.Fatalf("after %s:\n got %s\nwant %s", step.cmd, got, step.want)
		}
		e.check(t)
	}
}

// model is what a database should hold: strings and lists.
type model struct {
	str  map[string]string
	list map[string][]string
	ttl  map[string]int64
}

func newModel() *model {
	return &model{str: map[string]string{}, list: map[string][]string{}, ttl: map[string]int64{}}
}

func (m *model) del(k string) bool {
	_, s := m.str[k]
	_, l := m.list[k]
	delete(m.str, k)
	delete(m.list, k)
	delete(m.ttl, k)
	return s || l
}

func (m *model) dump() string {
	var lines []string
	for k, v := range m.str {
		lines = append(lines, fmt.Sprintf("%q=%q@%d", k, v, m.ttl[k]))
	}
	for k, v := range m.list {
		lines = append(lines, fmt.Sprintf("%q=%q@%d", k, v, m.ttl[k]))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func engineDump(t *testing.T, e *Engine) string {
	t.Helper()
	var lines []string
	err := e.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		var ttl int64
		if ent.HasExpire {
			ttl = ent.ExpireAtMs
		}
		switch v.Kind {
		case rdb.KindString:
			lines = append(lines, fmt.Sprintf("%q=%q@%d", key, v.String, ttl))
		case rdb.KindList:
			var l []string
			for _, x := range v.List {
				l = append(l, string(x))
			}
			lines = append(lines, fmt.Sprintf("%q=%q@%d", key, l, ttl))
		default:
			t.Fatalf("unexpected kind %v", v.Kind)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestKeyspaceModel runs random string and list commands over many keys
// against a plain map model, checking the table's invariants along the way:
// growth, in-place and moving overwrites, deletes with backward shifts,
// promotion, TTLs, compaction, values too long to be inline.
func TestKeyspaceModel(t *testing.T) {
	t.Run("stored home bits", func(t *testing.T) { testKeyspaceModel(t, 400000) })
	// Tables too big for the stored hash bits to give home slots: growth and
	// deletion hash the keys again.
	defer func(b uint) { homeBits = b }(homeBits)
	homeBits = 9
	t.Run("rehashing", func(t *testing.T) { testKeyspaceModel(t, 100000) })
}

func testKeyspaceModel(t *testing.T, ops int) {
	r := rand.New(rand.NewPCG(7, 11))
	e := New(Options{Clock: func() int64 { return 1000 }})
	m := newModel()
	const keys = 30000
	key := func() string {
		if r.IntN(50) == 0 {
			return strings.Repeat("k", 200+r.IntN(300)) + strconv.Itoa(r.IntN(20)) // long keys
		}
		return "key:" + strconv.Itoa(r.IntN(keys))
	}
	val := func() string {
		switch r.IntN(40) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("v", maxInline+1+r.IntN(100)) // an object
		case 2:
			return strconv.Itoa(r.IntN(2000) - 1000)
		}
		return strings.Repeat(string(rune('a'+r.IntN(26))), 1+r.IntN(60))
	}
	maxDead := int64(0)
	compactions := 0
	for i := 0; i < ops; i++ {
		k := key()
		_, isStr := m.str[k]
		_, isList := m.list[k]
		var err error
		switch op := r.IntN(100); {
		case op < 40:
			v := val()
			err = e.Apply(args("SET", k, v))
			m.str[k] = v
			delete(m.list, k)
			delete(m.ttl, k)
		case op < 45:
			v := val()
			at := 5000 + int64(r.IntN(1000))
			err = e.Apply(args("SET", k, v, "PXAT", strconv.FormatInt(at, 10)))
			m.str[k] = v
			delete(m.list, k)
			m.ttl[k] = at
		case op < 48:
			v := val()
			err = e.Apply(args("SET", k, v, "KEEPTTL", "XX"))
			if isStr || isList {
				m.str[k] = v
				delete(m.list, k)
			}
		case op < 58:
			err = e.Apply(args("DEL", k))
			m.del(k)
		case op < 64:
			at := 3000 + int64(r.IntN(1000))
			err = e.Apply(args("PEXPIREAT", k, strconv.FormatInt(at, 10)))
			if isStr || isList {
				m.ttl[k] = at
			}
		case op < 66:
			err = e.Apply(args("PERSIST", k))
			delete(m.ttl, k)
		case op < 71:
			v := val()
			if len(m.str[k])+len(v) > maxInline*3 {
				v = "x"
			}
			err = e.Apply(args("APPEND", k, v))
			if !isList {
				m.str[k] += v
			}
		case op < 75:
			err = e.Apply(args("INCR", k))
			if s, ok := m.str[k]; ok {
				n, perr := strconv.ParseInt(s, 10, 64)
				if perr != nil || s != strconv.FormatInt(n, 10) {
					continue // the engine refuses it too
				}
				m.str[k] = strconv.FormatInt(n+1, 10)
			} else if !isList {
				m.str[k] = "1"
			}
		case op < 80:
			v := val()
			err = e.Apply(args("RPUSH", k, v))
			if !isStr {
				m.list[k] = append(m.list[k], v)
			}
		case op < 83:
			err = e.Apply(args("LPOP", k))
			if l := m.list[k]; len(l) > 0 {
				m.list[k] = l[1:]
				if len(l) == 1 {
					m.del(k)
				}
			}
		case op < 86:
			dst := key()
			err = e.Apply(args("RENAME", k, dst))
			if (isStr || isList) && dst != k {
				s, sok := m.str[k]
				l, lok := m.list[k]
				ttl, tok := m.ttl[k]
				m.del(k)
				m.del(dst)
				if sok {
					m.str[dst] = s
				}
				if lok {
					m.list[dst] = l
				}
				if tok {
					m.ttl[dst] = ttl
				}
			}
		case op < 89:
			err = e.Apply(args("GETDEL", k))
			if isStr {
				m.del(k)
			}
		case op < 92:
			k2, v1, v2 := key(), val(), val()
			err = e.Apply(args("MSET", k, v1, k2, v2))
			m.del(k)
			m.str[k] = v1
			m.del(k2)
			m.str[k2] = v2
		case op < 94:
			err = e.Apply(args("GETSET", k, "gs"))
			if !isList {
				m.str[k] = "gs"
				delete(m.ttl, k)
			}
		case op < 96:
			dst := key()
			if dst == k {
				continue
			}
			err = e.Apply(args("COPY", k, dst, "REPLACE"))
			if isStr || isList {
				m.del(dst)
				if s, ok := m.str[k]; ok {
					m.str[dst] = s
				} else {
					m.list[dst] = slices.Clone(m.list[k])
				}
				if ttl, ok := m.ttl[k]; ok {
					m.ttl[dst] = ttl
				}
			}
		case op < 98:
			err = e.Apply(args("SETRANGE", k, "2", "zz"))
			if !isList {
				b := []byte(m.str[k])
				for len(b) < 4 {
					b = append(b, 0)
				}
				copy(b[2:], "zz")
				m.str[k] = string(b)
			}
		default:
			if r.IntN(3000) == 0 {
				err = e.Apply(args("FLUSHALL"))
				m = newModel()
				maxDead = 0
			}
		}
		if err != nil && err != ErrWrongType && err != ErrNotInteger && err != ErrNoSuchKey {
			t.Fatalf("op %d on %q: %v", i, k, err)
		}
		d := e.dbs[0]
		if d.dead > maxDead {
			maxDead = d.dead
		} else if d.dead < maxDead/2 {
			compactions++
			maxDead = d.dead
		}
		if i%50000 == 0 {
			e.check(t)
		}
	}
	e.check(t)
	if got, want := engineDump(t, e), m.dump(); got != want {
		t.Fatalf("dataset differs from the model (%d keys vs %d)", e.DB(0).Len(), len(m.str)+len(m.list))
	}
	if compactions == 0 {
		t.Errorf("no compaction happened")
	}
	t.Logf("%d keys, %d slots, %d chunks, %d live / %d dead bytes, %d objects, %d compactions",
		e.DB(0).Len(), len(e.dbs[0].slots), len(e.dbs[0].chunks), e.dbs[0].live, e.dbs[0].dead, len(e.dbs[0].objs), compactions)
}

// TestKeyspaceCompaction deletes most keys: the arena shrinks, the survivors
// keep their order.
func TestKeyspaceCompaction(t *testing.T) {
	e := New(Options{})
	const n = 100000
	for i := 0; i < n; i++ {
		mustApply(t, e, "SET", "k"+strconv.Itoa(i), strings.Repeat("x", 20+i%50))
	}
	d := e.dbs[0]
	before := d.alloc
	for i := 0; i < n; i++ {
		if i%10 != 0 {
			mustApply(t, e, "DEL", "k"+strconv.Itoa(i))
		}
	}
	e.check(t)
	if d.alloc > before/3 || d.dead > d.live {
		t.Fatalf("arena not compacted: %d bytes allocated (was %d), %d live, %d dead", d.alloc, before, d.live, d.dead)
	}
	i := 0
	e.Each(func(_ int, key []byte, _ *rdb.Entry, v *rdb.Value) error {
		if want := "k" + strconv.Itoa(i); string(key) != want || len(v.String) != 20+i%50 {
			t.Fatalf("key %d: %q (%d bytes), want %q", i/10, key, len(v.String), want)
		}
		i += 10
		return nil
	})
	if i != n {
		t.Fatalf("%d keys walked", i/10)
	}
}

// TestKeyspaceBigEntries: a key longer than a chunk, values longer than
// maxInline.
func TestKeyspaceBigEntries(t *testing.T) {
	e := New(Options{})
	big := strings.Repeat("K", maxChunk+10)
	mustApply(t, e, "SET", "a", "1")
	mustApply(t, e, "SET", big, "v")
	mustApply(t, e, "SET", "b", strings.Repeat("v", maxInline+1))
	mustApply(t, e, "SET", "c", "3")
	mustApply(t, e, "PEXPIREAT", big, "123")
	e.check(t)
	var got []string
	e.Each(func(_ int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		got = append(got, fmt.Sprintf("%d:%d:%v", len(key), len(v.String), ent.HasExpire))
		return nil
	})
	want := fmt.Sprintf("1:1:false 1:%d:false 1:1:false %d:1:true", maxInline+1, len(big))
	if strings.Join(got, " ") != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	mustApply(t, e, "DEL", big)
	mustApply(t, e, "APPEND", "b", "w")
	e.check(t)
	if e.DB(0).Len() != 3 {
		t.Fatalf("%d keys", e.DB(0).Len())
	}

	// A compaction moves small entries before and after a big one that
	// stays in its own chunk.
	mustApply(t, e, "FLUSHALL")
	for i := 0; i < 60000; i++ {
		mustApply(t, e, "SET", "x"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	mustApply(t, e, "SET", big, "big")
	for i := 0; i < 1000; i++ {
		mustApply(t, e, "SET", "y"+strconv.Itoa(i), "after")
	}
	d := e.dbs[0]
	for i := 0; i < 60000; i++ {
		mustApply(t, e, "DEL", "x"+strconv.Itoa(i))
		if i%10000 == 0 {
			e.check(t)
		}
	}
	e.check(t)
	if d.dead != 0 && d.dead*2 > d.live {
		t.Fatalf("not compacted: %d live, %d dead", d.live, d.dead)
	}
	var keys []string
	e.Each(func(_ int, key []byte, _ *rdb.Entry, _ *rdb.Value) error {
		if len(key) > 10 {
			keys = append(keys, "BIG")
		} else {
			keys = append(keys, string(key))
		}
		return nil
	})
	if len(keys) != 1001 || keys[0] != "BIG" || keys[1] != "y0" || keys[1000] != "y999" {
		t.Fatalf("%d keys, %q ... %q", len(keys), keys[:2], keys[len(keys)-1])
	}
}

// TestKeyspaceLiveExpiry: in ModeLive an expired inline string is gone for
// every command, and its slot is reused.
func TestKeyspaceLiveExpiry(t *testing.T) {
	now := int64(10000)
	e := New(Options{Mode: ModeLive, Clock: func() int64 { return now }})
	mustApply(t, e, "SET", "a", "1", "PXAT", "20000")
	mustApply(t, e, "SET", "b", "2", "PX", "5000")
	mustApply(t, e, "SET", "c", "3")
	now = 30000
	mustApply(t, e, "SET", "a", "x", "NX") // a expired: NX sets it
	mustApply(t, e, "INCR", "b")           // b expired: starts from 0
	mustApply(t, e, "PEXPIREAT", "c", "100")
	e.check(t)
	if got := order(t, e); got != "a=x b=1" {
		t.Fatalf("got %s", got)
	}
}

// TestKeyspaceDeterminism: the same commands give the same RDB bytes whatever
// the hash seed.
func TestKeyspaceDeterminism(t *testing.T) {
	defer func(s maphash.Seed) { hashSeed = s }(hashSeed)
	run := func() []byte {
		hashSeed = maphash.MakeSeed()
		r := rand.New(rand.NewPCG(3, 4))
		e := New(Options{Clock: func() int64 { return 1000 }})
		for i := 0; i < 60000; i++ {
			k := "k" + strconv.Itoa(r.IntN(20000))
			switch r.IntN(8) {
			case 0:
				e.Apply(args("DEL", k))
			case 1:
				e.Apply(args("PEXPIREAT", k, strconv.Itoa(5000+r.IntN(100))))
			case 2:
				e.Apply(args("SADD", "s"+k, strconv.Itoa(r.IntN(10))))
			case 3:
				e.Apply(args("APPEND", k, "a"))
			default:
				e.Apply(args("SET", k, strings.Repeat("v", r.IntN(30))))
			}
		}
		e.check(t)
		opts, _ := rdb.TargetVersion("redis:7.0")
		var buf bytes.Buffer
		w := rdb.NewWriter(&buf, opts)
		if err := e.EachReused(func(_ int, _ []byte, ent *rdb.Entry, v *rdb.Value) error { return w.WriteKey(ent, v) }); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := run(), run()
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs wrote different files (%d and %d bytes)", len(a), len(b))
	}
}
