package rdb

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rdbtool/rdbtool/internal/errclass"
)

// WriterOptions choose the file a Writer produces. The zero value is not a
// valid target: set Version (TargetVersion fills every field for a named server).
type WriterOptions struct {
	// Version is the RDB version written in the header: 7 (Redis 3.2) to 13
	// (Redis 8.6), or 80 with Valkey set (Valkey 9, magic VALKEY080). It
	// decides which types and opcodes may be used; see docs/versions.md.
	Version int
	// Valkey writes the file as Valkey does: AUX valkey-ver instead of
	// redis-ver, and with Version 80 the VALKEY080 magic, Valkey's HASH_2 type
	// for hashes with field TTLs and its SLOT_IMPORT record. Only versions 11
	// (Valkey 7.2 to 8.1) and 80 are valid with it.
	Valkey bool

	// Encoding holds the size thresholds that pick compact encodings (the
	// *-max-listpack-* settings of redis.conf). nil means DefaultEncoding of
	// the target.
	Encoding *Encoding

	// NoCompress turns LZF compression off (rdbcompression no). By default,
	// as Redis does, every string longer than 20 bytes, inner blobs included,
	// is stored LZF-compressed when that saves at least 4 bytes.
	NoCompress bool
	// NoChecksum writes a zero CRC-64 trailer (rdbchecksum no).
	NoChecksum bool

	// Drop flags: without them, a record or value the target cannot hold is
	// an error naming the key (or library) and the feature; with them it is
	// left out and counted in Writer.Dropped.
	DropFieldTTLs bool // hash field TTLs below version 12 (the fields are kept, without TTL)
	DropFunctions bool // function libraries below version 10
	DropStreams   bool // stream keys below version 9
	DropIDMP      bool // a stream's idempotent-producer data below version 13
	DropModules   bool // module values below version 8, module aux records below version 9
	DropKeyMeta   bool // Redis 8.6 per-key module metadata below version 13 and under Valkey

	// ServerVersion is the value of the redis-ver (Valkey: valkey-ver) AUX
	// field; "" means the newest server line writing Version, e.g. "7.0.0"
	// for 10, "8.4.0" for 12 (TargetVersion sets the named line's).
	ServerVersion string
	// CTime is the ctime AUX field (Unix seconds). When it is 0 and Clock is
	// nil, the ctime of the input (an AUX record given to WriteEntry before the
	// first key) is kept, else 0 is written: output never depends on the
	// time of day unless Clock says so.
	CTime int64
	// Clock, when set, gives ctime instead (for example time.Now).
	Clock func() time.Time
	// Bits is the redis-bits AUX field; 0 means 64.
	Bits int
	// KeepServerVersion keeps the redis-ver and valkey-ver AUX fields given to
	// WriteEntry before the first other record, names and values as they
	// are, instead of writing the target's own (ServerVersion): for a copy
	// at the input's own version, which should change nothing. Without such
	// a field the target's is written.
	KeepServerVersion bool

	// NoDuplicateCheck skips the check that set members, sorted-set members
	// and hash fields are unique. The check keeps a 16-byte digest per element
	// of the value being written, so for huge trusted values it may be worth
	// turning off. Values kept small enough for a compact encoding are always
	// checked.
	NoDuplicateCheck bool
	// UniqueElements says that the caller guarantees that no set member,
	// sorted-set member or hash field repeats within a value (as a dataset
	// exported by pkg/engine): no duplicate check at all, small values
	// included. A repeated element then makes a file the server refuses.
	UniqueElements bool
	// CompressWorkers > 0 tries LZF compression of values on that many
	// goroutines while the caller goes on writing (writer_parallel.go): the
	// same bytes as without, in less time on several cores. Close (or the
	// first error) ends them.
	CompressWorkers int

	// SpoolMemory bounds the bytes a value may hold in memory while its
	// element or node count is still unknown (quicklist and stream nodes,
	// stream consumers, big values given with UnknownCount); beyond it the
	// encoded bytes go to a temporary file in SpoolDir (default os.TempDir()),
	// removed when the key is done. 0 means 8 MiB; negative means never use a
	// file.
	SpoolMemory int64
	SpoolDir    string
}

