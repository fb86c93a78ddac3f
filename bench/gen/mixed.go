package main

import (
	"math"
	"strconv"
)

// The mixed dataset: every encoding Redis 7.0 writes with its default
// configuration (hash-max-listpack-entries 512, hash-max-listpack-value 64,
// zset-max-listpack-entries 128, zset-max-listpack-value 64,
// set-max-intset-entries 512, list-max-listpack-size -2 i.e. 8 KB nodes,
// stream-node-max-entries 100).
//
// Families (string, hash, list, set, zset, stream) get equal payload bytes: the
// next key always comes from the family with the fewest bytes so far. Within a
// family, each kind gets its weight's share the same way.

// kind is one way of building a key of a family.
type kind struct {
	family string
	name   string
	weight float64
	emit   func(g *gen, key []byte) int64 // writes the key, returns payload bytes
}

var kinds = []kind{
	{"string", "raw", 0.59, (*gen).stringRaw},
	{"string", "text", 0.30, (*gen).stringText},
	{"string", "int", 0.01, (*gen).stringInt},
	{"string", "big", 0.10, (*gen).stringBig},

	{"hash", "listpack", 0.50, (*gen).hashListpack},
	{"hash", "many-fields", 0.30, (*gen).hashManyFields},
	{"hash", "big-values", 0.20, (*gen).hashBigValues},

	{"list", "small", 0.30, (*gen).listSmall},
	{"list", "large", 0.50, (*gen).listLarge},
	{"list", "big-elements", 0.20, (*gen).listBigElements},

	{"set", "intset16", 0.10, (*gen).setIntset16},
	{"set", "intset32", 0.10, (*gen).setIntset32},
	{"set", "intset64", 0.10, (*gen).setIntset64},
	{"set", "strings", 0.50, (*gen).setStrings},
	{"set", "many-ints", 0.20, (*gen).setManyInts},

	{"zset", "listpack", 0.50, (*gen).zsetListpack},
	{"zset", "skiplist", 0.35, (*gen).zsetSkiplist},
	{"zset", "big-members", 0.15, (*gen).zsetBigMembers},

	{"stream", "stream", 1, (*gen).stream},
}

var families = []string{"string", "hash", "list", "set", "zset", "stream"}

// mixedDBs are the databases keys go to, in turn, mixedRun keys at a time.
var mixedDBs = []int{0, 1, 2, 7}

const mixedRun = 200

// functionLib is a Lua library: FUNCTION LOAD puts it in the RDB (opcode 0xF5).
const functionLib = "#!lua name=benchlib\n" +
	"redis.register_function('bench_echo', function(keys, args) return args[1] end)\n" +
	"redis.register_function{function_name='bench_len', callback=function(keys, args) return #args end, flags={'no-writes'}}\n"

func (g *gen) mixed(target int64, plainThreshold int) {
	if plainThreshold > 0 {
		g.w.cmd("DEBUG", "QUICKLIST-PACKED-THRESHOLD", strconv.Itoa(plainThreshold))
	}
	g.w.cmd("FUNCTION", "LOAD", "REPLACE", functionLib)

	famBytes := map[string]int64{}
	kindBytes := make([]int64, len(kinds))
	counters := map[string]int64{}
	var key []byte
	for n := 0; g.st.Payload < target; n++ {
		g.selectDB(mixedDBs[(n/mixedRun)%len(mixedDBs)])
		fam := families[0]
		for _, f := range families[1:] {
			if famBytes[f] < famBytes[fam] {
				fam = f
			}
		}
		best := -1
		for i, k := range kinds {
			if k.family != fam {
				continue
			}
			if best < 0 || float64(kindBytes[i])/k.weight < float64(kindBytes[best])/kinds[best].weight {
				best = i
			}
		}
		k := kinds[best]
		key = append(key[:0], fam...)
		key = append(key, ':')
		key = append(key, k.name...)
		key = append(key, ':')
		key = strconv.AppendInt(key, counters[fam], 10)
		counters[fam]++
		if g.rng.IntN(100) == 0 {
			// A few binary key names.
			key = append(key, ':')
			key = append(key, g.random(8)...)
		}
		b := k.emit(g, key) + int64(len(key))
		g.newKey()
		if g.rng.IntN(20) == 0 {
			g.pexpireat(key)
		}
		kindBytes[best] += b
		famBytes[fam] += b
		g.st.Payload += b
	}
	for f, b := range famBytes {
		g.st.ByFamily[f] = b
	}
}

// intBytes returns v in decimal; valid until the next call.
func (g *gen) intBytes(v int64) []byte {
	g.abuf = strconv.AppendInt(g.abuf[:0], v, 10)
	return g.abuf
}

