package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Each calls fn for every key, in a fixed order: databases ascending, keys in
// bytewise order within a database. The Entry and Value are freshly built for
// each call and describe the key as pkg/rdb does (Entry.Kind EntryKey, DB,
// Key, HasExpire/ExpireAtMs; a Value of the key's Kind with list elements head
// to tail, set members, zset members and hash fields in bytewise order,
// hash field TTLs in HashField.ExpireAtMs, and a stream's entries, counters,
// groups, PELs and consumers in ID/name order), so that fn can hand them to
// rdb.Writer.WriteKey. Their slices alias the engine's memory: fn must not
// modify them, and must copy what it keeps after the next Apply.
//
// Under ExpiredDrop, keys whose TTL is at or before the clock are left out,
// and so are such hash fields (a hash left without fields is left out).
//
// Each stops at the first error fn returns and returns it.
func (e *Engine) Each(fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	drop := e.opts.Expired == ExpiredDrop
	var now int64
	if drop {
		now = e.now()
	}
	type keyObject struct {
		k string
		o *object
	}
	var keys []keyObject
	for dbi, db := range e.dbs {
		// Sort the (key, object) pairs, not the keys: looking every key up
		// again in a map of millions costs more than the sort.
		keys = keys[:0]
		for k, o := range db.keys {
			keys = append(keys, keyObject{k, o})
		}
		slices.SortFunc(keys, func(a, b keyObject) int { return strings.Compare(a.k, b.k) })
		for _, ko := range keys {
			k, o := ko.k, ko.o
			if drop && o.hasTTL && o.expireAt <= now {
				continue
			}
			v := o.value(drop, now)
			if v == nil {
				continue
			}
			key := []byte(k)
			ent := &rdb.Entry{Kind: rdb.EntryKey, DB: dbi, Key: key, Type: v.Encoded,
				HasExpire: o.hasTTL, ExpireAtMs: o.expireAt}
			if err := fn(dbi, key, ent, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// value builds the rdb.Value of o; nil when a hash has only dropped fields.
func (o *object) value(drop bool, now int64) *rdb.Value {
	v := &rdb.Value{Kind: o.kind}
	switch o.kind {
	case rdb.KindString:
		v.String, v.Encoded, v.Elems = o.str, rdb.TypeString, 1
		v.Size = int64(len(o.str))
	case rdb.KindList:
		v.List, v.Encoded = o.list.slice(), rdb.TypeListQuicklist2
		v.Elems = len(v.List)
	case rdb.KindSet:
		v.Set, v.Encoded = setMembers(o.set), rdb.TypeSet
		v.Elems = len(v.Set)
	case rdb.KindZSet:
		v.Encoded = rdb.TypeZSet2
		for _, x := range o.zset.nodes(false) {
			v.ZSet = append(v.ZSet, rdb.ZMember{Member: x.member, Score: x.score})
		}
		v.Elems = len(v.ZSet)
	case rdb.KindHash:
		v.Encoded = rdb.TypeHash
		for _, f := range o.hash.sortedFields() {
			hf := o.hash.fields[f]
			if drop && hf.expireAt != 0 && hf.expireAt <= now {
				continue
			}
			if hf.expireAt != 0 {
				v.Encoded = rdb.TypeHashMetadata
			}
			v.Hash = append(v.Hash, rdb.HashField{Field: []byte(f), Value: hf.value, ExpireAtMs: hf.expireAt})
		}
		if len(v.Hash) == 0 {
			return nil
		}
		v.Elems = len(v.Hash)
	case rdb.KindStream:
		v.Encoded = rdb.TypeStreamListpacks3
		v.Stream = o.stream.export()
		v.Elems = len(v.Stream.Entries)
	}
	return v
}

func (s *stream) export() *rdb.Stream {
	out := &rdb.Stream{StreamMeta: rdb.StreamMeta{
		Length:       uint64(len(s.entries)),
		LastID:       s.lastID,
		FirstID:      s.firstID(),
		MaxDeletedID: s.maxDeleted,
		EntriesAdded: s.entriesAdded,
		GroupCount:   uint64(len(s.groups)),
	}}
	out.Entries = make([]rdb.StreamEntry, len(s.entries))
	for i, en := range s.entries {
		out.Entries[i] = rdb.StreamEntry{ID: en.id, Fields: en.fields}
	}
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		g := s.groups[n]
		rg := rdb.StreamGroup{Name: g.name, LastDelivered: g.lastID, EntriesRead: g.entriesRead}
		for _, id := range g.sortedPEL() {
			nk := g.pel[id]
			rg.PEL = append(rg.PEL, rdb.StreamPending{ID: id, DeliveryTimeMs: nk.deliveryTime,
				DeliveryCount: nk.count, Consumer: nk.consumer.name})
		}
		cnames := make([]string, 0, len(g.consumers))
		for cn := range g.consumers {
			cnames = append(cnames, cn)
		}
		slices.Sort(cnames)
		for _, cn := range cnames {
			c := g.consumers[cn]
			rc := rdb.StreamConsumer{Name: c.name, SeenTimeMs: c.seenTime, ActiveTimeMs: c.activeTime}
			for id := range c.pel {
				rc.PEL = append(rc.PEL, id)
			}
			slices.SortFunc(rc.PEL, cmpID)
			rg.Consumers = append(rg.Consumers, rc)
		}
		out.Groups = append(out.Groups, rg)
	}
	return out
}

// Load stores a key read from an RDB file (an AOF base, or any snapshot to
// apply commands on top of) in database db, replacing any key of that name.
// Only e.Key, e.HasExpire and e.ExpireAtMs are used; v is copied. A stream
// PEL entry's owner is taken from StreamPending.Consumer, or else from the
// consumer whose PEL lists the ID.
func (e *Engine) Load(db int, ent *rdb.Entry, v *rdb.Value) error {
	d := e.DB(db)
	if d == nil {
		return fmt.Errorf("engine: load: database %d out of range (0-%d)", db, len(e.dbs)-1)
	}
	if v == nil {
		return errors.New("engine: load: nil value")
	}
	var o *object
	switch v.Kind {
	case rdb.KindString:
		o = newString(clone(v.String))
	case rdb.KindList:
		o = newList()
		for _, el := range v.List {
			o.list.pushBack(clone(el))
		}
	case rdb.KindSet:
		o = newSet()
		for _, m := range v.Set {
			o.set[string(m)] = struct{}{}
		}
	case rdb.KindZSet:
		o = newZSet()
		for _, m := range v.ZSet {
			o.zset.set(m.Member, m.Score)
		}
	case rdb.KindHash:
		o = newHash()
		for _, f := range v.Hash {
			o.hash.fields[string(f.Field)] = &hfield{value: clone(f.Value), expireAt: f.ExpireAtMs}
		}
	case rdb.KindStream:
		if v.Stream == nil {
			return errors.New("engine: load: stream value without Stream")
		}
		o = &object{kind: rdb.KindStream, stream: importStream(v.Stream)}
	default:
		return &UnsupportedError{What: fmt.Sprintf("loading a %s value (key %s)", v.Kind, rdb.QuoteBytes(ent.Key))}
	}
	o.hasTTL, o.expireAt = ent.HasExpire, ent.ExpireAtMs
	d.keys[string(ent.Key)] = o
	return nil
}

func importStream(rs *rdb.Stream) *stream {
	s := &stream{lastID: rs.LastID, entriesAdded: rs.EntriesAdded, maxDeleted: rs.MaxDeletedID, groups: map[string]*cgroup{}}
	for _, en := range rs.Entries {
		f := make([][]byte, len(en.Fields))
		for i, b := range en.Fields {
			f[i] = clone(b)
		}
		s.entries = append(s.entries, streamEntry{id: en.ID, fields: f})
	}
	slices.SortFunc(s.entries, func(a, b streamEntry) int { return cmpID(a.id, b.id) })
	for _, rg := range rs.Groups {
		g := &cgroup{name: clone(rg.Name), lastID: rg.LastDelivered, entriesRead: rg.EntriesRead,
			pel: map[rdb.StreamID]*nack{}, consumers: map[string]*consumer{}}
		owner := map[rdb.StreamID]*consumer{}
		for _, rc := range rg.Consumers {
			c := &consumer{name: clone(rc.Name), seenTime: rc.SeenTimeMs, activeTime: rc.ActiveTimeMs, pel: map[rdb.StreamID]*nack{}}
			g.consumers[string(rc.Name)] = c
			for _, id := range rc.PEL {
				owner[id] = c
			}
		}
		for _, p := range rg.PEL {
			c := owner[p.ID]
			if p.Consumer != nil {
				if cc := g.consumers[string(p.Consumer)]; cc != nil {
					c = cc
				}
			}
			if c == nil {
				continue // an orphan PEL entry: Redis refuses such files
			}
			nk := &nack{deliveryTime: p.DeliveryTimeMs, count: p.DeliveryCount, consumer: c}
			g.pel[p.ID] = nk
			c.pel[p.ID] = nk
		}
		s.groups[string(rg.Name)] = g
	}
	return s
}