const defaultSpoolMemory = 8 << 20

// Encoding holds the thresholds Redis uses to choose between a compact
// encoding (listpack, ziplist, intset) and a big one (hashtable, skiplist,
// quicklist with several nodes). The names are redis.conf's; before Redis 7.0
// the listpack settings were called *-max-ziplist-*.
//
// The writer applies them to the whole value as a server that received the
// elements one by one, in the order given, would end up encoding it:
//
//   - hash: listpack/ziplist when it has at most HashMaxListpackEntries fields
//     and no field or value is longer than HashMaxListpackValue bytes;
//   - sorted set: likewise with the ZSet settings (member lengths only);
//   - set: intset when every member is an integer and there are at most
//     SetMaxIntsetEntries; else (version 11+) listpack within the
//     SetMaxListpack settings; else hashtable;
//   - list: quicklist nodes filled up to ListMaxListpackSize (negative: a
//     size class, -1 = 4 KiB ... -5 = 64 KiB; positive: entries per node),
//     with the node-insertion rules of the target's Redis release;
//   - stream: a new node when the last one reaches StreamNodeMaxBytes or
//     StreamNodeMaxEntries.
type Encoding struct {
	HashMaxListpackEntries int // hash-max-listpack-entries; default 512
	HashMaxListpackValue   int // hash-max-listpack-value; default 64
	ZSetMaxListpackEntries int // zset-max-listpack-entries; default 128
	ZSetMaxListpackValue   int // zset-max-listpack-value; default 64
	SetMaxIntsetEntries    int // set-max-intset-entries; default 512
	SetMaxListpackEntries  int // set-max-listpack-entries (version 11+); default 128
	SetMaxListpackValue    int // set-max-listpack-value (version 11+); default 64
	ListMaxListpackSize    int // list-max-listpack-size; default -2 (8 KiB nodes)
	StreamNodeMaxBytes     int // stream-node-max-bytes; default 4096 (0 = no limit)
	StreamNodeMaxEntries   int // stream-node-max-entries; default 100 (0 = no limit)

	// ListPackedThreshold is the element size from which a list element gets
	// a PLAIN quicklist node of its own (version 10+; Redis's packed_threshold,
	// DEBUG QUICKLIST-PACKED-THRESHOLD). 0 derives it from ListMaxListpackSize
	// as Redis 7.4+ and Valkey 8+ do (elements larger than the node limit,
	// 8 KiB by default); Redis 7.0 and 7.2 and Valkey 7.2 use 1 GiB.
	ListPackedThreshold int64
}

// DefaultEncoding returns the built-in defaults of the server that writes
// the given version (with valkey: Valkey 8+ for version 11, Valkey 9 for 80).
// They are the same for every release since Redis 3.2 except for the list
// PLAIN node threshold; the set listpack settings only matter from version 11.
func DefaultEncoding(version int, valkey bool) Encoding {
	e := Encoding{
		HashMaxListpackEntries: 512,
		HashMaxListpackValue:   64,
		ZSetMaxListpackEntries: 128,
		ZSetMaxListpackValue:   64,
		SetMaxIntsetEntries:    512,
		SetMaxListpackEntries:  128,
		SetMaxListpackValue:    64,
		ListMaxListpackSize:    -2,
		StreamNodeMaxBytes:     4096,
		StreamNodeMaxEntries:   100,
	}
	if version == 10 || (version == 11 && !valkey) {
		e.ListPackedThreshold = 1 << 30
	}
	return e
}

// Feature names something a target version may be unable to hold, for error
// messages and for Writer.Dropped.
type Feature uint8

