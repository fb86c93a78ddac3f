package engine_test

import (
	"testing"

	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Payloads from DUMP on redis-server 7.0.15 (RDB version 10).
var dumps = map[string]string{
	"l":  "\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\n\x00\xe0\x1b\xabJG\xceY\"",
	"z":  "\x11\x14\x14\x00\x00\x00\x04\x00\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff\n\x00\xd4Ln\xa4\xf6D\xd9\xd7",
	"h":  "\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81g\x02\x0c\x01\xff\n\x00\xde\x139\x93\xf7\x83\x81~",
	"s":  "\x02\x03\xc0\x03\x01x\x01y\n\x00y[\xe5\xeb`\x16\x89\xca",
	"st": "\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x1d\x1d\x00\x00\x00\n\x00\x01\x01\x00\x01\x01\x01\x81f\x02\x00\x01\x02\x01\x00\x01\x00\x01\x81v\x02\x04\x01\xff\x01\x01\x01\x01\x01\x00\x00\x01\x01\x01g\x00\x00\x81\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\n\x00\xff\x9a\xd3KH\xb2h\xce",
	"h1": "\x00\x1bHYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00`\xf3\x80P\xb1\x84K\xfb\x80BZ\n\x00\xab\xfb+~\xa3\xb0\xef\xec",
}

func TestRestore(t *testing.T) {
	e := engine.New(engine.Options{Version: 700, Clock: func() int64 { return 1000 }})
	for k, p := range dumps {
		if err := e.Apply(bs("RESTORE", k, "0", p)); err != nil {
			t.Fatalf("RESTORE %s: %v", k, err)
		}
	}
	got := map[string]*rdb.Value{}
	var ttl int64
	e.Apply(bs("RESTORE", "ttl", "500", dumps["s"]))
	e.Each(func(_ int, k []byte, ent *rdb.Entry, v *rdb.Value) error {
		got[string(k)] = v
		if string(k) == "ttl" {
			ttl = ent.ExpireAtMs
		}
		return nil
	})
	if v := got["l"]; v == nil || len(v.List) != 3 || string(v.List[2]) != "1" {
		t.Fatalf("list: %+v", v)
	}
	if v := got["z"]; v == nil || len(v.ZSet) != 2 || v.ZSet[1].Score != 2.5 {
		t.Fatalf("zset: %+v", v)
	}
	if v := got["h"]; v == nil || len(v.Hash) != 2 {
		t.Fatalf("hash: %+v", v)
	}
	if v := got["s"]; v == nil || len(v.Set) != 3 {
		t.Fatalf("set: %+v", v)
	}
	if v := got["st"]; v == nil || v.Stream == nil || len(v.Stream.Groups) != 1 {
		t.Fatalf("stream: %+v", v)
	}
	if v := got["h1"]; v == nil || string(v.String[:4]) != "HYLL" {
		t.Fatalf("hll: %+v", v)
	}
	if ttl != 1500 {
		t.Fatalf("relative ttl: %d", ttl)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"RESTORE", "l", "0", dumps["l"]}, "BUSYKEY Target key name already exists."},
		{[]string{"RESTORE", "n", "0", dumps["l"][:len(dumps["l"])-1] + "x"}, "ERR DUMP payload version or checksum are wrong"},
		{[]string{"RESTORE", "n", "-1", dumps["l"]}, "ERR Invalid TTL value, must be >= 0"},
		{[]string{"RESTORE", "n", "0", dumps["l"], "FREQ", "300"}, "ERR Invalid FREQ value, must be >= 0 and <= 255"},
		{[]string{"RESTORE", "n", "0", dumps["l"], "IDLETIME", "1", "FREQ", "3"}, "ERR syntax error"},
		{[]string{"RESTORE", "n", "0", "short"}, "ERR DUMP payload version or checksum are wrong"},
	} {
		err := e.Apply(bs(c.args...))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %q", c.args[:2], err, c.want)
		}
	}
	for _, args := range [][]string{
		{"RESTORE", "l", "0", dumps["z"], "REPLACE", "ABSTTL", "IDLETIME", "5"},
		{"RESTORE", "abs", "99999", dumps["h1"], "ABSTTL", "FREQ", "3"},
	} {
		if err := e.Apply(bs(args...)); err != nil {
			t.Fatalf("%q: %v", args[:2], err)
		}
	}
	live := engine.New(engine.Options{Mode: engine.ModeLive, Clock: func() int64 { return 1000 }})
	live.Apply(bs("SET", "k", "v"))
	if err := live.Apply(bs("RESTORE", "k", "5", dumps["l"], "REPLACE", "ABSTTL")); err != nil {
		t.Fatal(err)
	}
	if n := live.DB(0).Len(); n != 0 {
		t.Fatalf("RESTORE with a past ABSTTL in live mode left %d keys", n)
	}
}
