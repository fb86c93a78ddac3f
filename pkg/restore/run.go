package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/resp"
)

// drainGrace is how long, after a failure, the other connections may take to
// deliver the replies to what they had sent, so that the account of what
// was written is exact (one second after an interruption).
const drainGrace = 10 * time.Second

// maxRedirects bounds how often one unit may be sent elsewhere.
const maxRedirects = 100

type runner struct {
	o       Options
	ctx     context.Context // the connections' life: ends after the drain
	cancel  context.CancelFunc
	src     rdb.Header
	target  Server
	cluster bool
	seed    string
	c       counters
	adm     *admission
	trk     *tracker
	lim     limiter

	mu       sync.Mutex
	pipes    map[string]*pipe
	owners   [cluster.NumSlots]string
	masters  []string // at the start, for the functions
	failErr  error
	stopping bool
	failed   atomic.Bool

	refreshing  atomic.Bool
	lastRefresh atomic.Int64 // unix ns

	nextSeq   int64
	sentBelow atomic.Int64
	funcs     [][]byte
	funcsDone bool

	payload bytes.Buffer
	cmdBuf  bytes.Buffer
	aw      *aof.Writer
	keyCmds *convert.KeyCommands
	reenc   *reencoder // makes the payloads when Options.Payload is nil
	// framed: values go as the file's bytes, framed rather than decoded
	// (Options.FramedValues, and the target takes the file's version).
	framed bool
	rawBuf []byte // RawValue's copy of a value from a streamed input
}

// Run writes the dataset r reads into the target of o. It returns what it
// did, also when it fails: the error then says why (a *KeyExistsError,
// *KeyError, *NodeError, *TargetError, *ResumeError, a source error from r,
// or the context's error), and Stats how far it got.
func Run(ctx context.Context, r *rdb.Reader, o Options) (Stats, error) {
	start := time.Now()
	o.defaults()
	connCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rn := &runner{o: o, ctx: connCtx, cancel: cancel, seed: o.Seed, pipes: map[string]*pipe{}}
	rn.aw = aof.NewWriter(&rn.cmdBuf)
	err := rn.run(ctx, r)
	if rn.keyCmds != nil {
		rn.keyCmds.Close()
	}
	st := rn.stats()
	st.Seconds = time.Since(start).Seconds()
	return st, err
}

func (rn *runner) run(ctx context.Context, r *rdb.Reader) error {
	if err := rn.connect(ctx); err != nil {
		return err
	}
	h, err := r.Header()
	if err != nil {
		return err
	}
	rn.src = h
	rn.framed = rn.o.FramedValues && rn.reenc != nil && AcceptsPayload(h.Version, rn.target.RDBVersion)
	step := int64(max(10000, 4*rn.o.Window*max(1, len(rn.masters))))
	rn.trk, err = newTracker(&rn.o, step, rn.c.keys.Load)
	if err != nil {
		return err
	}
	units := rn.o.Window * (max(1, len(rn.masters)) + 1)
	rn.adm = newAdmission(units, rn.o.MaxBytes)
	rn.lim = limiter{keysPerSec: rn.o.KeysPerSecond, bytesPerSec: rn.o.BytesPerSecond}

	rn.produce(ctx, r)
	if !rn.failed.Load() {
		rn.adm.waitIdle()
	}
	rn.shutdown()
	rn.mu.Lock()
	ferr := rn.failErr
	rn.mu.Unlock()
	if serr := rn.trk.final(ferr == nil, rn.sentBelow.Load()); serr != nil && ferr == nil {
		ferr = serr
	}
	return ferr
}

