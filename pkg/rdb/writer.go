package rdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/rdbtool/rdbtool/internal/persist"
)

// Writer writes an RDB file record by record, mirroring Reader: WriteEntry
// takes the non-key entries Next returns, WriteKey a key with its whole value,
// and StartKey / WriteElem / EndKey a key element by element, in the order
// NextElem delivers them. Reading a file and writing every entry and value
// back gives a file that reads back the same; writing the same input twice
// gives the same bytes.
//
// The on-disk type of each value is chosen as the target server would choose
// it (see Encoding and docs/versions.md), whatever type it was read from.
// Records the target cannot hold are errors unless a drop flag of
// WriterOptions allows leaving them out; Dropped counts what was left out.
//
//	w := rdb.NewWriter(f, opts) // opts from TargetVersion("redis:7.0"), say
//	for each record e read from r:
//		if e.Kind != rdb.EntryKey { w.WriteEntry(e); continue }
//		w.StartKey(e, e.Type.Kind(), rdb.UnknownCount)
//		for each element el from r.NextElem() { w.WriteElem(el) }
//		w.EndKey()
//	w.Close() // EOF opcode and CRC-64; f stays open
//
// Memory is bounded by the largest element, one compact value (a value
// small enough for a listpack, ziplist or intset is buffered until its
// encoding is known, so at most the Encoding thresholds), one quicklist or
// stream node, and WriterOptions.SpoolMemory: what must wait for a count that
// precedes it on disk (quicklist and stream nodes, a group's consumers, a big
// value given with UnknownCount, a big hash whose type depends on field TTLs
// still to come) spills to a temporary file beyond that. The duplicate check
// keeps 16 bytes per element of a big value unless NoDuplicateCheck is set,
// and a stream group's PEL IDs (up to 2^18) are kept to check its consumers.
// A Writer is not safe for concurrent use; errors are sticky. Duplicate keys
// are not detected (that would take memory in proportion to the file).
type Writer struct {
	opts WriterOptions
	enc  Encoding
	out  output
	str  strEncoder
	err  error

	started bool           // magic written
	auxDone bool           // standard AUX fields written
	payload bool           // a PayloadWriter's: a value is its type byte and body only
	seg     *SegmentWriter // a SegmentWriter's: its first SELECTDB is WriteSegment's
	closed  bool
	db      int  // database of the last SELECTDB written
	dbSet   bool // a SELECTDB was written

	// AUX fields given before the first non-AUX record.
	givenCTime []byte
	usedMem    []byte
	aofBase    []byte
	givenVer   [][2][]byte // redis-ver / valkey-ver kept under KeepServerVersion
	pendingAux [][2][]byte

	dropped [featureCount]uint64

	key     keyState
	scratch []byte
	spools  [spoolSlots]spool
	dups    dupSet

	strV    stringEnc
	listV   listEnc
	setV    setEnc
	zsetV   zsetEnc
	hashV   hashEnc
	streamV streamEnc
	moduleV moduleEnc
}

// keyState is the key between StartKey and EndKey.
type keyState struct {
	active     bool
	skip       bool // dropped: elements are consumed, nothing is written
	kind       Kind
	count      uint64 // announced, or UnknownCount
	n          uint64 // elements received (streams: entries)
	key        []byte
	db         int
	hasExpire  bool
	expireAtMs int64
	hasIdle    bool
	idle       uint64
	hasFreq    bool
	freq       uint8
	keyMeta    []byte
	headerDone bool
	v          valueEncoder
}

// valueEncoder writes one kind of value.
type valueEncoder interface {
	start(w *Writer) error
	elem(w *Writer, el *Elem) error
	end(w *Writer) error
}

// The writer's spool slots. Each holds the items behind a count that precedes
// them in the file and is known only once they are all written; a stream
// uses all three (its nodes, a group's consumers, its IDMP producers).
const (
	spoolItems     = iota // the current value's items: list nodes, set members, hash fields, stream nodes
	spoolConsumers        // a stream group's consumers
	spoolProducers        // a stream's IDMP producers
	spoolSlots
)

