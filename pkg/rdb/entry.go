package rdb

import (
	"fmt"
	"strconv"
)

// Header is the 9-byte magic at the start of an RDB file.
type Header struct {
	Magic   string // "REDIS" or "VALKEY"
	Version int    // 1..13 for REDIS, 80 for VALKEY
}

func (h Header) String() string {
	if h.Magic == "VALKEY" {
		return fmt.Sprintf("VALKEY%03d", h.Version)
	}
	return fmt.Sprintf("REDIS%04d", h.Version)
}

// IsValkey reports whether the file uses Valkey 9's numbering (types 22/23 and
// opcode 0xF3 mean Valkey's HASH_2 and SLOT_IMPORT).
func (h Header) IsValkey() bool { return h.Magic == "VALKEY" }

// HasChecksum reports whether the format has a CRC-64 trailer (version 5 and later).
func (h Header) HasChecksum() bool { return h.Magic == "VALKEY" || h.Version >= 5 }

// ChecksumState says what the reader found in the CRC-64 trailer.
type ChecksumState uint8

const (
	ChecksumUnknown  ChecksumState = iota // the end of the file was not reached
	ChecksumOK                            // trailer present and matching
	ChecksumDisabled                      // trailer is zero: written with rdbchecksum no
	ChecksumAbsent                        // version < 5: the format has no trailer
)

func (c ChecksumState) String() string {
	switch c {
	case ChecksumOK:
		return "ok"
	case ChecksumDisabled:
		return "checksum disabled"
	case ChecksumAbsent:
		return "no checksum"
	}
	return "unknown"
}

// Entry is one record of the file, in file order.
//
// Byte slices in an Entry belong to the Reader and are valid until the next call
// to Next; copy them to keep them. The Entry itself is reused.
type Entry struct {
	Kind   EntryKind
	Offset int64 // offset of the record's first byte (for keys, the first prefix opcode)
	DB     int   // database of a key; the new database for EntrySelectDB

	// EntryAux
	AuxName, AuxValue []byte

	// EntryResizeDB (hints only)
	DBSize, ExpiresSize uint64

	// EntryKey
	Key         []byte
	Type        Type
	ExpireAtMs  int64 // absolute Unix ms; valid when HasExpire
	HasExpire   bool
	IdleSeconds uint64 // LRU idle time; valid when HasIdle
	HasIdle     bool
	Freq        uint8 // LFU counter; valid when HasFreq
	HasFreq     bool
	KeyMeta     []byte // raw payload of a Redis 8.6 KEY_META record, nil when absent

	// EntryFunction: the library source ("#!lua name=mylib ...").
	Function []byte
	// FunctionPreGA is set when the library came from a Redis 7.0 RC record (0xF6).
	FunctionPreGA *PreGAFunction

	// EntryModuleAux
	Module *ModuleValue

	// EntrySlotInfo
	Slot, SlotSize, SlotExpiresSize uint64

	// EntrySlotImport (Valkey 9)
	SlotImport *SlotImport
}

// PreGAFunction is a function library as Redis 7.0-rc1/rc2 stored it.
type PreGAFunction struct {
	Name, Engine, Description, Code []byte
	HasDescription                  bool
}

// SlotImport is Valkey 9's record of an in-progress slot import.
type SlotImport struct {
	JobName []byte
	Ranges  [][2]uint64 // inclusive [start, end] slot ranges
}

// ModuleValue is a module-typed value (type 7) or a MODULE_AUX record, kept as the
// raw opcode stream because the module itself is needed to interpret it.
type ModuleValue struct {
	ID     uint64 // 64-bit module type id: 9 name characters and a 10-bit encoding version
	Name   string // decoded from ID, e.g. "ReJSON-RL"
	EncVer int    // module encoding version, ID & 1023
	When   int    // MODULE_AUX only: 1 before the keyspace, 2 after
	// Raw is the opcode stream after the id (after "when" for MODULE_AUX), up to and
	// including the terminating EOF opcode (a zero length).
	Raw []byte
}

// ModuleName decodes the 9-character module type name from a module id.
func ModuleName(id uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b [9]byte
	for i := 0; i < 9; i++ {
		b[i] = alphabet[(id>>(10+6*(8-uint(i))))&63]
	}
	return string(b[:])
}

// ModuleID builds a module type id from a 9-character name and an encoding version.
// It returns false if the name has characters outside the module alphabet.
func ModuleID(name string, encver int) (uint64, bool) {
	if len(name) != 9 || encver < 0 || encver > 1023 {
		return 0, false
	}
	var id uint64
	for i := 0; i < 9; i++ {
		c := name[i]
		var v uint64
		switch {
		case c >= 'A' && c <= 'Z':
			v = uint64(c - 'A')
		case c >= 'a' && c <= 'z':
			v = uint64(c-'a') + 26
		case c >= '0' && c <= '9':
			v = uint64(c-'0') + 52
		case c == '-':
			v = 62
		case c == '_':
			v = 63
		default:
			return 0, false
		}
		id = id<<6 | v
	}
	return id<<10 | uint64(encver), true
}