// connect probes the seed and, for a cluster, loads the slot map and probes
// every master.
func (rn *runner) connect(ctx context.Context) error {
	conn, err := rn.o.Dial(ctx, rn.seed)
	if err != nil {
		return &NodeError{Addr: rn.seed, Err: err}
	}
	defer conn.Close()
	srv, err := Probe(conn)
	if err != nil {
		return &NodeError{Addr: rn.seed, Err: err}
	}
	switch rn.o.Cluster {
	case ClusterAuto:
		rn.cluster = srv.Cluster
	case ClusterOn:
		if !srv.Cluster {
			return &TargetError{Msg: rn.seed + " is not a cluster node (INFO cluster: cluster_enabled:0)"}
		}
		rn.cluster = true
	}
	rn.target = srv
	if !rn.cluster {
		rn.masters = []string{rn.seed}
	} else {
		nodes, err := LoadNodes(conn)
		if err != nil {
			return &NodeError{Addr: rn.seed, Err: err}
		}
		if err := rn.setMap(nodes); err != nil {
			return err
		}
		for _, n := range nodes {
			if n.Addr == "" || slices.Contains(rn.masters, n.Addr) {
				continue
			}
			rn.masters = append(rn.masters, n.Addr)
			if n.Addr == rn.seed {
				continue
			}
			mc, err := rn.o.Dial(ctx, n.Addr)
			if err != nil {
				return &NodeError{Addr: n.Addr, Err: err}
			}
			ms, err := Probe(mc)
			mc.Close()
			if err != nil {
				return &NodeError{Addr: n.Addr, Err: err}
			}
			// Write for the oldest master, within its bulk limit.
			if ms.RDBVersion != 0 && (rn.target.RDBVersion == 0 || !AcceptsPayload(ms.RDBVersion, rn.target.RDBVersion) || ms.RDBVersion < rn.target.RDBVersion) {
				rn.target.RDBVersion = ms.RDBVersion
			}
			rn.target.MaxBulk = min(rn.target.MaxBulk, ms.MaxBulk)
			rn.target.Functions = rn.target.Functions && ms.Functions
		}
		slices.Sort(rn.masters)
	}
	if rn.o.TargetRDBVersion > 0 {
		rn.target.RDBVersion = rn.o.TargetRDBVersion
	}
	if rn.target.RDBVersion == 0 {
		return &TargetError{Msg: fmt.Sprintf("cannot tell which RDB version %s (%s) takes: FUNCTION DUMP is not available and the version is not in the table; give it (--target-rdb-version)", rn.seed, srv.Name())}
	}
	// Values that go as commands are written for the target's version.
	name := strconv.Itoa(rn.target.RDBVersion)
	if rn.target.RDBVersion == 80 {
		name = "VALKEY080"
	}
	t, err := rdb.TargetVersion(name)
	if err != nil {
		return &TargetError{Msg: fmt.Sprintf("%s takes RDB %d, which rdbtool cannot write commands for: %v", rn.seed, rn.target.RDBVersion, err)}
	}
	t.Valkey = t.Valkey || srv.Family == "valkey"
	t.DropFieldTTLs, t.DropFunctions = rn.o.DropFieldTTLs, rn.o.DropFunctions
	rn.keyCmds = convert.NewKeyCommands(rn.aw, convert.AOFOptions{Target: t})
	switch {
	case rn.o.AsCommands:
		rn.o.Payload = func(*bytes.Buffer, *rdb.Reader, *rdb.Entry, rdb.Header, int) (bool, error) { return false, nil }
	case rn.o.Payload == nil:
		rn.reenc = &reencoder{pw: rdb.NewPayloadWriter(t)}
		rn.o.Payload = rn.reenc.payload
	}
	return nil
}

// LoadNodes reads a cluster's masters and their slots from the node c is
// connected to: CLUSTER SHARDS, or CLUSTER SLOTS before 7.0. Over TLS, the
// masters' TLS ports are given.
func LoadNodes(c *resp.Conn) ([]cluster.Node, error) {
	r, err := c.Do("CLUSTER", "SHARDS")
	if err == nil {
		return cluster.FromShards(r, c.TLS(), c.Addr())
	}
	r, err2 := c.Do("CLUSTER", "SLOTS")
	if err2 != nil {
		return nil, fmt.Errorf("CLUSTER SHARDS: %v; CLUSTER SLOTS: %w", err, err2)
	}
	return cluster.FromSlots(r, c.Addr())
}

