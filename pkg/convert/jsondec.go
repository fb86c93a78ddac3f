package convert

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// JSONRecord is one line of rdbtool's JSON form, decoded: the header line, a
// non-key record (Entry set, Value nil) or a key (Entry and Value set).
type JSONRecord struct {
	Line   int // 1-based line number, for messages
	Header *rdb.Header
	Entry  *rdb.Entry
	Value  *rdb.Value
}

// JSONReader decodes the output of DumpJSON (JSON Lines, or the --format json
// array) back into entries and values.
type JSONReader struct {
	sc     *bufio.Scanner
	line   int
	array  bool
	first  bool
	header bool // the header line was read
}

// NewJSONReader reads JSON Lines or a JSON array written by DumpJSON. Lines may
// be up to maxLine bytes (a key's whole value is one line).
func NewJSONReader(r io.Reader, maxLine int) *JSONReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), maxLine)
	return &JSONReader{sc: sc, first: true}
}

// JSONError locates a problem in JSON input.
type JSONError struct {
	Line int
	Msg  string
	Err  error // the reading error (I/O, interrupt, bufio.ErrTooLong) when the input could not be read; nil when a line is invalid
}

func (e *JSONError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Msg }

// Unwrap returns the reading error, or else puts the error in the
// invalid-input class (errclass.ErrInvalid).
func (e *JSONError) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	return errclass.ErrInvalid
}

// Next returns the next record, or io.EOF.
func (jr *JSONReader) Next() (*JSONRecord, error) {
	for jr.sc.Scan() {
		jr.line++
		text := bytes.TrimSpace(jr.sc.Bytes())
		if jr.first && len(text) > 0 && text[0] == '[' {
			jr.array = true
			text = bytes.TrimSpace(text[1:])
		}
		jr.first = false
		if jr.array {
			text = bytes.TrimSuffix(text, []byte(","))
			text = bytes.TrimSpace(bytes.TrimSuffix(text, []byte("]")))
		}
		if len(text) == 0 {
			continue
		}
		if err := checkJSONText(text); err != nil {
			return nil, &JSONError{Line: jr.line, Msg: err.Error()}
		}
		rec, err := decodeLine(text)
		if err == nil {
			err = jr.checkHeader(rec)
		}
		if err != nil {
			if rerr := jr.sc.Err(); rerr != nil {
				// The line was cut short by a failed read (an interrupt, a
				// compressed stream that ends early): report that.
				return nil, &JSONError{Line: jr.line, Msg: rerr.Error(), Err: rerr}
			}
			return nil, &JSONError{Line: jr.line, Msg: err.Error()}
		}
		rec.Line = jr.line
		return rec, nil
	}
	if err := jr.sc.Err(); err != nil {
		return nil, &JSONError{Line: jr.line + 1, Msg: err.Error(), Err: err}
	}
	if !jr.header {
		return nil, &JSONError{Line: jr.line + 1, Msg: "no lines: " + headerPromise}
	}
	return nil, io.EOF
}

// headerPromise is what docs/json.md promises of the first line.
const headerPromise = `the first line names the format, e.g. {"magic":"REDIS","rdb_version":10} (docs/json.md)`

// checkHeader enforces the header line: first, once, and naming a format
// that exists.
func (jr *JSONReader) checkHeader(rec *JSONRecord) error {
	if rec.Header == nil {
		if !jr.header {
			return fmt.Errorf("not a header line: %s", headerPromise)
		}
		return nil
	}
	if jr.header {
		return fmt.Errorf("a second header line")
	}
	jr.header = true
	h := rec.Header
	switch {
	case h.Magic == "REDIS" && h.Version >= 1 && h.Version <= maxRDBVersion:
	case h.Magic == "VALKEY" && h.Version == 80:
	default:
		return fmt.Errorf("header names no RDB format rdbtool knows: magic %q, rdb_version %d (REDIS 1-%d, or VALKEY 80)", h.Magic, h.Version, maxRDBVersion)
	}
	return nil
}

// maxRDBVersion is the newest RDB version (Redis 8.6's).
const maxRDBVersion = 13

