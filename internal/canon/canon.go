package canon

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rdbtool/rdbtool/internal/persist"
)

// EncodeBytes renders a byte string as the format's ENC: "s:"+b when b is valid
// UTF-8, else "x:"+lowercase hex.
func EncodeBytes(b []byte) string {
	if utf8.Valid(b) {
		return "s:" + string(b)
	}
	return "x:" + hex.EncodeToString(b)
}

// DecodeBytes reverses EncodeBytes.
func DecodeBytes(enc string) ([]byte, error) {
	switch {
	case strings.HasPrefix(enc, "s:"):
		return []byte(enc[2:]), nil
	case strings.HasPrefix(enc, "x:"):
		return hex.DecodeString(enc[2:])
	}
	return nil, fmt.Errorf("canon: %q is neither s: nor x: encoded", enc)
}

// FormatScore renders a zset score: the shortest decimal that parses back to f
// (strconv 'g', -1: "1.5", "-3e+300", "0", "-0"), or "inf" / "-inf". The line
// carries it as a JSON string, as the corpus does, so infinities need no special
// case. NaN, which Redis refuses to store, renders as "nan".
func FormatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// ParseScore parses a score as Redis prints it ("1.5", "-3.0000000000000001e+300",
// "inf", "-inf", "+inf").
func ParseScore(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("canon: bad score %q: %w", s, err)
	}
	return f, nil
}

// Type names, as the TYPE command prints them.
const (
	TypeString = "string"
	TypeList   = "list"
	TypeSet    = "set"
	TypeZSet   = "zset"
	TypeHash   = "hash"
	TypeStream = "stream"
)

// Line is one canonical line: a Key or the Functions line.
type Line interface {
	isLine()
}

// Key is the line of one key. Marshalled, its members come in the order
// db, key, type, expire_at_ms, value, field_expire_at_ms.
type Key struct {
	DB   int    `json:"db"`
	Key  Bytes  `json:"key"`
	Type string `json:"type"` // TYPE's answer; NewKey fills it from Value
	// ExpireAtMs is the absolute Unix time of the key's TTL in ms; 0 means no
	// TTL and omits the member (a live key never expires at the epoch).
	ExpireAtMs int64 `json:"expire_at_ms,omitempty"`
	Value      Value `json:"value"`
	// FieldExpireAtMs holds the hash fields that have a TTL, keyed by the raw
	// field bytes (string(field)); empty omits the member.
	FieldExpireAtMs FieldTTLs `json:"field_expire_at_ms,omitempty"`
}

func (Key) isLine() {}

// NewKey returns the line of a key, its Type taken from v.
func NewKey(db int, key []byte, expireAtMs int64, v Value) Key {
	return Key{DB: db, Key: key, Type: v.Type(), ExpireAtMs: expireAtMs, Value: v}
}

// Functions is the line of the function libraries: each library's code
// (FUNCTION LIST WITHCODE's library_code, an RDB FUNCTION2 payload), sorted by
// its encoding.
type Functions struct {
	Libraries Set `json:"functions"`
}

func (Functions) isLine() {}

// Marshal returns the canonical line of l (without a newline).
func Marshal(l Line) string {
	b, err := json.Marshal(l)
	if err != nil {
		// Every type in this package marshals without error; only a foreign
		// Value implementation could get here, and Value is sealed.
		panic("canon: " + err.Error())
	}
	return string(b)
}

// Value is the value of a key: Bytes, List, Set, ZSet, Hash or *Stream.
type Value interface {
	json.Marshaler
	// Type is the name TYPE prints for a key holding this value.
	Type() string
	isValue()
}

// Bytes is a byte string; it marshals as ENC.
type Bytes []byte

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) { return json.Marshal(EncodeBytes(b)) }

// Type implements Value.
func (Bytes) Type() string { return TypeString }
func (Bytes) isValue()     {}

// List is a list's elements, head to tail.
type List [][]byte

// MarshalJSON implements json.Marshaler.
func (l List) MarshalJSON() ([]byte, error) { return marshalEncoded(l, false) }

// Type implements Value.
func (List) Type() string { return TypeList }
func (List) isValue()     {}

// Set is a set's members in any order; it marshals them sorted by ENC.
type Set [][]byte

// MarshalJSON implements json.Marshaler.
func (s Set) MarshalJSON() ([]byte, error) { return marshalEncoded(s, true) }

// Type implements Value.
func (Set) Type() string { return TypeSet }
func (Set) isValue()     {}