func (rn *runner) setMap(nodes []cluster.Node) error {
	m, err := cluster.NewMap(nodes)
	if err != nil {
		return &TargetError{Msg: "the cluster's slot map: " + err.Error()}
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	for s := range cluster.NumSlots {
		if i := m.Owner(s); i >= 0 {
			rn.owners[s] = m.Nodes[i].Addr
		} else {
			rn.owners[s] = ""
		}
	}
	return nil
}

// refreshMap reloads the slot map in the background, at most once a second.
func (rn *runner) refreshMap() {
	if time.Now().UnixNano()-rn.lastRefresh.Load() < int64(time.Second) || !rn.refreshing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer rn.refreshing.Store(false)
		defer rn.lastRefresh.Store(time.Now().UnixNano())
		addrs := append([]string{rn.seed}, rn.masters...)
		for _, addr := range addrs {
			c, err := rn.o.Dial(rn.ctx, addr)
			if err != nil {
				continue
			}
			nodes, err := LoadNodes(c)
			c.Close()
			if err == nil && rn.setMap(nodes) == nil {
				return
			}
		}
	}()
}

func (rn *runner) produce(ctx context.Context, r *rdb.Reader) {
	for {
		if err := ctx.Err(); err != nil {
			rn.fail(fmt.Errorf("interrupted: %w", err))
			return
		}
		if rn.failed.Load() {
			return
		}
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			rn.fail(err)
			return
		}
		switch e.Kind {
		case rdb.EntryFunction:
			rn.funcs = append(rn.funcs, convert.LibraryCode(e))
			if rn.funcsDone {
				err = rn.restoreFunctions(ctx, rn.funcs[len(rn.funcs)-1:])
			}
		case rdb.EntryModuleAux:
			rn.c.moduleAux.Add(1)
		case rdb.EntryKey:
			if !rn.funcsDone {
				rn.funcsDone = true
				err = rn.restoreFunctions(ctx, rn.funcs)
			}
			if err == nil {
				err = rn.key(ctx, r, e)
			}
		}
		if err != nil {
			rn.fail(err)
			return
		}
	}
	if !rn.funcsDone {
		rn.funcsDone = true
		if err := rn.restoreFunctions(ctx, rn.funcs); err != nil {
			rn.fail(err)
		}
	}
}

func (rn *runner) key(ctx context.Context, r *rdb.Reader, e *rdb.Entry) error {
	seq := rn.nextSeq
	rn.nextSeq++
	skip := func(c *atomic.Int64) error {
		c.Add(1)
		rn.trk.finish(seq)
		if rn.framed {
			_, err := r.RawValue(rn.rawBuf)
			return err
		}
		_, err := r.SkipValue()
		return err
	}
	if rn.trk.previously(seq) {
		return skip(&rn.c.resumed)
	}
	if !rn.o.Filter.Match(e) {
		return skip(&rn.c.filtered)
	}
	db := e.DB
	if rn.o.MapDB != nil {
		var ok bool
		if db, ok = rn.o.MapDB(e.DB); !ok {
			return skip(&rn.c.filtered)
		}
	}
	if rn.cluster && db != 0 {
		return &TargetError{Msg: fmt.Sprintf("key %s is in database %d, and a cluster has only database 0: choose what goes there with --db or --map-db", rdb.QuoteBytes(e.Key), db)}
	}
	now := rn.o.NowMs
	if now == 0 && e.HasExpire { // only TTLs need it; the clock costs, per key
		now = time.Now().UnixMilli()
	}
	if e.HasExpire && e.ExpireAtMs <= now {
		return skip(&rn.c.expired)
	}
	u, err := rn.build(r, e, seq, db, now)
	if err != nil {
		return err
	}
	u.uncertain = rn.trk.uncertain(seq)
	if err := rn.lim.wait(ctx, u.size()); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if !rn.adm.acquire(u.size()) {
		return nil // failed meanwhile
	}
	if err := rn.trk.beforeSend(seq); err != nil {
		rn.retire(u)
		return err
	}
	rn.sentBelow.Store(seq + 1)
	rn.route(u, false)
	return rn.trk.maybeSave()
}

