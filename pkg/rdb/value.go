package rdb

import (
	"io"
	"strconv"
)

// Value is a whole value materialized by Reader.ReadValue. Exactly the field that
// matches Kind is set. Unlike Elem, a Value owns its memory.
type Value struct {
	Kind    Kind
	String  []byte
	List    [][]byte // list elements, head to tail
	Set     [][]byte // set members in file order
	ZSet    []ZMember
	Hash    []HashField
	Stream  *Stream
	Module  *ModuleValue
	Elems   int   // number of elements read (stream: entries)
	Size    int64 // bytes of element data held (an approximation of memory used)
	Encoded Type  // the on-disk type it was read from
}

// ZMember is a sorted-set member.
type ZMember struct {
	Member []byte
	Score  float64
}

// HashField is a hash field; ExpireAtMs is its absolute expiry in Unix ms, 0 = none.
type HashField struct {
	Field, Value []byte
	ExpireAtMs   int64
}

// StreamEntry is a live stream entry.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte // field1, value1, field2, value2, ...
}

// Stream is a whole stream.
type Stream struct {
	Entries []StreamEntry
	StreamMeta
	Groups []StreamGroup
	IDMP   *StreamIDMPSection
}

// StreamGroup is a consumer group with its PEL and consumers.
type StreamGroup struct {
	Name          []byte
	LastDelivered StreamID
	EntriesRead   int64 // -1 = unknown
	PEL           []StreamPending
	Consumers     []StreamConsumer
}

// StreamConsumer is a consumer with the IDs of its pending entries.
type StreamConsumer struct {
	Name         []byte
	SeenTimeMs   int64
	ActiveTimeMs int64
	PEL          []StreamID
}

// StreamIDMPSection is the whole idempotency section of a type-26 stream.
type StreamIDMPSection struct {
	StreamIDMP
	Entries []StreamIDMPEntry
}

// ReadValue reads the rest of the current key's value into memory. limit bounds
// the bytes of element data held (0 means DefaultReadValueLimit); a larger value
// fails with ErrValueTooLarge, and the Reader cannot continue after that. Use
// NextElem to stream big values instead.
func (r *Reader) ReadValue(limit int64) (*Value, error) {
	if limit <= 0 {
		limit = DefaultReadValueLimit
	}
	if r.err != nil {
		return nil, r.err
	}
	if !r.inValue {
		return nil, r.fail(r.errAt(r.src.Offset(), "value", errNoValue, ""))
	}
	t := r.entry.Type
	v := &Value{Kind: t.Kind(), Encoded: t}
	var st *Stream
	var group *StreamGroup
	var consumer *StreamConsumer
	owner := map[StreamID]int{} // group PEL index by ID, to fill Consumer names
	if v.Kind == KindStream {
		st = &Stream{}
		v.Stream = st
	}
	grow := func(n int) error {
		v.Size += int64(n)
		if v.Size > limit {
			return r.fail(r.errAt(r.val.off, "value", ErrValueTooLarge, "more than "+strconv.FormatInt(limit, 10)+" bytes; stream it element by element"))
		}
		return nil
	}
	clone := func(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		v.Elems++
		switch el.Kind {
		case ElemString:
			err = grow(len(el.Member))
			v.String = clone(el.Member)
		case ElemMember:
			err = grow(len(el.Member) + 24)
			if v.Kind == KindList {
				v.List = append(v.List, clone(el.Member))
			} else {
				v.Set = append(v.Set, clone(el.Member))
			}
		case ElemZMember:
			err = grow(len(el.Member) + 32)
			v.ZSet = append(v.ZSet, ZMember{clone(el.Member), el.Score})
		case ElemField:
			err = grow(len(el.Member) + len(el.Value) + 56)
			v.Hash = append(v.Hash, HashField{clone(el.Member), clone(el.Value), el.ExpireAtMs})
		case ElemStreamEntry:
			n := 40
			fields := make([][]byte, len(el.Fields))
			for i, f := range el.Fields {
				fields[i] = clone(f)
				n += len(f) + 24
			}
			err = grow(n)
			st.Entries = append(st.Entries, StreamEntry{el.ID, fields})
		case ElemStreamMeta:
			v.Elems--
			st.StreamMeta = *el.Stream
		case ElemStreamGroup:
			v.Elems--
			err = grow(len(el.Group.Name) + 64)
			st.Groups = append(st.Groups, StreamGroup{Name: clone(el.Group.Name), LastDelivered: el.Group.LastDelivered, EntriesRead: el.Group.EntriesRead})
			group = &st.Groups[len(st.Groups)-1]
			clear(owner)
		case ElemStreamPending:
			v.Elems--
			err = grow(48)
			owner[el.Pending.ID] = len(group.PEL)
			group.PEL = append(group.PEL, *el.Pending)
		case ElemStreamConsumer:
			v.Elems--
			err = grow(len(el.Consumer.Name) + 64)
			group.Consumers = append(group.Consumers, StreamConsumer{Name: clone(el.Consumer.Name), SeenTimeMs: el.Consumer.SeenTimeMs, ActiveTimeMs: el.Consumer.ActiveTimeMs})
			consumer = &group.Consumers[len(group.Consumers)-1]
		case ElemStreamConsumerPending:
			v.Elems--
			err = grow(16)
			consumer.PEL = append(consumer.PEL, el.ID)
			if i, ok := owner[el.ID]; ok {
				group.PEL[i].Consumer = consumer.Name
			}
		case ElemStreamIDMPEntry:
			v.Elems--
			if st.IDMP == nil {
				st.IDMP = &StreamIDMPSection{}
			}
			err = grow(len(el.IDMPEntry.Producer) + len(el.IDMPEntry.IID) + 64)
			st.IDMP.Entries = append(st.IDMP.Entries, StreamIDMPEntry{clone(el.IDMPEntry.Producer), clone(el.IDMPEntry.IID), el.IDMPEntry.ID})
		case ElemStreamIDMP:
			v.Elems--
			if st.IDMP == nil {
				st.IDMP = &StreamIDMPSection{}
			}
			st.IDMP.StreamIDMP = *el.IDMP
		case ElemModule:
			err = grow(len(el.Module.Raw))
			v.Module = el.Module
		}
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

// CopyRawValue copies the serialized bytes of the current key's value, exactly
// as they are in the file (after the key name), to w, checking them on the way.
// It must be called right after Next returned the key, before NextElem.
func (r *Reader) CopyRawValue(w io.Writer) (int64, error) {
	if r.err != nil {
		return 0, r.err
	}
	if !r.inValue || r.src.Offset() != r.val.off {
		return 0, r.fail(r.errAt(r.src.Offset(), "raw value", errNoValue, "CopyRawValue must come right after Next returned a key"))
	}
	c := &captureSink{w: w}
	if err := r.src.startCapture(c); err != nil {
		return 0, r.fail(err)
	}
	werr := r.skipValue()
	cerr := r.src.stopCapture()
	if werr != nil {
		return c.n, r.fail(werr)
	}
	if cerr != nil {
		return c.n, r.fail(r.errAt(r.val.off, "raw value", cerr, "writing the copy"))
	}
	return c.n, nil
}
