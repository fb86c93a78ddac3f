package rdb

import (
	"encoding/binary"
	"io"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
)

// Stream entry flags inside node listpacks (redis/redis src/stream.h).
const (
	streamItemDeleted    = 1 // STREAM_ITEM_FLAG_DELETED
	streamItemSameFields = 2 // STREAM_ITEM_FLAG_SAMEFIELDS
)

// maxTrackedPEL bounds the memory spent checking that every consumer's pending
// ID is in its group's PEL; beyond it the membership check is skipped (the count
// check still runs).
const maxTrackedPEL = 1 << 18

// Stream decoding phases.
const (
	stNodes = iota + 1
	stMeta
	stGroup
	stGroupPEL
	stConsumers
	stIDMP
	stIDMPEntries
	stDone
)

type streamState struct {
	phase     int
	nodesLeft uint64
	inNode    bool
	lp        listpack.Iterator
	lpOff     int64
	lpSize    int // the node listpack's decoded length (ElemContainer)

	master       StreamID
	masterFields [][]byte
	masterArena  []byte
	nodeLive     int64 // declared by the master entry
	nodeDeleted  int64
	seenLive     int64
	seenDeleted  int64

	lastEntry  StreamID // last entry ID seen (deleted ones included)
	haveEntry  bool
	firstLive  StreamID
	liveTotal  uint64
	arena      []byte
	arenaRefs  []arenaRef
	meta       StreamMeta
	groupsLeft uint64

	group          StreamGroupMeta
	groupName      []byte
	pelLeft        uint64
	prevPEL        StreamID
	pelSet         map[StreamID]struct{}
	pelTracked     bool
	consumersLeft  uint64
	consumer       StreamConsumerMeta
	consumerName   []byte
	cpelLeft       uint64
	prevCPEL       StreamID
	consumerPELSum uint64
	pending        StreamPending

	idmp          StreamIDMP
	producersLeft uint64
	entriesLeft   uint64
	producer      []byte // the current producer's ID (may alias the input window)
	producerBuf   []byte // owns producer when it had to be copied
	idmpEntry     StreamIDMPEntry
}

// arenaRef is a stream field rendered from an integer into the arena; its slice
// is taken once the arena has stopped growing.
type arenaRef struct{ index, start, end int }

// reset prepares the state for a new stream, keeping its buffers.
func (s *streamState) reset() {
	if s.pelSet != nil {
		clear(s.pelSet)
	}
	*s = streamState{
		masterFields: s.masterFields[:0], masterArena: s.masterArena[:0], arena: s.arena[:0],
		arenaRefs: s.arenaRefs[:0], groupName: s.groupName[:0], consumerName: s.consumerName[:0],
		producerBuf: s.producerBuf[:0], pelSet: s.pelSet,
	}
}

func (r *Reader) streamVersion() int {
	switch r.val.t {
	case TypeStreamListpacks:
		return 1
	case TypeStreamListpacks2:
		return 2
	case TypeStreamListpacks3:
		return 3
	}
	return 4
}