// tmpKey is the helper key a value is built under: in the key's slot, so
// that the rename stays on one node.
func tmpKey(slot int) []byte {
	return []byte("{" + cluster.Tag(slot) + "}rdbtool:restore:tmp")
}

// build makes a key's unit: a RESTORE when a payload goes, else a
// transaction of commands.
func (rn *runner) build(r *rdb.Reader, e *rdb.Entry, seq int64, db int, now int64) (*unit, error) {
	u := &unit{seq: seq, key: bytes.Clone(e.Key), db: db, slot: -1, renamenx: -1}
	if rn.cluster {
		u.slot = cluster.Slot(e.Key)
	}
	if rn.framed {
		body, err := r.RawValue(rn.rawBuf)
		if err != nil {
			return nil, err
		}
		rn.rawBuf = body[:0] // in memory, body is the input itself, which RawValue never writes
		if int64(len(body))+payloadOverhead <= rn.target.MaxBulk {
			u.cmds = rn.restoreCommand(e, func(dst []byte) []byte {
				return appendFramedPayload(dst, e.Type.Wire(), body, rn.src.Version)
			}, len(body)+payloadOverhead, now)
			u.ncmds = 1
			return u, nil
		}
		rn.payload.Reset()
		rn.payload.WriteByte(e.Type.Wire())
		rn.payload.Write(body)
		appendFooter(&rn.payload, rn.src.Version)
		return rn.buildTooBig(r, e, u, db)
	}
	rn.payload.Reset()
	var ttlsBefore uint64
	if rn.reenc != nil {
		ttlsBefore = rn.reenc.dropped(rdb.FeatureFieldTTLs)
	}
	ok, err := rn.o.Payload(&rn.payload, r, e, rn.src, rn.target.RDBVersion)
	if err != nil {
		return nil, err
	}
	if rn.reenc != nil {
		rn.c.fieldTTLsOff.Add(int64(rn.reenc.dropped(rdb.FeatureFieldTTLs) - ttlsBefore))
	}
	if ok && int64(rn.payload.Len()) <= rn.target.MaxBulk {
		payload := rn.payload.Bytes()
		u.cmds = rn.restoreCommand(e, func(dst []byte) []byte { return resp.AppendBulk(dst, payload) }, len(payload), now)
		u.ncmds = 1
		return u, nil
	}
	if ok {
		return rn.buildTooBig(r, e, u, db)
	}
	if e.Type.Kind() == rdb.KindModule {
		return nil, &TargetError{Msg: fmt.Sprintf("key %s: a module value (%s) goes only as a DUMP payload, and %s does not take this file's (RDB %d) payloads", rdb.QuoteBytes(e.Key), e.Type, rn.seed, rn.src.Version)}
	}
	return rn.buildAsCommands(u, r, e, db)
}

// buildTooBig sends as commands a value whose payload, in rn.payload, is
// too big for the target's proto-max-bulk-len: they are made from the
// payload, since the value has been read already.
func (rn *runner) buildTooBig(r *rdb.Reader, e *rdb.Entry, u *unit, db int) (*unit, error) {
	pr, pe, err := payloadReader(rn.payload.Bytes(), rn.src)
	if err != nil {
		return nil, err
	}
	defer pr.Close()
	pe.DB, pe.HasExpire, pe.ExpireAtMs = e.DB, e.HasExpire, e.ExpireAtMs
	return rn.buildAsCommands(u, pr, pe, db)
}

// buildAsCommands makes the unit of the value r is on as a transaction.
func (rn *runner) buildAsCommands(u *unit, vr *rdb.Reader, ve *rdb.Entry, db int) (*unit, error) {
	if err := rn.buildCommands(u, vr, ve); err != nil {
		var te *TargetError
		if errors.As(err, &te) {
			return nil, err
		}
		return nil, &KeyError{Key: u.key, DB: db, Err: err}
	}
	return u, nil
}

