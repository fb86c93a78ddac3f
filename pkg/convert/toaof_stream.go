package convert

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// A stream's commands come in another order than its elements: a pending
// entry whose stream entry was deleted or trimmed needs a placeholder entry
// at its ID among the XADDs, and the groups come after the entries. So the
// entries wait in a spool (memory, then a temporary file) while the groups,
// PELs and consumers are read; then everything is written. See RDBToAOF for
// the sequence and why it restores every counter.

// streamState is the stream being converted.
type streamState struct {
	meta      rdb.StreamMeta
	live      int // entries spooled
	groups    []aofGroup
	rec       []byte
	pelIDs    []rdb.StreamID // owned PEL IDs of every group, sorted, unique
	idmp      bool           // idempotency state seen (dropped)
	args      []any
	xdel      []rdb.StreamID // placeholders between or after live entries
	xdelCount int
	head      int          // placeholders before the first live entry
	total     int          // entries in the rebuilt stream, placeholders included
	lastAdd   rdb.StreamID // the last ID given to XADD
}

// aofGroup is a consumer group read whole.
type aofGroup struct {
	name          []byte
	lastDelivered rdb.StreamID
	entriesRead   int64
	pel           []rdb.StreamPending
	consumers     [][]byte
	owner         map[rdb.StreamID]int // PEL ID -> index in consumers
}

// placeholderField is the one field of a placeholder entry (removed before
// the stream is complete).
var placeholderField = []byte("rdbtool-placeholder")

func (c *aofConverter) streamCommands() error {
	s := &c.stream
	*s = streamState{rec: s.rec[:0], pelIDs: s.pelIDs[:0], xdel: s.xdel[:0], groups: s.groups[:0]}
	c.entries.reset()
	if err := c.readStream(); err != nil {
		return err
	}
	for i := range s.groups {
		g := &s.groups[i]
		for _, p := range g.pel {
			if _, ok := g.owner[p.ID]; ok {
				s.pelIDs = append(s.pelIDs, p.ID)
			}
		}
	}
	slices.SortFunc(s.pelIDs, rdb.StreamID.Compare)
	s.pelIDs = slices.Compact(s.pelIDs)

	if err := c.streamEntries(); err != nil {
		return err
	}
	if err := c.streamSetID(true); err != nil {
		return err
	}
	for i := range s.groups {
		if err := c.streamGroup(&s.groups[i]); err != nil {
			return err
		}
	}
	if s.head > 0 {
		// Trimming removes the oldest entries and leaves the max-deleted ID.
		if err := c.cmd("XTRIM", c.keyName, "MAXLEN", strconv.Itoa(s.total-s.head)); err != nil {
			return err
		}
	}
	for len(s.xdel) > 0 {
		n := min(len(s.xdel), itemsPerCommand)
		args := append(s.args[:0], "XDEL", c.keyName)
		for _, id := range s.xdel[:n] {
			args = append(args, idText(id))
		}
		s.args = args
		if err := c.cmd(args...); err != nil {
			return err
		}
		s.xdel = s.xdel[n:]
	}
	return c.streamSetID(false)
}

// readStream spools the entries and keeps the rest of the value.
func (c *aofConverter) readStream() error {
	s := &c.stream
	for {
		el, err := c.r.NextElem()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch el.Kind {
		case rdb.ElemStreamEntry:
			s.rec = binary.BigEndian.AppendUint64(s.rec[:0], el.ID.Ms)
			s.rec = binary.BigEndian.AppendUint64(s.rec, el.ID.Seq)
			for _, f := range el.Fields {
				s.rec = binary.LittleEndian.AppendUint32(s.rec, uint32(len(f)))
				s.rec = append(s.rec, f...)
			}
			if err := c.entries.add(s.rec); err != nil {
				return err
			}
			s.live++
		case rdb.ElemStreamMeta:
			s.meta = *el.Stream
		case rdb.ElemStreamGroup:
			g := el.Group
			s.groups = append(s.groups, aofGroup{name: bytes.Clone(g.Name), lastDelivered: g.LastDelivered,
				entriesRead: g.EntriesRead, owner: map[rdb.StreamID]int{}})
		case rdb.ElemStreamPending:
			if len(s.groups) == 0 {
				return errors.New("stream pending entry outside a group")
			}
			g := &s.groups[len(s.groups)-1]
			g.pel = append(g.pel, *el.Pending)
		case rdb.ElemStreamConsumer:
			if len(s.groups) == 0 {
				return errors.New("stream consumer outside a group")
			}
			g := &s.groups[len(s.groups)-1]
			g.consumers = append(g.consumers, bytes.Clone(el.Consumer.Name))
		case rdb.ElemStreamConsumerPending:
			if len(s.groups) == 0 || len(s.groups[len(s.groups)-1].consumers) == 0 {
				return errors.New("stream consumer pending entry outside a consumer")
			}
			g := &s.groups[len(s.groups)-1]
			g.owner[el.ID] = len(g.consumers) - 1
		case rdb.ElemStreamIDMP, rdb.ElemStreamIDMPEntry:
			if !s.idmp {
				s.idmp = true
				if err := c.drop(rdb.FeatureIDMP, c.o.Target.DropIDMP, c.keyName,
					"stream idempotent-producer (IDMP) data cannot be written", "commands have no form for it; RESTORE payloads for Redis 8.6 keep it: --restore"); err != nil {
					return err
				}
			}
		}
	}
}