// set1 writes SET key val.
func (g *gen) set1(key, val []byte) int64 {
	g.w.begin(3)
	g.w.argString("SET")
	g.w.arg(key)
	g.w.arg(val)
	return int64(len(val))
}

func (g *gen) stringRaw(key []byte) int64 {
	n := g.skewed(1, 512)
	if g.rng.IntN(50) == 0 {
		n = 1024 + g.rng.IntN(63*1024)
	}
	return g.set1(key, g.random(n))
}

func (g *gen) stringText(key []byte) int64 { return g.set1(key, g.text(64+g.rng.IntN(8128))) }

// stringInt covers the RDB integer encodings (8, 16, 32 bit) and integers too
// big for them (stored as strings).
func (g *gen) stringInt(key []byte) int64 {
	var v int64
	switch g.rng.IntN(4) {
	case 0:
		v = g.rng.Int64N(256) - 128
	case 1:
		v = g.rng.Int64N(1<<16) - 1<<15
	case 2:
		v = g.rng.Int64N(1<<32) - 1<<31
	default:
		v = int64(g.rng.Uint64())
	}
	return g.set1(key, g.intBytes(v))
}

// stringBig: 100 KB - 2 MB, half incompressible, half text.
func (g *gen) stringBig(key []byte) int64 {
	n := 100<<10 + g.rng.IntN(1900<<10)
	if g.rng.IntN(2) == 0 {
		return g.set1(key, g.random(n))
	}
	return g.set1(key, g.text(n))
}

// hset writes HSET key in batches of 500 pairs; field and value return field i
// and its value (the field is written before the value is asked for, so the two
// may share buffers).
func (g *gen) hset(key []byte, n int, field func(i int) []byte, value func(i int) []byte) int64 {
	var b int64
	for done := 0; done < n; {
		batch := min(n-done, 500)
		g.w.begin(2 + 2*batch)
		g.w.argString("HSET")
		g.w.arg(key)
		for i := done; i < done+batch; i++ {
			f := field(i)
			g.w.arg(f)
			b += int64(len(f))
			v := value(i)
			g.w.arg(v)
			b += int64(len(v))
		}
		done += batch
	}
	return b
}

// smallValue is a hash value of at most max bytes: text, an integer or random
// bytes.
func (g *gen) smallValue(max int) []byte {
	switch g.rng.IntN(4) {
	case 0:
		return g.intBytes(g.rng.Int64N(1 << 40))
	case 1:
		return g.random(1 + g.rng.IntN(max))
	}
	return g.alnumStr(1 + g.rng.IntN(max))
}

func (g *gen) fieldName(i int) []byte {
	g.tbuf = strconv.AppendInt(append(g.tbuf[:0], 'f'), int64(i), 10)
	return g.tbuf
}

func (g *gen) hashListpack(key []byte) int64 {
	n := 1 + g.skewed(0, 127)
	named := g.rng.IntN(2) == 0
	return g.hset(key, n, func(i int) []byte {
		if named {
			return g.fieldName(i)
		}
		// Random names may repeat; HSET then just overwrites.
		return append(g.tbuf[:0], g.alnumStr(3+g.rng.IntN(18))...)
	}, func(int) []byte { return g.smallValue(64) })
}

func (g *gen) hashManyFields(key []byte) int64 {
	n := 600 + g.rng.IntN(3400)
	return g.hset(key, n, g.fieldName, func(int) []byte { return g.smallValue(24) })
}

func (g *gen) hashBigValues(key []byte) int64 {
	n := 5 + g.rng.IntN(56)
	big := g.rng.IntN(n)
	return g.hset(key, n, g.fieldName, func(i int) []byte {
		if i == big || g.rng.IntN(3) == 0 {
			return g.random(65 + g.rng.IntN(960))
		}
		return g.smallValue(64)
	})
}

// rpush writes RPUSH key in batches of 1000 elements.
func (g *gen) rpush(key []byte, n int, elem func(i int) []byte) int64 {
	var b int64
	for done := 0; done < n; {
		batch := min(n-done, 1000)
		g.w.begin(2 + batch)
		g.w.argString("RPUSH")
		g.w.arg(key)
		for i := done; i < done+batch; i++ {
			e := elem(i)
			g.w.arg(e)
			b += int64(len(e))
		}
		done += batch
	}
	return b
}