func marshalEncoded(elems [][]byte, sorted bool) ([]byte, error) {
	if len(elems) == 0 {
		return []byte("null"), nil
	}
	enc := make([]string, len(elems))
	for i, e := range elems {
		enc[i] = EncodeBytes(e)
	}
	if sorted {
		slices.Sort(enc)
	}
	return json.Marshal(enc)
}

// ZMember is a zset member and its score.
type ZMember struct {
	Member []byte
	Score  float64
}

// ZSet is a zset's members in any order; it marshals them in ZRANGE order
// (score, then member bytes) as [[ENC, SCORE], ...].
type ZSet []ZMember

// MarshalJSON implements json.Marshaler.
func (z ZSet) MarshalJSON() ([]byte, error) {
	if len(z) == 0 {
		return []byte("null"), nil
	}
	if !slices.IsSortedFunc(z, compareZMember) {
		z = slices.Clone(z)
		slices.SortStableFunc(z, compareZMember)
	}
	out := make([][2]string, len(z))
	for i, m := range z {
		out[i] = [2]string{EncodeBytes(m.Member), FormatScore(m.Score)}
	}
	return json.Marshal(out)
}

// compareZMember is Redis's zset order: score, then memcmp of the members.
// 0 and -0 compare equal, as they do in Redis.
func compareZMember(a, b ZMember) int {
	return persist.CompareZ(a.Score, a.Member, b.Score, b.Member)
}

// Type implements Value.
func (ZSet) Type() string { return TypeZSet }
func (ZSet) isValue()     {}

// HashField is one field of a hash.
type HashField struct {
	Field, Value []byte
}

// Hash is a hash's fields in any order; it marshals them sorted by the encoded
// field as [[ENC field, ENC value], ...].
type Hash []HashField

