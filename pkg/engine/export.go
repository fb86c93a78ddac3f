package engine

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Each calls fn for every key, in a fixed order: databases ascending, and
// within a database the order in which keys were last written, which is a
// function of the commands applied (and keys loaded) alone: the same input
// always gives the same output. It is neither sorted nor Redis's order. A key
// moves to the end of its database when it is created (RENAME, MOVE and COPY
// create their destination), and when its value is rewritten in a form that
// does not fit where it was: a string set to one of another length, a string
// getting its first TTL, a string that a command first changes in place
// (APPEND, SETRANGE, SETBIT, BITFIELD, INCRBYFLOAT, PFADD...), a value
// replaced by one of another type. Other writes leave it where it is.
//
// The Entry and Value are freshly built for each call and describe the key as
// pkg/rdb does (Entry.Kind EntryKey, DB, Key, HasExpire/ExpireAtMs; a Value of
// the key's Kind with list elements head to tail, zset members by score, set
// members and hash fields in the order of the value's form (a listpack's
// insertion order, an intset's ascending order, a dict's order of last
// writing), hash field TTLs in HashField.ExpireAtMs, and a stream's entries,
// counters, groups, PELs and consumers in ID/name order), so that fn can hand
// them to rdb.Writer.WriteKey. Their slices alias
// the engine's memory: fn must not modify them, and must copy what it keeps
// after the next Apply.
//
// Under ExpiredDrop, keys whose TTL is at or before the clock are left out,
// and so are such hash fields (a hash left without fields is left out).
//
// Each stops at the first error fn returns and returns it.
func (e *Engine) Each(fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	return e.each(false, fn)
}

// EachReused is Each with one Entry and one Value reused from call to call:
// fn must not keep the pointers it is given after it returns (the slices in
// them stay valid as for Each). It saves two allocations per key when fn
// copies what it needs, as rdb.Writer.WriteKey does.
func (e *Engine) EachReused(fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	return e.each(true, fn)
}

func (e *Engine) each(reuse bool, fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	x := e.newExport(reuse)
	for dbi, db := range e.dbs {
		if err := x.walk(dbi, db, 0, 0, len(db.chunks)-1, -1, fn); err != nil {
			return err
		}
	}
	return nil
}

// export is the state of a walk over the keyspace (each, Exporter.Each).
type export struct {
	drop      bool
	now       int64
	reuse     bool
	sharedEnt rdb.Entry
	sharedVal rdb.Value
	buf       *fillBuf
}

func (e *Engine) newExport(reuse bool) *export {
	x := &export{drop: e.opts.Expired == ExpiredDrop, reuse: reuse}
	if x.drop {
		x.now = e.now()
	}
	if reuse {
		x.buf = &fillBuf{}
	}
	return x
}

