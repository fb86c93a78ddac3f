package redistest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
)

// SnapshotOptions configure Snapshot.
type SnapshotOptions struct {
	// Strict adds each stream consumer's seen_time (expected-strict.jsonl). An
	// AOF does not keep it, so compare AOF loads without it.
	Strict bool
	// DBs limits the walk to these databases; nil means all (CONFIG GET databases).
	DBs []int
}

// page sizes for SCAN and the ranged reads of big values; keys read in one
// pipeline.
const (
	scanCount = 1000
	pageSize  = 10000
	batchKeys = 256
)

// Snapshot reads the whole dataset of the server c is connected to and returns
// it as sorted canonical lines (package canon): one line per key, with its TTL
// (PEXPIRETIME) and value, and one line for the function libraries (FUNCTION
// LIST WITHCODE) when any is loaded. Stream groups and consumers carry their
// PELs (XINFO STREAM ... FULL COUNT 0); hashes carry field TTLs when the server
// has HPEXPIRETIME. It leaves the connection on database 0.
//
// It needs Redis 7.0 or later (PEXPIRETIME, FUNCTION LIST, XINFO entries-read).
// It only reads, but reads touch keys: LRU/LFU state changes, and keys whose
// TTL passes during the walk are skipped.
func Snapshot(c *Client, o SnapshotOptions) ([]string, error) {
	sn := snapshotter{c: c, o: o}
	lines, err := sn.run()
	if _, err2 := c.Do("SELECT", 0); err == nil && err2 != nil {
		err = err2
	}
	if err != nil {
		return nil, fmt.Errorf("redistest: snapshot: %w", err)
	}
	canon.Sort(lines)
	return lines, nil
}

