package engine

import (
	"bytes"
	"math"
	"math/bits"
	"sort"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Read-only commands of strings (t_string.c, bitops.c, hyperloglog.c),
// lists (t_list.c), sets (t_set.c) and hashes (t_hash.c).

func registerStringReads() {
	registerRead("get", 2, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindString)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rNil()
		}
		return rBulk(o.str)
	})
	registerRead("mget", -2, func(e *Engine, a [][]byte) Reply {
		out := make([]Reply, 0, len(a)-1)
		for _, k := range a[1:] {
			if o := e.readKey(k); o != nil && o.kind == rdb.KindString {
				out = append(out, rBulk(o.str))
			} else {
				out = append(out, rNil())
			}
		}
		return rArray(out...)
	})
	registerRead("strlen", 2, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindString)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rInt(0)
		}
		return rInt(int64(len(o.str)))
	})
	registerRead("getrange", 4, readGetRange)
	registerRead("substr", 4, readGetRange)
	registerRead("getbit", 3, func(e *Engine, a [][]byte) Reply {
		off, err := bitOffset(a[2], false, 0)
		if err != nil {
			return rErr(err)
		}
		o, wrong := e.readKind(a[1], rdb.KindString)
		switch {
		case wrong:
			return rWrongType()
		case o == nil || off>>3 >= uint64(len(o.str)):
			return rInt(0)
		}
		return rInt(int64(o.str[off>>3] >> (7 - off&7) & 1))
	})
	registerRead("bitcount", -2, readBitCount)
	registerRead("bitpos", -3, readBitPos)
	registerRead("bitfield_ro", -2, readBitfieldRO)
	registerRead("pfcount", -2, readPFCount)
}

func readGetRange(e *Engine, a [][]byte) Reply {
	start, ok1 := parseInt(a[2])
	end, ok2 := parseInt(a[3])
	if !ok1 || !ok2 {
		return rNotInt()
	}
	o, wrong := e.readKind(a[1], rdb.KindString)
	switch {
	case wrong:
		return rWrongType()
	case o == nil:
		return rBulkStr("")
	}
	n := int64(len(o.str))
	if start < 0 && end < 0 && start > end {
		return rBulkStr("")
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return rBulkStr("")
	}
	return rBulk(o.str[start : end+1])
}

// clampRange is the index arithmetic of BITCOUNT and BITPOS over total
// units (bytes or bits): negative indexes from the end, then clamped.
func clampRange(start, end, total int64) (int64, int64) {
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	return start, end
}

// byteOrBit parses BITCOUNT's and BITPOS's BYTE|BIT word.
func byteOrBit(b []byte) (bool, bool) {
	switch {
	case is(b, "BIT"):
		return true, true
	case is(b, "BYTE"):
		return false, true
	}
	return false, false
}

// readBitCount is bitcountCommand. Valkey parses the range before it looks
// the key up, and takes a start without an end.
func readBitCount(e *Engine, a [][]byte) Reply {
	var start, end int64
	rangeArgs := len(a) == 4 || len(a) == 5 || e.valkey() && len(a) == 3
	if e.valkey() && rangeArgs {
		var ok bool
		if start, ok = parseInt(a[2]); !ok {
			return rNotInt()
		}
		if len(a) == 5 {
			if _, ok := byteOrBit(a[4]); !ok {
				return rSyntax()
			}
		}
		if len(a) >= 4 {
			if end, ok = parseInt(a[3]); !ok {
				return rNotInt()
			}
		}
	}
	o, wrong := e.readKind(a[1], rdb.KindString)
	switch {
	case wrong:
		return rWrongType()
	case o == nil && (!e.valkey() || rangeArgs || len(a) == 2):
		return rInt(0)
	case o == nil:
		return rSyntax()
	}
	s := o.str
	first, last := int64(0), int64(len(s))*8-1
	switch {
	case len(a) == 2:
	case rangeArgs:
		if !e.valkey() {
			var ok bool
			if start, ok = parseInt(a[2]); !ok {
				return rNotInt()
			}
			if end, ok = parseInt(a[3]); !ok {
				return rNotInt()
			}
		} else if len(a) == 3 {
			end = int64(len(s)) - 1
		}
		if start < 0 && end < 0 && start > end {
			return rInt(0)
		}
		isBit := false
		if len(a) == 5 {
			var ok bool
			if isBit, ok = byteOrBit(a[4]); !ok {
				return rSyntax()
			}
		}
		if isBit {
			first, last = clampRange(start, end, int64(len(s))*8)
		} else {
			first, last = clampRange(start, end, int64(len(s)))
			first, last = first*8, last*8+7
		}
	default:
		return rSyntax()
	}
	n := int64(0)
	for b := first; b <= last; b++ {
		if b&7 == 0 && b+7 <= last {
			n += int64(bits.OnesCount8(s[b>>3]))
			b += 7
			continue
		}
		n += int64(s[b>>3] >> (7 - b&7) & 1)
	}
	return rInt(n)
}