// NewWriter returns a Writer to w. It never fails: invalid options are
// reported by the first call. Nothing is written until the first call.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	wr := &Writer{opts: opts, dups: newDupSet()}
	wr.out.w = w
	enc, err := opts.validate()
	if err != nil {
		wr.err = err
		return wr
	}
	if opts.CompressWorkers > 0 && !opts.NoCompress {
		wr.out.par = newParOut(opts.CompressWorkers)
		wr.out.buf = wr.out.par.cur.lit
	}
	wr.enc = enc
	wr.str.compress = !opts.NoCompress
	limit := opts.SpoolMemory
	if limit == 0 {
		limit = defaultSpoolMemory
	}
	for i := range wr.spools {
		wr.spools[i] = spool{limit: limit, dir: opts.SpoolDir}
	}
	return wr
}

// Dropped returns what was left out under the drop flags (and the records
// the target has no place for: slot info, slot imports, LRU/LFU hints below
// version 9), one count per feature in Feature order, omitting zeros.
func (w *Writer) Dropped() []DropCount {
	var out []DropCount
	for f := Feature(1); f < featureCount; f++ {
		if n := w.dropped[f]; n > 0 {
			out = append(out, DropCount{f, n})
		}
	}
	return out
}

// Err returns the sticky error, if any.
func (w *Writer) Err() error { return w.err }

// Options returns the options w was made with.
func (w *Writer) Options() WriterOptions { return w.opts }

func (w *Writer) valkey80() bool { return w.opts.Valkey && w.opts.Version == 80 }

// fail records a sticky error and removes spool files.
func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
		w.out.stop()
		for i := range w.spools {
			w.spools[i].reset()
		}
	}
	return w.err
}

func (w *Writer) keyErr(op string, err error, detail string) error {
	return w.fail(&WriteError{Key: append([]byte{}, w.key.key...), Op: op, Err: err, Detail: detail})
}

func (w *Writer) recErr(op string, err error, detail string) error {
	return w.fail(&WriteError{Op: op, Err: err, Detail: detail})
}

func (w *Writer) ioErr(err error) error {
	if we, ok := err.(*WriteError); ok {
		return w.fail(we)
	}
	var key []byte
	if w.key.active {
		key = append([]byte{}, w.key.key...)
	}
	return w.fail(&WriteError{Key: key, Op: "write", Err: err})
}

func (w *Writer) targetName() string {
	if w.valkey80() {
		return "VALKEY080"
	}
	return "RDB version " + strconv.Itoa(w.opts.Version)
}

// unsupported is the error for a feature the target cannot hold. The message
// names no option: f tells callers which drop flag (WriterOptions.Drop*, or
// a command-line --drop-* flag) leaves such records out.
func (w *Writer) unsupported(what, need string, f Feature) error {
	return &UnsupportedError{What: fmt.Sprintf("%s cannot be written at %s (needs %s)", what, w.targetName(), need), Feature: f}
}

// begin writes the magic once.
func (w *Writer) begin() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return w.recErr("", ErrWriterState, "the writer is closed")
	}
	if !w.started {
		w.started = true
		var magic string
		if w.valkey80() {
			magic = "VALKEY080"
		} else {
			magic = fmt.Sprintf("REDIS%04d", w.opts.Version)
		}
		w.out.buf = append(w.out.buf, magic...)
	}
	return nil
}

// flushAux writes the standard AUX fields, merged with those given so far.
func (w *Writer) flushAux() error {
	if w.auxDone {
		return nil
	}
	w.auxDone = true
	ver := w.opts.ServerVersion
	if ver == "" {
		ver = defaultServerVersion(w.opts.Version, w.opts.Valkey)
	}
	verName := "redis-ver"
	if w.opts.Valkey {
		verName = "valkey-ver"
	}
	bits := w.opts.Bits
	if bits == 0 {
		bits = 64
	}
	var ctime []byte
	switch {
	case w.opts.Clock != nil:
		ctime = strconv.AppendInt(nil, w.opts.Clock().Unix(), 10)
	case w.opts.CTime != 0 || w.givenCTime == nil:
		ctime = strconv.AppendInt(nil, w.opts.CTime, 10)
	default:
		ctime = w.givenCTime
	}
	usedMem := w.usedMem
	if usedMem == nil {
		usedMem = []byte("0")
	}
	if len(w.givenVer) > 0 {
		for _, a := range w.givenVer {
			w.writeAux(a[0], a[1])
		}
	} else {
		w.writeAux([]byte(verName), []byte(ver))
	}
	w.writeAux([]byte("redis-bits"), strconv.AppendInt(nil, int64(bits), 10))
	w.writeAux([]byte("ctime"), ctime)
	w.writeAux([]byte("used-mem"), usedMem)
	for _, a := range w.pendingAux {
		w.writeAux(a[0], a[1])
	}
	w.pendingAux = nil
	base := w.aofBase
	if base == nil {
		base = []byte("0")
	}
	switch {
	case w.opts.Version >= 10:
		w.writeAux([]byte("aof-base"), base)
	case w.opts.Version >= 8:
		w.writeAux([]byte("aof-preamble"), base)
	}
	return w.out.maybeFlush()
}

