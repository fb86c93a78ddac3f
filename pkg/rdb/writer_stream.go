package rdb

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
)

// streamEnc rebuilds a stream's node listpacks from its live entries, as
// XADD would have filled them on the target (streamAppendItem), and writes
// its metadata, consumer groups and (RDB 13) idempotency section.
//
// Spools: 0 holds finished nodes until the node count is known, 1 the
// consumers of the current group until their count is known, 2 the IDMP
// producers.
type streamEnc struct {
	lp        listpack.Builder // the open node, without its leading live-count item
	tmp       listpack.Builder
	final     []byte
	open      bool
	nodeCount int // entries in the open node
	master    StreamID
	mfields   arena
	nodes     uint64

	haveEntry   bool
	first, last StreamID

	phase      int // 0 entries, 1 groups, 2 IDMP entries, 3 done
	meta       StreamMeta
	groupsSeen uint64

	inGroup     bool
	pelLeft     uint64
	prevPEL     StreamID
	havePrevPEL bool
	owned       map[StreamID]bool // group PEL IDs -> claimed by a consumer
	tracked     bool
	groupPEL    uint64 // the group's PendingCount
	claimed     uint64 // the sum of its consumers' PendingCount
	consumers   uint64
	cpelLeft    uint64
	prevCPEL    StreamID
	haveCPEL    bool
	groupNames  dupSet
	consNames   dupSet
	prodNames   dupSet

	dropIDMP    bool
	producer    []byte
	hasProducer bool
	producerBuf []byte
	producerN   uint64
	producers   uint64
	idmpEntries uint64
}

const (
	streamPhaseEntries = iota
	streamPhaseGroups
	streamPhaseIDMP
	streamPhaseDone
)

func (s *streamEnc) start(w *Writer) error {
	s.lp.Reset()
	s.open, s.nodeCount, s.nodes = false, 0, 0
	s.mfields.reset()
	s.haveEntry, s.first, s.last = false, StreamID{}, StreamID{}
	s.phase, s.meta, s.groupsSeen = streamPhaseEntries, StreamMeta{}, 0
	s.inGroup, s.consumers, s.cpelLeft, s.pelLeft = false, 0, 0, 0
	if s.owned == nil {
		s.owned = map[StreamID]bool{}
		s.groupNames, s.consNames, s.prodNames = newDupSet(), newDupSet(), newDupSet()
	}
	s.groupNames.reset()
	s.prodNames.reset()
	s.dropIDMP, s.hasProducer, s.producerN, s.producers, s.idmpEntries = false, false, 0, 0, 0
	s.producer, s.producerBuf = s.producer[:0], s.producerBuf[:0]
	return nil
}

func (w *Writer) streamErr(op, detail string) error {
	return w.keyErr(op, ErrInvalidValue, detail)
}

func (s *streamEnc) elem(w *Writer, el *Elem) error {
	if el == nil {
		return w.streamErr("stream", "nil element")
	}
	switch el.Kind {
	case ElemStreamEntry:
		if s.phase != streamPhaseEntries {
			return w.streamErr("stream entry", "entries must come before the stream meta element")
		}
		return s.entry(w, el.ID, el.Fields)
	case ElemStreamMeta:
		if s.phase != streamPhaseEntries || el.Stream == nil {
			return w.streamErr("stream meta", "exactly one meta element, after the entries")
		}
		return s.writeMeta(w, el.Stream)
	case ElemStreamGroup:
		if s.phase != streamPhaseGroups || el.Group == nil {
			return w.streamErr("consumer group", "groups come after the meta element and before the IDMP section")
		}
		return s.group(w, el.Group)
	case ElemStreamPending:
		if !s.inGroup || el.Pending == nil {
			return w.streamErr("group PEL entry", "PEL entries come after their group")
		}
		return s.pending(w, el.Pending)
	case ElemStreamConsumer:
		if !s.inGroup || el.Consumer == nil {
			return w.streamErr("consumer", "consumers come after their group")
		}
		return s.consumer(w, el.Consumer)
	case ElemStreamConsumerPending:
		if !s.inGroup {
			return w.streamErr("consumer PEL entry", "consumer PEL entries come after their consumer")
		}
		return s.consumerPending(w, el.ID)
	case ElemStreamIDMPEntry:
		if s.phase != streamPhaseGroups && s.phase != streamPhaseIDMP || el.IDMPEntry == nil {
			return w.streamErr("stream IDMP entry", "IDMP entries come after the groups")
		}
		if err := s.closeGroup(w); err != nil {
			return err
		}
		s.phase = streamPhaseIDMP
		return s.idmpEntry(w, el.IDMPEntry)
	case ElemStreamIDMP:
		if s.phase != streamPhaseGroups && s.phase != streamPhaseIDMP || el.IDMP == nil {
			return w.streamErr("stream IDMP", "the IDMP element comes once, last")
		}
		if err := s.closeGroup(w); err != nil {
			return err
		}
		return s.idmp(w, el.IDMP)
	}
	return w.streamErr("stream", "unexpected "+el.Kind.String()+" element in a stream")
}

