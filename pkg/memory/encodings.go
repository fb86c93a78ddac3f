package memory

import (
	"math"
	"strconv"
)

// Sizes of Redis 7.0's structures on a 64-bit build (src/*.h at 7.0.15).
const (
	robjSize          = 16  // robj: type/encoding/lru bits, refcount, ptr
	dictEntrySize     = 24  // dictEntry: key, value union, next
	dictSize          = 56  // dict: type, two tables, two used counts, rehashidx, pauserehash, two size exponents
	quicklistSize     = 40  // quicklist: head, tail, count, len, fill/compress/bookmark bits
	quicklistNodeSize = 40  // quicklistNode: prev, next, entry, sz, count/encoding/container bits
	zsetSize          = 16  // zset: dict, zsl
	zskiplistSize     = 32  // zskiplist: header, tail, length, level
	zslHeaderAlloc    = 640 // the skiplist header node: 24 + 32 levels of 16 bytes = 536, class 640
	zslNodeBase       = 24  // zskiplistNode without levels: ele, score, backward
	zslLevelSize      = 16  // one level: forward, span
	streamSize        = 80  // stream: rax, length, last/first/max-deleted IDs, entries_added, cgroups
	streamCGSize      = 40  // streamCG: last_id, entries_read, pel, consumers
	streamConsumer    = 24  // streamConsumer: seen_time, name, pel
	streamNACKSize    = 24  // streamNACK: delivery_time, delivery_count, consumer
	streamIDSize      = 16
	// streamRadixTreeMemoryUsage counts sizeof(raxNode) (4) plus a fixed
	// 30 longs for every node.
	raxNodeCost = 4 + 8*30

	lpHeaderSize = 6 // listpack: total bytes (4) and element count (2)
	lpEmptySize  = lpHeaderSize + 1
	intsetHeader = 8 // intset: encoding, length
)

// string2ll reports whether s is the canonical decimal form of a 64-bit
// integer, as Redis's string2ll (and listpack's lpStringToInt64) decide it: no
// sign other than a leading '-', no leading zeros, no "-0", at most 20 bytes.
func string2ll(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	digits := s
	if s[0] == '-' {
		digits = s[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if len(digits) >= 19 {
		// Only these can overflow; strconv knows where.
		v, err := strconv.ParseInt(string(s), 10, 64)
		return v, err == nil
	}
	var v int64
	for _, c := range digits {
		v = v*10 + int64(c-'0')
	}
	if s[0] == '-' {
		v = -v
	}
	return v, true
}

// lpIntEntry is the size of a listpack entry holding integer v, backlen
// included.
func lpIntEntry(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 1 + 1
	case v >= -4096 && v <= 4095:
		return 2 + 1
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 3 + 1
	case v >= -1<<23 && v < 1<<23:
		return 4 + 1
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 5 + 1
	}
	return 9 + 1
}

// lpStringEntry is the size of a listpack entry holding a string of n bytes
// that is not an integer, backlen included.
func lpStringEntry(n int) int {
	enc := 5 + n
	switch {
	case n < 64:
		enc = 1 + n
	case n < 4096:
		enc = 2 + n
	}
	return enc + lpBacklen(enc)
}

func lpBacklen(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// lpEntry is the size of the listpack entry lpAppend makes of s: an integer
// when s is one, a string otherwise.
func lpEntry(s []byte) int {
	if v, ok := string2ll(s); ok {
		return lpIntEntry(v)
	}
	return lpStringEntry(len(s))
}

// lpScoreEntry is the size of the listpack entry a sorted-set score becomes
// when Redis 7.0 converts a sorted set to a listpack (zzlInsertAt): an integer
// when the score is one (double2ll), else d2string's "%.17g".
func lpScoreEntry(score float64) int {
	if v, ok := double2ll(score); ok {
		return lpIntEntry(v)
	}
	return lpStringEntry(len(d2string(score)))
}

func double2ll(d float64) (int64, bool) {
	const half = float64(math.MaxInt64 / 2)
	if d < -half || d > half || math.IsNaN(d) {
		return 0, false
	}
	v := int64(d)
	return v, float64(v) == d
}

// d2string renders a score as Redis 7.0's d2string does for non-integers.
func d2string(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// intsetWidth is the element width an intset needs for v.
func intsetWidth(v int64) int {
	switch {
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 2
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 4
	}
	return 8
}
