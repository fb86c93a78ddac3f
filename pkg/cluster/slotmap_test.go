package cluster

import (
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/resp"
)

func TestParseRanges(t *testing.T) {
	nodes, err := ParseRanges("0-5460,5461-10922,10923-16383")
	if err != nil || len(nodes) != 3 || nodes[1].RangesText() != "5461-10922" || nodes[2].ID != "part-3" {
		t.Fatalf("%+v, %v", nodes, err)
	}
	m, err := NewMap(nodes)
	if err != nil || m.Owner(0) != 0 || m.Owner(5461) != 1 || m.Owner(16383) != 2 || len(m.Unassigned()) != 0 {
		t.Fatalf("map: %v", err)
	}
	nodes, err = ParseRanges("0-99+200-299, 100-199+300")
	if err != nil || nodes[0].Slots() != 200 || nodes[1].RangesText() != "100-199,300" {
		t.Fatalf("%+v, %v", nodes, err)
	}
	m, _ = NewMap(nodes)
	if u := m.Unassigned(); len(u) != 1 || u[0] != (Range{301, 16383}) {
		t.Fatalf("unassigned %v", u)
	}
	for _, bad := range []string{"0-16384", "5-1", "x", "", "1-2-3", "-1"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) accepted", bad)
		}
	}
	overlap, _ := ParseRanges("0-100,100-200")
	if _, err := NewMap(overlap); err == nil || !strings.Contains(err.Error(), "slot 100") {
		t.Errorf("overlap: %v", err)
	}
}

// A nodes.conf as Redis 7.0 writes it, with a slot being migrated.
const nodesConf = `e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001,host-a myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003 master,fail - 1426238316232 0 3 connected 10923-16383
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@40005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 :0@0 master,noaddr - 0 0 0 disconnected
vars currentEpoch 6 lastVoteEpoch 0
`

func TestParseNodes(t *testing.T) {
	nodes, err := ParseNodes(nodesConf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMap(nodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 3 || m.Nodes[0].Addr != "127.0.0.1:30001" || m.Nodes[2].Addr != "127.0.0.1:30003" {
		t.Fatalf("%+v", m.Nodes)
	}
	if m.Nodes[m.Owner(5461)].ID != "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1" {
		t.Errorf("slot 5461 belongs to %s", m.Nodes[m.Owner(5461)].ID)
	}
	if _, err := ParseNodes("garbage line\n"); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseRedirect(t *testing.T) {
	rd, ok := ParseRedirect("MOVED 3999 127.0.0.1:6381")
	if !ok || rd.Ask || rd.Slot != 3999 || rd.Addr != "127.0.0.1:6381" {
		t.Fatalf("%+v %v", rd, ok)
	}
	rd, ok = ParseRedirect("ASK 1 :7000")
	if !ok || !rd.Ask || ResolveAddr(rd.Addr, "10.0.0.1:7001") != "10.0.0.1:7000" {
		t.Fatalf("%+v %v", rd, ok)
	}
	for _, bad := range []string{"MOVED 16384 h:1", "MOVED x h:1", "ERR x", "MOVED 1", "ASK 1 nohostport"} {
		if _, ok := ParseRedirect(bad); ok {
			t.Errorf("ParseRedirect(%q) accepted", bad)
		}
	}
}

func TestFromShardsAndSlots(t *testing.T) {
	str := func(s string) resp.Reply { return resp.Reply{Kind: resp.KindBulk, Str: []byte(s)} }
	num := func(n int64) resp.Reply { return resp.Reply{Kind: resp.KindInt, Int: n} }
	arr := func(e ...resp.Reply) resp.Reply { return resp.Reply{Kind: resp.KindArray, Elems: e} }
	node := func(id, ip string, port, tlsPort int64, role string) resp.Reply {
		return arr(str("id"), str(id), str("port"), num(port), str("tls-port"), num(tlsPort), str("ip"), str(ip),
			str("endpoint"), str(ip), str("role"), str(role), str("health"), str("online"))
	}
	shards := arr(
		arr(str("slots"), arr(num(0), num(8191)), str("nodes"), arr(node("r1", "10.0.0.2", 7001, 8001, "replica"), node("m1", "10.0.0.1", 7000, 8000, "master"))),
		arr(str("slots"), arr(num(8192), num(16383)), str("nodes"), arr(node("m2", "?", 7002, 8002, "master"))),
	)
	nodes, err := FromShards(shards, true, "10.0.0.9:1")
	if err != nil || len(nodes) != 2 || nodes[0].Addr != "10.0.0.1:8000" || nodes[1].Addr != "10.0.0.9:8002" || nodes[0].ID != "m1" {
		t.Fatalf("%+v, %v", nodes, err)
	}
	slots := arr(arr(num(0), num(8191), arr(str("10.0.0.1"), num(7000), str("m1")), arr(str("10.0.0.2"), num(7001), str("r1"))),
		arr(num(8192), num(16383), arr(str(""), num(7002), str("m2"))))
	nodes, err = FromSlots(slots, "10.0.0.9:1")
	if err != nil || len(nodes) != 2 || nodes[0].Addr != "10.0.0.1:7000" || nodes[1].Addr != "10.0.0.9:7002" {
		t.Fatalf("%+v, %v", nodes, err)
	}
}

// FuzzParseNodes: whatever a nodes.conf holds, parsing neither panics nor
// makes a map with a slot out of range, and a map that builds owns each slot
// at most once.
func FuzzParseNodes(f *testing.F) {
	f.Add(nodesConf)
	f.Add("a 1.2.3.4:5@6 master - 0 0 1 connected 0-16383\n")
	f.Add("x :0 master,noaddr - 0 0 0 disconnected 5 [6->-y]\nvars currentEpoch 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		nodes, err := ParseNodes(text)
		if err != nil {
			return
		}
		m, err := NewMap(nodes)
		if err != nil {
			return
		}
		seen := 0
		for s := range NumSlots {
			if o := m.Owner(s); o >= 0 {
				seen++
				if o >= len(m.Nodes) {
					t.Fatalf("slot %d owned by node %d of %d", s, o, len(m.Nodes))
				}
			}
		}
		total := 0
		for _, n := range m.Nodes {
			total += n.Slots()
		}
		if total != seen {
			t.Fatalf("nodes claim %d slots, the map has %d", total, seen)
		}
	})
}