// restoreCommand makes RESTORE key ttl payload [ABSTTL] [REPLACE]
// [IDLETIME s | FREQ f], the payload appended by appendPayload (size bytes
// long, the RESP framing aside), into a pooled buffer.
func (rn *runner) restoreCommand(e *rdb.Entry, appendPayload func(dst []byte) []byte, size int, now int64) []byte {
	ttl := int64(0)
	abs := rn.target.RDBVersion >= 9 // ABSTTL, IDLETIME and FREQ came with Redis 5.0
	if e.HasExpire {
		ttl = e.ExpireAtMs
		if !abs {
			ttl = max(1, e.ExpireAtMs-now)
		}
	}
	n := 4
	if abs {
		n++
	}
	if rn.o.Replace {
		n++
	}
	idle := abs && e.HasIdle && !e.HasFreq
	freq := abs && e.HasFreq
	if idle || freq {
		n += 2
	}
	dst := getBuf(size + len(e.Key) + 128)
	dst = resp.AppendArray(dst, n)
	dst = resp.AppendBulkString(dst, "RESTORE")
	dst = resp.AppendBulk(dst, e.Key)
	dst = resp.AppendBulkInt(dst, ttl)
	dst = appendPayload(dst)
	if abs {
		dst = resp.AppendBulkString(dst, "ABSTTL")
	}
	if rn.o.Replace {
		dst = resp.AppendBulkString(dst, "REPLACE")
	}
	switch {
	case idle:
		dst = resp.AppendBulkString(dst, "IDLETIME")
		dst = resp.AppendBulkInt(dst, int64(e.IdleSeconds))
	case freq:
		dst = resp.AppendBulkString(dst, "FREQ")
		dst = resp.AppendBulkInt(dst, int64(e.Freq))
	}
	return dst
}

// buildCommands makes the transaction that rebuilds a value: under a helper
// key renamed with RENAMENX, or over the key itself with Replace.
func (rn *runner) buildCommands(u *unit, r *rdb.Reader, e *rdb.Entry) error {
	rn.cmdBuf.Reset()
	w := rn.aw
	cmd := func(args ...[]byte) {
		w.WriteCommand(args...)
		u.ncmds++
	}
	name := u.key
	cmd([]byte("MULTI"))
	if rn.o.Replace {
		cmd([]byte("DEL"), u.key)
	} else {
		if u.slot < 0 {
			u.slot = cluster.Slot(u.key) // one server: the tag does not matter, but is the same
		}
		name = tmpKey(u.slot)
		cmd([]byte("DEL"), name)
	}
	var n int64
	var err error
	if e.Type.Kind() == rdb.KindString {
		n, err = rn.stringCommands(r, e, name)
	} else {
		before := rn.keyCmds.Dropped(rdb.FeatureFieldTTLs)
		n, err = rn.keyCmds.Write(r, e, name)
		rn.c.fieldTTLsOff.Add(int64(rn.keyCmds.Dropped(rdb.FeatureFieldTTLs) - before))
	}
	if err != nil {
		return err
	}
	u.ncmds += int(n)
	if !rn.o.Replace {
		u.renamenx = u.ncmds - 1 // its index among the replies EXEC returns
		cmd([]byte("RENAMENX"), name, u.key)
		cmd([]byte("DEL"), name)
	}
	cmd([]byte("EXEC"))
	if err := w.Flush(); err != nil {
		return err
	}
	u.cmds = append(getBuf(rn.cmdBuf.Len()), rn.cmdBuf.Bytes()...)
	u.tx, u.asCommands = true, true
	return nil
}

// stringCommands sets a string value. One longer than the target's
// proto-max-bulk-len cannot be held at all: SET refuses it, and APPEND and
// SETRANGE check the length they would make.
func (rn *runner) stringCommands(r *rdb.Reader, e *rdb.Entry, name []byte) (int64, error) {
	el, err := r.NextElem()
	if err != nil {
		return 0, err
	}
	if int64(len(el.Member)) > rn.target.MaxBulk {
		return 0, &TargetError{Msg: fmt.Sprintf("key %s: a string of %d bytes is longer than %s takes (proto-max-bulk-len %d)", rdb.QuoteBytes(e.Key), len(el.Member), rn.seed, rn.target.MaxBulk)}
	}
	rn.aw.WriteCommand([]byte("SET"), name, el.Member)
	n := int64(1)
	if e.HasExpire {
		rn.aw.WriteCommand([]byte("PEXPIREAT"), name, []byte(strconv.FormatInt(e.ExpireAtMs, 10)))
		n++
	}
	if _, err := r.SkipValue(); err != nil {
		return 0, err
	}
	return n, nil
}