// readBitPos is bitposCommand: the first bit of the value in the range; for
// a clear bit without an explicit end, the string is as if padded with zeros.
func readBitPos(e *Engine, a [][]byte) Reply {
	bit, ok := parseInt(a[2])
	if !ok {
		return rNotInt()
	}
	if bit != 0 && bit != 1 {
		return rErrStr("ERR The bit argument must be 1 or 0.")
	}
	o, wrong := e.readKind(a[1], rdb.KindString)
	switch {
	case wrong:
		return rWrongType()
	case o == nil:
		return rInt(-bit)
	}
	s := o.str
	n := int64(len(s))
	first, last := int64(0), n*8-1
	endGiven := false
	switch len(a) {
	case 3:
	case 4, 5, 6:
		start, ok := parseInt(a[3])
		if !ok {
			return rNotInt()
		}
		isBit := false
		if len(a) == 6 {
			if isBit, ok = byteOrBit(a[5]); !ok {
				return rSyntax()
			}
		}
		end := n - 1
		if isBit {
			end = n*8 + 7
		}
		if len(a) >= 5 {
			if end, ok = parseInt(a[4]); !ok {
				return rNotInt()
			}
			endGiven = true
		}
		if isBit {
			first, last = clampRange(start, end, n*8)
		} else {
			first, last = clampRange(start, end, n)
			first, last = first*8, last*8+7
		}
	default:
		return rSyntax()
	}
	if first > last {
		return rInt(-1)
	}
	for b := first; b <= last; b++ {
		if int64(s[b>>3]>>(7-b&7)&1) == bit {
			return rInt(b)
		}
	}
	if bit == 0 && !endGiven {
		return rInt(last/8*8 + 8)
	}
	return rInt(-1)
}

func readBitfieldRO(e *Engine, a [][]byte) Reply {
	o, wrong := e.readKind(a[1], rdb.KindString)
	var out []Reply
	for j := 2; j < len(a); j += 3 {
		if !is(a[j], "GET") || j+2 >= len(a) {
			if is(a[j], "SET") || is(a[j], "INCRBY") || is(a[j], "OVERFLOW") {
				return rErrStr("ERR BITFIELD_RO only supports the GET subcommand")
			}
			return rSyntax()
		}
		t := a[j+1]
		badType := rErrStr("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
		if len(t) == 0 || t[0] != 'i' && t[0] != 'u' {
			return badType
		}
		signed := t[0] == 'i'
		n, ok := parseInt(t[1:])
		if !ok || n < 1 || signed && n > 64 || !signed && n > 63 {
			return badType
		}
		off, err := bitOffset(a[j+2], true, int(n))
		if err != nil {
			return rErr(err)
		}
		var s []byte
		if o != nil {
			s = o.str
		}
		if need := (off + uint64(n) + 7) / 8; uint64(len(s)) < need {
			// Bits past the end read as zeros.
			s = append(make([]byte, 0, need), s...)
			s = s[:need]
		}
		if signed {
			out = append(out, rInt(getSignedBits(s, off, int(n))))
		} else {
			out = append(out, rInt(int64(getUnsignedBits(s, off, int(n)))))
		}
	}
	if wrong {
		return rWrongType()
	}
	if out == nil {
		return rEmpty()
	}
	return rArray(out...)
}

func readPFCount(e *Engine, a [][]byte) Reply {
	regs := make([]uint8, hllRegisters)
	single := len(a) == 2
	for _, k := range a[1:] {
		o, wrong := e.readKind(k, rdb.KindString)
		if wrong {
			return rWrongType()
		}
		if o == nil {
			continue
		}
		if !validHLL(o.str) {
			return rErr(errHLLType)
		}
		if single {
			if o.str[15]&0x80 == 0 {
				return rInt(int64(le64(o.str[8:16])))
			}
			c, ok := hllCount(o.str)
			if !ok {
				return rErr(errHLLInvalid)
			}
			return rInt(int64(c))
		}
		if !hllMerge(regs, o.str) {
			return rErr(errHLLInvalid)
		}
	}
	if single {
		return rInt(0)
	}
	var h [64]int
	for _, v := range regs {
		h[v]++
	}
	return rInt(int64(hllCountHisto(&h)))
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// ---- lists

func registerListReads() {
	registerRead("llen", 2, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindList)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rInt(0)
		}
		return rInt(int64(o.list.len()))
	})
	registerRead("lindex", 3, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindList)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rNil()
		}
		idx, ok := parseInt(a[2])
		if !ok {
			return rNotInt()
		}
		n := int64(o.list.len())
		if idx < 0 {
			idx += n
		}
		if idx < 0 || idx >= n {
			return rNil()
		}
		return rBulk(o.list.at(int(idx)))
	})
	registerRead("lrange", 4, func(e *Engine, a [][]byte) Reply {
		start, ok1 := parseInt(a[2])
		end, ok2 := parseInt(a[3])
		if !ok1 || !ok2 {
			return rNotInt()
		}
		o, wrong := e.readKind(a[1], rdb.KindList)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rEmpty()
		}
		s, en, ok := rankRange(start, end, int64(o.list.len()))
		if !ok {
			return rEmpty()
		}
		out := make([]Reply, 0, en-s+1)
		o.list.each(int(s), func(el []byte) bool {
			out = append(out, rBulk(el))
			return int64(len(out)) < en-s+1
		})
		return rArray(out...)
	})
	registerRead("lpos", -3, readLPos)
}

