package engine

import (
	"math"
	"slices"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Stream commands (t_stream.c): XADD, XDEL, XTRIM, XSETID, XGROUP (CREATE,
// SETID, DESTROY, CREATECONSUMER, DELCONSUMER), XACK, XCLAIM, XAUTOCLAIM and
// XREADGROUP. Redis logs XREADGROUP and XAUTOCLAIM as XCLAIM ... FORCE
// JUSTID LASTID (plus XGROUP SETID on 7.2+), which is what a replay meets;
// the native forms are here for raw command streams.
//
// Approximate trimming (MAXLEN ~ / MINID ~) removes whole listpack nodes,
// whose boundaries depend on byte sizes the engine does not model; Redis
// rewrites it to an exact trim before logging it (6.2+), so the engine
// applies "~" only when it would remove nothing and otherwise returns an
// *UnsupportedError.

type nack struct {
	deliveryTime int64
	count        uint64
	consumer     *consumer
}

type consumer struct {
	name       []byte
	seenTime   int64
	activeTime int64
	pel        map[rdb.StreamID]*nack
}

type cgroup struct {
	name        []byte
	lastID      rdb.StreamID
	entriesRead int64
	pel         map[rdb.StreamID]*nack
	consumers   map[string]*consumer
}

type stream struct {
	log          slog // the entries, ascending IDs
	lastID       rdb.StreamID
	entriesAdded uint64
	maxDeleted   rdb.StreamID
	groups       map[string]*cgroup
}

func newStream() *object {
	return &object{kind: rdb.KindStream, stream: &stream{groups: map[string]*cgroup{}}}
}

func cmpID(a, b rdb.StreamID) int {
	switch {
	case a.Less(b):
		return -1
	case b.Less(a):
		return 1
	}
	return 0
}

var maxID = rdb.StreamID{Ms: math.MaxUint64, Seq: math.MaxUint64}

func (s *stream) exists(id rdb.StreamID) bool { return s.log.exists(id) }

func (s *stream) firstID() rdb.StreamID { return s.log.firstID() }

func (s *stream) dup() *stream {
	n := &stream{lastID: s.lastID, entriesAdded: s.entriesAdded, maxDeleted: s.maxDeleted, groups: map[string]*cgroup{}}
	n.log = s.log.dup()
	for name, g := range s.groups {
		ng := &cgroup{name: clone(g.name), lastID: g.lastID, entriesRead: g.entriesRead,
			pel: map[rdb.StreamID]*nack{}, consumers: map[string]*consumer{}}
		for cname, c := range g.consumers {
			ng.consumers[cname] = &consumer{name: clone(c.name), seenTime: c.seenTime, activeTime: c.activeTime, pel: map[rdb.StreamID]*nack{}}
		}
		for id, nk := range g.pel {
			nn := &nack{deliveryTime: nk.deliveryTime, count: nk.count}
			if nk.consumer != nil {
				nn.consumer = ng.consumers[string(nk.consumer.name)]
				nn.consumer.pel[id] = nn
			}
			ng.pel[id] = nn
		}
		n.groups[name] = ng
	}
	return n
}

func registerStreams() {
	register("xadd", -5, cmdXAdd)
	register("xdel", -3, cmdXDel)
	register("xtrim", -4, cmdXTrim)
	register("xsetid", -3, cmdXSetID)
	register("xack", -4, cmdXAck)
	register("xclaim", -6, cmdXClaim)
	register("xautoclaim", -6, cmdXAutoClaim)
	register("xreadgroup", -7, cmdXReadGroup)
	registerSub("xgroup", "create", -5, cmdXGroup)
	registerSub("xgroup", "setid", -5, cmdXGroup)
	registerSub("xgroup", "destroy", 4, cmdXGroup)
	registerSub("xgroup", "createconsumer", 5, cmdXGroup)
	registerSub("xgroup", "delconsumer", 5, cmdXGroup)
}

var errApproxTrim = &UnsupportedError{What: "approximate stream trimming (MAXLEN ~ / MINID ~) that removes entries: it depends on Redis's listpack node layout"}

var errBadID = &Error{"ERR Invalid stream ID specified as stream command argument"}

// strtoull is util.c string2ull: string2ll, or else C strtoull (leading
// space, a sign, leading zeros allowed; a '-' negates modulo 2^64).
func strtoull(s string) (uint64, bool) {
	if v, ok := parseInt([]byte(s)); ok {
		return uint64(v), v >= 0
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseID is streamGenericParseIDOrReply. strict refuses "-" and "+";
// seqGiven, when non-nil, allows "ms-*" and reports whether seq was given.
func parseID(b []byte, missingSeq uint64, strict bool, seqGiven *bool) (rdb.StreamID, error) {
	if len(b) > 127 {
		return rdb.StreamID{}, errBadID
	}
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i] // C string semantics
	}
	if strict && (s == "-" || s == "+") {
		return rdb.StreamID{}, errBadID
	}
	if seqGiven != nil {
		*seqGiven = true
	}
	switch s {
	case "-":
		return rdb.StreamID{}, nil
	case "+":
		return maxID, nil
	}
	msPart, seqPart, dot := strings.Cut(s, "-")
	ms, ok := strtoull(msPart)
	if !ok {
		return rdb.StreamID{}, errBadID
	}
	seq := missingSeq
	if dot {
		if seqGiven != nil && seqPart == "*" {
			seq = 0
			*seqGiven = false
		} else if seq, ok = strtoull(seqPart); !ok {
			return rdb.StreamID{}, errBadID
		}
	}
	return rdb.StreamID{Ms: ms, Seq: seq}, nil
}

func strictID(b []byte) (rdb.StreamID, error) { return parseID(b, 0, true, nil) }

const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

type trimArgs struct {
	strategy int
	approx   bool
	maxlen   int64
	minid    rdb.StreamID
	limit    int64
	// XADD only
	noMkStream bool
	id         rdb.StreamID
	idGiven    bool
	seqGiven   bool
}

// parseTrim is streamParseAddOrTrimArgsOrReply; it returns the index of the
// ID (XADD) or of the end of the options.
func (e *Engine) parseTrim(a [][]byte, xadd bool) (trimArgs, int, error) {
	var t trimArgs
	i := 2
	limitGiven := false
	for ; i < len(a); i++ {
		more := len(a) - 1 - i
		opt := a[i]
		switch {
		case xadd && string(opt) == "*":
			goto done
		case is(opt, "MAXLEN") && more > 0, is(opt, "MINID") && more > 0:
			if t.strategy != trimNone {
				return t, 0, errTrimIncompatible
			}
			t.approx = false
			next := a[i+1]
			if more >= 2 && string(next) == "~" {
				t.approx = true
				i++
			} else if more >= 2 && string(next) == "=" {
				i++
			}
			if is(opt, "MAXLEN") {
				v, err := argInt(a[i+1])
				if err != nil {
					return t, 0, err
				}
				if v < 0 {
					return t, 0, &Error{"ERR The MAXLEN argument must be >= 0."}
				}
				t.maxlen, t.strategy = v, trimMaxLen
			} else {
				id, err := strictID(a[i+1])
				if err != nil {
					return t, 0, err
				}
				t.minid, t.strategy = id, trimMinID
			}
			i++
		case is(opt, "LIMIT") && more > 0:
			v, err := argInt(a[i+1])
			if err != nil {
				return t, 0, err
			}
			if v < 0 {
				return t, 0, &Error{"ERR The LIMIT argument must be >= 0."}
			}
			t.limit, limitGiven = v, true
			i++
		case xadd && is(opt, "NOMKSTREAM"):
			t.noMkStream = true
		case xadd:
			id, err := parseID(opt, 0, true, &t.seqGiven)
			if err != nil {
				return t, 0, err
			}
			t.id, t.idGiven = id, true
			goto done
		default:
			return t, 0, ErrSyntax
		}
	}
done:
	if t.limit != 0 && t.strategy == trimNone {
		return t, 0, &Error{"ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"}
	}
	if !xadd && t.strategy == trimNone {
		return t, 0, &Error{"ERR syntax error, XTRIM must be called with a trimming strategy"}
	}
	if e.live() && limitGiven && !t.approx {
		return t, 0, &Error{"ERR syntax error, LIMIT cannot be used without the special ~ option"}
	}
	return t, i, nil
}

// trimCount is how many entries an exact trim removes from the head; extra
// counts one more entry, of ID next, as if it were appended.
func (s *stream) trimCount(t trimArgs, extra bool, next rdb.StreamID) int {
	n := s.log.len()
	if extra {
		n++
	}
	switch t.strategy {
	case trimMaxLen:
		if int64(n) > t.maxlen {
			return n - int(t.maxlen)
		}
	case trimMinID:
		c := s.log.countBefore(t.minid)
		if extra && next.Less(t.minid) {
			c++
		}
		return c
	}
	return 0
}

// trim applies t; approximate trims that would remove something are refused
// (see the package comment above).
func (s *stream) trim(t trimArgs) error {
	n := s.trimCount(t, false, rdb.StreamID{})
	if n == 0 {
		return nil
	}
	if t.approx {
		return errApproxTrim
	}
	s.log.trimHead(n)
	return nil
}

// Errors of XADD and the trimming commands, made once: one made where it may
// be returned is made on every call.
var (
	errTrimIncompatible = &Error{"ERR syntax error, MAXLEN and MINID options at the same time are not compatible"}
	errXAddIDTooSmall   = &Error{"ERR The ID specified in XADD is equal or smaller than the target stream top item"}
)

func cmdXAdd(e *Engine, a [][]byte) error {
	t, idpos, err := e.parseTrim(a, true)
	if err != nil {
		return err
	}
	fieldPos := idpos + 1
	if len(a)-fieldPos < 2 || (len(a)-fieldPos)%2 == 1 {
		return errArity("xadd")
	}
	if t.idGiven && t.seqGiven && t.id.IsZero() {
		return &Error{"ERR The ID specified in XADD must be greater than 0-0"}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindStream)
	if err != nil {
		return err
	}
	created := false
	if o == nil {
		if t.noMkStream {
			return nil
		}
		o = newStream()
		created = true
	}
	s := o.stream
	if s.lastID == maxID {
		return &Error{"ERR The stream has exhausted the last possible ID, unable to add more items"}
	}
	var id rdb.StreamID
	switch {
	case t.idGiven && t.seqGiven:
		id = t.id
	case t.idGiven:
		if s.lastID.Ms == t.id.Ms {
			if s.lastID.Seq == math.MaxUint64 {
				return errXAddIDTooSmall
			}
			id = rdb.StreamID{Ms: s.lastID.Ms, Seq: s.lastID.Seq + 1}
		} else {
			id = t.id
		}
	default:
		ms := uint64(e.now())
		if ms > s.lastID.Ms {
			id = rdb.StreamID{Ms: ms}
		} else {
			id = incrID(s.lastID)
		}
	}
	if cmpID(id, s.lastID) <= 0 {
		return errXAddIDTooSmall
	}
	if t.approx && t.strategy != trimNone {
		// Refuse before changing anything.
		if s.trimCount(t, true, id) > 0 {
			return errApproxTrim
		}
	}
	if created {
		db.add(a[1], o)
	}
	s.log.add(id, a[fieldPos:])
	s.lastID = id
	s.entriesAdded++
	return s.trim(t)
}

// incrID is streamIncrID (the caller has excluded the maximum ID).
func incrID(id rdb.StreamID) rdb.StreamID {
	if id.Seq == math.MaxUint64 {
		return rdb.StreamID{Ms: id.Ms + 1}
	}
	return rdb.StreamID{Ms: id.Ms, Seq: id.Seq + 1}
}

func cmdXTrim(e *Engine, a [][]byte) error {
	t, _, err := e.parseTrim(a, false)
	if err != nil {
		return err
	}
	o, err := e.lookupKind(e.db(), a[1], rdb.KindStream)
	if o == nil {
		return err
	}
	return o.stream.trim(t)
}

func cmdXDel(e *Engine, a [][]byte) error {
	o, err := e.lookupKind(e.db(), a[1], rdb.KindStream)
	if o == nil {
		return err
	}
	ids := make([]rdb.StreamID, 0, len(a)-2)
	for _, b := range a[2:] {
		id, err := strictID(b)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	s := o.stream
	for _, id := range ids {
		if !s.log.remove(id) {
			continue
		}
		if cmpID(id, s.maxDeleted) > 0 {
			s.maxDeleted = id
		}
	}
	return nil
}

func cmdXSetID(e *Engine, a [][]byte) error {
	id, err := strictID(a[2])
	if err != nil {
		return err
	}
	entriesAdded := int64(-1)
	var maxDel rdb.StreamID
	for i := 3; i < len(a); i += 2 {
		more := len(a) - 1 - i
		switch {
		case is(a[i], "ENTRIESADDED") && more > 0:
			if entriesAdded, err = argInt(a[i+1]); err != nil {
				return err
			}
			if entriesAdded < 0 {
				return &Error{"ERR entries_added must be positive"}
			}
		case is(a[i], "MAXDELETEDID") && more > 0:
			if maxDel, err = strictID(a[i+1]); err != nil {
				return err
			}
			if cmpID(id, maxDel) < 0 {
				return &Error{"ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"}
			}
		default:
			return ErrSyntax
		}
	}
	o := e.view(e.db(), a[1])
	if o == nil {
		return ErrNoSuchKey
	}
	if o.kind != rdb.KindStream {
		return ErrWrongType
	}
	s := o.stream
	if e.version() >= 704 && cmpID(id, s.maxDeleted) < 0 {
		return &Error{"ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"}
	}
	if s.log.len() > 0 {
		if cmpID(id, s.log.lastEntryID()) < 0 {
			return &Error{"ERR The ID specified in XSETID is smaller than the target stream top item"}
		}
		if entriesAdded != -1 && int64(s.log.len()) > entriesAdded {
			return &Error{"ERR The entries_added specified in XSETID is smaller than the target stream length"}
		}
	}
	s.lastID = id
	if entriesAdded != -1 {
		s.entriesAdded = uint64(entriesAdded)
	}
	if !maxDel.IsZero() {
		s.maxDeleted = maxDel
	}
	return nil
}

func (e *Engine) newConsumer(g *cgroup, name []byte) *consumer {
	c := &consumer{name: clone(name), seenTime: e.now(), activeTime: -1, pel: map[rdb.StreamID]*nack{}}
	g.consumers[string(name)] = c
	return c
}

func cmdXGroup(e *Engine, a [][]byte) error {
	sub := strings.ToLower(string(a[1]))
	entriesRead := int64(-1)
	mkstream := false
	errSub := errorf("ERR unknown subcommand or wrong number of arguments for '%s'. Try XGROUP HELP.", a[1])
	for i := 5; i < len(a); {
		switch {
		case sub == "create" && is(a[i], "MKSTREAM"):
			mkstream = true
			i++
		case (sub == "create" || sub == "setid") && is(a[i], "ENTRIESREAD") && i+1 < len(a):
			v, err := argInt(a[i+1])
			if err != nil {
				return err
			}
			if v < 0 && v != -1 {
				return &Error{"ERR value for ENTRIESREAD must be positive or -1"}
			}
			entriesRead = v
			i += 2
		default:
			return errSub
		}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[2], rdb.KindStream)
	if err != nil {
		return err
	}
	var s *stream
	if o != nil {
		s = o.stream
	}
	grp := a[3]
	var g *cgroup
	if !mkstream {
		if s == nil {
			return &Error{"ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."}
		}
		g = s.groups[string(grp)]
		if g == nil && sub != "create" && sub != "destroy" {
			return errorf("NOGROUP No such consumer group '%s' for key name '%s'", grp, a[2])
		}
	}
	switch {
	case sub == "create" && len(a) >= 5 && len(a) <= 8:
		var id rdb.StreamID
		if string(a[4]) == "$" {
			if s != nil {
				id = s.lastID
			}
		} else if id, err = strictID(a[4]); err != nil {
			return err
		}
		if s == nil {
			o = newStream()
			db.add(a[2], o)
			s = o.stream
		}
		if s.groups[string(grp)] != nil {
			return &Error{"BUSYGROUP Consumer Group name already exists"}
		}
		s.groups[string(grp)] = &cgroup{name: clone(grp), lastID: id, entriesRead: entriesRead,
			pel: map[rdb.StreamID]*nack{}, consumers: map[string]*consumer{}}
	case sub == "setid" && (len(a) == 5 || len(a) == 7):
		var id rdb.StreamID
		if string(a[4]) == "$" {
			id = s.lastID
		} else if id, err = parseID(a[4], 0, false, nil); err != nil {
			return err
		}
		g.lastID, g.entriesRead = id, entriesRead
	case sub == "destroy" && len(a) == 4:
		delete(s.groups, string(grp))
	case sub == "createconsumer" && len(a) == 5:
		if g.consumers[string(a[4])] == nil {
			e.newConsumer(g, a[4])
		}
	case sub == "delconsumer" && len(a) == 5:
		if c := g.consumers[string(a[4])]; c != nil {
			for id := range c.pel {
				delete(g.pel, id)
			}
			delete(g.consumers, string(a[4]))
		}
	default:
		return errSub
	}
	return nil
}

func cmdXAck(e *Engine, a [][]byte) error {
	o, err := e.lookupKind(e.db(), a[1], rdb.KindStream)
	if o == nil {
		return err
	}
	g := o.stream.groups[string(a[2])]
	if g == nil {
		return nil
	}
	ids := make([]rdb.StreamID, 0, len(a)-3)
	for _, b := range a[3:] {
		id, err := strictID(b)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if nk := g.pel[id]; nk != nil {
			delete(g.pel, id)
			delete(nk.consumer.pel, id)
		}
	}
	return nil
}

func errNoGroup(key, grp []byte) error {
	return errorf("NOGROUP No such key '%s' or consumer group '%s'", key, grp)
}

// group returns the stream and group named by a[1], a[2] for XCLAIM-like
// commands (NOGROUP when either is missing).
func (e *Engine) group(a [][]byte) (*stream, *cgroup, error) {
	o, err := e.lookupKind(e.db(), a[1], rdb.KindStream)
	if err != nil {
		return nil, nil, err
	}
	if o == nil || o.stream.groups[string(a[2])] == nil {
		return nil, nil, errNoGroup(a[1], a[2])
	}
	return o.stream, o.stream.groups[string(a[2])], nil
}

func cmdXClaim(e *Engine, a [][]byte) error {
	s, g, err := e.group(a)
	if err != nil {
		return err
	}
	minidle, err := argIntMsg(a[4], "Invalid min-idle-time argument for XCLAIM")
	if err != nil {
		return err
	}
	minidle = max(minidle, 0)
	var ids []rdb.StreamID
	j := 5
	for ; j < len(a); j++ {
		id, err := strictID(a[j])
		if err != nil {
			break
		}
		ids = append(ids, id)
	}
	now := e.now()
	var lastID rdb.StreamID
	retry := int64(-1)
	delivery := int64(-1)
	force, justid := false, false
	for ; j < len(a); j++ {
		more := len(a) - 1 - j
		switch opt := a[j]; {
		case is(opt, "FORCE"):
			force = true
		case is(opt, "JUSTID"):
			justid = true
		case is(opt, "IDLE") && more > 0:
			j++
			v, err := argIntMsg(a[j], "Invalid IDLE option argument for XCLAIM")
			if err != nil {
				return err
			}
			delivery = now - v
		case is(opt, "TIME") && more > 0:
			j++
			if delivery, err = argIntMsg(a[j], "Invalid TIME option argument for XCLAIM"); err != nil {
				return err
			}
		case is(opt, "RETRYCOUNT") && more > 0:
			j++
			if retry, err = argIntMsg(a[j], "Invalid RETRYCOUNT option argument for XCLAIM"); err != nil {
				return err
			}
		case is(opt, "LASTID") && more > 0:
			j++
			if lastID, err = strictID(a[j]); err != nil {
				return err
			}
		default:
			return errorf("ERR Unrecognized XCLAIM option '%s'", opt)
		}
	}
	if cmpID(lastID, g.lastID) > 0 {
		g.lastID = lastID
	}
	if delivery != -1 {
		if delivery < 0 || delivery > now {
			delivery = now
		}
	} else {
		delivery = now
	}
	var c *consumer
	name := a[3]
	if e.version() >= 702 {
		c = g.consumers[string(name)]
		if c == nil {
			c = e.newConsumer(g, name)
		}
		c.seenTime = now
	}
	for _, id := range ids {
		nk := g.pel[id]
		if !s.exists(id) {
			if nk != nil {
				delete(g.pel, id)
				delete(nk.consumer.pel, id)
			}
			continue
		}
		if force && nk == nil {
			nk = &nack{}
			g.pel[id] = nk
		}
		if nk == nil {
			continue
		}
		if nk.consumer != nil && minidle != 0 && now-nk.deliveryTime < minidle {
			continue
		}
		if c == nil {
			if c = g.consumers[string(name)]; c == nil {
				c = e.newConsumer(g, name)
			}
		}
		if nk.consumer != c && nk.consumer != nil {
			delete(nk.consumer.pel, id)
		}
		nk.deliveryTime = delivery
		if retry >= 0 {
			nk.count = uint64(retry)
		} else if !justid {
			nk.count++
		}
		if nk.consumer != c {
			c.pel[id] = nk
			nk.consumer = c
		}
		c.activeTime = now
	}
	return nil
}

// sortedPEL returns the group PEL's IDs in order.
func (g *cgroup) sortedPEL() []rdb.StreamID {
	ids := make([]rdb.StreamID, 0, len(g.pel))
	for id := range g.pel {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, cmpID)
	return ids
}

// parseIntervalID is streamParseIntervalIDOrReply: "(" makes it exclusive.
func parseIntervalID(b []byte) (rdb.StreamID, bool, error) {
	if len(b) > 1 && b[0] == '(' {
		id, err := parseID(b[1:], 0, true, nil)
		return id, true, err
	}
	id, err := parseID(b, 0, false, nil)
	return id, false, err
}

func cmdXAutoClaim(e *Engine, a [][]byte) error {
	minidle, err := argIntMsg(a[4], "Invalid min-idle-time argument for XAUTOCLAIM")
	if err != nil {
		return err
	}
	minidle = max(minidle, 0)
	start, ex, err := parseIntervalID(a[5])
	if err != nil {
		return err
	}
	if ex {
		if start == maxID {
			return &Error{"ERR invalid start ID for the interval"}
		}
		start = incrID(start)
	}
	count := int64(100)
	justid := false
	for j := 6; j < len(a); j++ {
		switch {
		case is(a[j], "COUNT") && j+1 < len(a):
			if count, err = argRange(a[j+1], 1, math.MaxInt64/16, "COUNT must be > 0"); err != nil {
				return err
			}
			j++
		case is(a[j], "JUSTID"):
			justid = true
		default:
			return ErrSyntax
		}
	}
	s, g, err := e.group(a)
	if err != nil {
		return err
	}
	now := e.now()
	var c *consumer
	name := a[3]
	if e.version() >= 702 {
		if c = g.consumers[string(name)]; c == nil {
			c = e.newConsumer(g, name)
		}
		c.seenTime = now
	}
	attempts := count * 10
	for _, id := range g.sortedPEL() {
		if attempts == 0 || count == 0 {
			break
		}
		attempts--
		if cmpID(id, start) < 0 {
			attempts++
			continue
		}
		nk := g.pel[id]
		if !s.exists(id) {
			delete(g.pel, id)
			delete(nk.consumer.pel, id)
			count--
			continue
		}
		if minidle != 0 && now-nk.deliveryTime < minidle {
			continue
		}
		if c == nil {
			if c = g.consumers[string(name)]; c == nil {
				c = e.newConsumer(g, name)
			}
		}
		if nk.consumer != c {
			delete(nk.consumer.pel, id)
			c.pel[id] = nk
			nk.consumer = c
		}
		nk.deliveryTime = now
		if !justid {
			nk.count++
		}
		count--
		c.activeTime = now
	}
	return nil
}

// estimateEntriesRead is streamEstimateDistanceFromFirstEverEntry.
func (s *stream) estimateEntriesRead(id rdb.StreamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	length := uint64(s.log.len())
	if length == 0 && cmpID(id, s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	switch c := cmpID(id, s.lastID); {
	case c == 0:
		return int64(s.entriesAdded)
	case c > 0:
		return -1
	}
	first := s.firstID()
	if s.maxDeleted.IsZero() || cmpID(s.maxDeleted, first) < 0 {
		switch cmpID(id, first) {
		case -1:
			return int64(s.entriesAdded - length)
		case 0:
			return int64(s.entriesAdded - length + 1)
		}
	}
	return -1
}

// hasTombstones is streamRangeHasTombstones(s, start, NULL).
func (s *stream) hasTombstones(start rdb.StreamID) bool {
	if s.log.len() == 0 || s.maxDeleted.IsZero() {
		return false
	}
	if cmpID(s.firstID(), s.maxDeleted) > 0 {
		return false
	}
	return cmpID(start, s.maxDeleted) <= 0
}

// cmdXReadGroup runs XREADGROUP without blocking.
func cmdXReadGroup(e *Engine, a [][]byte) error {
	count := int64(0)
	streamsArg := 0
	noack := false
	var grp, cname []byte
	for i := 1; i < len(a); i++ {
		more := len(a) - 1 - i
		switch {
		case is(a[i], "BLOCK") && more > 0:
			i++
			v, ok := parseInt(a[i])
			if !ok {
				return &Error{"ERR timeout is not an integer or out of range"}
			}
			if v < 0 {
				return &Error{"ERR timeout is negative"}
			}
		case is(a[i], "COUNT") && more > 0:
			i++
			v, err := argInt(a[i])
			if err != nil {
				return err
			}
			count = max(v, 0)
		case is(a[i], "STREAMS") && more > 0:
			streamsArg = i + 1
			if (len(a)-streamsArg)%2 != 0 {
				return &Error{"ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '$' must be specified."}
			}
			i = len(a)
		case is(a[i], "GROUP") && more >= 2:
			grp, cname = a[i+1], a[i+2]
			i += 2
		case is(a[i], "NOACK"):
			noack = true
		default:
			return ErrSyntax
		}
	}
	if streamsArg == 0 {
		return ErrSyntax
	}
	if grp == nil {
		return &Error{"ERR Missing GROUP option for XREADGROUP"}
	}
	n := (len(a) - streamsArg) / 2
	type target struct {
		s   *stream
		g   *cgroup
		id  rdb.StreamID
		new bool
	}
	db := e.db()
	targets := make([]target, n)
	for i := 0; i < n; i++ {
		key, idArg := a[streamsArg+i], a[streamsArg+n+i]
		o, err := e.lookupKind(db, key, rdb.KindStream)
		if err != nil {
			return err
		}
		if o == nil || o.stream.groups[string(grp)] == nil {
			return errorf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option", key, grp)
		}
		t := target{s: o.stream, g: o.stream.groups[string(grp)]}
		switch string(idArg) {
		case "$":
			return &Error{"ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."}
		case "+":
			return &Error{"ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set."}
		case ">":
			t.new = true
		default:
			id, err := parseID(idArg, 0, false, nil)
			if err != nil {
				return err
			}
			t.id = id
		}
		targets[i] = t
	}
	now := e.now()
	for _, t := range targets {
		// 7.0 creates the consumer only when it serves the stream now: a
		// history read, or new entries past the group's last ID; 7.2+ always.
		serve := !t.new || t.s.log.len() > 0 && cmpID(t.s.log.lastEntryID(), t.g.lastID) > 0
		c := t.g.consumers[string(cname)]
		if c == nil {
			if !serve && e.version() < 702 {
				continue
			}
			c = e.newConsumer(t.g, cname)
		}
		c.seenTime = now
		if !serve {
			continue
		}
		served := int64(0)
		if !t.new {
			// History: the consumer's own pending entries after id.
			var ids []rdb.StreamID
			for id := range c.pel {
				if cmpID(id, t.id) > 0 {
					ids = append(ids, id)
				}
			}
			slices.SortFunc(ids, cmpID)
			for _, id := range ids {
				if count != 0 && served == count {
					break
				}
				if t.s.exists(id) {
					nk := c.pel[id]
					nk.deliveryTime = now
					nk.count++
				}
				served++
			}
			if served > 0 {
				c.activeTime = now
			}
			continue
		}
		var ids []rdb.StreamID
		t.s.log.each(t.g.lastID, func(en sentry, _ *sblock) bool {
			if en.id == t.g.lastID {
				return true
			}
			if count != 0 && int64(len(ids)) == count {
				return false
			}
			ids = append(ids, en.id)
			return true
		})
		for _, id := range ids {
			if t.g.entriesRead != -1 && !t.s.hasTombstones(id) {
				t.g.entriesRead++
			} else if t.s.entriesAdded != 0 {
				t.g.entriesRead = t.s.estimateEntriesRead(id)
			}
			t.g.lastID = id
			served++
			if noack {
				continue
			}
			if nk := t.g.pel[id]; nk != nil {
				delete(nk.consumer.pel, id)
				nk.consumer = c
				nk.deliveryTime, nk.count = now, 1
				c.pel[id] = nk
			} else {
				nk := &nack{deliveryTime: now, count: 1, consumer: c}
				t.g.pel[id] = nk
				c.pel[id] = nk
			}
		}
		if served > 0 {
			c.activeTime = now
		}
	}
	return nil
}
