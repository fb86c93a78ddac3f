package canon

import (
	"fmt"
	"io"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// FromRDB reads a whole RDB stream and returns its dataset as sorted canonical
// lines, in the strict form (consumers carry seen_time) when strict is set. It is
// how tests compare what our reader sees with what a server held.
func FromRDB(r *rdb.Reader, strict bool) ([]string, error) {
	var lines []string
	var funcs Set
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch e.Kind {
		case rdb.EntryFunction:
			funcs = append(funcs, append([]byte(nil), e.Function...))
		case rdb.EntryKey:
			key := append([]byte(nil), e.Key...)
			db, exp := e.DB, e.ExpireAtMs
			if !e.HasExpire {
				exp = 0
			}
			v, err := r.ReadValue(1 << 30)
			if err != nil {
				return nil, err
			}
			line, err := KeyLine(db, key, exp, v, strict)
			if err != nil {
				return nil, err
			}
			lines = append(lines, Marshal(line))
		}
	}
	if len(funcs) > 0 {
		lines = append(lines, Marshal(Functions{Libraries: funcs}))
	}
	Sort(lines)
	return lines, nil
}

// KeyLine is the canonical line of one key read by pkg/rdb (or decoded from
// rdbtool's JSON).
func KeyLine(db int, key []byte, exp int64, v *rdb.Value, strict bool) (Key, error) {
	switch v.Kind {
	case rdb.KindString:
		return NewKey(db, key, exp, Bytes(v.String)), nil
	case rdb.KindList:
		return NewKey(db, key, exp, List(v.List)), nil
	case rdb.KindSet:
		return NewKey(db, key, exp, Set(v.Set)), nil
	case rdb.KindZSet:
		z := make(ZSet, len(v.ZSet))
		for i, m := range v.ZSet {
			z[i] = ZMember{Member: m.Member, Score: m.Score}
		}
		return NewKey(db, key, exp, z), nil
	case rdb.KindHash:
		h := make(Hash, len(v.Hash))
		var ttls FieldTTLs
		for i, f := range v.Hash {
			h[i] = HashField{Field: f.Field, Value: f.Value}
			if f.ExpireAtMs != 0 {
				if ttls == nil {
					ttls = FieldTTLs{}
				}
				ttls[string(f.Field)] = f.ExpireAtMs
			}
		}
		k := NewKey(db, key, exp, h)
		k.FieldExpireAtMs = ttls
		return k, nil
	case rdb.KindStream:
		return NewKey(db, key, exp, streamValue(v.Stream, strict)), nil
	}
	return Key{}, fmt.Errorf("canon: key %q: %s values have no canonical form", key, v.Kind)
}

func streamValue(s *rdb.Stream, strict bool) *Stream {
	out := &Stream{
		EntriesAdded:      s.EntriesAdded,
		LastID:            StreamID(s.LastID),
		Length:            s.Length,
		MaxDeletedEntryID: StreamID(s.MaxDeletedID),
	}
	for _, e := range s.Entries {
		out.Entries = append(out.Entries, StreamEntry{ID: StreamID(e.ID), Fields: e.Fields})
	}
	for _, g := range s.Groups {
		cg := StreamGroup{Name: g.Name, EntriesRead: g.EntriesRead, LastDelivered: StreamID(g.LastDelivered)}
		for _, p := range g.PEL {
			cg.PEL = append(cg.PEL, PendingEntry{ID: StreamID(p.ID), Consumer: p.Consumer, DeliveryTimeMs: p.DeliveryTimeMs, DeliveryCount: p.DeliveryCount})
		}
		for _, c := range g.Consumers {
			cc := StreamConsumer{Name: c.Name}
			for _, id := range c.PEL {
				cc.PEL = append(cc.PEL, StreamID(id))
			}
			if strict {
				seen := c.SeenTimeMs
				cc.SeenTimeMs = &seen
			}
			cg.Consumers = append(cg.Consumers, cc)
		}
		out.Groups = append(out.Groups, cg)
	}
	return out
}