// jsonLine has every member any line may carry.
type jsonLine struct {
	Magic      *string         `json:"magic"`
	RDBVersion *int            `json:"rdb_version"`
	Aux        json.RawMessage `json:"aux"`
	Function   json.RawMessage `json:"function"`
	ModuleAux  *jsonModule     `json:"module_aux"`
	SlotInfo   *struct {
		Slot        uint64 `json:"slot"`
		Size        uint64 `json:"size"`
		ExpiresSize uint64 `json:"expires_size"`
	} `json:"slot_info"`
	SlotImport *struct {
		Job    json.RawMessage `json:"job"`
		Ranges [][2]uint64     `json:"ranges"`
	} `json:"slot_import"`
	DB              *int            `json:"db"`
	Key             json.RawMessage `json:"key"`
	Type            string          `json:"type"`
	ExpireAtMs      *int64          `json:"expire_at_ms"`
	IdleS           *uint64         `json:"idle_s"`
	Freq            *uint8          `json:"freq"`
	KeyMeta         json.RawMessage `json:"key_meta"`
	Value           json.RawMessage `json:"value"`
	FieldExpireAtMs json.RawMessage `json:"field_expire_at_ms"`
}

type jsonModule struct {
	Name   string          `json:"name"`
	ID     uint64          `json:"id"`
	EncVer int             `json:"encver"`
	When   int             `json:"when"`
	Raw    json.RawMessage `json:"raw"`
}

func (m *jsonModule) value() (*rdb.ModuleValue, error) {
	raw, err := decodeBytes(m.Raw)
	if err != nil {
		return nil, fmt.Errorf("module raw bytes: %w", err)
	}
	if rdb.ModuleName(m.ID) != m.Name {
		return nil, fmt.Errorf("module id %d is %q, not %q", m.ID, rdb.ModuleName(m.ID), m.Name)
	}
	return &rdb.ModuleValue{ID: m.ID, Name: m.Name, EncVer: m.EncVer, When: m.When, Raw: raw}, nil
}

func decodeLine(text []byte) (*JSONRecord, error) {
	var l jsonLine
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, err
	}
	rec := &JSONRecord{}
	var err error
	switch {
	case l.Magic != nil:
		if l.RDBVersion == nil {
			return nil, fmt.Errorf("header line without rdb_version")
		}
		rec.Header = &rdb.Header{Magic: *l.Magic, Version: *l.RDBVersion}
	case l.Aux != nil:
		e := &rdb.Entry{Kind: rdb.EntryAux}
		if e.AuxName, err = decodeBytes(l.Aux); err != nil {
			return nil, fmt.Errorf("aux name: %w", err)
		}
		if e.AuxValue, err = decodeBytes(l.Value); err != nil {
			return nil, fmt.Errorf("aux value: %w", err)
		}
		rec.Entry = e
	case l.Function != nil:
		e := &rdb.Entry{Kind: rdb.EntryFunction}
		if e.Function, err = decodeBytes(l.Function); err != nil {
			return nil, fmt.Errorf("function: %w", err)
		}
		rec.Entry = e
	case l.ModuleAux != nil:
		m, err := l.ModuleAux.value()
		if err != nil {
			return nil, err
		}
		rec.Entry = &rdb.Entry{Kind: rdb.EntryModuleAux, Module: m}
	case l.SlotInfo != nil:
		rec.Entry = &rdb.Entry{Kind: rdb.EntrySlotInfo, Slot: l.SlotInfo.Slot, SlotSize: l.SlotInfo.Size, SlotExpiresSize: l.SlotInfo.ExpiresSize}
	case l.SlotImport != nil:
		job, err := decodeBytes(l.SlotImport.Job)
		if err != nil {
			return nil, fmt.Errorf("slot import job: %w", err)
		}
		rec.Entry = &rdb.Entry{Kind: rdb.EntrySlotImport, SlotImport: &rdb.SlotImport{JobName: job, Ranges: l.SlotImport.Ranges}}
	case l.Key != nil:
		return decodeKey(&l)
	default:
		return nil, fmt.Errorf("not a line rdbtool writes (no magic, aux, function, module_aux, slot_info, slot_import or key member)")
	}
	return rec, nil
}