// Features, in the order Dropped reports them.
const (
	FeatureFieldTTLs  Feature = iota + 1 // hash field TTLs (counted per field)
	FeatureFunctions                     // function libraries (per library)
	FeatureStreams                       // stream keys (per key)
	FeatureIDMP                          // stream idempotent-producer sections (per key)
	FeatureModules                       // module-typed keys (per key)
	FeatureModuleAux                     // module aux records (per record)
	FeatureKeyMeta                       // Redis 8.6 key metadata (per key)
	FeatureSlotInfo                      // cluster slot-info records (per record)
	FeatureSlotImport                    // Valkey slot-import records (per record)
	FeatureIdle                          // LRU idle times (per key; version 9+)
	FeatureFreq                          // LFU counters (per key; version 9+)
	featureCount
)

func (f Feature) String() string {
	names := [...]string{"", "field-ttls", "functions", "streams", "idmp", "modules", "module-aux",
		"key-meta", "slot-info", "slot-import", "idle", "freq"}
	if int(f) < len(names) && f != 0 {
		return names[f]
	}
	return fmt.Sprintf("feature(%d)", uint8(f))
}

// DropCount is how many items of one feature a Writer left out.
type DropCount struct {
	Feature Feature
	Count   uint64
}

// UnknownCount is the element count to give StartKey when the caller does
// not know it yet (a value being copied from a Reader element by element).
// The writer then spools what it cannot write before the count is known.
const UnknownCount = ^uint64(0)

// Errors returned by a Writer (wrapped in a *WriteError).
var (
	// ErrInvalidValue is returned for input no server could hold: an empty
	// collection, a NaN score, stream entries out of order, elements that do
	// not match the key's kind, fewer or more elements than announced.
	ErrInvalidValue = errclass.New(errclass.ErrInvalid, "invalid value")
	// ErrDuplicate is returned for a set member, sorted-set member or hash
	// field that appears twice in one value (Redis refuses such a file).
	ErrDuplicate = errclass.New(errclass.ErrInvalid, "duplicate element")
	// ErrWriterState is returned when calls come in the wrong order: WriteElem
	// outside a key, Close inside one, anything after Close.
	ErrWriterState = errors.New("writer used out of order")
)

// WriteError reports why a record could not be written. Err is one of the
// sentinels above, an *UnsupportedError (the target version cannot hold the
// feature and no drop flag allows leaving it out), or an I/O error.
type WriteError struct {
	Key    []byte // key being written, nil for other records
	Op     string // what was being written ("hash field", "stream entry", ...)
	Err    error
	Detail string
}

func (e *WriteError) Error() string {
	s := "rdb writer"
	if e.Key != nil {
		s += " (key " + QuoteBytes(e.Key) + ")"
	}
	s += ": "
	if e.Op != "" {
		s += e.Op + ": "
	}
	s += e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *WriteError) Unwrap() error { return e.Err }

// validate checks the options and returns the effective encoding.
func (o *WriterOptions) validate() (Encoding, error) {
	switch {
	case o.Valkey && o.Version != 11 && o.Version != 80:
		return Encoding{}, fmt.Errorf("rdb writer: Valkey writes RDB version 11 (7.2-8.1) or 80 (9.x), not %d", o.Version)
	case !o.Valkey && o.Version == 80:
		return Encoding{}, errors.New("rdb writer: version 80 is Valkey's (set Valkey)")
	case o.Version != 80 && (o.Version < 7 || o.Version > 13):
		return Encoding{}, errors.New("rdb writer: RDB version " + strconv.Itoa(o.Version) + " is not a write target (7..13, or 80 with Valkey)")
	}
	enc := DefaultEncoding(o.Version, o.Valkey)
	if o.Encoding != nil {
		enc = *o.Encoding
	}
	for _, v := range []int{enc.HashMaxListpackEntries, enc.HashMaxListpackValue, enc.ZSetMaxListpackEntries,
		enc.ZSetMaxListpackValue, enc.SetMaxIntsetEntries, enc.SetMaxListpackEntries, enc.SetMaxListpackValue,
		enc.StreamNodeMaxBytes, enc.StreamNodeMaxEntries} {
		if v < 0 {
			return Encoding{}, errors.New("rdb writer: negative encoding threshold")
		}
	}
	if enc.ListPackedThreshold < 0 {
		return Encoding{}, errors.New("rdb writer: negative ListPackedThreshold")
	}
	return enc, nil
}