func (r *Reader) nextStream() (*Elem, error) {
	v := &r.val
	s := v.st
	el := &r.elem
	if s.phase == 0 {
		n, err := r.readLen("stream node count")
		if err != nil {
			return nil, err
		}
		s.nodesLeft, s.phase = n, stNodes
	}
	for {
		switch s.phase {
		case stNodes:
			ok, err := r.nextStreamEntry()
			if err != nil {
				return nil, err
			}
			if ok {
				v.count++
				return el, nil
			}
			s.phase = stMeta
		case stMeta:
			if err := r.readStreamMeta(); err != nil {
				return nil, err
			}
			el.Kind, el.Stream = ElemStreamMeta, &s.meta
			s.phase = stGroup
			return el, nil
		case stGroup:
			if s.groupsLeft == 0 {
				s.phase = stIDMP
				continue
			}
			if err := r.readStreamGroup(); err != nil {
				return nil, err
			}
			el.Kind, el.Group = ElemStreamGroup, &s.group
			s.phase = stGroupPEL
			return el, nil
		case stGroupPEL:
			if s.pelLeft > 0 {
				if err := r.readGroupPending(); err != nil {
					return nil, err
				}
				el.Kind, el.Pending = ElemStreamPending, &s.pending
				return el, nil
			}
			n, err := r.readLen("consumer count")
			if err != nil {
				return nil, err
			}
			s.consumersLeft, s.consumerPELSum, s.phase = n, 0, stConsumers
		case stConsumers:
			if s.cpelLeft > 0 {
				id, err := r.readConsumerPending()
				if err != nil {
					return nil, err
				}
				el.Kind, el.ID = ElemStreamConsumerPending, id
				return el, nil
			}
			if s.consumersLeft > 0 {
				if err := r.readStreamConsumer(); err != nil {
					return nil, err
				}
				el.Kind, el.Consumer = ElemStreamConsumer, &s.consumer
				return el, nil
			}
			if r.opts.Strict && s.consumerPELSum != s.group.PendingCount {
				return nil, r.corrupt(r.src.Offset(), "consumer group "+QuoteBytes(s.group.Name),
					"consumers own "+strconv.FormatUint(s.consumerPELSum, 10)+" pending entries but the group PEL has "+strconv.FormatUint(s.group.PendingCount, 10))
			}
			s.groupsLeft--
			s.phase = stGroup
		case stIDMP:
			if r.val.t != TypeStreamListpacks4 {
				s.phase = stDone
				continue
			}
			var err error
			for _, p := range []*uint64{&s.idmp.DurationSeconds, &s.idmp.MaxEntries, &s.idmp.Producers} {
				if *p, err = r.readLen("stream IDMP header"); err != nil {
					return nil, err
				}
			}
			s.producersLeft, s.phase = s.idmp.Producers, stIDMPEntries
		case stIDMPEntries:
			if s.entriesLeft > 0 {
				if err := r.readIDMPEntry(); err != nil {
					return nil, err
				}
				el.Kind, el.IDMPEntry = ElemStreamIDMPEntry, &s.idmpEntry
				return el, nil
			}
			if s.producersLeft > 0 {
				s.producersLeft--
				p, err := r.readStringCopy("stream IDMP producer", &s.producerBuf)
				if err != nil {
					return nil, err
				}
				s.producer = p
				if s.entriesLeft, err = r.readLen("stream IDMP entry count"); err != nil {
					return nil, err
				}
				continue
			}
			var err error
			if s.idmp.IIDsAdded, err = r.readLen("stream IDMP counter"); err != nil {
				return nil, err
			}
			if s.idmp.IIDsDuplicates, err = r.readLen("stream IDMP counter"); err != nil {
				return nil, err
			}
			el.Kind, el.IDMP = ElemStreamIDMP, &s.idmp
			s.phase = stDone
			return el, nil
		default:
			return nil, io.EOF
		}
	}
}

// lpInt reads the next listpack entry of a stream node as an integer.
func (r *Reader) lpInt(what string) (int64, error) {
	s := r.val.st
	if !s.lp.Next() {
		if err := s.lp.Err(); err != nil {
			return 0, r.streamBlobErr(err)
		}
		return 0, r.corrupt(s.lpOff, "stream node", "listpack ends inside an entry; expected "+what)
	}
	if !s.lp.IsInt() {
		return 0, r.corrupt(s.lpOff, "stream node", what+" is not an integer")
	}
	return s.lp.Int(), nil
}

func (r *Reader) streamBlobErr(err error) error {
	r.val.blobOff = r.val.st.lpOff
	return r.blobErr("stream node listpack", err)
}

// lpText reads the next listpack entry as bytes; integers are rendered into
// *arena and reported with ref=true so the caller resolves them later.
func (r *Reader) lpText(what string, arena *[]byte) (b []byte, start, end int, ref bool, err error) {
	s := r.val.st
	if !s.lp.Next() {
		if err := s.lp.Err(); err != nil {
			return nil, 0, 0, false, r.streamBlobErr(err)
		}
		return nil, 0, 0, false, r.corrupt(s.lpOff, "stream node", "listpack ends inside an entry; expected "+what)
	}
	if s.lp.IsInt() {
		start = len(*arena)
		*arena = strconv.AppendInt(*arena, s.lp.Int(), 10)
		return nil, start, len(*arena), true, nil
	}
	return s.lp.Str(), 0, 0, false, nil
}

