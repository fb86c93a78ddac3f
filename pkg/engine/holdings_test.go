package engine

import (
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// holdingsOfEach is Holds computed from what Each hands out: the oracle.
func holdingsOfEach(t *testing.T, e *Engine) Holdings {
	t.Helper()
	var h Holdings
	err := e.Each(func(_ int, _ []byte, _ *rdb.Entry, v *rdb.Value) error {
		switch v.Kind {
		case rdb.KindStream:
			h.Streams = true
		case rdb.KindHash:
			for _, f := range v.Hash {
				h.FieldTTLs = h.FieldTTLs || f.ExpireAtMs != 0
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHolds: Holds agrees with a walk of Each after every step, under both
// expiry policies, for packed and large hashes, streams made by XADD,
// XGROUP CREATE MKSTREAM and Load, and TTLs that expire or are removed.
func TestHolds(t *testing.T) {
	long := strings.Repeat("v", 100) // past hash-max-listpack-value: a dict
	steps := []struct {
		cmd  []string
		want Holdings // under ExpiredKeep at clock 1000
	}{
		{[]string{"SET", "s", "v"}, Holdings{}},
		{[]string{"RPUSH", "l", "a"}, Holdings{}},
		{[]string{"SADD", "st", "a"}, Holdings{}},
		{[]string{"ZADD", "z", "1", "a"}, Holdings{}},
		{[]string{"HSET", "h", "f", "v", "g", "w"}, Holdings{}},
		{[]string{"HSET", "big", "f", long}, Holdings{}},
		{[]string{"HPEXPIREAT", "h", "5000", "FIELDS", "1", "f"}, Holdings{FieldTTLs: true}},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "f"}, Holdings{}},
		{[]string{"HPEXPIREAT", "big", "5000", "FIELDS", "1", "f"}, Holdings{FieldTTLs: true}},
		{[]string{"HPERSIST", "big", "FIELDS", "1", "f"}, Holdings{}},
		{[]string{"HPEXPIREAT", "h", "5000", "FIELDS", "1", "g"}, Holdings{FieldTTLs: true}},
		{[]string{"HDEL", "h", "g"}, Holdings{}},
		{[]string{"XGROUP", "CREATE", "x", "g", "$", "MKSTREAM"}, Holdings{Streams: true}},
		{[]string{"DEL", "x"}, Holdings{}},
		{[]string{"XADD", "y", "1-1", "f", "v"}, Holdings{Streams: true}},
		{[]string{"PEXPIREAT", "y", "5000"}, Holdings{Streams: true}},
		{[]string{"HPEXPIREAT", "big", "5000", "FIELDS", "1", "f"}, Holdings{FieldTTLs: true, Streams: true}},
	}
	now := int64(1000)
	e := New(Options{Clock: func() int64 { return now }})
	drop := New(Options{Clock: func() int64 { return now }, Expired: ExpiredDrop})
	for _, st := range steps {
		now = 1000
		mustApply(t, e, st.cmd...)
		mustApply(t, drop, st.cmd...)
		if got := e.Holds(); got != st.want || got != holdingsOfEach(t, e) {
			t.Errorf("after %q: Holds = %+v, want %+v (Each: %+v)", st.cmd, got, st.want, holdingsOfEach(t, e))
		}
		if got, want := drop.Holds(), holdingsOfEach(t, drop); got != want {
			t.Errorf("after %q, ExpiredDrop at 1000: Holds = %+v, Each %+v", st.cmd, got, want)
		}
		// At 6000 the TTLs set at 5000 have passed: under ExpiredDrop the
		// stream y and the field TTL are gone, under ExpiredKeep not.
		now = 6000
		if got, want := drop.Holds(), holdingsOfEach(t, drop); got != want {
			t.Errorf("after %q, ExpiredDrop at 6000: Holds = %+v, Each %+v", st.cmd, got, want)
		}
		if got := e.Holds(); got != st.want {
			t.Errorf("after %q, ExpiredKeep at 6000: Holds = %+v, want %+v", st.cmd, got, st.want)
		}
	}
	if got := drop.Holds(); got != (Holdings{}) {
		t.Errorf("ExpiredDrop at 6000 at the end: %+v, want nothing", got)
	}

	// A hash and a stream loaded from an RDB file.
	l := New(Options{})
	if err := l.Load(0, &rdb.Entry{Key: []byte("h")}, &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f"), Value: []byte("v"), ExpireAtMs: 5000}}}); err != nil {
		t.Fatal(err)
	}
	if err := l.Load(0, &rdb.Entry{Key: []byte("x")}, &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{}}); err != nil {
		t.Fatal(err)
	}
	if got := l.Holds(); got != (Holdings{FieldTTLs: true, Streams: true}) {
		t.Errorf("loaded: Holds = %+v, want both", got)
	}
}