// lpIntItemSize is the size in a listpack of an integer entry, backlen included.
func lpIntItemSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -1<<15 && v < 1<<15:
		return 4
	case v >= -1<<23 && v < 1<<23:
		return 5
	case v >= -1<<31 && v < 1<<31:
		return 6
	}
	return 10
}

// nodeBytes is lpBytes of the open node.
func (s *streamEnc) nodeBytes() int {
	return s.lp.Size() + lpIntItemSize(int64(s.nodeCount))
}

func (s *streamEnc) entry(w *Writer, id StreamID, fields [][]byte) error {
	if len(fields) == 0 || len(fields)%2 != 0 {
		return w.streamErr("stream entry", "entry "+id.String()+" has "+strconv.Itoa(len(fields))+" field and value items; expected a positive even number")
	}
	if s.haveEntry && !s.last.Less(id) {
		return w.streamErr("stream entry", "entry "+id.String()+" does not come after "+s.last.String())
	}
	nf := len(fields) / 2
	tot := 0
	for _, f := range fields {
		tot += len(f)
	}
	if s.open {
		newNode := false
		maxBytes := w.enc.StreamNodeMaxBytes
		maxEntries := w.enc.StreamNodeMaxEntries
		if w.opts.Version >= 10 {
			if maxBytes == 0 || maxBytes > 1<<30 {
				maxBytes = 1 << 30
			}
			if s.nodeBytes()+tot >= maxBytes {
				newNode = true
			} else if maxEntries > 0 && s.nodeCount >= maxEntries {
				newNode = true
			}
		} else {
			if maxBytes > 0 && s.nodeBytes() >= maxBytes {
				newNode = true
			} else if maxEntries > 0 && s.nodeCount >= maxEntries {
				newNode = true
			}
		}
		if newNode {
			if err := s.finishNode(w); err != nil {
				return err
			}
		}
	}
	same := true
	if !s.open {
		s.open, s.master, s.nodeCount = true, id, 0
		s.mfields.reset()
		s.lp.Reset()
		s.lp.AppendInt(0) // deleted
		s.lp.AppendInt(int64(nf))
		for i := 0; i < nf; i++ {
			s.mfields.add(fields[2*i])
			s.lp.AppendString(fields[2*i])
		}
		s.lp.AppendInt(0) // master entry terminator
	} else {
		same = nf == s.mfields.len()
		for i := 0; same && i < nf; i++ {
			same = bytes.Equal(fields[2*i], s.mfields.get(i))
		}
	}
	flags := int64(0)
	if same {
		flags = streamItemSameFields
	}
	s.lp.AppendInt(flags)
	s.lp.AppendInt(int64(id.Ms - s.master.Ms))
	s.lp.AppendInt(int64(id.Seq - s.master.Seq))
	if !same {
		s.lp.AppendInt(int64(nf))
	}
	for i := 0; i < nf; i++ {
		if !same {
			s.lp.AppendString(fields[2*i])
		}
		s.lp.AppendString(fields[2*i+1])
	}
	lpCount := int64(nf + 3)
	if !same {
		lpCount += int64(nf + 1)
	}
	s.lp.AppendInt(lpCount)
	s.nodeCount++
	if !s.haveEntry {
		s.first = id
	}
	s.haveEntry, s.last = true, id
	return nil
}