func decodeKey(l *jsonLine) (*JSONRecord, error) {
	e := &rdb.Entry{Kind: rdb.EntryKey}
	var err error
	if l.DB == nil || *l.DB < 0 || *l.DB > math.MaxInt32 {
		return nil, fmt.Errorf("key line without a valid db (0 to %d)", math.MaxInt32)
	}
	e.DB = *l.DB
	if e.Key, err = decodeBytes(l.Key); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if l.ExpireAtMs != nil {
		e.ExpireAtMs, e.HasExpire = *l.ExpireAtMs, true
	}
	if l.IdleS != nil {
		e.IdleSeconds, e.HasIdle = *l.IdleS, true
	}
	if l.Freq != nil {
		e.Freq, e.HasFreq = *l.Freq, true
	}
	if l.KeyMeta != nil {
		if e.KeyMeta, err = decodeBytes(l.KeyMeta); err != nil {
			return nil, fmt.Errorf("key_meta: %w", err)
		}
	}
	kind, err := ParseKind(l.Type)
	if err != nil {
		return nil, err
	}
	v := &rdb.Value{Kind: kind}
	if l.Value == nil {
		return nil, fmt.Errorf("key %q: no value", e.Key)
	}
	switch kind {
	case rdb.KindString:
		v.String, err = decodeBytes(l.Value)
		e.Type = rdb.TypeString
	case rdb.KindList:
		v.List, err = decodeBytesArray(l.Value)
		e.Type = rdb.TypeListQuicklist2
	case rdb.KindSet:
		v.Set, err = decodeBytesArray(l.Value)
		e.Type = rdb.TypeSet
	case rdb.KindZSet:
		v.ZSet, err = decodeZSet(l.Value)
		e.Type = rdb.TypeZSet2
	case rdb.KindHash:
		v.Hash, err = decodeHash(l.Value, l.FieldExpireAtMs)
		e.Type = rdb.TypeHash
	case rdb.KindStream:
		v.Stream, err = decodeStream(l.Value)
		e.Type = rdb.TypeStreamListpacks3
	case rdb.KindModule:
		var m jsonModule
		if err = json.Unmarshal(l.Value, &m); err == nil {
			v.Module, err = m.value()
		}
		e.Type = rdb.TypeModule2
	}
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", e.Key, err)
	}
	v.Encoded = e.Type
	return &JSONRecord{Entry: e, Value: v}, nil
}

// decodeBytes reads a byte string: a JSON string, or {"base64":"..."}.
func decodeBytes(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing byte string")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	}
	var b struct {
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Base64 == nil {
		return nil, fmt.Errorf("a byte string is a JSON string or {\"base64\":...}, found %.40s", raw)
	}
	return base64.StdEncoding.DecodeString(*b.Base64)
}

func decodeBytesArray(raw json.RawMessage) ([][]byte, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		b, err := decodeBytes(it)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func decodeScore(raw json.RawMessage) (float64, error) {
	s := strings.TrimSpace(string(raw))
	switch s {
	case `"inf"`:
		return math.Inf(1), nil
	case `"-inf"`:
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("bad score %s", s)
	}
	return f, nil
}

func decodeZSet(raw json.RawMessage) ([]rdb.ZMember, error) {
	var items [][2]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]rdb.ZMember, len(items))
	for i, it := range items {
		m, err := decodeBytes(it[0])
		if err != nil {
			return nil, err
		}
		sc, err := decodeScore(it[1])
		if err != nil {
			return nil, err
		}
		out[i] = rdb.ZMember{Member: m, Score: sc}
	}
	return out, nil
}

// decodeHash reads the object form (field order kept) or the pairs form.
func decodeHash(raw, ttls json.RawMessage) ([]rdb.HashField, error) {
	fields, err := decodePairs(raw, decodeBytes)
	if err != nil {
		return nil, err
	}
	out := make([]rdb.HashField, len(fields))
	index := make(map[string]int, len(fields))
	for i, f := range fields {
		out[i] = rdb.HashField{Field: f.key, Value: f.val}
		index[string(f.key)] = i
	}
	if ttls == nil {
		return out, nil
	}
	exps, err := decodePairs(ttls, func(r json.RawMessage) ([]byte, error) { return []byte(strings.TrimSpace(string(r))), nil })
	if err != nil {
		return nil, fmt.Errorf("field_expire_at_ms: %w", err)
	}
	for _, x := range exps {
		i, ok := index[string(x.key)]
		if !ok {
			return nil, fmt.Errorf("field_expire_at_ms names a field the hash does not have: %q", x.key)
		}
		ms, err := strconv.ParseInt(string(x.val), 10, 64)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("field_expire_at_ms: bad time %s", x.val)
		}
		out[i].ExpireAtMs = ms
	}
	return out, nil
}