func (g *gen) listElem(max int) []byte {
	switch g.rng.IntN(5) {
	case 0:
		// listpack integer encodings: 7, 13, 16, 24, 32 and 64 bit.
		return g.intBytes(g.rng.Int64N(1<<(7+g.rng.IntN(56))) - 64)
	case 1:
		return g.random(1 + g.rng.IntN(max))
	}
	return g.alnumStr(1 + g.rng.IntN(max))
}

func (g *gen) listSmall(key []byte) int64 {
	return g.rpush(key, 1+g.rng.IntN(100), func(int) []byte { return g.listElem(40) })
}

func (g *gen) listLarge(key []byte) int64 {
	return g.rpush(key, 1000+g.rng.IntN(19000), func(int) []byte { return g.listElem(64) })
}

// listBigElements mixes short elements with 8-48 KB ones: those do not fit an
// 8 KB node and get a node of their own (or a plain node, above the threshold
// set by -plain-threshold).
func (g *gen) listBigElements(key []byte) int64 {
	return g.rpush(key, 3+g.rng.IntN(28), func(int) []byte {
		if g.rng.IntN(2) == 0 {
			return g.listElem(64)
		}
		n := 8<<10 + g.rng.IntN(40<<10)
		if g.rng.IntN(4) == 0 {
			return g.text(n)
		}
		return g.random(n)
	})
}

// sadd writes SADD key in batches of 1000 members.
func (g *gen) sadd(key []byte, n int, member func() []byte) int64 {
	var b int64
	for done := 0; done < n; {
		batch := min(n-done, 1000)
		g.w.begin(2 + batch)
		g.w.argString("SADD")
		g.w.arg(key)
		for range batch {
			m := member()
			g.w.arg(m)
			b += int64(len(m))
		}
		done += batch
	}
	return b
}

// intset writes a set of up to 512 integers in [-2^(bits-1), 2^(bits-1)), one
// of them outside the next smaller width so the intset gets this encoding.
func (g *gen) intset(key []byte, bits uint) int64 {
	n := 1 + g.skewed(0, 511)
	half := int64(1) << (bits - 1)
	if bits == 64 {
		half = math.MaxInt64
	}
	first := true
	return g.sadd(key, n, func() []byte {
		if first {
			first = false
			if bits == 16 {
				return g.intBytes(-half)
			}
			return g.intBytes(half - 1)
		}
		v := g.rng.Int64N(half)
		if g.rng.IntN(2) == 0 {
			v = -v - 1
		}
		return g.intBytes(v)
	})
}

func (g *gen) setIntset16(key []byte) int64 { return g.intset(key, 16) }
func (g *gen) setIntset32(key []byte) int64 { return g.intset(key, 32) }
func (g *gen) setIntset64(key []byte) int64 { return g.intset(key, 64) }

func (g *gen) setStrings(key []byte) int64 {
	return g.sadd(key, 10+g.skewed(0, 2990), func() []byte {
		if g.rng.IntN(2) == 0 {
			return g.random(4 + g.rng.IntN(37))
		}
		return g.alnumStr(4 + g.rng.IntN(37))
	})
}

// setManyInts: more integers than set-max-intset-entries, so a hashtable.
func (g *gen) setManyInts(key []byte) int64 {
	return g.sadd(key, 600+g.rng.IntN(2400), func() []byte { return g.intBytes(int64(g.rng.Uint64())) })
}

// score returns a ZADD score: integers, fractions, large and tiny magnitudes,
// and now and then an infinity.
func (g *gen) score() []byte {
	switch r := g.rng.IntN(1000); {
	case r == 0:
		return append(g.tbuf[:0], "+inf"...)
	case r == 1:
		return append(g.tbuf[:0], "-inf"...)
	case r < 400:
		return g.intBytes(g.rng.Int64N(2_000_000) - 1_000_000)
	case r < 450:
		g.tbuf = strconv.AppendFloat(g.tbuf[:0], g.rng.NormFloat64()*1e-300, 'g', -1, 64)
	default:
		g.tbuf = strconv.AppendFloat(g.tbuf[:0], g.rng.NormFloat64()*1e6, 'g', -1, 64)
	}
	return g.tbuf
}

// zadd writes ZADD key in batches of 500 score-member pairs.
func (g *gen) zadd(key []byte, n int, member func(i int) []byte) int64 {
	var b int64
	for done := 0; done < n; {
		batch := min(n-done, 500)
		g.w.begin(2 + 2*batch)
		g.w.argString("ZADD")
		g.w.arg(key)
		for i := done; i < done+batch; i++ {
			s := g.score()
			g.w.arg(s)
			m := member(i)
			g.w.arg(m)
			b += int64(len(m)) + 8
		}
		done += batch
	}
	return b
}