// openStreamNode reads the next node (master ID and listpack) and its master entry.
func (r *Reader) openStreamNode() error {
	s := r.val.st
	off := r.src.Offset()
	key, err := r.readString("stream node key")
	if err != nil {
		return err
	}
	if len(key) != 16 {
		return r.corrupt(off, "stream node key", "expected a 16-byte stream ID, found "+strconv.Itoa(len(key))+" bytes")
	}
	s.master = StreamID{binary.BigEndian.Uint64(key[:8]), binary.BigEndian.Uint64(key[8:])}
	s.lpOff = r.src.Offset()
	lp, err := r.readString("stream node listpack")
	if err != nil {
		return err
	}
	s.lpSize = len(lp)
	if s.lp, err = listpack.NewIterator(lp); err != nil {
		return r.streamBlobErr(err)
	}
	if s.lp.HeaderCount() == 0 {
		return r.corrupt(s.lpOff, "stream node", "empty listpack in a stream node")
	}
	if s.nodeLive, err = r.lpInt("master entry count"); err != nil {
		return err
	}
	if s.nodeDeleted, err = r.lpInt("master deleted count"); err != nil {
		return err
	}
	nf, err := r.lpInt("master field count")
	if err != nil {
		return err
	}
	if s.nodeLive < 0 || s.nodeDeleted < 0 || nf < 0 || nf > int64(len(lp)) {
		return r.corrupt(s.lpOff, "stream node", "impossible master entry counters")
	}
	s.masterFields, s.masterArena = s.masterFields[:0], s.masterArena[:0]
	var refs []arenaRef
	for i := 0; i < int(nf); i++ {
		b, start, end, ref, err := r.lpText("master field", &s.masterArena)
		if err != nil {
			return err
		}
		if ref {
			refs = append(refs, arenaRef{i, start, end})
		}
		s.masterFields = append(s.masterFields, b)
	}
	for _, ref := range refs {
		s.masterFields[ref.index] = s.masterArena[ref.start:ref.end]
	}
	term, err := r.lpInt("master entry terminator")
	if err != nil {
		return err
	}
	if term != 0 {
		return r.corrupt(s.lpOff, "stream node", "master entry must end with 0")
	}
	s.seenLive, s.seenDeleted = 0, 0
	s.inNode = true
	return nil
}

// nextStreamEntry fills r.elem with the next live entry; false when the nodes are done.
func (r *Reader) nextStreamEntry() (bool, error) {
	s := r.val.st
	el := &r.elem
	for {
		if !s.inNode {
			if s.nodesLeft == 0 {
				return false, nil
			}
			s.nodesLeft--
			if err := r.openStreamNode(); err != nil {
				return false, err
			}
		}
		if s.seenLive+s.seenDeleted == s.nodeLive+s.nodeDeleted {
			// Every entry the master announced has been read: the listpack must end.
			if s.lp.Next() {
				return false, r.corrupt(s.lpOff, "stream node", "listpack holds more entries than the master entry counts ("+strconv.FormatInt(s.nodeLive, 10)+" live + "+strconv.FormatInt(s.nodeDeleted, 10)+" deleted)")
			}
			if err := s.lp.Err(); err != nil {
				return false, r.streamBlobErr(err)
			}
			s.inNode = false
			continue
		}
		flags, err := r.lpInt("entry flags")
		if err != nil {
			return false, err
		}
		if flags&^(streamItemDeleted|streamItemSameFields) != 0 {
			return false, r.corrupt(s.lpOff, "stream entry", "unknown entry flags "+strconv.FormatInt(flags, 10))
		}
		msDelta, err := r.lpInt("entry ID ms delta")
		if err != nil {
			return false, err
		}
		seqDelta, err := r.lpInt("entry ID seq delta")
		if err != nil {
			return false, err
		}
		id := StreamID{s.master.Ms + uint64(msDelta), s.master.Seq + uint64(seqDelta)}
		if id.Less(s.master) || (s.haveEntry && !s.lastEntry.Less(id)) {
			return false, r.corrupt(s.lpOff, "stream entry", "entry ID "+id.String()+" is out of order")
		}
		s.lastEntry, s.haveEntry = id, true
		n := int64(len(s.masterFields))
		same := flags&streamItemSameFields != 0
		if !same {
			if n, err = r.lpInt("entry field count"); err != nil {
				return false, err
			}
			if n <= 0 || n > int64(s.lp.HeaderCount())+65536 {
				return false, r.corrupt(s.lpOff, "stream entry", "impossible field count "+strconv.FormatInt(n, 10))
			}
		}
		el.Fields, s.arena, s.arenaRefs = el.Fields[:0], s.arena[:0], s.arenaRefs[:0]
		if r.skipping {
			// Nobody sees the fields: walk (and so validate) their entries only.
			items := n
			if !same {
				items = 2 * n
			}
			for i := int64(0); i < items; i++ {
				if !s.lp.Next() {
					if err := s.lp.Err(); err != nil {
						return false, r.streamBlobErr(err)
					}
					return false, r.corrupt(s.lpOff, "stream node", "listpack ends inside an entry; expected a field or value")
				}
			}
		}
		for i := int64(0); i < n && !r.skipping; i++ {
			if same {
				el.Fields = append(el.Fields, s.masterFields[i])
			} else {
				b, start, end, ref, err := r.lpText("entry field", &s.arena)
				if err != nil {
					return false, err
				}
				if ref {
					s.arenaRefs = append(s.arenaRefs, arenaRef{len(el.Fields), start, end})
				}
				el.Fields = append(el.Fields, b)
			}
			b, start, end, ref, err := r.lpText("entry value", &s.arena)
			if err != nil {
				return false, err
			}
			if ref {
				s.arenaRefs = append(s.arenaRefs, arenaRef{len(el.Fields), start, end})
			}
			el.Fields = append(el.Fields, b)
		}
		for _, ref := range s.arenaRefs {
			el.Fields[ref.index] = s.arena[ref.start:ref.end]
		}
		lpCount, err := r.lpInt("entry item count")
		if err != nil {
			return false, err
		}
		want := n + 3
		if !same {
			want = 2*n + 4
		}
		if lpCount != want {
			return false, r.corrupt(s.lpOff, "stream entry", "entry "+id.String()+" says it has "+strconv.FormatInt(lpCount, 10)+" items, found "+strconv.FormatInt(want, 10))
		}
		if flags&streamItemDeleted != 0 {
			s.seenDeleted++
			if s.seenDeleted > s.nodeDeleted {
				return false, r.corrupt(s.lpOff, "stream node", "more deleted entries than the master entry counts")
			}
			continue
		}
		s.seenLive++
		if s.seenLive > s.nodeLive {
			return false, r.corrupt(s.lpOff, "stream node", "more live entries than the master entry counts")
		}
		if s.liveTotal == 0 {
			s.firstLive = id
		}
		s.liveTotal++
		el.Kind, el.ID = ElemStreamEntry, id
		return true, nil
	}
}