type pair struct{ key, val []byte }

// decodePairs reads {"k":v,...} keeping member order, or [[k,v],...].
func decodePairs(raw json.RawMessage, val func(json.RawMessage) ([]byte, error)) ([]pair, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var items [][2]json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
		out := make([]pair, len(items))
		for i, it := range items {
			k, err := decodeBytes(it[0])
			if err != nil {
				return nil, err
			}
			v, err := val(it[1])
			if err != nil {
				return nil, err
			}
			out[i] = pair{k, v}
		}
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("expected an object or an array of pairs")
	}
	var out []pair
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		b, err := val(v)
		if err != nil {
			return nil, err
		}
		out = append(out, pair{[]byte(k), b})
	}
	return out, nil
}

type jsonStream struct {
	Entries      [][2]json.RawMessage `json:"entries"`
	Length       uint64               `json:"length"`
	LastID       string               `json:"last_id"`
	FirstID      string               `json:"first_id"`
	MaxDeletedID string               `json:"max_deleted_id"`
	EntriesAdded uint64               `json:"entries_added"`
	Groups       []struct {
		Name          json.RawMessage `json:"name"`
		LastDelivered string          `json:"last_delivered"`
		EntriesRead   *int64          `json:"entries_read"`
		Consumers     []struct {
			Name         json.RawMessage `json:"name"`
			SeenTimeMs   int64           `json:"seen_time_ms"`
			ActiveTimeMs int64           `json:"active_time_ms"`
			PEL          []string        `json:"pel"`
		} `json:"consumers"`
		PEL [][4]json.RawMessage `json:"pel"`
	} `json:"groups"`
	IDMPEntries []struct {
		Producer json.RawMessage `json:"producer"`
		IID      json.RawMessage `json:"iid"`
		ID       string          `json:"id"`
	} `json:"idmp_entries"`
	IDMP *struct {
		DurationS      uint64 `json:"duration_s"`
		MaxEntries     uint64 `json:"max_entries"`
		IIDsAdded      uint64 `json:"iids_added"`
		IIDsDuplicates uint64 `json:"iids_duplicates"`
	} `json:"idmp"`
}

// ParseStreamID parses "ms-seq".
func ParseStreamID(s string) (rdb.StreamID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return rdb.StreamID{}, fmt.Errorf("bad stream ID %q", s)
	}
	return rdb.StreamID{Ms: a, Seq: b}, nil
}

