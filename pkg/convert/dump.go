package convert

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/rdbtool/rdbtool/internal/persist"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// DumpOptions tune DumpJSON.
type DumpOptions struct {
	Filter Filter
	// Array writes one JSON array of the line objects instead of JSON Lines.
	Array bool
	// SpoolBudget is the memory a single key may use while it is reordered
	// (sorted sets stored highest score first) or while its form is decided
	// (hashes); beyond it the key spills to a file in TempDir. Default 8 MiB
	// (the Go heap then peaks at a few times that).
	SpoolBudget int
	TempDir     string
	// Workers, for a Reader over an in-memory input (rdb.NewReaderBytes), is
	// how many goroutines turn values into JSON while the Reader moves on; 0
	// does everything on the calling goroutine. The output is the same.
	Workers int
}

// DumpStats counts what DumpJSON did.
type DumpStats struct {
	Keys     int64 // keys written
	Filtered int64 // keys left out by the filter
	Lines    int64
}

// DumpJSON writes the records of an RDB stream as JSON lines (docs/json.md), in
// file order. It streams: memory is bounded by one element plus SpoolBudget,
// whatever the size of a key.
func DumpJSON(r *rdb.Reader, w io.Writer, o DumpOptions) (DumpStats, error) {
	if o.SpoolBudget <= 0 {
		o.SpoolBudget = 8 << 20
	}
	d := &dumper{r: r, out: bufio.NewWriterSize(w, 256<<10), o: o, sp: newSpool(o.SpoolBudget, o.TempDir), flushAt: partialLineFlush}
	defer d.sp.reset()
	err := d.run()
	if ferr := d.out.Flush(); err == nil {
		err = ferr
	}
	return d.stats, err
}

type dumper struct {
	r     *rdb.Reader
	out   *bufio.Writer
	o     DumpOptions
	b     jsonBuf // the line being built; flushed to out in pieces for big values
	sp    *spool
	rec   []byte
	stats DumpStats
	prev  []byte // previous sorted-set member, for the order check
	// flushAt is the length at which a partial line goes to out. A worker's
	// dumper (out == nil) builds whole lines and only notes in committed how
	// much of the line a sequential dump would have written by now, for the
	// output of a failing value to match.
	flushAt   int
	committed int
	par       *parallelDump
}

func (d *dumper) run() error {
	h, err := d.r.Header()
	if err != nil {
		return err
	}
	if d.o.Array {
		if _, err := d.out.WriteString("[\n"); err != nil {
			return err
		}
	}
	d.b = append(d.b[:0], `{"magic":`...)
	// The first line: what the file is, so a conversion back can default to it.
	d.b = d.b.text(h.Magic)
	d.b = append(d.b, `,"rdb_version":`...)
	d.b = d.b.int(int64(h.Version))
	d.b = append(d.b, '}')
	if err := d.endLine(); err != nil {
		return err
	}
	if d.o.Workers > 0 {
		d.par = newParallelDump(d)
		defer d.par.stop()
	}
	for {
		e, err := d.r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d.drainFirst(err)
		}
		if d.par != nil {
			taken, err := d.par.take(e)
			if err == nil {
				err = d.par.retire(false)
			}
			if err != nil {
				return d.drainFirst(err)
			}
			if taken {
				continue
			}
		}
		if err := d.drainFirst(nil); err != nil {
			return err
		}
		if err := d.entry(e); err != nil {
			return err
		}
	}
	if err := d.drainFirst(nil); err != nil {
		return err
	}
	if d.o.Array {
		if _, err := d.out.WriteString("\n]\n"); err != nil {
			return err
		}
	}
	return nil
}

// drainFirst writes the lines of every value handed to workers, which come
// before what the caller is about to do; the first error wins (a worker's is
// earlier in the file than err).
func (d *dumper) drainFirst(err error) error {
	if d.par != nil {
		if perr := d.par.retire(true); perr != nil {
			return perr
		}
	}
	return err
}

// startLine writes what goes between lines in array form. It is written before
// any part of a line, because a big value flushes partial lines.
func (d *dumper) startLine() error {
	if d.o.Array && d.stats.Lines > 0 {
		_, err := d.out.WriteString(",\n")
		return err
	}
	return nil
}

// endLine finishes the current line.
func (d *dumper) endLine() error {
	if !d.o.Array {
		d.b = append(d.b, '\n')
	}
	d.stats.Lines++
	_, err := d.out.Write(d.b)
	d.b = d.b[:0]
	return err
}