// Snapshot is Snapshot on a new connection; it fails the test on error.
func (s *Server) Snapshot(t testing.TB, o SnapshotOptions) []string {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("redistest: connecting to %s: %v", s.addr, err)
	}
	defer c.Close()
	lines, err := Snapshot(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

type snapshotter struct {
	c            *Client
	o            SnapshotOptions
	hasFieldTTLs bool
}

func (sn *snapshotter) run() ([]string, error) {
	c := sn.c
	info, err := ToArray(c.Do("COMMAND", "INFO", "HPEXPIRETIME"))
	if err != nil {
		return nil, err
	}
	sn.hasFieldTTLs = len(info) == 1 && info[0] != nil && !isNil(info[0])

	dbs := sn.o.DBs
	if dbs == nil {
		kv, err := ToBytesList(c.Do("CONFIG", "GET", "databases"))
		if err != nil {
			return nil, err
		}
		if len(kv) != 2 {
			return nil, fmt.Errorf("CONFIG GET databases: %q", kv)
		}
		n, err := strconv.Atoi(string(kv[1]))
		if err != nil {
			return nil, fmt.Errorf("CONFIG GET databases: %q", kv[1])
		}
		for i := range n {
			dbs = append(dbs, i)
		}
	}

	var lines []string
	for _, db := range dbs {
		if _, err := c.Do("SELECT", db); err != nil {
			return nil, err
		}
		keys, err := sn.scan()
		if err != nil {
			return nil, fmt.Errorf("db %d: %w", db, err)
		}
		for start := 0; start < len(keys); start += batchKeys {
			batch, err := sn.keys(db, keys[start:min(start+batchKeys, len(keys))])
			if err != nil {
				return nil, fmt.Errorf("db %d: %w", db, err)
			}
			for _, k := range batch {
				lines = append(lines, canon.Marshal(k))
			}
		}
	}

	fl, ok, err := sn.functions()
	if err != nil {
		return nil, err
	}
	if ok {
		lines = append(lines, canon.Marshal(fl))
	}
	return lines, nil
}

func isNil(r Reply) bool {
	switch v := r.(type) {
	case Bulk:
		return v == nil
	case Array:
		return v == nil
	}
	return false
}

// scan returns the keys of the selected database, each once, sorted.
func (sn *snapshotter) scan() ([][]byte, error) {
	seen := map[string]bool{}
	var keys [][]byte
	cursor := "0"
	for {
		a, err := ToArray(sn.c.Do("SCAN", cursor, "COUNT", scanCount))
		if err != nil {
			return nil, err
		}
		if len(a) != 2 {
			return nil, fmt.Errorf("SCAN reply %s", Describe(a))
		}
		if cursor, err = ToString(a[0], nil); err != nil {
			return nil, err
		}
		batch, err := ToBytesList(a[1], nil)
		if err != nil {
			return nil, err
		}
		for _, k := range batch {
			if !seen[string(k)] {
				seen[string(k)] = true
				keys = append(keys, k)
			}
		}
		if cursor == "0" {
			break
		}
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys, nil
}

// keys reads a batch of keys in three pipelined round trips (type and TTL;
// the value, or its first page; hash field TTLs), then the further pages of
// big lists and streams one by one. Keys that vanished (expired) meanwhile
// are left out.
func (sn *snapshotter) keys(db int, keys [][]byte) ([]canon.Key, error) {
	c := sn.c
	cmds := make([][]any, 0, 2*len(keys))
	for _, key := range keys {
		cmds = append(cmds, []any{"TYPE", key}, []any{"PEXPIRETIME", key})
	}
	meta, err := c.Pipeline(cmds)
	if err != nil {
		return nil, err
	}
	type pending struct {
		key   []byte
		typ   string
		exp   int64
		first int // index of its first value reply
	}
	var todo []pending
	cmds = cmds[:0]
	for i, key := range keys {
		typ, err := ToString(meta[2*i], nil)
		if err != nil {
			return nil, fmt.Errorf("TYPE %q: %w", key, err)
		}
		exp, err := ToInt(meta[2*i+1], nil)
		if err != nil {
			return nil, fmt.Errorf("PEXPIRETIME %q: %w", key, err)
		}
		switch {
		case typ == "none" || exp == -2:
			continue
		case exp < 0:
			exp = 0
		}
		todo = append(todo, pending{key: key, typ: typ, exp: exp, first: len(cmds)})
		switch typ {
		case canon.TypeString:
			cmds = append(cmds, []any{"GET", key})
		case canon.TypeList:
			cmds = append(cmds, []any{"LRANGE", key, 0, pageSize - 1})
		case canon.TypeSet:
			cmds = append(cmds, []any{"SMEMBERS", key})
		case canon.TypeZSet:
			cmds = append(cmds, []any{"ZRANGE", key, 0, -1, "WITHSCORES"})
		case canon.TypeHash:
			cmds = append(cmds, []any{"HGETALL", key})
		case canon.TypeStream:
			cmds = append(cmds, []any{"XRANGE", key, "-", "+", "COUNT", pageSize}, []any{"XINFO", "STREAM", key, "FULL", "COUNT", 0})
		default:
			return nil, fmt.Errorf("key %q: type %q is not supported", key, typ)
		}
	}
	values, err := c.Pipeline(cmds)
	if err != nil {
		return nil, err
	}
	out := make([]canon.Key, 0, len(todo))
	var ttlCmds [][]any
	var ttlKeys []int // index in out of each hash whose field TTLs are asked
	for _, p := range todo {
		r := values[p.first]
		var v canon.Value
		var err error
		switch p.typ {
		case canon.TypeString:
			var b []byte
			b, err = ToBytes(r, nil)
			v = canon.Bytes(b)
		case canon.TypeList:
			v, err = sn.list(p.key, r)
		case canon.TypeSet:
			var m [][]byte
			m, err = ToBytesList(r, nil)
			v = canon.Set(m)
		case canon.TypeZSet:
			v, err = zsetOf(r)
		case canon.TypeHash:
			var h canon.Hash
			h, err = hashOf(r)
			v = h
			if err == nil && sn.hasFieldTTLs && len(h) > 0 {
				ttlKeys = append(ttlKeys, len(out))
				ttlCmds = append(ttlCmds, fieldTTLCommands(p.key, h)...)
			}
		case canon.TypeStream:
			v, err = sn.stream(p.key, r, values[p.first+1])
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", p.key, err)
		}
		out = append(out, canon.NewKey(db, p.key, p.exp, v))
	}
	if len(ttlCmds) == 0 {
		return out, nil
	}
	ttls, err := c.Pipeline(ttlCmds)
	if err != nil {
		return nil, err
	}
	for _, i := range ttlKeys {
		h := out[i].Value.(canon.Hash)
		n := (len(h) + pageSize - 1) / pageSize
		m, err := fieldTTLsOf(h, ttls[:n])
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", out[i].Key, err)
		}
		out[i].FieldExpireAtMs = m
		ttls = ttls[n:]
	}
	return out, nil
}

// list completes a list from its first page (LRANGE 0 pageSize-1).
func (sn *snapshotter) list(key []byte, first Reply) (canon.List, error) {
	page, err := ToBytesList(first, nil)
	if err != nil {
		return nil, err
	}
	l := canon.List(page)
	for start := int64(pageSize); len(page) == pageSize; start += pageSize {
		if page, err = ToBytesList(sn.c.Do("LRANGE", key, start, start+pageSize-1)); err != nil {
			return nil, err
		}
		l = append(l, page...)
	}
	return l, nil
}

func zsetOf(r Reply) (canon.ZSet, error) {
	a, err := ToBytesList(r, nil)
	if err != nil {
		return nil, err
	}
	if len(a)%2 != 0 {
		return nil, fmt.Errorf("ZRANGE WITHSCORES returned %d items", len(a))
	}
	z := make(canon.ZSet, 0, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		f, err := canon.ParseScore(string(a[i+1]))
		if err != nil {
			return nil, err
		}
		z = append(z, canon.ZMember{Member: a[i], Score: f})
	}
	return z, nil
}

func hashOf(r Reply) (canon.Hash, error) {
	a, err := ToBytesList(r, nil)
	if err != nil {
		return nil, err
	}
	if len(a)%2 != 0 {
		return nil, fmt.Errorf("HGETALL returned %d items", len(a))
	}
	h := make(canon.Hash, 0, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		h = append(h, canon.HashField{Field: a[i], Value: a[i+1]})
	}
	return h, nil
}

// fieldTTLCommands asks HPEXPIRETIME for every field (a server with hash
// field expiration), pageSize fields a command.
func fieldTTLCommands(key []byte, h canon.Hash) [][]any {
	var cmds [][]any
	for start := 0; start < len(h); start += pageSize {
		page := h[start:min(start+pageSize, len(h))]
		args := []any{"HPEXPIRETIME", key, "FIELDS", len(page)}
		for _, f := range page {
			args = append(args, f.Field)
		}
		cmds = append(cmds, args)
	}
	return cmds
}

// fieldTTLsOf keeps the fields with a TTL from the replies to
// fieldTTLCommands.
func fieldTTLsOf(h canon.Hash, replies []Reply) (canon.FieldTTLs, error) {
	var m canon.FieldTTLs
	for pi, r := range replies {
		page := h[pi*pageSize : min((pi+1)*pageSize, len(h))]
		a, err := ToArray(r, nil)
		if err != nil {
			return nil, err
		}
		if len(a) != len(page) {
			return nil, fmt.Errorf("HPEXPIRETIME returned %d items for %d fields", len(a), len(page))
		}
		for i, r := range a {
			ms, err := ToInt(r, nil)
			if err != nil {
				return nil, err
			}
			if ms >= 0 {
				if m == nil {
					m = canon.FieldTTLs{}
				}
				m[string(page[i].Field)] = ms
			}
		}
	}
	return m, nil
}

// stream reads a stream from its first XRANGE page and its XINFO STREAM
// FULL reply, and the further pages one by one.
func (sn *snapshotter) stream(key []byte, firstPage, infoReply Reply) (*canon.Stream, error) {
	s := &canon.Stream{}
	// Entries, paged by exclusive start.
	page := firstPage
	for {
		a, err := ToArray(page, nil)
		if err != nil {
			return nil, err
		}
		for _, e := range a {
			ea, err := ToArray(e, nil)
			if err != nil || len(ea) != 2 {
				return nil, fmt.Errorf("XRANGE entry %s", Describe(e))
			}
			id, err := parseID(ea[0])
			if err != nil {
				return nil, err
			}
			fields, err := ToBytesList(ea[1], nil)
			if err != nil {
				return nil, err
			}
			s.Entries = append(s.Entries, canon.StreamEntry{ID: id, Fields: fields})
		}
		if len(a) < pageSize {
			break
		}
		start := "(" + s.Entries[len(s.Entries)-1].ID.String()
		if page, err = sn.c.Do("XRANGE", key, start, "+", "COUNT", pageSize); err != nil {
			return nil, err
		}
	}

	info, err := ToArray(infoReply, nil)
	if err != nil {
		return nil, err
	}
	m, err := fieldMap(info)
	if err != nil {
		return nil, err
	}
	if s.Length, err = mapUint(m, "length"); err != nil {
		return nil, err
	}
	if s.EntriesAdded, err = mapUint(m, "entries-added"); err != nil {
		return nil, err
	}
	if s.LastID, err = mapID(m, "last-generated-id"); err != nil {
		return nil, err
	}
	if s.MaxDeletedEntryID, err = mapID(m, "max-deleted-entry-id"); err != nil {
		return nil, err
	}
	groups, err := ToArray(m["groups"], nil)
	if err != nil {
		return nil, fmt.Errorf("XINFO groups: %w", err)
	}
	for _, gr := range groups {
		g, err := sn.group(gr)
		if err != nil {
			return nil, err
		}
		s.Groups = append(s.Groups, g)
	}
	return s, nil
}

func (sn *snapshotter) group(r Reply) (canon.StreamGroup, error) {
	var g canon.StreamGroup
	a, err := ToArray(r, nil)
	if err != nil {
		return g, err
	}
	m, err := fieldMap(a)
	if err != nil {
		return g, err
	}
	if g.Name, err = ToBytes(m["name"], nil); err != nil {
		return g, err
	}
	if g.LastDelivered, err = mapID(m, "last-delivered-id"); err != nil {
		return g, err
	}
	g.EntriesRead = -1
	if er, ok := m["entries-read"]; ok && !isNil(er) {
		if g.EntriesRead, err = ToInt(er, nil); err != nil {
			return g, err
		}
	}
	pending, err := ToArray(m["pending"], nil)
	if err != nil {
		return g, fmt.Errorf("group pending: %w", err)
	}
	for _, p := range pending {
		pa, err := ToArray(p, nil)
		if err != nil || len(pa) != 4 {
			return g, fmt.Errorf("group PEL entry %s", Describe(p))
		}
		var pe canon.PendingEntry
		if pe.ID, err = parseID(pa[0]); err != nil {
			return g, err
		}
		if pe.Consumer, err = ToBytes(pa[1], nil); err != nil {
			return g, err
		}
		if pe.DeliveryTimeMs, err = ToInt(pa[2], nil); err != nil {
			return g, err
		}
		n, err := ToInt(pa[3], nil)
		if err != nil {
			return g, err
		}
		pe.DeliveryCount = uint64(n)
		g.PEL = append(g.PEL, pe)
	}
	consumers, err := ToArray(m["consumers"], nil)
	if err != nil {
		return g, fmt.Errorf("group consumers: %w", err)
	}
	for _, cr := range consumers {
		ca, err := ToArray(cr, nil)
		if err != nil {
			return g, err
		}
		cm, err := fieldMap(ca)
		if err != nil {
			return g, err
		}
		var c canon.StreamConsumer
		if c.Name, err = ToBytes(cm["name"], nil); err != nil {
			return g, err
		}
		if sn.o.Strict {
			seen, err := ToInt(cm["seen-time"], nil)
			if err != nil {
				return g, fmt.Errorf("consumer seen-time: %w", err)
			}
			c.SeenTimeMs = &seen
		}
		cp, err := ToArray(cm["pending"], nil)
		if err != nil {
			return g, fmt.Errorf("consumer pending: %w", err)
		}
		for _, p := range cp {
			pa, err := ToArray(p, nil)
			if err != nil || len(pa) < 1 {
				return g, fmt.Errorf("consumer PEL entry %s", Describe(p))
			}
			id, err := parseID(pa[0])
			if err != nil {
				return g, err
			}
			c.PEL = append(c.PEL, id)
		}
		g.Consumers = append(g.Consumers, c)
	}
	return g, nil
}

// fieldMap turns a flat [name, value, ...] reply into a map.
func fieldMap(a Array) (map[string]Reply, error) {
	if len(a)%2 != 0 {
		return nil, fmt.Errorf("odd field list %s", Describe(a))
	}
	m := make(map[string]Reply, len(a)/2)
	for i := 0; i < len(a); i += 2 {
		name, err := ToString(a[i], nil)
		if err != nil {
			return nil, err
		}
		m[name] = a[i+1]
	}
	return m, nil
}

func mapUint(m map[string]Reply, name string) (uint64, error) {
	n, err := ToInt(m[name], nil)
	if err != nil {
		return 0, fmt.Errorf("XINFO %s: %w", name, err)
	}
	return uint64(n), nil
}

func mapID(m map[string]Reply, name string) (canon.StreamID, error) {
	id, err := parseID(m[name])
	if err != nil {
		return id, fmt.Errorf("XINFO %s: %w", name, err)
	}
	return id, nil
}

func parseID(r Reply) (canon.StreamID, error) {
	s, err := ToString(r, nil)
	if err != nil {
		return canon.StreamID{}, err
	}
	return canon.ParseStreamID(s)
}

// functions reads the loaded libraries' code.
func (sn *snapshotter) functions() (canon.Functions, bool, error) {
	libs, err := ToArray(sn.c.Do("FUNCTION", "LIST", "WITHCODE"))
	if err != nil {
		return canon.Functions{}, false, err
	}
	var f canon.Functions
	for _, l := range libs {
		la, err := ToArray(l, nil)
		if err != nil {
			return f, false, err
		}
		m, err := fieldMap(la)
		if err != nil {
			return f, false, err
		}
		code, err := ToBytes(m["library_code"], nil)
		if err != nil {
			return f, false, fmt.Errorf("FUNCTION LIST library_code: %w", err)
		}
		f.Libraries = append(f.Libraries, code)
	}
	return f, len(f.Libraries) > 0, nil
}
