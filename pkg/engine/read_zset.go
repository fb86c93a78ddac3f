package engine

import (
	"bytes"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Read-only sorted-set commands (t_zset.c) and GEO reads (geo.c).

func registerZSetReads() {
	registerRead("zcard", 2, func(e *Engine, a [][]byte) Reply {
		z, r, ok := e.readZSet(a[1])
		if !ok {
			return r
		}
		if z == nil {
			return rInt(0)
		}
		return rInt(int64(z.len()))
	})
	registerRead("zscore", 3, func(e *Engine, a [][]byte) Reply {
		z, r, ok := e.readZSet(a[1])
		if !ok {
			return r
		}
		if z != nil {
			if s, ok := z.score(a[2]); ok {
				return rScore(e, s)
			}
		}
		return rNil()
	})
	registerRead("zmscore", -3, func(e *Engine, a [][]byte) Reply {
		z, r, ok := e.readZSet(a[1])
		if !ok {
			return r
		}
		out := make([]Reply, 0, len(a)-2)
		for _, m := range a[2:] {
			if z != nil {
				if s, ok := z.score(m); ok {
					out = append(out, rScore(e, s))
					continue
				}
			}
			out = append(out, rNil())
		}
		return rArray(out...)
	})
	registerRead("zrank", -3, func(e *Engine, a [][]byte) Reply { return e.readZRank(a, false) })
	registerRead("zrevrank", -3, func(e *Engine, a [][]byte) Reply { return e.readZRank(a, true) })
	registerRead("zcount", 4, func(e *Engine, a [][]byte) Reply {
		sr, ok := parseScoreRange(a[2], a[3])
		if !ok {
			return rErr(errScoreRange)
		}
		z, r, ok := e.readZSet(a[1])
		if !ok || z == nil {
			return orZero(r, ok)
		}
		from, to := z.inScore(sr)
		return rInt(int64(to - from))
	})
	registerRead("zlexcount", 4, func(e *Engine, a [][]byte) Reply {
		lr, ok := parseLexRange(a[2], a[3])
		if !ok {
			return rErr(errLexRange)
		}
		z, r, ok := e.readZSet(a[1])
		if !ok || z == nil {
			return orZero(r, ok)
		}
		from, to := z.inLex(lr, false)
		return rInt(int64(to - from))
	})
	registerRead("zrange", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, -1, false) })
	registerRead("zrevrange", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, rangeRank, true) })
	registerRead("zrangebyscore", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, rangeScore, false) })
	registerRead("zrevrangebyscore", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, rangeScore, true) })
	registerRead("zrangebylex", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, rangeLex, false) })
	registerRead("zrevrangebylex", -4, func(e *Engine, a [][]byte) Reply { return e.readZRange(a, rangeLex, true) })
	registerRead("zrandmember", -2, readZRandMember)
	registerRead("zscan", -3, func(e *Engine, a [][]byte) Reply {
		s, r, ok := parseScan(a[2:], false)
		if !ok {
			return r
		}
		z, r, ok := e.readZSet(a[1])
		if !ok {
			return r
		}
		if z == nil {
			return scanReply(0, nil)
		}
		var out []Reply
		next := int64(0)
		// Redis replies the scores as they are stored: a listpack's as
		// written there, a skiplist's with "%.17Lg".
		if z.d == nil {
			z.o.each(0, func(el zel) bool {
				if s.pattern == nil || keyMatch(s.pattern, el.member) {
					out = append(out, rBulk(el.member), Reply{Kind: ReplyBulk, Str: e.listpackScore(el.score)})
				}
				return true
			})
		} else {
			next = e.scanPacked(s, false, z.d, nil, func(k, v []byte) {
				out = append(out, rBulk(k), Reply{Kind: ReplyBulk, Str: ld2stringAuto(scoreOf(v))})
			}, nil)
		}
		return scanReply(next, out)
	})
	registerRead("zunion", -3, func(e *Engine, a [][]byte) Reply { return e.readZSetOp(a, setUnion) })
	registerRead("zinter", -3, func(e *Engine, a [][]byte) Reply { return e.readZSetOp(a, setInter) })
	registerRead("zdiff", -3, func(e *Engine, a [][]byte) Reply { return e.readZSetOp(a, setDiff) })
	registerRead("zintercard", -3, readZInterCard)
	registerGeoReads()
}

