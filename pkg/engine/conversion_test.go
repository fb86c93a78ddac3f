package engine_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestEncodingConversions walks every conversion between the packed and the
// large form of each type, in both directions (growth by count and by
// element size; shrinking, store commands and loading from an RDB value that
// give the packed form back), under Redis 7.0 and Valkey 8 (7.2's rules:
// listpack sets and lists). After each step the value is checked against a
// model of its contents, through the read commands, and its encoding against
// what the server would report. (The differential tests check the same
// against real servers on random commands; this test makes sure that each
// transition is taken.)
func TestEncodingConversions(t *testing.T) {
	long := strings.Repeat("v", 70)
	n := func(i int) string { return strconv.Itoa(i) }
	many := func(prefix string, k int) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = prefix + n(i)
		}
		return out
	}
	type step struct {
		cmd  []string
		load *rdb.Value // instead of cmd: load this value under the key
		enc  string     // the expected encoding ("" for no key)
		enc7 string     // under 7.2 rules, when it differs
	}
	families := []struct {
		name string
		opts engine.Options
		v72  bool
	}{{"redis 7.0", engine.Options{Version: 700}, false}, {"valkey 8", engine.Options{Valkey: true, Version: 800}, true}}
	cases := []struct {
		name  string
		key   string
		read  []string // the command that lists the contents, compared with the model
		steps []step
	}{
		{"hash by count", "h", []string{"HGETALL", "h"}, []step{
			{cmd: []string{"HSET", "h", "f", "v"}, enc: "listpack"},
			{cmd: append([]string{"HSET", "h"}, pairs(many("f", 512))...), enc: "hashtable"},
			{cmd: append([]string{"HDEL", "h"}, many("f", 510)...), enc: "hashtable"},
			{load: hashValue(many("f", 3)), enc: "listpack"},
		}},
		{"hash by size", "h", []string{"HGETALL", "h"}, []step{
			{cmd: []string{"HSET", "h", "a", "1", "b", "2"}, enc: "listpack"},
			{cmd: []string{"HSET", "h", "c", long}, enc: "hashtable"},
			{load: hashValue([]string{"x"}), enc: "listpack"},
			{cmd: []string{"HINCRBY", "h", long, "5"}, enc: "hashtable"},
			{load: hashValue([]string{long}), enc: "hashtable"},
		}},
		{"set", "s", []string{"SMEMBERS", "s"}, []step{
			{cmd: []string{"SADD", "s", "1", "2", "3"}, enc: "intset"},
			{cmd: []string{"SADD", "s", "a"}, enc: "hashtable", enc7: "listpack"},
			{cmd: []string{"SADD", "s", long}, enc: "hashtable"},
			{cmd: []string{"SREM", "s", long, "a"}, enc: "hashtable"},
			{cmd: []string{"SINTERSTORE", "s", "s"}, enc: "intset"},
			{cmd: append([]string{"SADD", "s"}, many("", 600)...), enc: "hashtable"},
			{cmd: []string{"DEL", "s"}, enc: ""},
			{cmd: append([]string{"SADD", "s"}, many("m", 100)...), enc: "hashtable", enc7: "listpack"},
			{cmd: append([]string{"SADD", "s"}, many("x", 100)...), enc: "hashtable"},
			{load: setValue(many("m", 3)), enc: "hashtable", enc7: "listpack"},
			{load: setValue(many("", 700)), enc: "hashtable"},
			{load: setValue([]string{"7", "8"}), enc: "intset"},
		}},
		{"sorted set", "z", []string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, []step{
			{cmd: []string{"ZADD", "z", "0", "a", "2", "b"}, enc: "listpack"},
			{cmd: append([]string{"ZADD", "z"}, scored(many("m", 200))...), enc: "skiplist"},
			{cmd: []string{"ZADD", "z", "-0", "neg"}, enc: "skiplist"},
			{cmd: []string{"ZREMRANGEBYRANK", "z", "0", "-5"}, enc: "skiplist"},
			{cmd: []string{"ZUNIONSTORE", "z", "1", "z"}, enc: "listpack"},
			{cmd: []string{"ZADD", "z", "1", long}, enc: "skiplist"},
			{cmd: []string{"ZRANGESTORE", "z", "z", "-2", "-1"}, enc: "listpack"},
			{load: zsetValue(many("l", 300)), enc: "skiplist"},
			{load: zsetValue(many("l", 5)), enc: "listpack"},
		}},
		{"list", "l", []string{"LRANGE", "l", "0", "-1"}, []step{
			{cmd: []string{"RPUSH", "l", "a", "b"}, enc: "quicklist", enc7: "listpack"},
			{cmd: append([]string{"RPUSH", "l"}, repeat(long, 200)...), enc: "quicklist"},
			{cmd: []string{"LTRIM", "l", "0", "5"}, enc: "quicklist", enc7: "listpack"},
			{cmd: append([]string{"LPUSH", "l"}, repeat(long, 200)...), enc: "quicklist"},
			{cmd: []string{"RPOP", "l", "190"}, enc: "quicklist", enc7: "listpack"},
			{cmd: []string{"RPOP", "l", "10"}, enc: "quicklist", enc7: "listpack"},
			{load: listValue(repeat(long, 300)), enc: "quicklist"},
			{load: listValue([]string{"x"}), enc: "quicklist", enc7: "listpack"},
		}},
		{"stream", "x", []string{"XRANGE", "x", "-", "+"}, []step{
			{cmd: []string{"XADD", "x", "1-1", "f", "v"}, enc: "stream"},
			{cmd: xadds(2, 400), enc: "stream"},
			{cmd: []string{"XTRIM", "x", "MAXLEN", "3"}, enc: "stream"},
			{cmd: []string{"XDEL", "x", "400-1"}, enc: "stream"},
		}},
	}
	for _, fam := range families {
		for _, c := range cases {
			t.Run(fam.name+"/"+c.name, func(t *testing.T) {
				e := engine.New(fam.opts)
				m := newModel()
				for i, st := range c.steps {
					if st.load != nil {
						if err := e.Load(0, &rdb.Entry{Kind: rdb.EntryKey, Key: []byte(c.key)}, st.load); err != nil {
							t.Fatal(err)
						}
						m.load(c.key, st.load)
					} else {
						for _, cmd := range splitCmds(st.cmd) {
							if err := e.Apply(bs(cmd...)); err != nil {
								t.Fatalf("step %d: %q: %v", i, cmd, err)
							}
							m.apply(cmd)
						}
					}
					want := st.enc
					if fam.v72 && st.enc7 != "" {
						want = st.enc7
					}
					if got := string(e.Exec(bs("OBJECT", "ENCODING", c.key)).Str); got != want {
						t.Fatalf("step %d: encoding %q, want %q", i, got, want)
					}
					got := flatEngine(e.Exec(bs(c.read...)))
					if w := m.read(c.read); !slices.Equal(normalizeRead(c.read[0], got), normalizeRead(c.read[0], w)) {
						t.Fatalf("step %d: %v is\n%v\nwant\n%v", i, c.read, got, w)
					}
				}
			})
		}
	}
}