// MarshalJSON implements json.Marshaler.
func (h Hash) MarshalJSON() ([]byte, error) {
	if len(h) == 0 {
		return []byte("null"), nil
	}
	out := make([][2]string, len(h))
	for i, f := range h {
		out[i] = [2]string{EncodeBytes(f.Field), EncodeBytes(f.Value)}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return json.Marshal(out)
}

// Type implements Value.
func (Hash) Type() string { return TypeHash }
func (Hash) isValue()     {}

// FieldTTLs maps a hash field (raw bytes as a string) to the absolute Unix ms of
// its TTL. It marshals as {ENC field: ms, ...} sorted by ENC.
type FieldTTLs map[string]int64

// MarshalJSON implements json.Marshaler.
func (m FieldTTLs) MarshalJSON() ([]byte, error) {
	if len(m) == 0 {
		return []byte("null"), nil
	}
	enc := make(map[string]int64, len(m))
	for f, ms := range m {
		enc[EncodeBytes([]byte(f))] = ms
	}
	return json.Marshal(enc) // encoding/json sorts map keys
}

// StreamID is a stream entry ID; it marshals as "ms-seq".
type StreamID struct {
	Ms, Seq uint64
}

func (id StreamID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// Compare orders IDs as Redis does.
func (id StreamID) Compare(o StreamID) int {
	if c := cmpUint(id.Ms, o.Ms); c != 0 {
		return c
	}
	return cmpUint(id.Seq, o.Seq)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MarshalJSON implements json.Marshaler.
func (id StreamID) MarshalJSON() ([]byte, error) { return json.Marshal(id.String()) }

// ParseStreamID parses "ms-seq" (a bare "ms" means seq 0).
func ParseStreamID(s string) (StreamID, error) {
	ms, seq, found := strings.Cut(s, "-")
	var id StreamID
	var err error
	if id.Ms, err = strconv.ParseUint(ms, 10, 64); err != nil {
		return StreamID{}, fmt.Errorf("canon: bad stream ID %q", s)
	}
	if found {
		if id.Seq, err = strconv.ParseUint(seq, 10, 64); err != nil {
			return StreamID{}, fmt.Errorf("canon: bad stream ID %q", s)
		}
	}
	return id, nil
}

// StreamEntry is one stream entry: its ID and field, value, field, value, ...
// It marshals as [ID, [ENC, ...]].
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte
}

// MarshalJSON implements json.Marshaler.
func (e StreamEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{e.ID, List(e.Fields)})
}

// Stream is a stream with its consumer groups. It marshals as
//
//	{"entries":[[ID,[ENC,...]],...],"entries_added":N,"groups":[G,...],
//	 "last_id":ID,"length":N,"max_deleted_entry_id":ID}
//
// with entries in ID order and groups sorted by encoded name.
type Stream struct {
	Entries           []StreamEntry
	EntriesAdded      uint64
	Groups            []StreamGroup
	LastID            StreamID
	Length            uint64
	MaxDeletedEntryID StreamID
}

// StreamGroup is a consumer group. It marshals as
//
//	{"consumers":[C,...],"entries_read":N|null,"last_delivered":ID,"name":ENC,
//	 "pel":[[ID,ENC consumer,delivery_time_ms,delivery_count],...]}
//
// with consumers sorted by encoded name and the PEL in ID order.
type StreamGroup struct {
	Name          []byte
	Consumers     []StreamConsumer
	EntriesRead   int64 // negative: unknown, marshalled as null (Redis's SCG_INVALID_ENTRIES_READ is -1)
	LastDelivered StreamID
	PEL           []PendingEntry
}

// PendingEntry is an entry of a group's PEL.
type PendingEntry struct {
	ID             StreamID
	Consumer       []byte
	DeliveryTimeMs int64
	DeliveryCount  uint64
}

// MarshalJSON implements json.Marshaler.
func (p PendingEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal([4]any{p.ID, Bytes(p.Consumer), p.DeliveryTimeMs, p.DeliveryCount})
}

// StreamConsumer is a consumer of a group. It marshals as
// {"name":ENC,"pel":[ID,...],"seen_time":MS}, the PEL in ID order; seen_time is
// left out when SeenTimeMs is nil (the non-strict form: an AOF does not keep it).
type StreamConsumer struct {
	Name       []byte
	PEL        []StreamID
	SeenTimeMs *int64
}

// Type implements Value.
func (*Stream) Type() string { return TypeStream }
func (*Stream) isValue()     {}

type streamJSON struct {
	Entries           []StreamEntry `json:"entries"`
	EntriesAdded      uint64        `json:"entries_added"`
	Groups            []groupJSON   `json:"groups"`
	LastID            StreamID      `json:"last_id"`
	Length            uint64        `json:"length"`
	MaxDeletedEntryID StreamID      `json:"max_deleted_entry_id"`
}

type groupJSON struct {
	Consumers     []consumerJSON `json:"consumers"`
	EntriesRead   *int64         `json:"entries_read"`
	LastDelivered StreamID       `json:"last_delivered"`
	Name          Bytes          `json:"name"`
	PEL           []PendingEntry `json:"pel"`
}

type consumerJSON struct {
	Name     Bytes      `json:"name"`
	PEL      []StreamID `json:"pel"`
	SeenTime *int64     `json:"seen_time,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (s *Stream) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	j := streamJSON{
		Entries:           sortedBy(s.Entries, func(a, b StreamEntry) int { return a.ID.Compare(b.ID) }),
		EntriesAdded:      s.EntriesAdded,
		LastID:            s.LastID,
		Length:            s.Length,
		MaxDeletedEntryID: s.MaxDeletedEntryID,
	}
	for _, g := range s.Groups {
		gj := groupJSON{
			LastDelivered: g.LastDelivered,
			Name:          g.Name,
			PEL:           sortedBy(g.PEL, func(a, b PendingEntry) int { return a.ID.Compare(b.ID) }),
		}
		if g.EntriesRead >= 0 {
			n := g.EntriesRead
			gj.EntriesRead = &n
		}
		for _, c := range g.Consumers {
			gj.Consumers = append(gj.Consumers, consumerJSON{
				Name:     c.Name,
				PEL:      sortedBy(c.PEL, StreamID.Compare),
				SeenTime: c.SeenTimeMs,
			})
		}
		slices.SortFunc(gj.Consumers, func(a, b consumerJSON) int {
			return strings.Compare(EncodeBytes(a.Name), EncodeBytes(b.Name))
		})
		j.Groups = append(j.Groups, gj)
	}
	slices.SortFunc(j.Groups, func(a, b groupJSON) int {
		return strings.Compare(EncodeBytes(a.Name), EncodeBytes(b.Name))
	})
	return json.Marshal(j)
}

// sortedBy returns s in cmp order, nil when empty (so it marshals as null), and
// copies only when s is out of order.
func sortedBy[T any](s []T, cmp func(a, b T) int) []T {
	if len(s) == 0 {
		return nil
	}
	if slices.IsSortedFunc(s, cmp) {
		return s
	}
	s = slices.Clone(s)
	slices.SortStableFunc(s, cmp)
	return s
}