// walk calls fn for the keys of db from the entry at (chunk, off) to the one
// ending at (endChunk, endOff); endOff < 0: to the end of endChunk.
func (x *export) walk(dbi int, db *DB, chunk, off, endChunk, endOff int, fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	for ci := chunk; ci <= endChunk && ci < len(db.chunks); ci, off = ci+1, 0 {
		c := db.chunks[ci]
		end := len(c)
		if ci == endChunk && endOff >= 0 {
			end = endOff
		}
		for off < end {
			en := parseEntry(c, off)
			off = en.end()
			if en.flags&fDead != 0 {
				continue
			}
			var o *object
			hasTTL, expireAt := en.ttl()
			if en.flags&fRef != 0 {
				o = db.objs[en.idx]
				hasTTL, expireAt = o.hasTTL, o.expireAt
			}
			if x.drop && hasTTL && expireAt <= x.now {
				continue
			}
			ent, v := &x.sharedEnt, &x.sharedVal
			if !x.reuse {
				ent, v = new(rdb.Entry), new(rdb.Value)
			}
			if o == nil {
				val := en.val()
				*v = rdb.Value{Kind: rdb.KindString, String: val, Encoded: rdb.TypeString, Elems: 1, Size: int64(len(val))}
			} else if !o.fill(v, x.drop, x.now, x.buf) {
				continue
			}
			key := en.key()
			*ent = rdb.Entry{Kind: rdb.EntryKey, DB: dbi, Key: key, Type: v.Encoded,
				HasExpire: hasTTL, ExpireAtMs: expireAt}
			if err := fn(dbi, key, ent, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Part is a run of consecutive keys of one database in Each's order, cut by
// Parts; valid until the next Apply or Load.
type Part struct {
	db               int
	chunk, off       int // the first entry
	endChunk, endOff int // where the last one ends
	// Bytes is about the memory the keys take in the engine (their
	// names and values): what writing them costs, roughly.
	Bytes int
	// Big: the part is one key of at least the big size Parts was given.
	Big bool
}

// Parts cuts the keyspace, in Each's order, into runs of keys of about size
// bytes (a run ends at the key that takes it to size or more, and at the end
// of a database); a key of big bytes or more is a Part of its own, marked
// Big. Exporter.Each walks a Part: the parts of Parts, walked one after the other,
// give the keys of Each in its order. Expired keys are counted here and left
// out by Exporter.Each as by Each.
func (e *Engine) Parts(size, big int) []Part {
	var parts []Part
	for dbi, db := range e.dbs {
		cur := Part{db: dbi}
		keys := 0
		done := func() {
			if keys > 0 {
				parts = append(parts, cur)
			}
			cur, keys = Part{db: dbi}, 0
		}
		for ci, c := range db.chunks {
			for off := 0; off < len(c); {
				en := parseEntry(c, off)
				start := off
				off = en.end()
				if en.flags&fDead != 0 {
					continue
				}
				n := en.klen + en.vlen
				if en.flags&fRef != 0 {
					n = en.klen + db.objs[en.idx].approxBytes()
				}
				if n >= big {
					done()
					parts = append(parts, Part{db: dbi, chunk: ci, off: start, endChunk: ci, endOff: off, Bytes: n, Big: true})
					continue
				}
				if keys == 0 {
					cur.chunk, cur.off = ci, start
				}
				cur.endChunk, cur.endOff = ci, off
				cur.Bytes += n
				if keys++; cur.Bytes >= size {
					done()
				}
			}
		}
		done()
	}
	return parts
}

// Exporter walks Parts with buffers it keeps from part to part (EachReused's
// saving). The Exporters of an engine may walk parts at the same time, on
// goroutines of their own (one each), as long as nothing changes the engine
// meanwhile (no Apply, Load or Exec).
type Exporter struct {
	e *Engine
	x *export
}

// NewExporter returns an Exporter of e; it judges expiry (Options.Expired)
// at the clock's time now.
func (e *Engine) NewExporter() *Exporter { return &Exporter{e: e, x: e.newExport(true)} }

// Clone returns an Exporter that judges expiry at the same time as x, with
// buffers of its own: the Exporters of one export, one per goroutine.
func (x *Exporter) Clone() *Exporter {
	c := *x.x
	c.buf = &fillBuf{}
	return &Exporter{e: x.e, x: &c}
}

// Each is EachReused over the keys of p.
func (x *Exporter) Each(p Part, fn func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error) error {
	if p.db < 0 || p.db >= len(x.e.dbs) {
		return nil
	}
	return x.x.walk(p.db, x.e.dbs[p.db], p.chunk, p.off, p.endChunk, p.endOff, fn)
}

// approxBytes is about the bytes the value takes: the packed data of its
// form (for a stream, its entries, and a few dozen bytes per pending entry).
func (o *object) approxBytes() int {
	switch o.kind {
	case rdb.KindString:
		return len(o.str)
	case rdb.KindList:
		n := 0
		for _, b := range o.list.blocks() {
			n += len(b.data)
		}
		return n
	case rdb.KindSet:
		if o.set.d != nil {
			return len(o.set.d.data)
		}
		return len(o.set.pk)
	case rdb.KindZSet:
		n := 0
		for _, b := range o.zset.o.blocks {
			n += len(b.data)
		}
		return n
	case rdb.KindHash:
		if o.hash.d != nil {
			return len(o.hash.d.data)
		}
		return len(o.hash.pk)
	case rdb.KindStream:
		n := 0
		for _, b := range o.stream.log.blocks {
			n += len(b.data)
		}
		for _, g := range o.stream.groups {
			n += 40 * len(g.pel)
		}
		return n
	}
	return 0
}

// fillBuf keeps the slices EachReused hands out from key to key.
type fillBuf struct {
	elems   [][]byte
	digits  []byte // an intset's members, formatted
	scratch [20]byte
	zset    []rdb.ZMember
	hash    []rdb.HashField
	stream  rdb.Stream
	fields  [][]byte
}

// fill sets *v to the rdb.Value of o; false when a hash has only dropped
// fields. With buf, the slices are buf's (reused from call to call).
func (o *object) fill(v *rdb.Value, drop bool, now int64, buf *fillBuf) bool {
	if buf == nil {
		buf = &fillBuf{}
	}
	*v = rdb.Value{Kind: o.kind}
	switch o.kind {
	case rdb.KindString:
		v.String, v.Encoded, v.Elems = o.str, rdb.TypeString, 1
		v.Size = int64(len(o.str))
	case rdb.KindList:
		buf.elems = buf.elems[:0]
		o.list.each(0, func(el []byte) bool {
			buf.elems = append(buf.elems, el)
			return true
		})
		v.List, v.Encoded = buf.elems, rdb.TypeListQuicklist2
		v.Elems = len(v.List)
	case rdb.KindSet:
		buf.elems = buf.elems[:0]
		if o.set.enc == setIntset {
			// Format every member into one buffer first: it may move as it
			// grows, so the slices are cut afterwards.
			buf.digits = buf.digits[:0]
			for i := 0; i < o.set.n; i++ {
				buf.digits = strconv.AppendInt(buf.digits, o.set.intAt(i), 10)
				buf.elems = append(buf.elems, buf.digits[len(buf.digits):])
			}
			start := 0
			for i := range buf.elems {
				end := start + len(strconv.AppendInt(buf.scratch[:0], o.set.intAt(i), 10))
				buf.elems[i] = buf.digits[start:end:end]
				start = end
			}
		} else {
			o.set.each(func(m []byte) bool {
				buf.elems = append(buf.elems, m)
				return true
			})
		}
		v.Set, v.Encoded = buf.elems, rdb.TypeSet
		v.Elems = len(v.Set)
	case rdb.KindZSet:
		v.Encoded = rdb.TypeZSet2
		v.ZSet = buf.zset[:0]
		defer func() { buf.zset = v.ZSet }()
		o.zset.o.each(0, func(el zel) bool {
			v.ZSet = append(v.ZSet, rdb.ZMember{Member: el.member, Score: el.score})
			return true
		})
		v.Elems = len(v.ZSet)
	case rdb.KindHash:
		v.Encoded = rdb.TypeHash
		v.Hash = buf.hash[:0]
		defer func() { buf.hash = v.Hash }()
		o.hash.each(func(f, val []byte, ttl int64) bool {
			if drop && ttl != 0 && ttl <= now {
				return true
			}
			if ttl != 0 {
				v.Encoded = rdb.TypeHashMetadata
			}
			v.Hash = append(v.Hash, rdb.HashField{Field: f, Value: val, ExpireAtMs: ttl})
			return true
		})
		if len(v.Hash) == 0 {
			return false
		}
		v.Elems = len(v.Hash)
	case rdb.KindStream:
		v.Encoded = rdb.TypeStreamListpacks3
		v.Stream = o.stream.export(buf)
		v.Elems = len(v.Stream.Entries)
	}
	return true
}

func (s *stream) export(buf *fillBuf) *rdb.Stream {
	if buf == nil {
		buf = &fillBuf{}
	}
	out := &buf.stream
	*out = rdb.Stream{Entries: out.Entries[:0], StreamMeta: rdb.StreamMeta{
		Length:       uint64(s.log.len()),
		LastID:       s.lastID,
		FirstID:      s.firstID(),
		MaxDeletedID: s.maxDeleted,
		EntriesAdded: s.entriesAdded,
		GroupCount:   uint64(len(s.groups)),
	}}
	// The fields of all entries go into one slice, cut afterwards as it may
	// move while it grows.
	buf.fields = buf.fields[:0]
	s.log.each(rdb.StreamID{}, func(en sentry, b *sblock) bool {
		buf.fields = b.appendFields(buf.fields, en)
		// Fields for now only says how many (it is cut again below).
		out.Entries = append(out.Entries, rdb.StreamEntry{ID: en.id, Fields: buf.fields[len(buf.fields)-en.nf:]})
		return true
	})
	at := 0
	for i := range out.Entries {
		n := len(out.Entries[i].Fields)
		out.Entries[i].Fields = buf.fields[at : at+n : at+n]
		at += n
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
	defer d.settle()
	slot, h, ok := d.find(ent.Key)
	if v.Kind == rdb.KindString {
		d.putString(slot, h, ok, ent.Key, v.String, ent.HasExpire, ent.ExpireAtMs)
		return nil
	}
	o, err := e.objectOf(ent.Key, v)
	if err != nil {
		return err
	}
	o.hasTTL, o.expireAt = ent.HasExpire, ent.ExpireAtMs
	d.putObject(slot, h, ok, ent.Key, o)
	return nil
}

// objectOf builds the object of a value read by pkg/rdb, copying it.
func (e *Engine) objectOf(key []byte, v *rdb.Value) (*object, error) {
	var o *object
	switch v.Kind {
	case rdb.KindString:
		o = newString(clone(v.String))
	case rdb.KindList:
		o = newList()
		for _, el := range v.List {
			o.list.pushBack(el)
		}
		e.listLoaded(o.list)
	case rdb.KindSet:
		o = newSetObject(e.setFromValue(v))
	case rdb.KindZSet:
		// rdbLoadObject keeps a listpack as it is (converting it only when it
		// has too many members); it builds a skiplist from the other types,
		// then converts it when it fits a listpack.
		o = newZSet()
		packed := v.Encoded == rdb.TypeZSetListpack || v.Encoded == rdb.TypeZSetZiplist
		if !packed || len(v.ZSet) > zsetListpackEntries {
			o.zset.toSkiplist()
		}
		for _, m := range v.ZSet {
			o.zset.set(m.Member, m.Score)
		}
		if !packed && o.zset.fitsListpack() {
			o.zset.toListpack()
		}
	case rdb.KindHash:
		o = &object{kind: rdb.KindHash, hash: hashFromFields(v.Hash)}
	case rdb.KindStream:
		if v.Stream == nil {
			return nil, errors.New("engine: load: stream value without Stream")
		}
		o = &object{kind: rdb.KindStream, stream: importStream(v.Stream)}
	default:
		return nil, &UnsupportedError{What: fmt.Sprintf("loading a %s value (key %s)", v.Kind, rdb.QuoteBytes(key))}
	}
	return o, nil
}

func importStream(rs *rdb.Stream) *stream {
	s := &stream{lastID: rs.LastID, entriesAdded: rs.EntriesAdded, maxDeleted: rs.MaxDeletedID, groups: map[string]*cgroup{}}
	entries := rs.Entries
	if !slices.IsSortedFunc(entries, func(a, b rdb.StreamEntry) int { return cmpID(a.ID, b.ID) }) {
		entries = slices.Clone(entries)
		slices.SortFunc(entries, func(a, b rdb.StreamEntry) int { return cmpID(a.ID, b.ID) })
	}
	for _, en := range entries {
		s.log.add(en.ID, en.Fields)
	}
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