// defaultServerVersion is the version of the newest server line writing
// the given RDB version (as TargetVersion picks for a bare version number).
func defaultServerVersion(version int, valkey bool) string {
	ver := "0.0.0"
	for _, t := range targets {
		if t.Version == version && t.Valkey == valkey {
			ver = t.ServerVersion
		}
	}
	return ver
}

func (w *Writer) writeAux(name, value []byte) {
	w.out.buf = append(w.out.buf, opAux)
	w.out.buf = w.str.appendStr(w.out.buf, name)
	w.out.buf = w.str.appendStr(w.out.buf, value)
}

// beginRecord prepares for any record but an AUX field.
func (w *Writer) beginRecord() error {
	if err := w.begin(); err != nil {
		return err
	}
	if w.key.active {
		return w.recErr("", ErrWriterState, "a key started with StartKey is not finished (call EndKey)")
	}
	return w.flushAux()
}

// WriteEntry writes a record that is not a key: AUX, SELECTDB, RESIZEDB,
// FUNCTION, MODULE_AUX, SLOT_INFO or Valkey's SLOT_IMPORT, converted to the
// target (a 7.0-RC function becomes FUNCTION2, as Redis 7.0 converts it).
// Keys go through WriteKey or StartKey.
//
// AUX fields that the writer itself sets (redis-ver, valkey-ver, redis-bits,
// ctime, used-mem, aof-base, aof-preamble) are merged into its own when they
// come before the first other record: the version fields are replaced by the
// target's, used-mem and aof-base (as aof-preamble below version 10) are kept.
func (w *Writer) WriteEntry(e *Entry) error {
	if err := w.begin(); err != nil {
		return err
	}
	if e.Kind == EntryAux {
		if w.key.active {
			return w.recErr("aux field", ErrWriterState, "a key started with StartKey is not finished (call EndKey)")
		}
		if !w.auxDone {
			w.collectAux(e.AuxName, e.AuxValue)
			return nil
		}
		w.writeAux(e.AuxName, e.AuxValue)
		return w.flushOut()
	}
	if err := w.beginRecord(); err != nil {
		return err
	}
	o := &w.out
	v := w.opts.Version
	switch e.Kind {
	case EntrySelectDB:
		if e.DB < 0 {
			return w.recErr("select db", ErrInvalidValue, "negative database "+strconv.Itoa(e.DB))
		}
		o.buf = append(o.buf, opSelectDB)
		o.buf = appendLen(o.buf, uint64(e.DB))
		w.db, w.dbSet = e.DB, true
	case EntryResizeDB:
		o.buf = append(o.buf, opResizeDB)
		o.buf = appendLen(o.buf, e.DBSize)
		o.buf = appendLen(o.buf, e.ExpiresSize)
	case EntryFunction:
		code := e.Function
		if f := e.FunctionPreGA; f != nil {
			code = []byte("#!" + string(f.Engine) + " name=" + string(f.Name) + "\n" + string(f.Code))
		}
		if v < 10 {
			if w.opts.DropFunctions {
				w.dropped[FeatureFunctions]++
				return nil
			}
			return w.recErr("function library "+libraryName(code), w.unsupported("function libraries", "RDB 10, Redis 7.0", FeatureFunctions), "")
		}
		o.buf = append(o.buf, opFunction2)
		o.buf = w.str.appendStr(o.buf, code)
	case EntryModuleAux:
		m := e.Module
		if m == nil {
			return w.recErr("module aux", ErrInvalidValue, "Entry.Module is nil")
		}
		if v < 9 {
			if w.opts.DropModules {
				w.dropped[FeatureModuleAux]++
				return nil
			}
			return w.recErr("module aux "+strconv.Quote(m.Name), w.unsupported("module aux records", "RDB 9, Redis 5.0", FeatureModuleAux), "")
		}
		if m.When != 1 && m.When != 2 {
			return w.recErr("module aux "+strconv.Quote(m.Name), ErrInvalidValue, "When must be 1 or 2")
		}
		if err := checkModuleRaw(m.Raw); err != nil {
			return w.recErr("module aux "+strconv.Quote(m.Name), ErrInvalidValue, err.Error())
		}
		o.buf = append(o.buf, opModuleAux)
		o.buf = appendLen(o.buf, m.ID)
		o.buf = appendLen(o.buf, 2)
		o.buf = appendLen(o.buf, uint64(m.When))
		if err := o.write(m.Raw); err != nil {
			return w.ioErr(err)
		}
	case EntrySlotInfo:
		if v < 12 || w.opts.Valkey {
			w.dropped[FeatureSlotInfo]++
			return nil
		}
		o.buf = append(o.buf, opSlotInfo)
		o.buf = appendLen(o.buf, e.Slot)
		o.buf = appendLen(o.buf, e.SlotSize)
		o.buf = appendLen(o.buf, e.SlotExpiresSize)
	case EntrySlotImport:
		if !w.valkey80() {
			w.dropped[FeatureSlotImport]++
			return nil
		}
		s := e.SlotImport
		if s == nil {
			return w.recErr("slot import", ErrInvalidValue, "Entry.SlotImport is nil")
		}
		o.buf = append(o.buf, opSlotImportOrKeyMeta)
		o.buf = w.str.appendStr(o.buf, s.JobName)
		o.buf = appendLen(o.buf, uint64(len(s.Ranges)))
		for _, r := range s.Ranges {
			o.buf = appendLen(o.buf, r[0])
			o.buf = appendLen(o.buf, r[1])
		}
	case EntryKey:
		return w.recErr("entry", ErrWriterState, "keys are written with WriteKey or StartKey")
	default:
		return w.recErr("entry", ErrInvalidValue, "unknown entry kind "+e.Kind.String())
	}
	return w.flushOut()
}