// readLPos is lposCommand: RANK, COUNT, MAXLEN.
func readLPos(e *Engine, a [][]byte) Reply {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for j := 3; j < len(a); j += 2 {
		if j+1 >= len(a) {
			return rSyntax()
		}
		v, ok := parseInt(a[j+1])
		switch {
		case is(a[j], "RANK"):
			if !ok {
				return rNotInt()
			}
			if v == 0 || v == math.MinInt64 {
				return rErrStr("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
			}
			rank = v
		case is(a[j], "COUNT"):
			if !ok || v < 0 {
				return rErrStr("ERR COUNT can't be negative")
			}
			count = v
		case is(a[j], "MAXLEN"):
			if !ok || v < 0 {
				return rErrStr("ERR MAXLEN can't be negative")
			}
			maxlen = v
		default:
			return rSyntax()
		}
	}
	o, wrong := e.readKind(a[1], rdb.KindList)
	switch {
	case wrong:
		return rWrongType()
	case o == nil:
		if count != -1 {
			return rEmpty()
		}
		return rNil()
	}
	els := o.list.slice()
	var found []Reply
	matched := int64(0)
	want := count
	if want == 0 {
		want = math.MaxInt64
	}
	if want == -1 {
		want = 1
	}
	n := len(els)
	for k := 0; k < n && (maxlen == 0 || int64(k) < maxlen) && int64(len(found)) < want; k++ {
		i := k
		if rank < 0 {
			i = n - 1 - k
		}
		if !bytes.Equal(els[i], a[2]) {
			continue
		}
		matched++
		r := rank
		if r < 0 {
			r = -r
		}
		if matched >= r {
			found = append(found, rInt(int64(i)))
		}
	}
	if count == -1 {
		if len(found) == 0 {
			return rNil()
		}
		return found[0]
	}
	if found == nil {
		return rEmpty()
	}
	return rArray(found...)
}

// ---- sets

func registerSetReads() {
	registerRead("scard", 2, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindSet)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rInt(0)
		}
		return rInt(int64(o.set.len()))
	})
	registerRead("sismember", 3, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindSet)
		if wrong {
			return rWrongType()
		}
		return rBool(o != nil && o.set.has(a[2]))
	})
	registerRead("smismember", -3, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindSet)
		if wrong {
			return rWrongType()
		}
		out := make([]Reply, 0, len(a)-2)
		for _, m := range a[2:] {
			out = append(out, rBool(o != nil && o.set.has(m)))
		}
		return rArray(out...)
	})
	registerRead("smembers", 2, func(e *Engine, a [][]byte) Reply {
		o, wrong := e.readKind(a[1], rdb.KindSet)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rEmpty()
		}
		return rArray(rBulks(o.set.members())...)
	})
	registerRead("srandmember", -2, readSRandMember)
	registerRead("sinter", -2, func(e *Engine, a [][]byte) Reply { return e.readSetOp(a[1:], setInter) })
	registerRead("sunion", -2, func(e *Engine, a [][]byte) Reply { return e.readSetOp(a[1:], setUnion) })
	registerRead("sdiff", -2, func(e *Engine, a [][]byte) Reply { return e.readSetOp(a[1:], setDiff) })
	registerRead("sintercard", -3, readSInterCard)
	registerRead("sscan", -3, func(e *Engine, a [][]byte) Reply {
		s, r, ok := parseScan(a[2:], false)
		if !ok {
			return r
		}
		o, wrong := e.readKind(a[1], rdb.KindSet)
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return scanReply(0, nil)
		}
		var out []Reply
		next := e.scanPacked(s, o.set.enc != setDict, o.set.d, func(fn func(m []byte) bool) {
			o.set.each(fn)
		}, func(k, _ []byte) {
			out = append(out, rBulk(k))
		}, func(m []byte) { out = append(out, rBulk(m)) })
		return scanReply(next, out)
	})
}