// StreamID is a stream entry ID.
type StreamID struct {
	Ms, Seq uint64
}

func (id StreamID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// Less orders IDs as Redis does.
func (id StreamID) Less(o StreamID) bool {
	return id.Ms < o.Ms || (id.Ms == o.Ms && id.Seq < o.Seq)
}

// Compare returns -1, 0 or +1 as id is before, equal to or after o (for
// slices.SortFunc and binary searches).
func (id StreamID) Compare(o StreamID) int {
	switch {
	case id.Less(o):
		return -1
	case o.Less(id):
		return 1
	}
	return 0
}

// IsZero reports whether id is 0-0.
func (id StreamID) IsZero() bool { return id.Ms == 0 && id.Seq == 0 }

// ElemKind tells which part of a value an Elem holds.
type ElemKind uint8

const (
	ElemString                ElemKind = iota + 1 // string value: Member
	ElemMember                                    // list element or set member: Member
	ElemZMember                                   // sorted-set member: Member, Score
	ElemField                                     // hash field: Member (field), Value, ExpireAtMs (0 = none)
	ElemStreamEntry                               // stream entry: ID, Fields (field, value, field, value...)
	ElemStreamMeta                                // after the entries: Stream (counters, last ID...)
	ElemStreamGroup                               // consumer group header: Group
	ElemStreamPending                             // group PEL entry: Pending (Consumer unset)
	ElemStreamConsumer                            // consumer of the current group: Consumer
	ElemStreamConsumerPending                     // consumer PEL entry: ID
	ElemStreamIDMP                                // Redis 8.6 idempotency section: IDMP (producers streamed as below)
	ElemStreamIDMPEntry                           // one idempotency record: IDMPEntry
	ElemModule                                    // module value: Module
)

func (k ElemKind) String() string {
	names := [...]string{"", "string", "member", "zmember", "field", "stream_entry", "stream_meta",
		"stream_group", "stream_pending", "stream_consumer", "stream_consumer_pending",
		"stream_idmp", "stream_idmp_entry", "module"}
	if int(k) < len(names) && k != 0 {
		return names[k]
	}
	return fmt.Sprintf("elem(%d)", uint8(k))
}

// Elem is one element of a value, as NextElem delivers it. It and its byte
// slices are owned by the Reader and valid until the next call to NextElem or Next.
type Elem struct {
	Kind       ElemKind
	Member     []byte  // string value, list element, set/zset member, hash field
	Value      []byte  // hash value
	Score      float64 // zset score
	ExpireAtMs int64   // hash field expiry in absolute Unix ms, 0 = none

	ID     StreamID // stream entry ID, consumer PEL ID
	Fields [][]byte // stream entry: field1, value1, field2, value2, ...

	Stream    *StreamMeta
	Group     *StreamGroupMeta
	Pending   *StreamPending
	Consumer  *StreamConsumerMeta
	IDMP      *StreamIDMP
	IDMPEntry *StreamIDMPEntry
	Module    *ModuleValue
}

// StreamMeta holds a stream's counters, delivered after its entries.
type StreamMeta struct {
	Length       uint64   // live entries
	LastID       StreamID // largest ID ever added
	FirstID      StreamID // RDB >= 10 (type 19+); derived from the entries for type 15
	MaxDeletedID StreamID // type 19+
	EntriesAdded uint64   // type 19+; equals Length for type 15
	GroupCount   uint64
}

// StreamGroupMeta is a consumer group header; its PEL and consumers follow as elements.
type StreamGroupMeta struct {
	Name          []byte
	LastDelivered StreamID
	EntriesRead   int64 // -1 when unknown (type 15 files, or written as such)
	PendingCount  uint64
}

// StreamPending is one entry of a group's pending entries list.
type StreamPending struct {
	ID             StreamID
	DeliveryTimeMs int64
	DeliveryCount  uint64
	Consumer       []byte // filled by ReadValue from the consumers' lists; nil from NextElem
}

// StreamConsumerMeta is a consumer header; its pending IDs follow as elements.
type StreamConsumerMeta struct {
	Name         []byte
	SeenTimeMs   int64
	ActiveTimeMs int64 // type 21+; equals SeenTimeMs for older types
	PendingCount uint64
}

// StreamIDMP is the idempotent-producer section of a type-26 stream (Redis 8.6).
type StreamIDMP struct {
	DurationSeconds uint64
	MaxEntries      uint64
	Producers       uint64
	IIDsAdded       uint64 // filled once the section has been read (see ElemStreamIDMPEntry)
	IIDsDuplicates  uint64
}

// StreamIDMPEntry is one idempotency record of one producer.
type StreamIDMPEntry struct {
	Producer []byte
	IID      []byte
	ID       StreamID
}