func (w *Writer) flushOut() error {
	if err := w.out.maybeFlush(); err != nil {
		return w.ioErr(err)
	}
	return nil
}

// collectAux merges an AUX field given before the first other record.
func (w *Writer) collectAux(name, value []byte) {
	cp := func(b []byte) []byte { return append([]byte{}, b...) }
	switch string(name) {
	case "redis-ver", "valkey-ver":
		if w.opts.KeepServerVersion {
			w.givenVer = append(w.givenVer, [2][]byte{cp(name), cp(value)})
		}
	case "redis-bits":
		// the target's own value is written instead
	case "ctime":
		w.givenCTime = cp(value)
	case "used-mem":
		w.usedMem = cp(value)
	case "aof-base", "aof-preamble":
		w.aofBase = cp(value)
	default:
		w.pendingAux = append(w.pendingAux, [2][]byte{cp(name), cp(value)})
	}
}

// libraryName extracts name=... from a library's shebang line, for messages.
func libraryName(code []byte) string {
	line, _, _ := bytes.Cut(code, []byte("\n"))
	for _, f := range bytes.Fields(line) {
		if n, ok := bytes.CutPrefix(f, []byte("name=")); ok {
			return strconv.Quote(string(n))
		}
	}
	return QuoteBytes(line)
}