// scanPacked is the *SCAN of a collection: a packed one is returned whole with
// cursor 0, as Redis does for listpacks and intsets; a dict is walked from
// the cursor (a slot index) for about COUNT entries. MATCH filters; emitDict
// gets a dict entry's key and value, emitPacked a packed element.
func (e *Engine) scanPacked(s scanArgs, packed bool, d *dict, each func(func([]byte) bool),
	emitDict func(k, v []byte), emitPacked func(m []byte)) int64 {
	if packed {
		each(func(m []byte) bool {
			if s.pattern == nil || keyMatch(s.pattern, m) {
				emitPacked(m)
			}
			return true
		})
		return 0
	}
	i, n := int(min(s.cursor, uint64(len(d.slots)))), 0
	for ; i < len(d.slots) && n < s.count; i++ {
		en, ok := d.slotEntry(i)
		if !ok {
			continue
		}
		k := en.key(d)
		if s.pattern != nil && !keyMatch(s.pattern, k) {
			continue
		}
		emitDict(k, en.val(d))
		n++
	}
	if i >= len(d.slots) {
		return 0
	}
	return int64(i)
}

func readSRandMember(e *Engine, a [][]byte) Reply {
	if len(a) > 3 {
		return rSyntax()
	}
	o, wrong := e.readKind(a[1], rdb.KindSet)
	if len(a) == 2 {
		switch {
		case wrong:
			return rWrongType()
		case o == nil:
			return rNil()
		}
		m := o.set.members()
		return rBulk(m[e.randIndex(len(m))])
	}
	count, ok := parseInt(a[2])
	if !ok {
		return rNotInt()
	}
	if count < -math.MaxInt64/2 {
		return rErrStr("ERR value is out of range")
	}
	switch {
	case wrong:
		return rWrongType()
	case o == nil || count == 0:
		return rEmpty()
	}
	m := o.set.members()
	var out []Reply
	for _, i := range e.randomIndices(len(m), count) {
		out = append(out, rBulk(m[i]))
	}
	return rArray(out...)
}