// writeLine writes a whole line built elsewhere (by a worker).
func (d *dumper) writeLine(line []byte) error {
	if err := d.startLine(); err != nil {
		return err
	}
	d.stats.Lines++
	if _, err := d.out.Write(line); err != nil {
		return err
	}
	if !d.o.Array {
		return d.out.WriteByte('\n')
	}
	return nil
}

// partialLineFlush is the size at which a line being built goes to the output
// before it is complete (a variable so that tests can make every line partial).
var partialLineFlush = 64 << 10

// flushIfBig moves a long partial line to the output, so a huge value never
// sits whole in memory. Only called between elements of a line already started,
// after the first line separator has been written.
func (d *dumper) flushIfBig() error {
	if len(d.b)-d.committed < d.flushAt {
		return nil
	}
	if d.out == nil {
		d.committed = len(d.b)
		return nil
	}
	_, err := d.out.Write(d.b)
	d.b = d.b[:0]
	return err
}

func (d *dumper) entry(e *rdb.Entry) error {
	switch e.Kind {
	case rdb.EntrySelectDB, rdb.EntryResizeDB:
		return nil // carried by the key lines, recomputed by writers
	case rdb.EntryKey:
		if !d.o.Filter.Match(e) {
			d.stats.Filtered++
			_, err := d.r.SkipValue()
			return err
		}
	}
	if err := d.startLine(); err != nil {
		return err
	}
	switch e.Kind {
	case rdb.EntryAux:
		d.b = append(d.b, `{"aux":`...)
		d.b = d.b.bytesValue(e.AuxName)
		d.b = append(d.b, `,"value":`...)
		d.b = d.b.bytesValue(e.AuxValue)
		d.b = append(d.b, '}')
	case rdb.EntryFunction:
		d.b = append(d.b, `{"function":`...)
		d.b = d.b.bytesValue(e.Function)
		d.b = append(d.b, '}')
	case rdb.EntryModuleAux:
		d.b = append(d.b, `{"module_aux":`...)
		d.module(e.Module, true)
		d.b = append(d.b, '}')
	case rdb.EntrySlotInfo:
		d.b = append(d.b, `{"slot_info":{"slot":`...)
		d.b = d.b.uint(e.Slot)
		d.b = append(d.b, `,"size":`...)
		d.b = d.b.uint(e.SlotSize)
		d.b = append(d.b, `,"expires_size":`...)
		d.b = d.b.uint(e.SlotExpiresSize)
		d.b = append(d.b, `}}`...)
	case rdb.EntrySlotImport:
		d.b = append(d.b, `{"slot_import":{"job":`...)
		d.b = d.b.bytesValue(e.SlotImport.JobName)
		d.b = append(d.b, `,"ranges":[`...)
		for i, rg := range e.SlotImport.Ranges {
			if i > 0 {
				d.b = append(d.b, ',')
			}
			d.b = append(d.b, '[')
			d.b = d.b.uint(rg[0])
			d.b = append(d.b, ',')
			d.b = d.b.uint(rg[1])
			d.b = append(d.b, ']')
		}
		d.b = append(d.b, `]}}`...)
	case rdb.EntryKey:
		d.stats.Keys++
		if err := d.key(e); err != nil {
			return err
		}
	}
	return d.endLine()
}

func (d *dumper) module(m *rdb.ModuleValue, aux bool) {
	d.b = append(d.b, `{"name":`...)
	d.b = d.b.text(m.Name)
	d.b = append(d.b, `,"id":`...)
	d.b = d.b.uint(m.ID)
	d.b = append(d.b, `,"encver":`...)
	d.b = d.b.int(int64(m.EncVer))
	if aux {
		d.b = append(d.b, `,"when":`...)
		d.b = d.b.int(int64(m.When))
	}
	d.b = append(d.b, `,"raw":`...)
	d.b = d.b.bytesValue(m.Raw)
	d.b = append(d.b, '}')
}

func (d *dumper) key(e *rdb.Entry) error {
	d.keyHead(e)
	var err error
	switch e.Type.Kind() {
	case rdb.KindString, rdb.KindModule:
		err = d.single()
	case rdb.KindList, rdb.KindSet:
		err = d.array()
	case rdb.KindZSet:
		err = d.zset(e.Type)
	case rdb.KindHash:
		err = d.hash()
	case rdb.KindStream:
		err = d.stream()
	}
	if err != nil {
		return err
	}
	d.b = append(d.b, '}')
	return nil
}

