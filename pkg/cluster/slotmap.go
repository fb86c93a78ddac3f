package cluster

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Range is an inclusive range of slots.
type Range struct{ Start, End int }

func (r Range) String() string {
	if r.Start == r.End {
		return strconv.Itoa(r.Start)
	}
	return strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
}

// Node is a master and the slots it serves.
type Node struct {
	ID     string  // node id, or a name such as "part-1" for hand-written maps
	Addr   string  // "host:port" clients connect to; "" when unknown (--slots)
	Ranges []Range // sorted
}

// Slots is how many slots the node serves.
func (n Node) Slots() int {
	s := 0
	for _, r := range n.Ranges {
		s += r.End - r.Start + 1
	}
	return s
}

// RangesText renders the ranges as "0-5460,5461".
func (n Node) RangesText() string {
	parts := make([]string, len(n.Ranges))
	for i, r := range n.Ranges {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Map assigns slots to masters.
type Map struct {
	Nodes []Node // ordered by their first slot
	owner [NumSlots]int16
}

// NewMap builds a Map; a slot claimed twice is an error. Nodes without slots
// are left out.
func NewMap(nodes []Node) (*Map, error) {
	m := &Map{}
	for i := range m.owner {
		m.owner[i] = -1
	}
	var keep []Node
	for _, n := range nodes {
		if len(n.Ranges) == 0 {
			continue
		}
		n.Ranges = mergeRanges(n.Ranges)
		keep = append(keep, n)
	}
	slices.SortFunc(keep, func(a, b Node) int { return a.Ranges[0].Start - b.Ranges[0].Start })
	for i, n := range keep {
		for _, r := range n.Ranges {
			if r.Start < 0 || r.End >= NumSlots || r.Start > r.End {
				return nil, fmt.Errorf("slot range %s is outside 0-%d", r, NumSlots-1)
			}
			for s := r.Start; s <= r.End; s++ {
				if o := m.owner[s]; o >= 0 {
					return nil, fmt.Errorf("slot %d is given to two masters (%s and %s)", s, keep[o].name(), n.name())
				}
				m.owner[s] = int16(i)
			}
		}
	}
	m.Nodes = keep
	return m, nil
}

func (n Node) name() string {
	if n.Addr != "" {
		return n.Addr
	}
	return n.ID
}

func mergeRanges(rs []Range) []Range {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Range) int { return a.Start - b.Start })
	out := rs[:0]
	for _, r := range rs {
		if k := len(out); k > 0 && out[k-1].End+1 == r.Start {
			out[k-1].End = r.End
			continue
		}
		out = append(out, r)
	}
	return out
}

// Owner returns the index in Nodes of the master serving slot, or -1.
func (m *Map) Owner(slot int) int { return int(m.owner[slot]) }

// Unassigned lists the slots no master serves.
func (m *Map) Unassigned() []Range {
	var out []Range
	for s := 0; s < NumSlots; s++ {
		if m.owner[s] >= 0 {
			continue
		}
		if k := len(out); k > 0 && out[k-1].End == s-1 {
			out[k-1].End = s
		} else {
			out = append(out, Range{s, s})
		}
	}
	return out
}

// ParseRanges reads a hand-written slot map, one master per comma-separated
// item, several ranges of one master joined with "+":
// "0-5460,5461-10922,10923-16383" or "0-99+200-299,100-199+300-16383". The
// masters are named part-1, part-2... in the order given.
func ParseRanges(s string) ([]Node, error) {
	var nodes []Node
	for i, item := range strings.Split(s, ",") {
		n := Node{ID: "part-" + strconv.Itoa(i+1)}
		for _, rs := range strings.Split(item, "+") {
			r, err := parseRange(strings.TrimSpace(rs))
			if err != nil {
				return nil, err
			}
			n.Ranges = append(n.Ranges, r)
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

func parseRange(s string) (Range, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi := lo
	var err2 error
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || lo < 0 || hi >= NumSlots || lo > hi {
		return Range{}, fmt.Errorf("bad slot range %q (want N or N-M within 0-%d)", s, NumSlots-1)
	}
	return Range{lo, hi}, nil
}

// ParseNodes reads the text of CLUSTER NODES or of a nodes.conf file and
// returns its masters that serve slots. Slots being migrated or imported
// ("[5->-id]", "[5-<-id]") stay with their current owner. A master marked
// failed is kept (its slots are still its own), but without an address when
// it has none ("noaddr").
func ParseNodes(text string) ([]Node, error) {
	var nodes []Node
	for ln, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "vars ") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("line %d: %d fields, a node line has at least 8", ln+1, len(f))
		}
		flags := strings.Split(f[2], ",")
		if !slices.Contains(flags, "master") {
			continue
		}
		addr := f[1]
		if i := strings.IndexAny(addr, "@,"); i >= 0 {
			addr = addr[:i]
		}
		if slices.Contains(flags, "noaddr") || strings.HasPrefix(addr, ":") {
			addr = ""
		}
		n := Node{ID: f[0], Addr: addr}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			r, err := parseRange(s)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", ln+1, err)
			}
			n.Ranges = append(n.Ranges, r)
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 0 {
		return nil, errors.New("no master in the node list")
	}
	return nodes, nil
}

// Redirect is a MOVED or ASK error reply.
type Redirect struct {
	Ask  bool // ASK: this command only; MOVED: the slot has moved
	Slot int
	Addr string // "host:port"; the host may be empty ("unknown endpoint")
}

// ParseRedirect reads "MOVED 3999 127.0.0.1:6381" or "ASK 3999 ...".
func ParseRedirect(msg string) (Redirect, bool) {
	f := strings.Fields(msg)
	if len(f) != 3 || (f[0] != "MOVED" && f[0] != "ASK") {
		return Redirect{}, false
	}
	slot, err := strconv.Atoi(f[1])
	if err != nil || slot < 0 || slot >= NumSlots {
		return Redirect{}, false
	}
	if _, _, err := net.SplitHostPort(f[2]); err != nil {
		return Redirect{}, false
	}
	return Redirect{Ask: f[0] == "ASK", Slot: slot, Addr: f[2]}, true
}

// ResolveAddr fills in the host of addr from the node that sent it when the
// server left it out (":6381", "?:6381"): the cluster runs with an unknown
// preferred endpoint, which means "the host you already talk to".
func ResolveAddr(addr, from string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || (host != "" && host != "?") {
		return addr
	}
	fromHost, _, err := net.SplitHostPort(from)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(fromHost, port)
}