// streamEntries writes the XADDs, live entries and placeholders in ID order.
func (c *aofConverter) streamEntries() error {
	s := &c.stream
	j := 0
	live := false
	placeholder := func(id rdb.StreamID) error {
		if live {
			s.xdel = append(s.xdel, id)
			s.xdelCount++
		} else {
			s.head++
		}
		return c.xadd(id, nil)
	}
	var fields [][]byte
	err := c.entries.each(false, func(rec []byte) error {
		if len(rec) < 16 {
			return errSpool
		}
		id := rdb.StreamID{Ms: binary.BigEndian.Uint64(rec), Seq: binary.BigEndian.Uint64(rec[8:])}
		for ; j < len(s.pelIDs) && s.pelIDs[j].Less(id); j++ {
			if err := placeholder(s.pelIDs[j]); err != nil {
				return err
			}
		}
		if j < len(s.pelIDs) && s.pelIDs[j] == id {
			j++
		}
		fields = fields[:0]
		for p := rec[16:]; len(p) > 0; {
			if len(p) < 4 || len(p)-4 < int(binary.LittleEndian.Uint32(p)) {
				return errSpool
			}
			n := int(binary.LittleEndian.Uint32(p))
			fields = append(fields, p[4:4+n])
			p = p[4+n:]
		}
		live = true
		return c.xadd(id, fields)
	})
	if err != nil {
		return err
	}
	for ; j < len(s.pelIDs); j++ {
		if err := placeholder(s.pelIDs[j]); err != nil {
			return err
		}
	}
	if s.total == 0 {
		// An empty stream: Redis's own trick, add an entry and trim it.
		if err := c.cmd("XADD", c.keyName, "MAXLEN", "0", "0-1", "x", "y"); err != nil {
			return err
		}
	}
	return nil
}

// xadd writes XADD key id field value...; nil fields make a placeholder.
func (c *aofConverter) xadd(id rdb.StreamID, fields [][]byte) error {
	s := &c.stream
	s.total++
	s.lastAdd = id
	if fields == nil {
		return c.cmd("XADD", c.keyName, idText(id), placeholderField, "")
	}
	if err := c.w.BeginCommand(3 + len(fields)); err != nil {
		return err
	}
	if err := c.w.WriteArg([]byte("XADD")); err != nil {
		return err
	}
	if err := c.w.WriteArg(c.keyName); err != nil {
		return err
	}
	if err := c.w.WriteArg(idText(id)); err != nil {
		return err
	}
	for _, f := range fields {
		if err := c.w.WriteArg(f); err != nil {
			return err
		}
	}
	c.st.Commands++
	return nil
}

// streamSetID writes XSETID: first (before the groups) with the last ID and
// an entries-added counter that covers the placeholders, and the max-deleted
// ID unless an XDEL is to come; finally (once the placeholders are gone) with
// the source's counters, if the first could not give them.
func (c *aofConverter) streamSetID(first bool) error {
	s := &c.stream
	m := &s.meta
	last := m.LastID
	if s.total > 0 && last.Less(s.lastAdd) {
		last = s.lastAdd // a damaged source; XSETID would refuse a lower ID
	}
	if !c.can.streamCounters {
		if !first {
			return nil
		}
		return c.cmd("XSETID", c.keyName, idText(last))
	}
	added := max(m.EntriesAdded, uint64(s.live))
	// XSETID refuses an entries-added below the stream's length, which
	// counts the placeholders until they are removed.
	inflated := max(added, uint64(s.total))
	n := added
	if first {
		n = inflated
	} else if inflated == added && (s.xdelCount == 0 || m.MaxDeletedID.IsZero()) {
		return nil // the first XSETID said it all
	}
	args := append(s.args[:0], "XSETID", c.keyName, idText(last), "ENTRIESADDED", strconv.FormatUint(n, 10))
	if !m.MaxDeletedID.IsZero() && (!first || s.xdelCount == 0) {
		// 0-0 would mean "not given": the stream's own is 0-0 then, as
		// trimming leaves it; an XDEL of a placeholder raises it, but the
		// source lost that entry to XDEL too, so its counter is not 0-0.
		args = append(args, "MAXDELETEDID", idText(m.MaxDeletedID))
	}
	s.args = args
	return c.cmd(args...)
}

// streamGroup writes XGROUP CREATE, the consumers and the PEL.
func (c *aofConverter) streamGroup(g *aofGroup) error {
	args := append(c.stream.args[:0], "XGROUP", "CREATE", c.keyName, g.name, idText(g.lastDelivered))
	if g.entriesRead >= 0 && c.can.streamCounters {
		args = append(args, "ENTRIESREAD", strconv.FormatInt(g.entriesRead, 10))
	}
	c.stream.args = args
	if err := c.cmd(args...); err != nil {
		return err
	}
	if c.can.createConsumer {
		for _, name := range g.consumers {
			if err := c.cmd("XGROUP", "CREATECONSUMER", c.keyName, g.name, name); err != nil {
				return err
			}
		}
	}
	for _, p := range g.pel {
		owner, ok := g.owner[p.ID]
		if !ok {
			continue // Redis never has an unowned PEL entry
		}
		if err := c.cmd("XCLAIM", c.keyName, g.name, g.consumers[owner], "0", idText(p.ID),
			"TIME", strconv.FormatInt(p.DeliveryTimeMs, 10), "RETRYCOUNT", strconv.FormatUint(p.DeliveryCount, 10),
			"JUSTID", "FORCE"); err != nil {
			return err
		}
	}
	return nil
}

func idText(id rdb.StreamID) []byte {
	return []byte(id.String())
}