// keyHead writes a key line up to its value.
func (d *dumper) keyHead(e *rdb.Entry) {
	d.b = append(d.b, `{"db":`...)
	d.b = d.b.int(int64(e.DB))
	d.b = append(d.b, `,"key":`...)
	d.b = d.b.bytesValue(e.Key)
	kind := e.Type.Kind()
	d.b = append(d.b, `,"type":`...)
	d.b = d.b.text(kind.String())
	if e.HasExpire {
		d.b = append(d.b, `,"expire_at_ms":`...)
		d.b = d.b.int(e.ExpireAtMs)
	}
	if e.HasIdle {
		d.b = append(d.b, `,"idle_s":`...)
		d.b = d.b.uint(e.IdleSeconds)
	}
	if e.HasFreq {
		d.b = append(d.b, `,"freq":`...)
		d.b = d.b.int(int64(e.Freq))
	}
	if e.KeyMeta != nil {
		d.b = append(d.b, `,"key_meta":`...)
		d.b = d.b.bytesValue(e.KeyMeta)
	}
	d.b = append(d.b, `,"value":`...)
}

func (d *dumper) single() error {
	el, err := d.r.NextElem()
	if err != nil {
		return err
	}
	if el.Kind == rdb.ElemModule {
		d.module(el.Module, false)
	} else {
		d.b = d.b.bytesValue(el.Member)
	}
	_, err = d.r.SkipValue()
	return err
}

func (d *dumper) array() error {
	d.b = append(d.b, '[')
	if err := d.elements(0); err != nil {
		return err
	}
	d.b = append(d.b, ']')
	return nil
}

// elements writes the remaining elements of a list or set; n of them were
// written before.
func (d *dumper) elements(n int) error {
	for ; ; n++ {
		el, err := d.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n > 0 {
			d.b = append(d.b, ',')
		}
		d.b = d.b.bytesValue(el.Member)
		if err := d.flushIfBig(); err != nil {
			return err
		}
	}
	return nil
}

// zset writes members in ascending (score, member) order. Blobs are stored that
// way, skiplists (type 5) the other way round, and the old text format (type 3)
// in hash order; the order actually met decides.
func (d *dumper) zset(t rdb.Type) error {
	d.sp.reset()
	asc, desc := true, true
	var prevScore float64
	for n := 0; ; n++ {
		el, err := d.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n > 0 {
			c := persist.CompareZ(el.Score, el.Member, prevScore, d.prev)
			asc = asc && c > 0
			desc = desc && c < 0
		}
		prevScore, d.prev = el.Score, append(d.prev[:0], el.Member...)
		d.rec = binary.LittleEndian.AppendUint64(d.rec[:0], math.Float64bits(el.Score))
		d.rec = append(d.rec, el.Member...)
		if err := d.sp.add(d.rec); err != nil {
			return err
		}
	}
	d.b = append(d.b, '[')
	first := true
	write := func(rec []byte) error {
		if !first {
			d.b = append(d.b, ',')
		}
		first = false
		d.b = append(d.b, '[')
		d.b = d.b.bytesValue(rec[8:])
		d.b = append(d.b, ',')
		d.b = d.b.score(math.Float64frombits(binary.LittleEndian.Uint64(rec)))
		d.b = append(d.b, ']')
		return d.flushIfBig()
	}
	var err error
	switch {
	case asc:
		err = d.sp.each(false, write)
	case desc:
		err = d.sp.each(true, write)
	default:
		err = d.sortedZSet(write)
	}
	if err != nil {
		return err
	}
	d.b = append(d.b, ']')
	return nil
}

// sortedZSet sorts a sorted set stored in no order (type 3, hash order). Such
// files come from Redis 3.2 and older, whose sets are small; it holds them in
// memory.
func (d *dumper) sortedZSet(write func([]byte) error) error {
	var recs [][]byte
	if err := d.sp.each(false, func(rec []byte) error {
		recs = append(recs, bytes.Clone(rec))
		return nil
	}); err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b []byte) int {
		return persist.CompareZ(math.Float64frombits(binary.LittleEndian.Uint64(a)), a[8:],
			math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:])
	})
	for _, rec := range recs {
		if err := write(rec); err != nil {
			return err
		}
	}
	return nil
}