func (r *Reader) readStreamID(what string) (StreamID, error) {
	ms, err := r.readLen(what)
	if err != nil {
		return StreamID{}, err
	}
	seq, err := r.readLen(what)
	return StreamID{ms, seq}, err
}

func (r *Reader) readStreamMeta() error {
	s := r.val.st
	m := &s.meta
	off := r.src.Offset()
	var err error
	if m.Length, err = r.readLen("stream length"); err != nil {
		return err
	}
	if m.LastID, err = r.readStreamID("stream last ID"); err != nil {
		return err
	}
	if r.streamVersion() >= 2 {
		if m.FirstID, err = r.readStreamID("stream first ID"); err != nil {
			return err
		}
		if m.MaxDeletedID, err = r.readStreamID("stream max deleted ID"); err != nil {
			return err
		}
		if m.EntriesAdded, err = r.readLen("stream entries added"); err != nil {
			return err
		}
	} else {
		m.EntriesAdded = m.Length
		if s.liveTotal > 0 {
			m.FirstID = s.firstLive
		}
	}
	if m.GroupCount, err = r.readLen("stream group count"); err != nil {
		return err
	}
	s.groupsLeft = m.GroupCount
	if !r.opts.Strict {
		return nil
	}
	// A length that disagrees with the live entries is only a warning: Redis 5.0
	// wrote such streams after XTRIM (the corpus has several, carried on into
	// 7.0 files), and every Redis loads them.
	if m.Length != s.liveTotal {
		r.warn(off, "stream length", "says "+strconv.FormatUint(m.Length, 10)+" entries, the nodes hold "+strconv.FormatUint(s.liveTotal, 10)+" (Redis loads such streams)")
	}
	switch {
	case s.haveEntry && m.LastID.Less(s.lastEntry):
		return r.corrupt(off, "stream last ID", "last ID "+m.LastID.String()+" is below entry "+s.lastEntry.String())
	case r.streamVersion() >= 2 && s.liveTotal > 0 && m.FirstID != s.firstLive:
		return r.corrupt(off, "stream first ID", "first ID "+m.FirstID.String()+" but the first entry is "+s.firstLive.String())
	case r.streamVersion() >= 2 && m.EntriesAdded < m.Length:
		return r.corrupt(off, "stream entries added", strconv.FormatUint(m.EntriesAdded, 10)+" entries added is less than the length "+strconv.FormatUint(m.Length, 10))
	case m.LastID.Less(m.MaxDeletedID):
		return r.corrupt(off, "stream max deleted ID", "max deleted ID "+m.MaxDeletedID.String()+" is above the last ID "+m.LastID.String())
	}
	return nil
}