func pairs(fields []string) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f, "v"+f)
	}
	return out
}

func scored(members []string) []string {
	var out []string
	for i, m := range members {
		out = append(out, strconv.Itoa(i%7), m)
	}
	return out
}

func repeat(s string, k int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = s + strconv.Itoa(i)
	}
	return out
}

// xadds is many XADD commands in one step, joined by "\n" markers.
func xadds(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, "XADD", "x", strconv.Itoa(i)+"-1", "f", strings.Repeat("v", i%50), "\n")
	}
	return out
}

func splitCmds(s []string) [][]string {
	var out [][]string
	var cur []string
	for _, a := range s {
		if a == "\n" {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, a)
	}
	if cur != nil {
		out = append(out, cur)
	}
	return out
}

func hashValue(fields []string) *rdb.Value {
	v := &rdb.Value{Kind: rdb.KindHash, Encoded: rdb.TypeHash}
	for _, f := range fields {
		v.Hash = append(v.Hash, rdb.HashField{Field: []byte(f), Value: []byte("v" + f)})
	}
	return v
}

func setValue(members []string) *rdb.Value {
	return &rdb.Value{Kind: rdb.KindSet, Encoded: rdb.TypeSet, Set: bs(members...)}
}

func zsetValue(members []string) *rdb.Value {
	v := &rdb.Value{Kind: rdb.KindZSet, Encoded: rdb.TypeZSet2}
	for i, m := range members {
		v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte(m), Score: float64(i)})
	}
	return v
}

func listValue(elems []string) *rdb.Value {
	return &rdb.Value{Kind: rdb.KindList, Encoded: rdb.TypeListQuicklist2, List: bs(elems...)}
}

// normalizeRead sorts what has no defined order (a hash's fields in a
// hashtable, a set's members).
func normalizeRead(cmd string, flat []string) []string {
	switch cmd {
	case "HGETALL":
		return slices.Sorted(slices.Values(pairsOf(flat)))
	case "SMEMBERS":
		return slices.Sorted(slices.Values(flat))
	}
	return flat
}

// model is the contents of the test's keys, kept the simple way.
type model struct {
	hash map[string]map[string]string
	set  map[string]map[string]bool
	zset map[string]map[string]float64
	list map[string][]string
	xs   map[string][][2]string // id, field values joined
}

func newModel() *model {
	return &model{hash: map[string]map[string]string{}, set: map[string]map[string]bool{},
		zset: map[string]map[string]float64{}, list: map[string][]string{}, xs: map[string][][2]string{}}
}

