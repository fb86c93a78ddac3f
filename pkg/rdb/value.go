package rdb

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