// route queues a unit on the pipe of the node that should take it.
func (rn *runner) route(u *unit, first bool) {
	addr := u.ask
	if addr == "" {
		addr = rn.seed
		if rn.cluster {
			rn.mu.Lock()
			addr = rn.owners[u.slot]
			rn.mu.Unlock()
			if addr == "" {
				rn.refreshMap()
				rn.retryLater(nil, u, &resp.Error{Msg: "CLUSTERDOWN Hash slot " + strconv.Itoa(u.slot) + " is not served by any master in the slot map"})
				return
			}
		}
	}
	p := rn.pipe(addr)
	if p == nil || !p.push(u, first) {
		rn.retire(u)
	}
}

// pipe returns the pipeline to addr, starting it when needed; nil once the
// run is stopping.
func (rn *runner) pipe(addr string) *pipe {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.stopping {
		return nil
	}
	p := rn.pipes[addr]
	if p == nil {
		p = newPipe(rn, addr)
		rn.pipes[addr] = p
	}
	return p
}

// outcome acts on what the replies to a unit said.
func (rn *runner) outcome(p *pipe, u *unit, res result) {
	switch res.kind {
	case resultOK:
		rn.c.keys.Add(1)
		rn.c.bytes.Add(u.size())
		if u.asCommands {
			rn.c.asCommands.Add(1)
		}
		p.keys.Add(1)
		rn.finish(u)
	case resultExpired:
		rn.c.expired.Add(1)
		rn.finish(u)
	case resultExists:
		switch {
		case rn.o.SkipExisting:
			rn.c.skipped.Add(1)
			rn.finish(u)
		case u.uncertain:
			rn.c.present.Add(1)
			rn.finish(u)
		default:
			rn.retire(u)
			rn.fail(&KeyExistsError{Key: u.key, DB: u.db})
		}
	case resultRedirect:
		rd, ok := redirectOf(res.err, p.addr)
		u.redirects++
		if !ok || !rn.cluster || u.redirects > maxRedirects {
			rn.retire(u)
			rn.fail(&KeyError{Key: u.key, DB: u.db, Addr: p.addr, Err: res.err})
			return
		}
		if rd.Ask {
			rn.c.ask.Add(1)
			u.ask = rd.Addr
		} else {
			rn.c.moved.Add(1)
			rn.mu.Lock()
			rn.owners[rd.Slot] = rd.Addr
			rn.mu.Unlock()
			rn.refreshMap()
		}
		rn.route(u, true)
	case resultRetry:
		rn.retryLater(p, u, res.err)
	default:
		rn.retire(u)
		if strings.Contains(res.err.Msg, "'HPEXPIREAT'") {
			rn.fail(&TargetError{Msg: fmt.Sprintf("key %s has hash-field TTLs, which %s (%s) cannot hold: they need Redis 7.4 or Valkey 9; --drop-field-ttls leaves them out", rdb.QuoteBytes(u.key), p.addr, rn.target.Name())})
			return
		}
		rn.fail(&KeyError{Key: u.key, DB: u.db, Addr: p.addr, Err: res.err})
	}
}

// HoldsFieldTTLs reports whether a server writing RDB version v has
// hash-field TTLs (Redis 7.4+, Valkey 9+).
func HoldsFieldTTLs(v int) bool { return v >= 12 }