// finishNode completes the open node (its live count goes first) and spools
// it with its master ID.
func (s *streamEnc) finishNode(w *Writer) error {
	if !s.open {
		return nil
	}
	s.tmp.Reset()
	s.tmp.AppendInt(int64(s.nodeCount))
	head := s.tmp.Bytes()
	item := head[6 : len(head)-1]
	body := s.lp.Bytes()[6:]
	s.final = append(s.final[:0], 0, 0, 0, 0, 0, 0)
	s.final = append(s.final, item...)
	s.final = append(s.final, body...)
	binary.LittleEndian.PutUint32(s.final, uint32(len(s.final)))
	count := s.lp.Len() + 1
	if count > 65535 {
		count = 65535
	}
	binary.LittleEndian.PutUint16(s.final[4:], uint16(count))
	var key [16]byte
	binary.BigEndian.PutUint64(key[:8], s.master.Ms)
	binary.BigEndian.PutUint64(key[8:], s.master.Seq)
	if err := w.spoolStr(spoolItems, key[:], s.final); err != nil {
		return err
	}
	s.nodes++
	s.open = false
	return nil
}

func (w *Writer) streamType() Type {
	switch v := w.opts.Version; {
	case v == 9:
		return TypeStreamListpacks
	case v == 10:
		return TypeStreamListpacks2
	case v == 13:
		return TypeStreamListpacks4
	}
	return TypeStreamListpacks3
}

func (s *streamEnc) writeMeta(w *Writer, m *StreamMeta) error {
	if err := s.finishNode(w); err != nil {
		return err
	}
	if s.haveEntry && m.LastID.Less(s.last) {
		return w.streamErr("stream meta", "last ID "+m.LastID.String()+" is below the last entry "+s.last.String())
	}
	// What the Reader's strict checks refuse (stream.go), refused here too so
	// that nothing this writer makes fails verify.
	if m.LastID.Less(m.MaxDeletedID) {
		return w.streamErr("stream meta", "max deleted ID "+m.MaxDeletedID.String()+" is above the last ID "+m.LastID.String())
	}
	if w.opts.Version >= 10 && m.EntriesAdded < m.Length {
		return w.streamErr("stream meta", strconv.FormatUint(m.EntriesAdded, 10)+" entries added is less than the length "+strconv.FormatUint(m.Length, 10))
	}
	s.meta = *m
	w.beginValue(w.streamType())
	o := &w.out
	o.buf = appendLen(o.buf, s.nodes)
	if err := w.spools[spoolItems].copyTo(o); err != nil {
		return w.ioErr(err)
	}
	o.buf = appendLen(o.buf, m.Length)
	o.buf = appendLen(o.buf, m.LastID.Ms)
	o.buf = appendLen(o.buf, m.LastID.Seq)
	if w.opts.Version >= 10 {
		first := m.FirstID
		if s.haveEntry {
			first = s.first
		}
		o.buf = appendLen(o.buf, first.Ms)
		o.buf = appendLen(o.buf, first.Seq)
		o.buf = appendLen(o.buf, m.MaxDeletedID.Ms)
		o.buf = appendLen(o.buf, m.MaxDeletedID.Seq)
		o.buf = appendLen(o.buf, m.EntriesAdded)
	}
	o.buf = appendLen(o.buf, m.GroupCount)
	s.phase = streamPhaseGroups
	return nil
}

func (s *streamEnc) group(w *Writer, g *StreamGroupMeta) error {
	if err := s.closeGroup(w); err != nil {
		return err
	}
	if s.groupsSeen >= s.meta.GroupCount {
		return w.streamErr("consumer group", "more groups than the meta element's GroupCount ("+strconv.FormatUint(s.meta.GroupCount, 10)+")")
	}
	if !s.groupNames.add(g.Name) {
		return w.keyErr("consumer group", ErrDuplicate, "group "+QuoteBytes(g.Name)+" appears twice")
	}
	if g.EntriesRead < -1 {
		return w.streamErr("consumer group", "group "+QuoteBytes(g.Name)+" has entries-read "+strconv.FormatInt(g.EntriesRead, 10))
	}
	s.groupsSeen++
	o := &w.out
	if err := w.emitStr(g.Name); err != nil {
		return w.ioErr(err)
	}
	o.buf = appendLen(o.buf, g.LastDelivered.Ms)
	o.buf = appendLen(o.buf, g.LastDelivered.Seq)
	if w.opts.Version >= 10 {
		o.buf = appendLen(o.buf, uint64(g.EntriesRead))
	}
	o.buf = appendLen(o.buf, g.PendingCount)
	s.inGroup, s.pelLeft, s.havePrevPEL = true, g.PendingCount, false
	s.consumers, s.cpelLeft = 0, 0
	s.groupPEL, s.claimed = g.PendingCount, 0
	clear(s.owned)
	s.tracked = g.PendingCount <= maxTrackedPEL
	s.consNames.reset()
	return nil
}