// randomIndices is the count form of SRANDMEMBER, HRANDFIELD and
// ZRANDMEMBER over n elements: a positive count picks that many distinct
// ones (all when fewer), a negative one -count that may repeat.
func (e *Engine) randomIndices(n int, count int64) []int {
	if count < 0 {
		out := make([]int, -count)
		for i := range out {
			out[i] = e.randIndex(n)
		}
		return out
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if count >= int64(n) {
		return idx
	}
	for i := range int(count) {
		j := i + e.randIndex(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx[:count]
}

// readSetOp is SINTER, SUNION and SDIFF: the members of the result in the
// order the engine finds them (Redis's own order depends on its hash tables).
func (e *Engine) readSetOp(keys [][]byte, op int) Reply {
	var sets []*set
	missing := false
	for _, k := range keys {
		o, wrong := e.readKind(k, rdb.KindSet)
		if wrong {
			return rWrongType()
		}
		if o == nil {
			missing = true
			sets = append(sets, nil)
			continue
		}
		sets = append(sets, o.set)
	}
	var out [][]byte
	seen := map[string]bool{}
	switch op {
	case setInter:
		if missing {
			return rEmpty()
		}
		sort.SliceStable(sets, func(i, j int) bool { return sets[i].len() < sets[j].len() })
		sets[0].each(func(m []byte) bool {
			for _, s := range sets[1:] {
				if !s.has(m) {
					return true
				}
			}
			out = append(out, clone(m))
			return true
		})
	case setUnion:
		for _, s := range sets {
			if s == nil {
				continue
			}
			s.each(func(m []byte) bool {
				if !seen[string(m)] {
					seen[string(m)] = true
					out = append(out, clone(m))
				}
				return true
			})
		}
	case setDiff:
		if sets[0] != nil {
			sets[0].each(func(m []byte) bool {
				for _, s := range sets[1:] {
					if s != nil && s.has(m) {
						return true
					}
				}
				out = append(out, clone(m))
				return true
			})
		}
	}
	return rArray(rBulks(out)...)
}

func readSInterCard(e *Engine, a [][]byte) Reply {
	keys, limit, r, ok := parseInterCard(a)
	if !ok {
		return r
	}
	r = e.readSetOp(keys, setInter)
	if r.Kind != ReplyArray {
		return r
	}
	return cardReply(len(r.Elems), limit)
}

// parseInterCard parses SINTERCARD's and ZINTERCARD's numkeys key...
// [LIMIT limit].
func parseInterCard(a [][]byte) (keys [][]byte, limit int64, r Reply, ok bool) {
	numkeys, ok := parseInt(a[1])
	if !ok || numkeys <= 0 {
		return nil, 0, rErrStr("ERR numkeys should be greater than 0"), false
	}
	if numkeys > int64(len(a)-2) {
		return nil, 0, rErrStr("ERR Number of keys can't be greater than number of args"), false
	}
	for j := 2 + int(numkeys); j < len(a); j += 2 {
		if !is(a[j], "LIMIT") || j+1 >= len(a) {
			return nil, 0, rSyntax(), false
		}
		v, ok := parseInt(a[j+1])
		if !ok || v < 0 {
			return nil, 0, rErrStr("ERR LIMIT can't be negative"), false
		}
		limit = v
	}
	return a[2 : 2+numkeys], limit, Reply{}, true
}

// cardReply is a cardinality cut at a LIMIT (0: none).
func cardReply(n int, limit int64) Reply {
	if limit > 0 {
		return rInt(min(int64(n), limit))
	}
	return rInt(int64(n))
}

// ---- hashes

func registerHashReads() {
	registerRead("hget", 3, func(e *Engine, a [][]byte) Reply {
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		if v, live := e.hget(h, a[2]); live {
			return rBulk(v)
		}
		return rNil()
	})
	registerRead("hmget", -3, func(e *Engine, a [][]byte) Reply {
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		out := make([]Reply, 0, len(a)-2)
		for _, f := range a[2:] {
			if v, live := e.hget(h, f); live {
				out = append(out, rBulk(v))
			} else {
				out = append(out, rNil())
			}
		}
		return rArray(out...)
	})
	registerRead("hexists", 3, func(e *Engine, a [][]byte) Reply {
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		_, live := e.hget(h, a[2])
		return rBool(live)
	})
	registerRead("hstrlen", 3, func(e *Engine, a [][]byte) Reply {
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		v, _ := e.hget(h, a[2])
		return rInt(int64(len(v)))
	})
	registerRead("hlen", 2, func(e *Engine, a [][]byte) Reply {
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		n := 0
		e.eachLiveField(h, func(_, _ []byte, _ int64) { n++ })
		return rInt(int64(n))
	})
	hashAll := func(fields, values bool) func(e *Engine, a [][]byte) Reply {
		return func(e *Engine, a [][]byte) Reply {
			h, r, ok := e.readHash(a[1])
			if !ok {
				return r
			}
			out := []Reply{}
			e.eachLiveField(h, func(f, v []byte, _ int64) {
				if fields {
					out = append(out, rBulk(f))
				}
				if values {
					out = append(out, rBulk(v))
				}
			})
			return rArray(out...)
		}
	}
	registerRead("hgetall", 2, hashAll(true, true))
	registerRead("hkeys", 2, hashAll(true, false))
	registerRead("hvals", 2, hashAll(false, true))
	registerRead("hrandfield", -2, readHRandField)
	registerRead("hscan", -3, func(e *Engine, a [][]byte) Reply {
		s, r, ok := parseScan(a[2:], false)
		if !ok {
			return r
		}
		h, r, ok := e.readHash(a[1])
		if !ok {
			return r
		}
		if h == nil {
			return scanReply(0, nil)
		}
		var out []Reply
		now := e.now()
		next := int64(0)
		if h.d == nil {
			e.eachLiveField(h, func(f, v []byte, _ int64) {
				if s.pattern == nil || keyMatch(s.pattern, f) {
					out = append(out, rBulk(f), rBulk(v))
				}
			})
		} else {
			next = e.scanPacked(s, false, h.d, nil, func(k, v []byte) {
				if _, ttl, _ := h.d.get(k); ttl == 0 || ttl > now {
					out = append(out, rBulk(k), rBulk(v))
				}
			}, nil)
		}
		return scanReply(next, out)
	})
	for _, c := range []struct {
		name    string
		ms, abs bool
	}{{"httl", false, false}, {"hpttl", true, false}, {"hexpiretime", false, true}, {"hpexpiretime", true, true}} {
		registerRead(c.name, -5, func(e *Engine, a [][]byte) Reply { return e.readHashTTL(a, c.ms, c.abs) })
	}
}

// readHash is the hash of key for a read: nil when absent, an error reply
// (wrong type) with ok false.
func (e *Engine) readHash(key []byte) (*hash, Reply, bool) {
	o, wrong := e.readKind(key, rdb.KindHash)
	if wrong {
		return nil, rWrongType(), false
	}
	if o == nil {
		return nil, Reply{}, true
	}
	return o.hash, Reply{}, true
}

// hget is a field's value unless it has expired (h may be nil).
func (e *Engine) hget(h *hash, f []byte) ([]byte, bool) {
	if h == nil {
		return nil, false
	}
	v, ttl, ok := h.get(f)
	if !ok || ttl != 0 && ttl <= e.now() {
		return nil, false
	}
	return v, true
}

func (e *Engine) eachLiveField(h *hash, fn func(f, v []byte, ttl int64)) {
	if h == nil {
		return
	}
	now := e.now()
	h.each(func(f, v []byte, ttl int64) bool {
		if ttl == 0 || ttl > now {
			fn(f, v, ttl)
		}
		return true
	})
}

func readHRandField(e *Engine, a [][]byte) Reply {
	if len(a) > 4 || len(a) == 4 && !is(a[3], "WITHVALUES") {
		return rSyntax()
	}
	h, r, ok := e.readHash(a[1])
	var fields, values [][]byte
	if ok {
		e.eachLiveField(h, func(f, v []byte, _ int64) {
			fields = append(fields, f)
			values = append(values, v)
		})
	}
	if len(a) == 2 {
		if !ok {
			return r
		}
		if len(fields) == 0 {
			return rNil()
		}
		return rBulk(fields[e.randIndex(len(fields))])
	}
	count, okc := parseInt(a[2])
	if !okc {
		return rNotInt()
	}
	if !ok {
		return r
	}
	if len(fields) == 0 || count == 0 {
		return rEmpty()
	}
	var out []Reply
	for _, i := range e.randomIndices(len(fields), count) {
		out = append(out, rBulk(fields[i]))
		if len(a) == 4 {
			out = append(out, rBulk(values[i]))
		}
	}
	return rArray(out...)
}

// readHashTTL is HTTL, HPTTL, HEXPIRETIME and HPEXPIRETIME (Redis 7.4): per
// field -2 (no such field), -1 (no expiry), or the time.
func (e *Engine) readHashTTL(a [][]byte, ms, abs bool) Reply {
	name := string(bytes.ToLower(a[0]))
	if !is(a[2], "FIELDS") {
		return rErrStr("ERR Mandatory argument FIELDS is missing or not at the right position")
	}
	n, ok := parseInt(a[3])
	if !ok || n <= 0 {
		return rErrStr("ERR Number of fields must be a positive integer")
	}
	if n != int64(len(a)-4) {
		return rErrStr("ERR The `numfields` parameter must match the number of arguments")
	}
	_ = name
	h, r, okh := e.readHash(a[1])
	if !okh {
		return r
	}
	if h == nil {
		return rArray(mapReplies(a[4:], func([]byte) Reply { return rInt(-2) })...)
	}
	now := e.now()
	out := make([]Reply, 0, len(a)-4)
	for _, f := range a[4:] {
		_, ttl, ok := h.get(f)
		switch {
		case !ok || ttl != 0 && ttl <= now:
			out = append(out, rInt(-2))
		case ttl == 0:
			out = append(out, rInt(-1))
		default:
			t := ttl
			if !abs {
				t = ttl - now
			}
			if !ms {
				if abs {
					t /= 1000
				} else {
					t = (t + 500) / 1000
				}
			}
			out = append(out, rInt(t))
		}
	}
	return rArray(out...)
}