// retryLater sends a unit again after a pause that grows with each try,
// until Options.RetryTimeout.
func (rn *runner) retryLater(p *pipe, u *unit, e *resp.Error) {
	switch e.Code() {
	case "TRYAGAIN":
		rn.c.tryAgain.Add(1)
	case "CLUSTERDOWN":
		rn.c.clusterDown.Add(1)
		rn.refreshMap()
	case "LOADING":
		rn.c.loading.Add(1)
	}
	now := time.Now()
	if u.retrySince.IsZero() {
		u.retrySince = now
	}
	if now.Sub(u.retrySince) > rn.o.RetryTimeout {
		addr := rn.seed
		if p != nil {
			addr = p.addr
		}
		rn.retire(u)
		rn.fail(&NodeError{Addr: addr, Err: fmt.Errorf("key %s still refused after %v: %w", rdb.QuoteBytes(u.key), rn.o.RetryTimeout, e)})
		return
	}
	tries := int(now.Sub(u.retrySince) / (50 * time.Millisecond))
	delay := min(time.Duration(1+tries)*20*time.Millisecond, time.Second)
	time.AfterFunc(delay, func() { rn.route(u, true) })
}

func (rn *runner) finish(u *unit) {
	rn.trk.finish(u.seq)
	rn.retire(u)
}

// unitLost is a unit sent whose reply will never come.
func (rn *runner) unitLost(u *unit) { rn.retire(u) }

// retire gives up a unit for good: its room in the window, its buffer.
func (rn *runner) retire(u *unit) {
	rn.adm.release(u.size())
	putBuf(u.cmds)
	u.cmds = nil
}

// Units' command buffers are recycled: a restore would otherwise allocate
// as much as the file, and the garbage collector's workers, which run on
// otherwise idle cores, would take them from the server being fed. One pool
// per power of two from 4 KiB to 1 MiB, so that a small unit never holds a
// big buffer (the window counts bytes used, and may not be exceeded twice).
var bufPools [9]sync.Pool

// bufClass is the pool of buffers of 4 KiB << class bytes; -1 when n is
// larger than the largest.
func bufClass(n int) int {
	for c := range bufPools {
		if n <= 4096<<c {
			return c
		}
	}
	return -1
}

func getBuf(n int) []byte {
	c := bufClass(n)
	if c < 0 {
		return make([]byte, 0, n)
	}
	if b, ok := bufPools[c].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 4096<<c)
}

func putBuf(b []byte) {
	c := bufClass(cap(b))
	if c < 0 || cap(b) != 4096<<c {
		return // not one of ours
	}
	b = b[:0]
	bufPools[c].Put(&b)
}

func (rn *runner) dead(p *pipe) bool { return p.err.Load() != nil }

func (rn *runner) nodeFailed(p *pipe, err error) {
	msg := err.Error()
	p.err.CompareAndSwap(nil, &msg)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("the connection was closed (%w)", err)
	}
	rn.fail(&NodeError{Addr: p.addr, Err: err})
}

// fail records the first error and stops the run: nothing more is sent; the
// connections deliver the replies still due, for up to drainGrace.
func (rn *runner) fail(err error) {
	rn.mu.Lock()
	first := rn.failErr == nil
	if first {
		rn.failErr = err
	}
	rn.mu.Unlock()
	if !first {
		return
	}
	rn.failed.Store(true)
	rn.adm.stop()
	rn.closePipes(true)
	grace := drainGrace
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		grace = time.Second // Ctrl-C: stop within a second, whatever is still due
	}
	time.AfterFunc(grace, rn.cancel)
}

// closePipes stops every pipe from taking more units; with drop, the units
// still queued are given up. It returns the pipes.
func (rn *runner) closePipes(drop bool) []*pipe {
	rn.mu.Lock()
	rn.stopping = true
	pipes := make([]*pipe, 0, len(rn.pipes))
	for _, p := range rn.pipes {
		pipes = append(pipes, p)
	}
	rn.mu.Unlock()
	for _, p := range pipes {
		for _, u := range p.close(drop) {
			rn.retire(u)
		}
	}
	return pipes
}

// shutdown closes every pipe once its queue is sent and waits for their
// readers.
func (rn *runner) shutdown() {
	for _, p := range rn.closePipes(rn.failed.Load()) {
		<-p.done
	}
}