func (s *streamEnc) pending(w *Writer, p *StreamPending) error {
	if s.pelLeft == 0 {
		return w.streamErr("group PEL entry", "more PEL entries than the group's PendingCount, or after its consumers")
	}
	if s.havePrevPEL && !s.prevPEL.Less(p.ID) {
		return w.streamErr("group PEL entry", "PEL entry "+p.ID.String()+" does not come after "+s.prevPEL.String()+" (PEL IDs ascend, without repeats)")
	}
	s.prevPEL, s.havePrevPEL = p.ID, true
	s.pelLeft--
	if s.tracked {
		s.owned[p.ID] = false
	}
	o := &w.out
	o.buf = appendRawID(o.buf, p.ID)
	o.buf = appendMs64(o.buf, p.DeliveryTimeMs)
	o.buf = appendLen(o.buf, p.DeliveryCount)
	return nil
}

func (s *streamEnc) consumer(w *Writer, c *StreamConsumerMeta) error {
	if s.pelLeft != 0 {
		return w.streamErr("consumer", "the group PEL has "+strconv.FormatUint(s.pelLeft, 10)+" more entries than were given")
	}
	if s.cpelLeft != 0 {
		return w.streamErr("consumer", "the previous consumer has "+strconv.FormatUint(s.cpelLeft, 10)+" more PEL entries than were given")
	}
	if !s.consNames.add(c.Name) {
		return w.keyErr("consumer", ErrDuplicate, "consumer "+QuoteBytes(c.Name)+" appears twice in a group")
	}
	if c.PendingCount > s.groupPEL-s.claimed {
		return w.streamErr("consumer", "consumers claim more pending entries than the group PEL holds ("+strconv.FormatUint(s.groupPEL, 10)+")")
	}
	s.claimed += c.PendingCount
	w.scratch = w.str.appendStr(w.scratch[:0], c.Name)
	w.scratch = appendMs64(w.scratch, c.SeenTimeMs)
	if w.opts.Version >= 11 {
		w.scratch = appendMs64(w.scratch, c.ActiveTimeMs)
	}
	w.scratch = appendLen(w.scratch, c.PendingCount)
	if err := w.spools[spoolConsumers].write(w.scratch); err != nil {
		return w.ioErr(err)
	}
	s.consumers++
	s.cpelLeft, s.haveCPEL = c.PendingCount, false
	return nil
}