// ld2stringAuto is util.c ld2string in LD_STR_AUTO mode: "%.17Lg", and inf
// and -inf by name.
func ld2stringAuto(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

func orZero(r Reply, ok bool) Reply {
	if !ok {
		return r
	}
	return rInt(0)
}

func scoreOf(v []byte) float64 { return math.Float64frombits(le64(v)) }

// readZSet is the sorted set of key for a read: nil when absent, an error
// reply (wrong type) with ok false.
func (e *Engine) readZSet(key []byte) (*zset, Reply, bool) {
	o, wrong := e.readKind(key, rdb.KindZSet)
	if wrong {
		return nil, rWrongType(), false
	}
	if o == nil {
		return nil, Reply{}, true
	}
	return o.zset, Reply{}, true
}

func (e *Engine) readZRank(a [][]byte, rev bool) Reply {
	name := "zrank"
	if rev {
		name = "zrevrank"
	}
	withScore := false
	switch {
	case len(a) == 4 && e.version() >= 702 && is(a[3], "WITHSCORE"):
		withScore = true
	case len(a) == 4 && e.version() >= 702:
		return rSyntax()
	case len(a) != 3:
		return rArity(name)
	}
	z, r, ok := e.readZSet(a[1])
	if !ok {
		return r
	}
	if z == nil {
		if withScore {
			return Reply{Kind: ReplyNil}
		}
		return rNil()
	}
	s, ok := z.score(a[2])
	if !ok {
		return rNil()
	}
	rank := int64(z.o.rankOf(s, a[2]))
	if rev {
		rank = int64(z.len()) - 1 - rank
	}
	if withScore {
		return rArray(rInt(rank), rScore(e, s))
	}
	return rInt(rank)
}

func (e *Engine) readZRange(a [][]byte, kind int, rev bool) Reply {
	sp, err := parseZRange(a, 2, kind, rev, true)
	if err != nil {
		return rErr(err)
	}
	z, r, ok := e.readZSet(a[1])
	switch {
	case !ok:
		return r
	case z == nil:
		return rEmpty()
	}
	return e.zelReply(sp.pick(z), sp.withScores)
}

func (e *Engine) zelReply(els []zel, withScores bool) Reply {
	out := make([]Reply, 0, len(els)*(1+int(b2u8(withScores))))
	for _, el := range els {
		out = append(out, rBulk(el.member))
		if withScores {
			out = append(out, rScore(e, el.score))
		}
	}
	return rArray(out...)
}

func readZRandMember(e *Engine, a [][]byte) Reply {
	if len(a) > 4 || len(a) == 4 && !is(a[3], "WITHSCORES") {
		return rSyntax()
	}
	z, r, ok := e.readZSet(a[1])
	if len(a) == 2 {
		switch {
		case !ok:
			return r
		case z == nil:
			return rNil()
		}
		return rBulk(z.o.at(e.randIndex(z.len())).member)
	}
	count, okc := parseInt(a[2])
	if !okc {
		return rNotInt()
	}
	switch {
	case !ok:
		return r
	case z == nil || count == 0:
		return rEmpty()
	}
	els := z.elems(false)
	var out []Reply
	for _, i := range e.randomIndices(len(els), count) {
		out = append(out, rBulk(els[i].member))
		if len(a) == 4 {
			out = append(out, rScore(e, els[i].score))
		}
	}
	return rArray(out...)
}

// readZSetOp is ZUNION, ZINTER and ZDIFF: numkeys key... [WEIGHTS] [AGGREGATE]
// [WITHSCORES], computed as their STORE forms compute (zsetOpStore) and
// replied in score order.
func (e *Engine) readZSetOp(a [][]byte, op int) Reply {
	withScores := false
	args := a
	if n := len(a); n > 3 && is(a[n-1], "WITHSCORES") {
		withScores = true
		args = a[:n-1]
	}
	numkeys, ok := parseInt(args[1])
	if !ok {
		return rNotInt()
	}
	name := string(toLower(a[0]))
	if numkeys < 1 {
		return rErrStr("ERR at least 1 input key is needed for '" + name + "' command")
	}
	if numkeys > int64(len(args)-2) {
		return rSyntax()
	}
	res, err := e.zsetOp(args[1:], op, name, e.readKey)
	if err != nil {
		return rErr(err)
	}
	if res == nil {
		return rEmpty()
	}
	return e.zelReply(res.elems(false), withScores)
}

func readZInterCard(e *Engine, a [][]byte) Reply {
	keys, limit, r, ok := parseInterCard(a)
	if !ok {
		return r
	}
	res, err := e.zsetOp(append([][]byte{a[1]}, keys...), setInter, "zintercard", e.readKey)
	if err != nil {
		return rErr(err)
	}
	n := 0
	if res != nil {
		n = res.len()
	}
	return cardReply(n, limit)
}

func toLower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// ---- GEO

func registerGeoReads() {
	registerRead("geopos", -2, func(e *Engine, a [][]byte) Reply {
		return e.geoMembers(a, func(s float64) Reply {
			lon, lat := geoDecode(s)
			return rArray(rBulk(geoCoord(lon)), rBulk(geoCoord(lat)))
		})
	})
	registerRead("geodist", -4, func(e *Engine, a [][]byte) Reply {
		conv := 1.0
		if len(a) == 5 {
			c, err := geoUnit(a[4])
			if err != nil {
				return rErr(err)
			}
			conv = c
		} else if len(a) > 5 {
			return rSyntax()
		}
		z, r, ok := e.readZSet(a[1])
		if !ok {
			return r
		}
		if z == nil {
			return rNil()
		}
		s1, ok1 := z.score(a[2])
		s2, ok2 := z.score(a[3])
		if !ok1 || !ok2 {
			return rNil()
		}
		lon1, lat1 := geoDecode(s1)
		lon2, lat2 := geoDecode(s2)
		d := geoDistance(lon1, lat1, lon2, lat2) / conv
		return rBulk(fixed4(d))
	})
	registerRead("geohash", -2, func(e *Engine, a [][]byte) Reply {
		return e.geoMembers(a, func(s float64) Reply { return rBulkStr(geohashString(s)) })
	})
}

// geoMembers is GEOPOS and GEOHASH: one reply per member a[2:] of the key
// a[1], nil for a missing one.
func (e *Engine) geoMembers(a [][]byte, reply func(score float64) Reply) Reply {
	z, r, ok := e.readZSet(a[1])
	if !ok {
		return r
	}
	out := make([]Reply, 0, len(a)-2)
	for _, m := range a[2:] {
		s, found := 0.0, false
		if z != nil {
			s, found = z.score(m)
		}
		if !found {
			out = append(out, rNil())
			continue
		}
		out = append(out, reply(s))
	}
	return rArray(out...)
}

// geoCoord formats a coordinate as GEOPOS does: addReplyHumanLongDouble,
// "%.17Lf" with trailing zeros removed.
func geoCoord(f float64) []byte {
	b := strconv.AppendFloat(nil, f, 'f', 17, 64)
	b = bytes.TrimRight(b, "0")
	return bytes.TrimSuffix(b, []byte("."))
}

// geohashString is the 11-character standard geohash of a score (GEOHASH):
// the position decoded and encoded again over the standard latitude range.
func geohashString(score float64) string {
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	lon, lat := geoDecode(score)
	latOff := (lat + 90) / 180 * (1 << geoStep)
	longOff := (lon + 180) / 360 * (1 << geoStep)
	bits := interleave64(uint32(latOff), uint32(longOff))
	out := make([]byte, 11)
	for i := range out {
		var idx uint64
		if i == 10 {
			idx = 0
		} else {
			idx = (bits >> (52 - (i+1)*5)) & 0x1f
		}
		out[i] = alphabet[idx]
	}
	return string(out)
}

// fixed4 is "%.4f" (GEODIST).
func fixed4(f float64) []byte { return strconv.AppendFloat(nil, f, 'f', 4, 64) }