// StartKey begins a key whose value the caller gives element by element with
// WriteElem, then EndKey. kind is the logical type; count is the number of
// elements that will follow (for streams: the number of entries; a stream's
// meta, groups, PEL and consumer elements come after them, as NextElem
// delivers them), or UnknownCount.
//
// Of e, StartKey uses Key, DB (a SELECTDB is written before the first key
// and whenever the database changes, unless WriteEntry wrote it), ExpireAtMs/HasExpire, IdleSeconds/HasIdle, Freq/HasFreq
// and KeyMeta, and copies what it keeps.
func (w *Writer) StartKey(e *Entry, kind Kind, count uint64) error {
	if err := w.beginRecord(); err != nil {
		return err
	}
	k := &w.key
	*k = keyState{
		active: true, kind: kind, count: count, key: append(k.key[:0], e.Key...), db: e.DB,
		hasExpire: e.HasExpire, expireAtMs: e.ExpireAtMs, hasIdle: e.HasIdle, idle: e.IdleSeconds,
		hasFreq: e.HasFreq, freq: e.Freq, keyMeta: append(k.keyMeta[:0], e.KeyMeta...),
	}
	if e.KeyMeta == nil {
		k.keyMeta = k.keyMeta[:0]
	}
	if e.DB < 0 {
		return w.keyErr("key", ErrInvalidValue, "negative database "+strconv.Itoa(e.DB))
	}
	v := w.opts.Version
	switch kind {
	case KindString:
		k.v = &w.strV
	case KindList:
		k.v = &w.listV
	case KindSet:
		k.v = &w.setV
	case KindZSet:
		k.v = &w.zsetV
	case KindHash:
		k.v = &w.hashV
	case KindStream:
		k.v = &w.streamV
		if v < 9 {
			if !w.opts.DropStreams {
				return w.keyErr("stream", w.unsupported("streams", "RDB 9, Redis 5.0", FeatureStreams), "")
			}
			w.dropped[FeatureStreams]++
			k.skip = true
		}
	case KindModule:
		k.v = &w.moduleV
		if v < 8 {
			if !w.opts.DropModules {
				return w.keyErr("module value", w.unsupported("module values", "RDB 8, Redis 4.0", FeatureModules), "")
			}
			w.dropped[FeatureModules]++
			k.skip = true
		}
	default:
		return w.keyErr("key", ErrInvalidValue, "unknown kind "+kind.String())
	}
	if len(k.keyMeta) > 0 && (v < 13 || w.opts.Valkey) && !k.skip {
		if !w.opts.DropKeyMeta {
			return w.keyErr("key metadata", w.unsupported("key metadata", "RDB 13, Redis 8.6", FeatureKeyMeta), "")
		}
		w.dropped[FeatureKeyMeta]++
		k.keyMeta = k.keyMeta[:0]
	}
	if len(k.keyMeta) > 0 && !k.skip {
		if err := checkKeyMetaRaw(k.keyMeta); err != nil {
			return w.keyErr("key metadata", ErrInvalidValue, err.Error())
		}
	}
	if k.skip {
		return nil
	}
	w.dups.reset()
	if err := k.v.start(w); err != nil {
		return w.fail(err)
	}
	return nil
}

// WriteElem gives the next element of the key begun with StartKey. The
// writer copies what it keeps; el may be reused by the caller.
func (w *Writer) WriteElem(el *Elem) error {
	if w.err != nil {
		return w.err
	}
	if !w.key.active {
		return w.recErr("element", ErrWriterState, "WriteElem outside StartKey/EndKey")
	}
	k := &w.key
	if k.kind != KindStream || el.Kind == ElemStreamEntry {
		k.n++
		if k.count != UnknownCount && k.n > k.count {
			return w.keyErr(k.kind.String(), ErrInvalidValue, fmt.Sprintf("more elements than the %d StartKey announced", k.count))
		}
	}
	if k.skip {
		return nil
	}
	if err := k.v.elem(w, el); err != nil {
		return w.fail(err)
	}
	return w.flushOut()
}

// EndKey finishes the key begun with StartKey.
func (w *Writer) EndKey() error {
	if w.err != nil {
		return w.err
	}
	k := &w.key
	if !k.active {
		return w.recErr("key", ErrWriterState, "EndKey without StartKey")
	}
	if k.count != UnknownCount && k.n != k.count {
		what := "elements"
		if k.kind == KindStream {
			what = "entries"
		}
		return w.keyErr(k.kind.String(), ErrInvalidValue, fmt.Sprintf("StartKey announced %d %s, %d were given", k.count, what, k.n))
	}
	if !k.skip {
		if err := k.v.end(w); err != nil {
			return w.fail(err)
		}
	}
	for i := range w.spools {
		if err := w.spools[i].reset(); err != nil {
			return w.ioErr(err)
		}
	}
	k.active = false
	return w.flushOut()
}