func (r *Reader) readStreamGroup() error {
	s := r.val.st
	var err error
	name, err := r.readStringCopy("consumer group name", &s.groupName)
	if err != nil {
		return err
	}
	g := &s.group
	*g = StreamGroupMeta{Name: name, EntriesRead: -1}
	if g.LastDelivered, err = r.readStreamID("group last delivered ID"); err != nil {
		return err
	}
	if r.streamVersion() >= 2 {
		v, err := r.readLen("group entries read")
		if err != nil {
			return err
		}
		g.EntriesRead = int64(v) // 2^64-1 is how -1 ("unknown") is stored
		if g.EntriesRead < -1 {
			return r.corrupt(r.src.Offset(), "group entries read", "negative value "+strconv.FormatInt(g.EntriesRead, 10))
		}
	}
	if g.PendingCount, err = r.readLen("group PEL size"); err != nil {
		return err
	}
	s.pelLeft = g.PendingCount
	s.prevPEL = StreamID{}
	s.pelTracked = r.opts.Strict && g.PendingCount <= maxTrackedPEL
	if s.pelTracked {
		if s.pelSet == nil {
			s.pelSet = make(map[StreamID]struct{})
		}
		clear(s.pelSet)
	}
	return nil
}

// readRawID reads a 16-byte big-endian stream ID (PEL entries have no length prefix).
func (r *Reader) readRawID(what string) (StreamID, error) {
	off := r.src.Offset()
	b, err := r.src.Next(16)
	if err != nil {
		return StreamID{}, r.errAt(off, what, err, "expected a 16-byte stream ID")
	}
	return StreamID{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}, nil
}

func (r *Reader) readGroupPending() error {
	s := r.val.st
	off := r.src.Offset()
	id, err := r.readRawID("group PEL entry")
	if err != nil {
		return err
	}
	if r.opts.Strict && s.pelLeft != s.group.PendingCount && !s.prevPEL.Less(id) {
		return r.corrupt(off, "group PEL entry", "ID "+id.String()+" out of order")
	}
	s.prevPEL = id
	s.pelLeft--
	t, err := r.readMs64("PEL delivery time")
	if err != nil {
		return err
	}
	n, err := r.readLen("PEL delivery count")
	if err != nil {
		return err
	}
	s.pending = StreamPending{ID: id, DeliveryTimeMs: t, DeliveryCount: n}
	if s.pelTracked {
		s.pelSet[id] = struct{}{}
	}
	return nil
}

func (r *Reader) readStreamConsumer() error {
	s := r.val.st
	var err error
	name, err := r.readStringCopy("consumer name", &s.consumerName)
	if err != nil {
		return err
	}
	c := &s.consumer
	*c = StreamConsumerMeta{Name: name}
	if c.SeenTimeMs, err = r.readMs64("consumer seen time"); err != nil {
		return err
	}
	c.ActiveTimeMs = c.SeenTimeMs
	if r.streamVersion() >= 3 {
		if c.ActiveTimeMs, err = r.readMs64("consumer active time"); err != nil {
			return err
		}
	}
	if c.PendingCount, err = r.readLen("consumer PEL size"); err != nil {
		return err
	}
	s.consumersLeft--
	s.cpelLeft = c.PendingCount
	s.consumerPELSum += c.PendingCount
	if r.opts.Strict && (s.consumerPELSum > s.group.PendingCount || s.consumerPELSum < c.PendingCount) {
		return r.corrupt(r.src.Offset(), "consumer "+QuoteBytes(c.Name), "consumers claim more pending entries than the group PEL holds")
	}
	return nil
}

func (r *Reader) readConsumerPending() (StreamID, error) {
	s := r.val.st
	off := r.src.Offset()
	id, err := r.readRawID("consumer PEL entry")
	if err != nil {
		return id, err
	}
	if r.opts.Strict {
		if s.cpelLeft != s.consumer.PendingCount && !s.prevCPEL.Less(id) {
			return id, r.corrupt(off, "consumer PEL entry", "ID "+id.String()+" out of order")
		}
		if s.pelTracked {
			if _, ok := s.pelSet[id]; !ok {
				return id, r.corrupt(off, "consumer PEL entry", "consumer "+QuoteBytes(s.consumer.Name)+" owns "+id.String()+", which is not in the group PEL")
			}
		}
	}
	s.prevCPEL = id
	s.cpelLeft--
	return id, nil
}

func (r *Reader) readIDMPEntry() error {
	s := r.val.st
	iid, err := r.readString("stream IDMP iid")
	if err != nil {
		return err
	}
	e := &s.idmpEntry
	e.Producer = s.producer
	e.IID = append(e.IID[:0], iid...)
	if e.ID, err = r.readStreamID("stream IDMP entry ID"); err != nil {
		return err
	}
	s.entriesLeft--
	return nil
}
