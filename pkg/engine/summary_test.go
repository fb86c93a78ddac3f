package engine

import (
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// summaryEngine holds every type in db0, keys that expire at 5000, and a hash
// whose only field expires then, in a keyspace of n strings; its clock is
// *now.
func summaryEngine(t *testing.T, n int, now *int64) *Engine {
	t.Helper()
	e := New(Options{Clock: func() int64 { return *now }})
	for i := range n {
		mustApply(t, e, "SET", "s:"+strconv.Itoa(i), "v")
	}
	for _, c := range [][]string{
		{"SET", "gone", "x", "PXAT", "5000"},
		{"SET", "later", "x", "PXAT", "9000"},
		{"RPUSH", "l", "a"}, {"SADD", "st", "a"}, {"ZADD", "z", "1", "a"},
		{"HSET", "h", "f", "v"}, {"XADD", "x", "1-1", "f", "v"},
		{"HSET", "hgone", "f", "v"}, {"HPEXPIREAT", "hgone", "5000", "FIELDS", "1", "f"},
		{"SADD", "sgone", "a"}, {"PEXPIREAT", "sgone", "5000"},
		{"SELECT", "3"}, {"SET", "db3", "x"}, {"SELECT", "0"},
	} {
		mustApply(t, e, c...)
	}
	return e
}

// TestSummaryLiveKeys: Summary, DBSIZE, KEYS and SCAN count the same keys,
// those a client sees (a hash whose fields all expired is gone).
func TestSummaryLiveKeys(t *testing.T) {
	now := int64(1000)
	e := summaryEngine(t, 20, &now)
	for _, tc := range []struct {
		now           int64
		keys, withTTL int
		strings       int
	}{
		{1000, 29, 3, 22}, // 20 + gone, later; sgone, later and gone have a TTL
		{6000, 26, 1, 21}, // gone, sgone and hgone are gone
	} {
		now = tc.now
		sum := e.Summary()
		if len(sum) != 2 || sum[0].DB != 0 || sum[1].DB != 3 || sum[1].Keys != 1 {
			t.Fatalf("at %d: Summary = %+v", tc.now, sum)
		}
		s := sum[0]
		if s.Keys != tc.keys || s.WithTTL != tc.withTTL || s.ByKind[rdb.KindString] != tc.strings {
			t.Errorf("at %d: db0 = %+v, want %d keys, %d with a TTL, %d strings", tc.now, s, tc.keys, tc.withTTL, tc.strings)
		}
		for _, k := range []rdb.Kind{rdb.KindList, rdb.KindZSet, rdb.KindStream} {
			if s.ByKind[k] != 1 {
				t.Errorf("at %d: %d keys of %s, want 1", tc.now, s.ByKind[k], k)
			}
		}
		if r := e.Exec(args("DBSIZE")); r.Int != int64(tc.keys) {
			t.Errorf("at %d: DBSIZE = %d, want %d", tc.now, r.Int, tc.keys)
		}
		if r := e.Exec(args("KEYS", "*")); len(r.Elems) != tc.keys {
			t.Errorf("at %d: KEYS * = %d keys, want %d", tc.now, len(r.Elems), tc.keys)
		}
		if r := e.Exec(args("SCAN", "0", "COUNT", "1000")); len(r.Elems) != 2 || len(r.Elems[1].Elems) != tc.keys {
			t.Errorf("at %d: SCAN 0 COUNT 1000 = %+v, want %d keys", tc.now, r, tc.keys)
		}
		if r := e.Exec(args("RANDOMKEY")); r.Kind != ReplyBulk || e.Exec(args("EXISTS", string(r.Str))).Int != 1 {
			t.Errorf("at %d: RANDOMKEY = %+v, not a live key", tc.now, r)
		}
	}
}

// TestSummaryAllocations: a pass over the keyspace (Summary, DBSIZE,
// RANDOMKEY) allocates nothing per key. Each key once cost an object and an
// entry on the heap, which for a replayed AOF of millions of strings made
// replay's peak memory 75% above convert's.
func TestSummaryAllocations(t *testing.T) {
	now := int64(1000)
	e := summaryEngine(t, 10000, &now)
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"Summary", func() { e.Summary() }},
		{"DBSIZE", func() { e.Exec(args("DBSIZE")) }},
		{"RANDOMKEY", func() { e.Exec(args("RANDOMKEY")) }},
	} {
		if n := testing.AllocsPerRun(3, tc.fn); n > 50 {
			t.Errorf("%s: %.0f allocations over 10,000 keys", tc.name, n)
		}
	}
}