// beginValue writes what precedes a value: SELECTDB if needed, the key's
// prefix opcodes, the type byte and the key name.
func (w *Writer) beginValue(t Type) {
	k := &w.key
	o := &w.out
	if k.headerDone {
		panic("rdb: value header written twice")
	}
	k.headerDone = true
	if w.payload {
		o.buf = append(o.buf, t.Wire())
		return
	}
	if k.db != w.db || !w.dbSet {
		if w.seg != nil && !w.dbSet {
			w.seg.firstDB = k.db
		} else {
			o.buf = append(o.buf, opSelectDB)
			o.buf = appendLen(o.buf, uint64(k.db))
		}
		w.db, w.dbSet = k.db, true
	}
	if k.hasExpire {
		o.buf = append(o.buf, opExpireTimeMs)
		o.buf = appendMs64(o.buf, k.expireAtMs)
	}
	if k.hasIdle {
		if w.opts.Version >= 9 {
			o.buf = append(o.buf, opIdle)
			o.buf = appendLen(o.buf, k.idle)
		} else {
			w.dropped[FeatureIdle]++
		}
	}
	if k.hasFreq {
		if w.opts.Version >= 9 {
			o.buf = append(o.buf, opFreq, k.freq)
		} else {
			w.dropped[FeatureFreq]++
		}
	}
	if len(k.keyMeta) > 0 {
		o.buf = append(o.buf, opSlotImportOrKeyMeta)
		o.buf = append(o.buf, k.keyMeta...)
	}
	o.buf = append(o.buf, t.Wire())
	o.buf = w.str.appendStr(o.buf, k.key)
}

// emitStr writes an RDB string to the output.
func (w *Writer) emitStr(b []byte) error {
	if w.out.par != nil && w.str.compress && len(b) > 20 && len(b) < parDirectBytes {
		w.out.job(b) // compressed by a worker (writer_parallel.go)
		return w.out.maybeFlush()
	}
	if len(b) >= outFlushSize && (w.opts.NoCompress || len(b) <= 20) {
		w.out.buf = appendLen(w.out.buf, uint64(len(b)))
		return w.out.write(b)
	}
	w.out.buf = w.str.appendStr(w.out.buf, b)
	return w.out.maybeFlush()
}

// WriteKey writes a key and its whole value (as Reader.ReadValue returns it).
// The value's Kind decides what is written; Encoded is ignored. Sorted sets
// stored as skiplists are written highest score first, as Redis does; other
// elements are written in the order given.
func (w *Writer) WriteKey(e *Entry, v *Value) error {
	if w.err != nil {
		return w.err
	}
	if v == nil {
		return w.recErr("key", ErrInvalidValue, "nil value")
	}
	var n uint64
	switch v.Kind {
	case KindString, KindModule:
		n = 1
	case KindList:
		n = uint64(len(v.List))
	case KindSet:
		n = uint64(len(v.Set))
	case KindZSet:
		n = uint64(len(v.ZSet))
	case KindHash:
		n = uint64(len(v.Hash))
	case KindStream:
		if v.Stream == nil {
			return w.recErr("key", ErrInvalidValue, "stream value without Stream")
		}
		n = uint64(len(v.Stream.Entries))
	}
	if err := w.StartKey(e, v.Kind, n); err != nil {
		return err
	}
	var el Elem
	put := func() error { return w.WriteElem(&el) }
	var err error
	switch v.Kind {
	case KindString:
		el = Elem{Kind: ElemString, Member: v.String}
		err = put()
	case KindModule:
		el = Elem{Kind: ElemModule, Module: v.Module}
		err = put()
	case KindList, KindSet:
		items := v.List
		if v.Kind == KindSet {
			items = v.Set
		}
		for _, m := range items {
			el = Elem{Kind: ElemMember, Member: m}
			if err = put(); err != nil {
				break
			}
		}
	case KindZSet:
		for _, i := range w.zsetOrder(v.ZSet) {
			m := v.ZSet[i]
			el = Elem{Kind: ElemZMember, Member: m.Member, Score: m.Score}
			if err = put(); err != nil {
				break
			}
		}
	case KindHash:
		for _, f := range v.Hash {
			el = Elem{Kind: ElemField, Member: f.Field, Value: f.Value, ExpireAtMs: f.ExpireAtMs}
			if err = put(); err != nil {
				break
			}
		}
	case KindStream:
		err = w.writeStreamElems(v.Stream)
	}
	if err != nil {
		return err
	}
	return w.EndKey()
}