func (rn *runner) stats() Stats {
	c := &rn.c
	st := Stats{
		Keys: c.keys.Load(), AsCommands: c.asCommands.Load(), Bytes: c.bytes.Load(), Skipped: c.skipped.Load(),
		Present: c.present.Load(), Expired: c.expired.Load(), Filtered: c.filtered.Load(), Resumed: c.resumed.Load(),
		Functions: c.functions.Load(), ModuleAux: c.moduleAux.Load(), FieldTTLsOff: c.fieldTTLsOff.Load(),
		Moved: c.moved.Load(), Ask: c.ask.Load(), TryAgain: c.tryAgain.Load(), ClusterDown: c.clusterDown.Load(), Loading: c.loading.Load(),
		Cluster: rn.cluster, TargetRDB: rn.target.RDBVersion,
	}
	if rn.target.Version != "" {
		st.TargetServer = rn.target.Name()
	}
	rn.mu.Lock()
	defer rn.mu.Unlock()
	addrs := slices.Clone(rn.masters)
	for a := range rn.pipes {
		if !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	for _, a := range addrs {
		ns := NodeStats{Addr: a}
		if p := rn.pipes[a]; p != nil {
			ns.Keys = p.keys.Load()
			ns.InFlight = p.lost.Load() + p.pending.Load()
			if e := p.err.Load(); e != nil {
				ns.Err = *e
			}
		}
		st.InFlight += ns.InFlight
		st.Masters = append(st.Masters, ns)
	}
	return st
}

// restoreFunctions loads libraries on every master with FUNCTION RESTORE,
// one library at a time: one that exists with the same code is fine, with
// other code it is replaced (Replace), kept (SkipExisting) or an error.
func (rn *runner) restoreFunctions(ctx context.Context, libs [][]byte) error {
	if len(libs) == 0 {
		return nil
	}
	if !rn.target.Functions || rn.target.RDBVersion < 10 {
		if rn.o.DropFunctions {
			return nil
		}
		return &TargetError{Msg: fmt.Sprintf("%s cannot hold function libraries (they need Redis 7.0): --drop-functions leaves them out", rn.seed)}
	}
	for _, addr := range rn.masters {
		c, err := rn.o.Dial(ctx, addr)
		if err != nil {
			return &NodeError{Addr: addr, Err: err}
		}
		err = rn.restoreFunctionsOn(c, libs)
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (rn *runner) restoreFunctionsOn(c *resp.Conn, libs [][]byte) error {
	for _, code := range libs {
		payload := string(functionPayload(code, rn.target.RDBVersion))
		args := []string{"FUNCTION", "RESTORE", payload}
		if rn.o.Replace {
			args = append(args, "REPLACE")
		}
		_, err := c.Do(args...)
		var re *resp.Error
		if err == nil {
			rn.c.functions.Add(1)
			continue
		}
		if !errors.As(err, &re) || !strings.Contains(re.Msg, "already exists") {
			return &NodeError{Addr: c.Addr(), Err: fmt.Errorf("FUNCTION RESTORE of library %s: %w", convert.LibraryName(code), err)}
		}
		name := convert.LibraryName(code)
		r, err := c.Do("FUNCTION", "LIST", "LIBRARYNAME", name, "WITHCODE")
		if err != nil {
			return &NodeError{Addr: c.Addr(), Err: err}
		}
		if sameLibrary(r, name, code) || rn.o.SkipExisting {
			continue
		}
		return &TargetError{Msg: fmt.Sprintf("function library %s exists on %s with other code: --replace replaces it, --skip-existing keeps it", name, c.Addr())}
	}
	return nil
}

// sameLibrary looks for the library in a FUNCTION LIST ... WITHCODE reply.
func sameLibrary(r resp.Reply, name string, code []byte) bool {
	for _, lib := range r.Elems {
		var n, c string
		for i := 0; i+1 < len(lib.Elems); i += 2 {
			switch lib.Elems[i].Text() {
			case "library_name":
				n = lib.Elems[i+1].Text()
			case "library_code":
				c = lib.Elems[i+1].Text()
			}
		}
		if n == name && c == string(code) {
			return true
		}
	}
	return false
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
