package cluster

import (
	"fmt"
	"net"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/resp"
)

// FromShards reads a CLUSTER SHARDS reply (Redis 7.0+). Each shard's
// master is reached at its endpoint (else its ip) and its tls-port when tls
// is set and the node has one, else its port. from is the address the reply
// came from, for endpoints the cluster does not know.
func FromShards(r resp.Reply, tls bool, from string) ([]Node, error) {
	if r.Kind != resp.KindArray {
		return nil, fmt.Errorf("CLUSTER SHARDS: want an array, got %s", r)
	}
	var nodes []Node
	for _, shard := range r.Elems {
		fields := pairs(shard)
		var n Node
		slots := fields["slots"]
		for i := 0; i+1 < len(slots.Elems); i += 2 {
			lo, hi := slots.Elems[i].Int, slots.Elems[i+1].Int
			if slots.Elems[i].Kind != resp.KindInt || slots.Elems[i+1].Kind != resp.KindInt {
				return nil, fmt.Errorf("CLUSTER SHARDS: slots %s", slots)
			}
			n.Ranges = append(n.Ranges, Range{int(lo), int(hi)})
		}
		found := false
		for _, nd := range fields["nodes"].Elems {
			f := pairs(nd)
			if f["role"].Text() != "master" {
				continue
			}
			host := f["endpoint"].Text()
			if host == "" || host == "?" {
				host = f["ip"].Text()
			}
			port := f["port"]
			if tls && f["tls-port"].Kind == resp.KindInt {
				port = f["tls-port"]
			}
			if port.Kind != resp.KindInt {
				return nil, fmt.Errorf("CLUSTER SHARDS: master %s has no port", f["id"].Text())
			}
			n.ID = f["id"].Text()
			n.Addr = ResolveAddr(net.JoinHostPort(host, strconv.FormatInt(port.Int, 10)), from)
			found = true
			break
		}
		if !found && len(n.Ranges) > 0 {
			return nil, fmt.Errorf("CLUSTER SHARDS: slots %s have no master", Node{Ranges: n.Ranges}.RangesText())
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// FromSlots reads a CLUSTER SLOTS reply (Redis 3.0+): [start, end, [host,
// port, id, ...], replicas...] per range.
func FromSlots(r resp.Reply, from string) ([]Node, error) {
	if r.Kind != resp.KindArray {
		return nil, fmt.Errorf("CLUSTER SLOTS: want an array, got %s", r)
	}
	byID := map[string]int{}
	var nodes []Node
	for _, e := range r.Elems {
		if e.Kind != resp.KindArray || len(e.Elems) < 3 || e.Elems[0].Kind != resp.KindInt || e.Elems[1].Kind != resp.KindInt {
			return nil, fmt.Errorf("CLUSTER SLOTS: bad entry %s", e)
		}
		m := e.Elems[2]
		if m.Kind != resp.KindArray || len(m.Elems) < 2 || m.Elems[1].Kind != resp.KindInt {
			return nil, fmt.Errorf("CLUSTER SLOTS: bad master %s", m)
		}
		addr := ResolveAddr(net.JoinHostPort(m.Elems[0].Text(), strconv.FormatInt(m.Elems[1].Int, 10)), from)
		id := addr
		if len(m.Elems) > 2 {
			id = m.Elems[2].Text()
		}
		i, ok := byID[id]
		if !ok {
			i = len(nodes)
			byID[id] = i
			nodes = append(nodes, Node{ID: id, Addr: addr})
		}
		nodes[i].Ranges = append(nodes[i].Ranges, Range{int(e.Elems[0].Int), int(e.Elems[1].Int)})
	}
	return nodes, nil
}

// pairs reads a flat [name, value, name, value...] array as a map.
func pairs(r resp.Reply) map[string]resp.Reply {
	m := map[string]resp.Reply{}
	for i := 0; i+1 < len(r.Elems); i += 2 {
		m[r.Elems[i].Text()] = r.Elems[i+1]
	}
	return m
}