// zsetOrder returns the order to give a sorted set's members in: as given
// when the set will be a listpack (the encoder sorts it), highest score
// first when it will be a skiplist.
func (w *Writer) zsetOrder(z []ZMember) []int {
	idx := make([]int, len(z))
	for i := range idx {
		idx[i] = i
	}
	big := len(z) > w.enc.ZSetMaxListpackEntries
	for _, m := range z {
		if len(m.Member) > w.enc.ZSetMaxListpackValue {
			big = true
		}
	}
	if big {
		slices.SortFunc(idx, func(a, b int) int { return -persist.CompareZ(z[a].Score, z[a].Member, z[b].Score, z[b].Member) })
	}
	return idx
}

func (w *Writer) writeStreamElems(s *Stream) error {
	var el Elem
	put := func() error { return w.WriteElem(&el) }
	for i := range s.Entries {
		el = Elem{Kind: ElemStreamEntry, ID: s.Entries[i].ID, Fields: s.Entries[i].Fields}
		if err := put(); err != nil {
			return err
		}
	}
	meta := s.StreamMeta
	meta.GroupCount = uint64(len(s.Groups))
	el = Elem{Kind: ElemStreamMeta, Stream: &meta}
	if err := put(); err != nil {
		return err
	}
	for gi := range s.Groups {
		g := &s.Groups[gi]
		gm := StreamGroupMeta{Name: g.Name, LastDelivered: g.LastDelivered, EntriesRead: g.EntriesRead, PendingCount: uint64(len(g.PEL))}
		el = Elem{Kind: ElemStreamGroup, Group: &gm}
		if err := put(); err != nil {
			return err
		}
		for pi := range g.PEL {
			p := g.PEL[pi]
			el = Elem{Kind: ElemStreamPending, Pending: &p}
			if err := put(); err != nil {
				return err
			}
		}
		for ci := range g.Consumers {
			c := &g.Consumers[ci]
			cm := StreamConsumerMeta{Name: c.Name, SeenTimeMs: c.SeenTimeMs, ActiveTimeMs: c.ActiveTimeMs, PendingCount: uint64(len(c.PEL))}
			el = Elem{Kind: ElemStreamConsumer, Consumer: &cm}
			if err := put(); err != nil {
				return err
			}
			for _, id := range c.PEL {
				el = Elem{Kind: ElemStreamConsumerPending, ID: id}
				if err := put(); err != nil {
					return err
				}
			}
		}
	}
	if s.IDMP != nil {
		for i := range s.IDMP.Entries {
			ie := s.IDMP.Entries[i]
			el = Elem{Kind: ElemStreamIDMPEntry, IDMPEntry: &ie}
			if err := put(); err != nil {
				return err
			}
		}
		im := s.IDMP.StreamIDMP
		el = Elem{Kind: ElemStreamIDMP, IDMP: &im}
		if err := put(); err != nil {
			return err
		}
	}
	return nil
}

// Close writes the EOF opcode and the CRC-64 trailer and flushes. It does not
// close the underlying writer. It returns the first error the Writer met.
func (w *Writer) Close() error {
	if w.closed && w.err == nil {
		return nil
	}
	if err := w.beginRecord(); err != nil {
		return err
	}
	w.out.buf = append(w.out.buf, opEOF)
	if err := w.out.flush(); err != nil {
		return w.ioErr(err)
	}
	w.out.stop()
	crc := w.out.crc
	if w.opts.NoChecksum {
		crc = 0
	}
	var t [8]byte
	binary.LittleEndian.PutUint64(t[:], crc)
	if _, err := w.out.w.Write(t[:]); err != nil {
		return w.ioErr(err)
	}
	w.closed = true
	return nil
}