func (s *streamEnc) consumerPending(w *Writer, id StreamID) error {
	if s.cpelLeft == 0 {
		return w.streamErr("consumer PEL entry", "more entries than the consumer's PendingCount")
	}
	if s.haveCPEL && !s.prevCPEL.Less(id) {
		return w.streamErr("consumer PEL entry", "ID "+id.String()+" does not come after "+s.prevCPEL.String())
	}
	if s.tracked {
		claimed, ok := s.owned[id]
		switch {
		case !ok:
			return w.streamErr("consumer PEL entry", "ID "+id.String()+" is not in the group PEL (Redis refuses such a file)")
		case claimed:
			return w.streamErr("consumer PEL entry", "ID "+id.String()+" is owned by two consumers")
		}
		s.owned[id] = true
	}
	s.prevCPEL, s.haveCPEL = id, true
	s.cpelLeft--
	var b [16]byte
	if err := w.spools[spoolConsumers].write(appendRawID(b[:0], id)); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// closeGroup writes the consumers of the current group.
func (s *streamEnc) closeGroup(w *Writer) error {
	if !s.inGroup {
		return nil
	}
	if s.pelLeft != 0 || s.cpelLeft != 0 {
		return w.streamErr("consumer group", "the group ends before all announced PEL entries were given")
	}
	if s.claimed != s.groupPEL {
		// Every pending entry has an owner: Redis refuses a PEL entry
		// without a consumer (sanitize-dump-payload), and so does the
		// Reader's strict check.
		return w.streamErr("consumer group", "consumers own "+strconv.FormatUint(s.claimed, 10)+" pending entries but the group PEL has "+strconv.FormatUint(s.groupPEL, 10))
	}
	w.out.buf = appendLen(w.out.buf, s.consumers)
	if err := w.spools[spoolConsumers].copyTo(&w.out); err != nil {
		return w.ioErr(err)
	}
	if err := w.spools[spoolConsumers].reset(); err != nil {
		return w.ioErr(err)
	}
	s.inGroup = false
	return nil
}

// idmpAllowed decides, for the first IDMP data of a key below version 13,
// between an error and dropping the section.
func (s *streamEnc) idmpAllowed(w *Writer) error {
	if w.opts.Version == 13 || s.dropIDMP {
		return nil
	}
	if !w.opts.DropIDMP {
		return w.keyErr("stream IDMP", w.unsupported("stream idempotent-producer (IDMP) data", "RDB 13, Redis 8.6", FeatureIDMP), "")
	}
	s.dropIDMP = true
	w.dropped[FeatureIDMP]++
	return nil
}

func (s *streamEnc) idmpEntry(w *Writer, e *StreamIDMPEntry) error {
	if err := s.idmpAllowed(w); err != nil {
		return err
	}
	s.idmpEntries++
	if s.dropIDMP {
		return nil
	}
	if !s.hasProducer || !bytes.Equal(e.Producer, s.producer) {
		if err := s.flushProducer(w); err != nil {
			return err
		}
		if !s.prodNames.add(e.Producer) {
			return w.keyErr("stream IDMP", ErrDuplicate, "producer "+QuoteBytes(e.Producer)+" appears twice (its entries must be consecutive)")
		}
		s.producer, s.hasProducer = append(s.producer[:0], e.Producer...), true
	}
	s.producerBuf = w.str.appendStr(s.producerBuf, e.IID)
	s.producerBuf = appendLen(s.producerBuf, e.ID.Ms)
	s.producerBuf = appendLen(s.producerBuf, e.ID.Seq)
	s.producerN++
	return nil
}

func (s *streamEnc) flushProducer(w *Writer) error {
	if !s.hasProducer {
		return nil
	}
	w.scratch = w.str.appendStr(w.scratch[:0], s.producer)
	w.scratch = appendLen(w.scratch, s.producerN)
	w.scratch = append(w.scratch, s.producerBuf...)
	if err := w.spools[spoolProducers].write(w.scratch); err != nil {
		return w.ioErr(err)
	}
	s.producers++
	s.hasProducer, s.producerN, s.producerBuf = false, 0, s.producerBuf[:0]
	return nil
}

func (s *streamEnc) idmp(w *Writer, m *StreamIDMP) error {
	if s.phase == streamPhaseDone {
		return w.streamErr("stream IDMP", "the IDMP element comes once")
	}
	s.phase = streamPhaseDone
	if w.opts.Version != 13 {
		if s.idmpEntries == 0 && *m == (StreamIDMP{}) {
			return nil // an unused section: nothing is lost
		}
		return s.idmpAllowed(w)
	}
	if err := s.flushProducer(w); err != nil {
		return err
	}
	if m.Producers != s.producers {
		return w.streamErr("stream IDMP", "the section announces "+strconv.FormatUint(m.Producers, 10)+" producers, entries were given for "+strconv.FormatUint(s.producers, 10))
	}
	o := &w.out
	o.buf = appendLen(o.buf, m.DurationSeconds)
	o.buf = appendLen(o.buf, m.MaxEntries)
	o.buf = appendLen(o.buf, s.producers)
	if err := w.spools[spoolProducers].copyTo(o); err != nil {
		return w.ioErr(err)
	}
	o.buf = appendLen(o.buf, m.IIDsAdded)
	o.buf = appendLen(o.buf, m.IIDsDuplicates)
	return nil
}

func (s *streamEnc) end(w *Writer) error {
	if s.phase == streamPhaseEntries {
		return w.streamErr("stream", "the stream meta element was not given")
	}
	if err := s.closeGroup(w); err != nil {
		return err
	}
	if s.groupsSeen != s.meta.GroupCount {
		return w.streamErr("stream", "the meta element announces "+strconv.FormatUint(s.meta.GroupCount, 10)+" groups, "+strconv.FormatUint(s.groupsSeen, 10)+" were given")
	}
	switch s.phase {
	case streamPhaseIDMP:
		if !s.dropIDMP {
			return w.streamErr("stream IDMP", "IDMP entries were given without the closing IDMP element")
		}
	case streamPhaseGroups:
		if w.opts.Version == 13 {
			// No IDMP section given: write an unused one, as Redis 8.6 does.
			for range 5 {
				w.out.buf = appendLen(w.out.buf, 0)
			}
		}
	}
	return nil
}