func (g *gen) zsetMember(i int) []byte {
	if g.rng.IntN(3) == 0 {
		return g.intBytes(int64(i))
	}
	return g.alnumStr(1 + g.rng.IntN(40))
}

func (g *gen) zsetListpack(key []byte) int64 { return g.zadd(key, 1+g.skewed(0, 127), g.zsetMember) }

func (g *gen) zsetSkiplist(key []byte) int64 {
	return g.zadd(key, 129+g.skewed(0, 4871), g.zsetMember)
}

func (g *gen) zsetBigMembers(key []byte) int64 {
	n := 3 + g.rng.IntN(38)
	big := g.rng.IntN(n)
	return g.zadd(key, n, func(i int) []byte {
		if i == big || g.rng.IntN(4) == 0 {
			return g.random(65 + g.rng.IntN(236))
		}
		return g.zsetMember(i)
	})
}

var streamFields = []string{"name", "value", "ts", "user", "event", "payload", "region", "n"}

type streamID struct{ ms, seq int64 }

func (id streamID) String() string {
	return strconv.FormatInt(id.ms, 10) + "-" + strconv.FormatInt(id.seq, 10)
}

// stream writes XADDs with explicit increasing IDs, most entries with the
// stream's usual fields (stored as "same fields" in the node), deletes a few
// entries, creates 0-3 consumer groups, reads into their PELs with
// XREADGROUP, acknowledges part of them, and now and then trims the stream
// empty (groups and PELs stay).
func (g *gen) stream(key []byte) int64 {
	var b int64
	n := 50 + g.skewed(0, 2950)
	usual := streamFields[:1+g.rng.IntN(4)]
	id := streamID{ms: 1_600_000_000_000 + g.rng.Int64N(100_000_000_000)}
	ids := make([]streamID, 0, n)
	fields := make([]string, 0, len(streamFields))
	for range n {
		if d := g.rng.Int64N(1000); d > 0 {
			id.ms += d
			id.seq = 0
		} else {
			id.seq++
		}
		ids = append(ids, id)
		fields = fields[:0]
		if g.rng.IntN(5) == 0 {
			for _, f := range streamFields {
				if g.rng.IntN(2) == 0 {
					fields = append(fields, f)
				}
			}
			if len(fields) == 0 {
				fields = append(fields, "x")
			}
		} else {
			fields = append(fields, usual...)
		}
		g.w.begin(3 + 2*len(fields))
		g.w.argString("XADD")
		g.w.arg(key)
		g.w.argString(id.String())
		for _, f := range fields {
			g.w.argString(f)
			var v []byte
			if g.rng.IntN(3) == 0 {
				v = g.intBytes(g.rng.Int64N(1 << 40))
			} else {
				v = g.alnumStr(1 + g.rng.IntN(60))
			}
			g.w.arg(v)
			b += int64(len(f) + len(v))
		}
	}
	deleted := map[streamID]bool{}
	if g.rng.IntN(3) == 0 {
		del := 1 + g.rng.IntN(10)
		g.w.begin(2 + del)
		g.w.argString("XDEL")
		g.w.arg(key)
		for range del {
			d := ids[g.rng.IntN(len(ids))]
			deleted[d] = true
			g.w.argString(d.String())
		}
	}
	live := ids[:0:0]
	for _, id := range ids {
		if !deleted[id] {
			live = append(live, id)
		}
	}
	for gi := range g.rng.IntN(4) {
		group := "group-" + strconv.Itoa(gi)
		if g.rng.IntN(5) == 0 {
			g.w.cmd("XGROUP", "CREATE", string(key), group, "$")
			g.w.cmd("XGROUP", "CREATECONSUMER", string(key), group, "idle")
			continue
		}
		g.w.cmd("XGROUP", "CREATE", string(key), group, "0")
		next := 0
		for ci := range 1 + g.rng.IntN(3) {
			count := 1 + g.rng.IntN(200)
			consumer := "consumer-" + strconv.Itoa(ci)
			g.w.cmd("XREADGROUP", "GROUP", group, consumer, "COUNT", strconv.Itoa(count), "STREAMS", string(key), ">")
			read := live[next:min(next+count, len(live))]
			next += len(read)
			var ack []string
			for _, r := range read {
				if g.rng.IntN(2) == 0 {
					ack = append(ack, r.String())
				}
			}
			if len(ack) > 0 {
				g.w.cmd(append([]string{"XACK", string(key), group}, ack...)...)
			}
		}
	}
	if g.rng.IntN(20) == 0 {
		g.w.cmd("XTRIM", string(key), "MAXLEN", "0")
	}
	return b
}