// hash writes an object, or an array of [field, value] pairs when a field name
// is not valid UTF-8 (JSON object keys are text); field TTLs follow the value.
func (d *dumper) hash() error {
	d.sp.reset()
	allText, anyTTL := true, false
	for {
		el, err := d.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		allText = allText && utf8.Valid(el.Member)
		anyTTL = anyTTL || el.ExpireAtMs != 0
		d.rec = binary.LittleEndian.AppendUint64(d.rec[:0], uint64(el.ExpireAtMs))
		d.rec = binary.LittleEndian.AppendUint32(d.rec, uint32(len(el.Member)))
		d.rec = append(d.rec, el.Member...)
		d.rec = append(d.rec, el.Value...)
		if err := d.sp.add(d.rec); err != nil {
			return err
		}
	}
	split := func(rec []byte) (field, value []byte, exp int64) {
		n := binary.LittleEndian.Uint32(rec[8:])
		return rec[12 : 12+n], rec[12+n:], int64(binary.LittleEndian.Uint64(rec))
	}
	open, close := byte('['), byte(']')
	if allText {
		open, close = '{', '}'
	}
	// members writes one object (or array of pairs) of the fields keep selects.
	members := func(keep func(exp int64) bool, value func(v []byte, exp int64)) error {
		d.b = append(d.b, open)
		first := true
		err := d.sp.each(false, func(rec []byte) error {
			f, v, exp := split(rec)
			if !keep(exp) {
				return nil
			}
			if !first {
				d.b = append(d.b, ',')
			}
			first = false
			if allText {
				d.b = d.b.str(f)
				d.b = append(d.b, ':')
				value(v, exp)
			} else {
				d.b = append(d.b, '[')
				d.b = d.b.bytesValue(f)
				d.b = append(d.b, ',')
				value(v, exp)
				d.b = append(d.b, ']')
			}
			return d.flushIfBig()
		})
		d.b = append(d.b, close)
		return err
	}
	err := members(func(int64) bool { return true }, func(v []byte, _ int64) { d.b = d.b.bytesValue(v) })
	if err != nil || !anyTTL {
		return err
	}
	d.b = append(d.b, `,"field_expire_at_ms":`...)
	return members(func(exp int64) bool { return exp != 0 }, func(_ []byte, exp int64) { d.b = d.b.int(exp) })
}

func (d *dumper) streamID(id rdb.StreamID) {
	d.b = append(d.b, '"')
	d.b = d.b.uint(id.Ms)
	d.b = append(d.b, '-')
	d.b = d.b.uint(id.Seq)
	d.b = append(d.b, '"')
}

// streamWriter renders a stream as it is read. The file gives the entries,
// then the counters, then each group's PEL, then its consumers with the IDs
// they own; the JSON gives each PEL entry its consumer, so a group's PEL is held
// until its consumers have been read.
type streamWriter struct {
	d             *dumper
	entries       int
	groups        int
	groupOpen     bool
	consumers     int
	consumerOpen  bool
	consumerPEL   int // IDs written for the open consumer
	pel           []rdb.StreamPending
	owners        map[rdb.StreamID]int
	names         [][]byte
	idmpStarted   bool
	idmpEntries   int
	idmpCountDone bool
}

func (w *streamWriter) closeConsumer() {
	if w.consumerOpen {
		w.d.b = append(w.d.b, "]}"...)
		w.consumerOpen = false
	}
}

func (w *streamWriter) closeGroup() {
	if !w.groupOpen {
		return
	}
	d := w.d
	w.closeConsumer()
	d.b = append(d.b, `],"pel":[`...)
	for i, p := range w.pel {
		if i > 0 {
			d.b = append(d.b, ',')
		}
		d.b = append(d.b, '[')
		d.streamID(p.ID)
		d.b = append(d.b, ',')
		if o, ok := w.owners[p.ID]; ok {
			d.b = d.b.bytesValue(w.names[o])
		} else {
			d.b = append(d.b, "null"...)
		}
		d.b = append(d.b, ',')
		d.b = d.b.int(p.DeliveryTimeMs)
		d.b = append(d.b, ',')
		d.b = d.b.uint(p.DeliveryCount)
		d.b = append(d.b, ']')
	}
	d.b = append(d.b, "]}"...)
	w.groupOpen = false
}

// startIDMP closes the groups array and opens the idempotency records.
func (w *streamWriter) startIDMP() {
	if !w.idmpStarted {
		w.closeGroup()
		w.d.b = append(w.d.b, `],"idmp_entries":[`...)
		w.idmpStarted = true
	}
}