func (m *model) load(key string, v *rdb.Value) {
	m.del(key)
	switch v.Kind {
	case rdb.KindHash:
		m.hash[key] = map[string]string{}
		for _, f := range v.Hash {
			m.hash[key][string(f.Field)] = string(f.Value)
		}
	case rdb.KindSet:
		m.set[key] = map[string]bool{}
		for _, s := range v.Set {
			m.set[key][string(s)] = true
		}
	case rdb.KindZSet:
		m.zset[key] = map[string]float64{}
		for _, z := range v.ZSet {
			m.zset[key][string(z.Member)] = z.Score
		}
	case rdb.KindList:
		for _, el := range v.List {
			m.list[key] = append(m.list[key], string(el))
		}
	}
}

func (m *model) del(key string) {
	delete(m.hash, key)
	delete(m.set, key)
	delete(m.zset, key)
	delete(m.list, key)
	delete(m.xs, key)
}

func (m *model) apply(c []string) {
	k := c[1]
	atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
	switch c[0] {
	case "DEL":
		m.del(k)
	case "HSET", "HINCRBY":
		if m.hash[k] == nil {
			m.hash[k] = map[string]string{}
		}
		if c[0] == "HINCRBY" {
			cur, _ := strconv.Atoi(m.hash[k][c[2]])
			m.hash[k][c[2]] = strconv.Itoa(cur + atoi(c[3]))
			return
		}
		for i := 2; i+1 < len(c); i += 2 {
			m.hash[k][c[i]] = c[i+1]
		}
	case "HDEL":
		for _, f := range c[2:] {
			delete(m.hash[k], f)
		}
	case "SADD":
		if m.set[k] == nil {
			m.set[k] = map[string]bool{}
		}
		for _, s := range c[2:] {
			m.set[k][s] = true
		}
	case "SREM":
		for _, s := range c[2:] {
			delete(m.set[k], s)
		}
	case "SINTERSTORE": // of the key itself
	case "ZADD":
		if m.zset[k] == nil {
			m.zset[k] = map[string]float64{}
		}
		for i := 2; i+1 < len(c); i += 2 {
			f, _ := strconv.ParseFloat(c[i], 64)
			m.zset[k][c[i+1]] = f
		}
	case "ZREMRANGEBYRANK", "ZRANGESTORE":
		els := m.zsorted(k)
		var keep []zpair
		switch c[0] {
		case "ZREMRANGEBYRANK": // 0 .. -5: keep the last four
			keep = els[len(els)-4:]
		default: // ZRANGESTORE z z -2 -1
			keep = els[len(els)-2:]
		}
		m.zset[k] = map[string]float64{}
		for _, p := range keep {
			m.zset[k][p.m] = p.s
		}
	case "ZUNIONSTORE": // of the key itself
	case "RPUSH":
		m.list[k] = append(m.list[k], c[2:]...)
	case "LPUSH":
		for _, v := range c[2:] {
			m.list[k] = append([]string{v}, m.list[k]...)
		}
	case "LTRIM":
		m.list[k] = m.list[k][atoi(c[2]) : atoi(c[3])+1]
	case "RPOP":
		m.list[k] = m.list[k][:len(m.list[k])-atoi(c[2])]
	case "XADD":
		m.xs[k] = append(m.xs[k], [2]string{c[2], strings.Join(c[3:], ",")})
	case "XTRIM":
		m.xs[k] = m.xs[k][len(m.xs[k])-atoi(c[3]):]
	case "XDEL":
		m.xs[k] = slices.DeleteFunc(m.xs[k], func(e [2]string) bool { return e[0] == c[2] })
	}
}

type zpair struct {
	m string
	s float64
}

func (m *model) zsorted(k string) []zpair {
	var els []zpair
	for mem, s := range m.zset[k] {
		els = append(els, zpair{mem, s})
	}
	slices.SortFunc(els, func(a, b zpair) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return strings.Compare(a.m, b.m)
	})
	return els
}

// read renders the model's answer to a read command as flat leaves.
func (m *model) read(c []string) []string {
	k := c[1]
	var out []string
	switch c[0] {
	case "HGETALL":
		for f, v := range m.hash[k] {
			out = append(out, "$"+f, "$"+v)
		}
	case "SMEMBERS":
		for s := range m.set[k] {
			out = append(out, "$"+s)
		}
	case "ZRANGE":
		for _, p := range m.zsorted(k) {
			out = append(out, "$"+p.m, "$"+fmt.Sprint(p.s))
		}
	case "LRANGE":
		for _, v := range m.list[k] {
			out = append(out, "$"+v)
		}
	case "XRANGE":
		for _, e := range m.xs[k] {
			out = append(out, "$"+e[0])
			for _, f := range strings.Split(e[1], ",") {
				out = append(out, "$"+f)
			}
		}
	}
	return out
}
