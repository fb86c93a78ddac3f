package engine

import (
	"math"
	"slices"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Read-only stream commands (t_stream.c): XLEN, XRANGE, XREVRANGE, XREAD
// (without blocking), XINFO STREAM [FULL], XINFO GROUPS, XINFO CONSUMERS and
// XPENDING. Groups and consumers come in name order, as Redis's radix trees
// give them. XINFO STREAM's radix-tree-keys and radix-tree-nodes describe
// Redis's memory layout, which the engine does not keep: they are the
// number of the engine's entry blocks.

func registerStreamReads() {
	registerRead("xlen", 2, func(e *Engine, a [][]byte) Reply {
		s, r, ok := e.readStream(a[1])
		if !ok || s == nil {
			return orZero(r, ok)
		}
		return rInt(int64(s.log.len()))
	})
	registerRead("xrange", -4, func(e *Engine, a [][]byte) Reply { return e.readXRange(a, false) })
	registerRead("xrevrange", -4, func(e *Engine, a [][]byte) Reply { return e.readXRange(a, true) })
	registerRead("xread", -4, readXRead)
	registerReadSub("xinfo", "stream", -3, readXInfoStream)
	registerReadSub("xinfo", "groups", 3, readXInfoGroups)
	registerReadSub("xinfo", "consumers", 4, readXInfoConsumers)
	registerRead("xpending", -3, readXPending)
}

func (e *Engine) readStream(key []byte) (*stream, Reply, bool) {
	o, wrong := e.readKind(key, rdb.KindStream)
	if wrong {
		return nil, rWrongType(), false
	}
	if o == nil {
		return nil, Reply{}, true
	}
	return o.stream, Reply{}, true
}

func idReply(id rdb.StreamID) Reply { return rBulkStr(id.String()) }

// entryReply is [id, [field, value, ...]].
func entryReply(en sentry, b *sblock) Reply {
	f := b.appendFields(nil, en)
	return rArray(idReply(en.id), rArray(rBulks(f)...))
}

// intervalID is streamParseIntervalIDOrReply: "(" excludes (strict ID
// syntax after it), a missing sequence is missingSeq.
func intervalID(b []byte, missingSeq uint64) (rdb.StreamID, bool, error) {
	if len(b) > 1 && b[0] == '(' {
		id, err := parseID(b[1:], missingSeq, true, nil)
		return id, true, err
	}
	id, err := parseID(b, missingSeq, false, nil)
	return id, false, err
}

// decrID is streamDecrID; false at 0-0.
func decrID(id rdb.StreamID) (rdb.StreamID, bool) {
	switch {
	case id.Seq > 0:
		return rdb.StreamID{Ms: id.Ms, Seq: id.Seq - 1}, true
	case id.Ms > 0:
		return rdb.StreamID{Ms: id.Ms - 1, Seq: math.MaxUint64}, true
	}
	return id, false
}

// idInterval parses start and end (inclusive unless "(").
func idInterval(startArg, endArg []byte) (rdb.StreamID, rdb.StreamID, Reply, bool) {
	start, ex, err := intervalID(startArg, 0)
	if err != nil {
		return start, start, rErr(err), false
	}
	if ex {
		if start == maxID {
			return start, start, rErrStr("ERR invalid start ID for the interval"), false
		}
		start = incrID(start)
	}
	end, ex, err := intervalID(endArg, math.MaxUint64)
	if err != nil {
		return start, end, rErr(err), false
	}
	if ex {
		var ok bool
		if end, ok = decrID(end); !ok {
			return start, end, rErrStr("ERR invalid end ID for the interval"), false
		}
	}
	return start, end, Reply{}, true
}

// streamRange is streamReplyWithRange: up to count entries (0: all) between
// start and end, ascending or descending.
func streamRange(s *stream, start, end rdb.StreamID, count int64, rev bool) []Reply {
	out := []Reply{}
	if cmpID(start, end) > 0 {
		return out
	}
	fn := func(en sentry, b *sblock) bool {
		if rev && en.id.Less(start) || !rev && end.Less(en.id) {
			return false
		}
		out = append(out, entryReply(en, b))
		return count == 0 || int64(len(out)) < count
	}
	if rev {
		s.log.eachRev(end, fn)
	} else {
		s.log.each(start, fn)
	}
	return out
}

func (e *Engine) readXRange(a [][]byte, rev bool) Reply {
	startArg, endArg := a[2], a[3]
	if rev {
		startArg, endArg = a[3], a[2]
	}
	start, end, r, ok := idInterval(startArg, endArg)
	if !ok {
		return r
	}
	count := int64(-1)
	for j := 4; j < len(a); j++ {
		if !is(a[j], "COUNT") || j+1 >= len(a) {
			return rSyntax()
		}
		v, ok := parseInt(a[j+1])
		if !ok {
			return rNotInt()
		}
		count = max(v, 0)
		j++
	}
	s, r, ok := e.readStream(a[1])
	switch {
	case !ok:
		return r
	case s == nil:
		return rEmpty()
	case count == 0:
		return rNil()
	}
	return rArray(streamRange(s, start, end, max(count, 0), rev)...)
}

// readXRead is XREAD [COUNT n] [BLOCK ms] STREAMS key... id...: the entries
// after each ID, for the streams that have any; a nil reply when none has.
// "$" reads nothing (only new entries, which a dataset at rest never gets).
func readXRead(e *Engine, a [][]byte) Reply {
	count := int64(0)
	streams := 0
	for i := 1; i < len(a); i++ {
		more := len(a) - 1 - i
		switch {
		case is(a[i], "COUNT") && more > 0:
			v, ok := parseInt(a[i+1])
			if !ok {
				return rNotInt()
			}
			count = max(v, 0)
			i++
		case is(a[i], "BLOCK") && more > 0:
			v, ok := parseInt(a[i+1])
			if !ok {
				return rErrStr("ERR timeout is not an integer or out of range")
			}
			if v < 0 {
				return rErrStr("ERR timeout is negative")
			}
			i++
		case is(a[i], "STREAMS") && more > 0:
			streams = i + 1
			i = len(a)
		default:
			return rSyntax()
		}
	}
	if streams == 0 {
		return rSyntax()
	}
	if (len(a)-streams)%2 != 0 {
		return rErrStr("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.")
	}
	n := (len(a) - streams) / 2
	type target struct {
		s  *stream
		id rdb.StreamID
	}
	targets := make([]target, n)
	for i := range n {
		key, idArg := a[streams+i], a[streams+n+i]
		s, r, ok := e.readStream(key)
		if !ok {
			return r
		}
		targets[i].s = s
		if string(idArg) == "$" {
			targets[i].id = maxID
			if s != nil {
				targets[i].id = s.lastID
			}
			continue
		}
		if string(idArg) == ">" {
			return rErrStr("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
		}
		id, err := parseID(idArg, 0, false, nil)
		if err != nil {
			return rErr(err)
		}
		targets[i].id = id
	}
	var out []Reply
	for i, t := range targets {
		if t.s == nil || t.id == maxID {
			continue
		}
		entries := streamRange(t.s, incrID(t.id), maxID, count, false)
		if len(entries) > 0 {
			out = append(out, rArray(rBulk(a[streams+i]), rArray(entries...)))
		}
	}
	if out == nil {
		return Reply{Kind: ReplyNil}
	}
	return rArray(out...)
}

func sortedNames[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lag is streamReplyWithCGLag.
func (s *stream) lag(g *cgroup) Reply {
	switch {
	case s.entriesAdded == 0:
		return rInt(0)
	case g.entriesRead != -1 && !s.hasTombstones(g.lastID):
		return rInt(int64(s.entriesAdded) - g.entriesRead)
	}
	if n := s.estimateEntriesRead(g.lastID); n != -1 {
		return rInt(int64(s.entriesAdded) - n)
	}
	return rNil()
}

func entriesRead(g *cgroup) Reply {
	if g.entriesRead == -1 {
		return rNil()
	}
	return rInt(g.entriesRead)
}

func readXInfoStream(e *Engine, a [][]byte) Reply {
	s, r, ok := e.readStream(a[2])
	if !ok {
		return r
	}
	if s == nil {
		return rErr(ErrNoSuchKey)
	}
	opts := a[3:]
	full, count := false, int64(10)
	if len(opts) > 0 {
		if len(opts) != 1 && len(opts) != 3 || !is(opts[0], "FULL") || len(opts) == 3 && !is(opts[1], "COUNT") {
			return rErrStr("ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.")
		}
		full = true
		if len(opts) == 3 {
			v, ok := parseInt(opts[2])
			if !ok {
				return rNotInt()
			}
			if v < 0 {
				v = 10
			}
			count = v
		}
	}
	out := []Reply{
		rBulkStr("length"), rInt(int64(s.log.len())),
		rBulkStr("radix-tree-keys"), rInt(int64(len(s.log.blocks))),
		rBulkStr("radix-tree-nodes"), rInt(int64(len(s.log.blocks))),
		rBulkStr("last-generated-id"), idReply(s.lastID),
		rBulkStr("max-deleted-entry-id"), idReply(s.maxDeleted),
		rBulkStr("entries-added"), rInt(int64(s.entriesAdded)),
		rBulkStr("recorded-first-entry-id"), idReply(s.firstID()),
	}
	if !full {
		first, last := rNil(), rNil()
		if f := streamRange(s, rdb.StreamID{}, maxID, 1, false); len(f) > 0 {
			first = f[0]
		}
		if l := streamRange(s, rdb.StreamID{}, maxID, 1, true); len(l) > 0 {
			last = l[0]
		}
		return rArray(append(out, rBulkStr("groups"), rInt(int64(len(s.groups))),
			rBulkStr("first-entry"), first, rBulkStr("last-entry"), last)...)
	}
	out = append(out, rBulkStr("entries"), rArray(streamRange(s, rdb.StreamID{}, maxID, count, false)...))
	var groups []Reply
	for _, name := range sortedNames(s.groups) {
		g := s.groups[name]
		var pel []Reply
		for _, id := range g.sortedPEL() {
			if count != 0 && int64(len(pel)) == count {
				break
			}
			nk := g.pel[id]
			pel = append(pel, rArray(idReply(id), rBulk(nk.consumer.name), rInt(nk.deliveryTime), rInt(int64(nk.count))))
		}
		var consumers []Reply
		for _, cname := range sortedNames(g.consumers) {
			c := g.consumers[cname]
			ids := sortedIDs(c.pel)
			var cpel []Reply
			for _, id := range ids {
				if count != 0 && int64(len(cpel)) == count {
					break
				}
				nk := c.pel[id]
				cpel = append(cpel, rArray(idReply(id), rInt(nk.deliveryTime), rInt(int64(nk.count))))
			}
			fields := []Reply{rBulkStr("name"), rBulk(c.name), rBulkStr("seen-time"), rInt(c.seenTime)}
			if e.version() >= 702 {
				fields = append(fields, rBulkStr("active-time"), rInt(c.activeTime))
			}
			fields = append(fields, rBulkStr("pel-count"), rInt(int64(len(c.pel))), rBulkStr("pending"), rArray(orEmpty(cpel)...))
			consumers = append(consumers, rArray(fields...))
		}
		groups = append(groups, rArray(
			rBulkStr("name"), rBulkStr(name),
			rBulkStr("last-delivered-id"), idReply(g.lastID),
			rBulkStr("entries-read"), entriesRead(g),
			rBulkStr("lag"), s.lag(g),
			rBulkStr("pel-count"), rInt(int64(len(g.pel))),
			rBulkStr("pending"), rArray(orEmpty(pel)...),
			rBulkStr("consumers"), rArray(orEmpty(consumers)...)))
	}
	return rArray(append(out, rBulkStr("groups"), rArray(orEmpty(groups)...))...)
}

func orEmpty(r []Reply) []Reply {
	if r == nil {
		return []Reply{}
	}
	return r
}

func sortedIDs[T any](m map[rdb.StreamID]T) []rdb.StreamID {
	ids := make([]rdb.StreamID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, cmpID)
	return ids
}

func readXInfoGroups(e *Engine, a [][]byte) Reply {
	s, r, ok := e.readStream(a[2])
	if !ok {
		return r
	}
	if s == nil {
		return rErr(ErrNoSuchKey)
	}
	out := []Reply{}
	for _, name := range sortedNames(s.groups) {
		g := s.groups[name]
		out = append(out, rArray(
			rBulkStr("name"), rBulkStr(name),
			rBulkStr("consumers"), rInt(int64(len(g.consumers))),
			rBulkStr("pending"), rInt(int64(len(g.pel))),
			rBulkStr("last-delivered-id"), idReply(g.lastID),
			rBulkStr("entries-read"), entriesRead(g),
			rBulkStr("lag"), s.lag(g)))
	}
	return rArray(out...)
}

func readXInfoConsumers(e *Engine, a [][]byte) Reply {
	s, r, ok := e.readStream(a[2])
	if !ok {
		return r
	}
	if s == nil {
		return rErr(ErrNoSuchKey)
	}
	g := s.groups[string(a[3])]
	if g == nil {
		return rErr(errorf("NOGROUP No such consumer group '%s' for key name '%s'", a[3], a[2]))
	}
	now := e.now()
	out := []Reply{}
	for _, name := range sortedNames(g.consumers) {
		c := g.consumers[name]
		fields := []Reply{rBulkStr("name"), rBulk(c.name), rBulkStr("pending"), rInt(int64(len(c.pel))),
			rBulkStr("idle"), rInt(max(now-c.seenTime, 0))}
		if e.version() >= 702 {
			inactive := int64(-1)
			if c.activeTime != -1 {
				inactive = max(now-c.activeTime, 0)
			}
			fields = append(fields, rBulkStr("inactive"), rInt(inactive))
		}
		out = append(out, rArray(fields...))
	}
	return rArray(out...)
}

func readXPending(e *Engine, a [][]byte) Reply {
	if len(a) != 3 && (len(a) < 6 || len(a) > 9) {
		return rSyntax()
	}
	var start, end rdb.StreamID
	var count, minIdle int64
	var consumerName []byte
	if len(a) >= 6 {
		at := 3
		if is(a[3], "IDLE") {
			v, ok := parseInt(a[4])
			if !ok {
				return rNotInt()
			}
			minIdle = v
			if len(a) < 8 {
				return rSyntax()
			}
			at += 2
		}
		v, ok := parseInt(a[at+2])
		if !ok {
			return rNotInt()
		}
		count = max(v, 0)
		var r Reply
		if start, end, r, ok = idInterval(a[at], a[at+1]); !ok {
			return r
		}
		if at+3 < len(a) {
			consumerName = a[at+3]
		}
	}
	s, r, ok := e.readStream(a[1])
	if !ok {
		return r
	}
	var g *cgroup
	if s != nil {
		g = s.groups[string(a[2])]
	}
	if g == nil {
		return rErr(errNoGroup(a[1], a[2]))
	}
	if len(a) == 3 {
		if len(g.pel) == 0 {
			return rArray(rInt(0), rNil(), rNil(), rNil())
		}
		ids := g.sortedPEL()
		var per []Reply
		for _, name := range sortedNames(g.consumers) {
			if n := len(g.consumers[name].pel); n > 0 {
				per = append(per, rArray(rBulkStr(name), rBulkInt(int64(n))))
			}
		}
		return rArray(rInt(int64(len(ids))), idReply(ids[0]), idReply(ids[len(ids)-1]), rArray(orEmpty(per)...))
	}
	pel := g.pel
	if consumerName != nil {
		c := g.consumers[string(consumerName)]
		if c == nil {
			return rEmpty()
		}
		pel = c.pel
	}
	now := e.now()
	out := []Reply{}
	for _, id := range sortedIDs(pel) {
		if int64(len(out)) >= count {
			break
		}
		if id.Less(start) || end.Less(id) {
			continue
		}
		nk := pel[id]
		idle := max(now-nk.deliveryTime, 0)
		if minIdle != 0 && idle < minIdle {
			continue
		}
		out = append(out, rArray(idReply(id), rBulk(nk.consumer.name), rInt(idle), rInt(int64(nk.count))))
	}
	return rArray(out...)
}