func (w *streamWriter) elem(el *rdb.Elem) {
	d := w.d
	switch el.Kind {
	case rdb.ElemStreamEntry:
		if w.entries > 0 {
			d.b = append(d.b, ',')
		}
		w.entries++
		d.b = append(d.b, '[')
		d.streamID(el.ID)
		d.b = append(d.b, ",["...)
		for i, f := range el.Fields {
			if i > 0 {
				d.b = append(d.b, ',')
			}
			d.b = d.b.bytesValue(f)
		}
		d.b = append(d.b, "]]"...)
	case rdb.ElemStreamMeta:
		m := el.Stream
		d.b = append(d.b, `],"length":`...)
		d.b = d.b.uint(m.Length)
		d.b = append(d.b, `,"last_id":`...)
		d.streamID(m.LastID)
		d.b = append(d.b, `,"first_id":`...)
		d.streamID(m.FirstID)
		d.b = append(d.b, `,"max_deleted_id":`...)
		d.streamID(m.MaxDeletedID)
		d.b = append(d.b, `,"entries_added":`...)
		d.b = d.b.uint(m.EntriesAdded)
		d.b = append(d.b, `,"groups":[`...)
	case rdb.ElemStreamGroup:
		w.closeGroup()
		if w.groups > 0 {
			d.b = append(d.b, ',')
		}
		w.groups++
		w.groupOpen, w.consumers = true, 0
		w.pel, w.names = w.pel[:0], w.names[:0]
		clear(w.owners)
		g := el.Group
		d.b = append(d.b, `{"name":`...)
		d.b = d.b.bytesValue(g.Name)
		d.b = append(d.b, `,"last_delivered":`...)
		d.streamID(g.LastDelivered)
		d.b = append(d.b, `,"entries_read":`...)
		if g.EntriesRead < 0 {
			d.b = append(d.b, "null"...)
		} else {
			d.b = d.b.int(g.EntriesRead)
		}
		d.b = append(d.b, `,"consumers":[`...)
	case rdb.ElemStreamPending:
		w.pel = append(w.pel, *el.Pending)
	case rdb.ElemStreamConsumer:
		w.closeConsumer()
		if w.consumers > 0 {
			d.b = append(d.b, ',')
		}
		w.consumers++
		w.consumerOpen, w.consumerPEL = true, 0
		c := el.Consumer
		w.names = append(w.names, bytes.Clone(c.Name))
		d.b = append(d.b, `{"name":`...)
		d.b = d.b.bytesValue(c.Name)
		d.b = append(d.b, `,"seen_time_ms":`...)
		d.b = d.b.int(c.SeenTimeMs)
		d.b = append(d.b, `,"active_time_ms":`...)
		d.b = d.b.int(c.ActiveTimeMs)
		d.b = append(d.b, `,"pel":[`...)
	case rdb.ElemStreamConsumerPending:
		if w.owners == nil {
			w.owners = map[rdb.StreamID]int{}
		}
		// Not d.b's last byte: a big value may have flushed d.b meanwhile.
		if w.consumerPEL > 0 {
			d.b = append(d.b, ',')
		}
		w.consumerPEL++
		d.streamID(el.ID)
		w.owners[el.ID] = len(w.names) - 1
	case rdb.ElemStreamIDMPEntry:
		w.startIDMP()
		if w.idmpEntries > 0 {
			d.b = append(d.b, ',')
		}
		w.idmpEntries++
		x := el.IDMPEntry
		d.b = append(d.b, `{"producer":`...)
		d.b = d.b.bytesValue(x.Producer)
		d.b = append(d.b, `,"iid":`...)
		d.b = d.b.bytesValue(x.IID)
		d.b = append(d.b, `,"id":`...)
		d.streamID(x.ID)
		d.b = append(d.b, '}')
	case rdb.ElemStreamIDMP:
		w.startIDMP()
		m := el.IDMP
		d.b = append(d.b, `],"idmp":{"duration_s":`...)
		d.b = d.b.uint(m.DurationSeconds)
		d.b = append(d.b, `,"max_entries":`...)
		d.b = d.b.uint(m.MaxEntries)
		d.b = append(d.b, `,"iids_added":`...)
		d.b = d.b.uint(m.IIDsAdded)
		d.b = append(d.b, `,"iids_duplicates":`...)
		d.b = d.b.uint(m.IIDsDuplicates)
		d.b = append(d.b, '}')
		w.idmpCountDone = true
	}
}

func (w *streamWriter) finish() {
	if w.idmpCountDone {
		return
	}
	if w.idmpStarted {
		w.d.b = append(w.d.b, ']')
		return
	}
	w.closeGroup()
	w.d.b = append(w.d.b, ']')
}

func (d *dumper) stream() error {
	d.b = append(d.b, `{"entries":[`...)
	w := streamWriter{d: d}
	for {
		el, err := d.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		w.elem(el)
		if err := d.flushIfBig(); err != nil {
			return err
		}
	}
	w.finish()
	d.b = append(d.b, '}')
	return nil
}