func decodeStream(raw json.RawMessage) (*rdb.Stream, error) {
	var js jsonStream
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		return nil, err
	}
	st := &rdb.Stream{}
	var err error
	ids := []struct {
		dst *rdb.StreamID
		src string
	}{{&st.LastID, js.LastID}, {&st.FirstID, js.FirstID}, {&st.MaxDeletedID, js.MaxDeletedID}}
	for _, x := range ids {
		if *x.dst, err = ParseStreamID(x.src); err != nil {
			return nil, err
		}
	}
	if js.Length != uint64(len(js.Entries)) {
		return nil, fmt.Errorf("stream length %d, but %d entries", js.Length, len(js.Entries))
	}
	st.Length, st.EntriesAdded, st.GroupCount = js.Length, js.EntriesAdded, uint64(len(js.Groups))
	for _, e := range js.Entries {
		var idText string
		if err := json.Unmarshal(e[0], &idText); err != nil {
			return nil, err
		}
		id, err := ParseStreamID(idText)
		if err != nil {
			return nil, err
		}
		fields, err := decodeBytesArray(e[1])
		if err != nil {
			return nil, err
		}
		if len(fields) == 0 || len(fields)%2 != 0 {
			return nil, fmt.Errorf("stream entry %s: fields must come in field/value pairs", idText)
		}
		st.Entries = append(st.Entries, rdb.StreamEntry{ID: id, Fields: fields})
	}
	for _, g := range js.Groups {
		sg := rdb.StreamGroup{EntriesRead: -1}
		if sg.Name, err = decodeBytes(g.Name); err != nil {
			return nil, err
		}
		if sg.LastDelivered, err = ParseStreamID(g.LastDelivered); err != nil {
			return nil, err
		}
		if g.EntriesRead != nil {
			sg.EntriesRead = *g.EntriesRead
		}
		for _, c := range g.Consumers {
			sc := rdb.StreamConsumer{SeenTimeMs: c.SeenTimeMs, ActiveTimeMs: c.ActiveTimeMs}
			if sc.Name, err = decodeBytes(c.Name); err != nil {
				return nil, err
			}
			for _, p := range c.PEL {
				id, err := ParseStreamID(p)
				if err != nil {
					return nil, err
				}
				sc.PEL = append(sc.PEL, id)
			}
			sg.Consumers = append(sg.Consumers, sc)
		}
		for _, p := range g.PEL {
			var idText string
			if err := json.Unmarshal(p[0], &idText); err != nil {
				return nil, err
			}
			sp := rdb.StreamPending{}
			if sp.ID, err = ParseStreamID(idText); err != nil {
				return nil, err
			}
			if string(p[1]) != "null" {
				if sp.Consumer, err = decodeBytes(p[1]); err != nil {
					return nil, err
				}
			}
			if err := json.Unmarshal(p[2], &sp.DeliveryTimeMs); err != nil {
				return nil, err
			}
			if err := json.Unmarshal(p[3], &sp.DeliveryCount); err != nil {
				return nil, err
			}
			sg.PEL = append(sg.PEL, sp)
		}
		if err := checkPELOwners(&sg); err != nil {
			return nil, err
		}
		st.Groups = append(st.Groups, sg)
	}
	if js.IDMP != nil {
		st.IDMP = &rdb.StreamIDMPSection{StreamIDMP: rdb.StreamIDMP{
			DurationSeconds: js.IDMP.DurationS, MaxEntries: js.IDMP.MaxEntries,
			Producers: 0, IIDsAdded: js.IDMP.IIDsAdded, IIDsDuplicates: js.IDMP.IIDsDuplicates}}
		producers := map[string]bool{}
		for _, x := range js.IDMPEntries {
			e := rdb.StreamIDMPEntry{}
			if e.Producer, err = decodeBytes(x.Producer); err != nil {
				return nil, err
			}
			if e.IID, err = decodeBytes(x.IID); err != nil {
				return nil, err
			}
			if e.ID, err = ParseStreamID(x.ID); err != nil {
				return nil, err
			}
			if !producers[string(e.Producer)] {
				producers[string(e.Producer)] = true
				st.IDMP.Producers++
			}
			st.IDMP.Entries = append(st.IDMP.Entries, e)
		}
	}
	return st, nil
}

// checkPELOwners refuses a group whose two accounts of who owns a pending
// entry disagree: the group's "pel" names each entry's consumer, and each
// consumer lists its own entries. An RDB holds only the second (the writer
// uses it), so a contradiction would be settled silently.
func checkPELOwners(g *rdb.StreamGroup) error {
	owner := make(map[rdb.StreamID][]byte, len(g.PEL))
	for _, p := range g.PEL {
		owner[p.ID] = p.Consumer
	}
	listed := 0
	for _, c := range g.Consumers {
		for _, id := range c.PEL {
			o, ok := owner[id]
			if !ok {
				continue // not in the group PEL: the writer says so
			}
			if o == nil || !bytes.Equal(o, c.Name) {
				return fmt.Errorf("stream group %s: consumer %s lists pending entry %s, which the group's pel gives to %s",
					rdb.QuoteBytes(g.Name), rdb.QuoteBytes(c.Name), id, ownerText(o))
			}
			listed++
		}
	}
	if listed != len(g.PEL) {
		for _, p := range g.PEL {
			found := false
			for _, c := range g.Consumers {
				if p.Consumer != nil && bytes.Equal(c.Name, p.Consumer) {
					found = slices.Contains(c.PEL, p.ID)
					break
				}
			}
			if !found {
				return fmt.Errorf("stream group %s: pending entry %s belongs to %s, but no consumer lists it (every pending entry has one owner)",
					rdb.QuoteBytes(g.Name), p.ID, ownerText(p.Consumer))
			}
		}
	}
	return nil
}

func ownerText(name []byte) string {
	if name == nil {
		return "no consumer"
	}
	return "consumer " + rdb.QuoteBytes(name)
}
