package convert

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// AOFOptions tune RDBToAOF.
type AOFOptions struct {
	Filter Filter
	// Target is the server the AOF is for, as for an RDB file
	// (rdb.TargetVersion gives it for a named server): it decides which
	// commands may be used, and with Restore the DUMP payloads' encoding and
	// version. What the target cannot hold is refused, naming the first key,
	// with an *rdb.UnsupportedError whose Feature names the drop flag, unless
	// that Drop* flag is set: then it is left out and counted in
	// AOFStats.Dropped. A Version of 0 means the input's own version (its
	// drop flags still apply).
	//
	// Commands by target: FUNCTION LOAD needs RDB 10 (Redis 7.0); streams 9
	// (Redis 5.0), and their counters (XGROUP CREATE ... ENTRIESREAD, XSETID
	// ... ENTRIESADDED ... MAXDELETEDID) 10; HPEXPIREAT needs Redis 7.4
	// (RDB 12+) or Valkey 9 (VALKEY080): Valkey 7.2-8.1 and Redis 7.2 and
	// older have no hash field TTLs. Module values, key metadata and a
	// Redis 8.6 stream's idempotency state have no command form (module
	// values and IDMP need Restore); module aux records have no AOF form at
	// all.
	Target rdb.WriterOptions
	// Restore writes every key as RESTORE key ttl payload ABSTTL [IDLETIME s]
	// [FREQ f] with a DUMP payload encoded for Target (rdb.PayloadWriter), instead
	// of the commands that rebuild it. Module values need this (and the module
	// loaded in the server). Below RDB 9 (Redis 5.0), which has no ABSTTL, a
	// key's TTL follows as PEXPIREAT and LRU/LFU hints are dropped.
	Restore bool
	// SpoolDir is where a big stream's entries wait while its consumer groups
	// are read (see RDBToAOF); "" means os.TempDir().
	SpoolDir string
}

// AOFStats counts what RDBToAOF wrote.
type AOFStats struct {
	Keys, Filtered, Commands int64
	// Dropped counts what the target could not hold and the drop flags
	// left out, in rdb.Feature order (as rdb.Writer.Dropped).
	Dropped []rdb.DropCount
}

// itemsPerCommand is how many elements Redis's own AOF rewrite puts in one
// RPUSH/SADD/ZADD/HMSET (AOF_REWRITE_ITEMS_PER_CMD).
const itemsPerCommand = 64

// streamSpoolMemory is how many bytes of a stream's entries wait in memory
// for its groups before they go to a temporary file.
const streamSpoolMemory = 8 << 20

// RDBToAOF writes the dataset of an RDB stream as the RESP commands that
// recreate it exactly on the target server, in the forms Redis's AOF rewrite
// uses: SELECT on database changes, FUNCTION LOAD, SET/RPUSH/SADD/ZADD/HMSET
// in batches of 64 items, PEXPIREAT and HPEXPIREAT for TTLs. Big values are
// written as they are read.
//
// Streams are rebuilt exactly, pending entries included, which Redis's own
// rewrite does not do (XCLAIM ... FORCE skips an ID whose entry was deleted
// or trimmed while still pending): XADD of the live entries and of a
// placeholder at each such ID, in ID order; XSETID with the last ID and the
// entries-added counter; XGROUP CREATE ... ENTRIESREAD; XGROUP
// CREATECONSUMER; XCLAIM group consumer 0 ID TIME ms RETRYCOUNT n JUSTID
// FORCE for every pending entry; then XTRIM MAXLEN drops the placeholders
// below the first live entry (trimming leaves the max-deleted ID alone), XDEL
// the others (the source lost those to XDEL, so its max-deleted ID is at
// least theirs), and a last XSETID restores the max-deleted ID (given only
// when it is not 0-0, which XSETID takes as "not given"). A stream's entries
// wait for its groups in memory up to 8 MiB, then in a temporary file.
func RDBToAOF(r *rdb.Reader, w *aof.Writer, o AOFOptions) (AOFStats, error) {
	c := &aofConverter{r: r, w: w, o: o, db: -1, dropped: map[rdb.Feature]uint64{}}
	h, err := r.Header()
	if err != nil {
		return c.st, err
	}
	if o.Target.Version == 0 {
		t, err := rdb.TargetVersion(h.String())
		if err != nil {
			return c.st, &rdb.UnsupportedError{What: fmt.Sprintf("no AOF target for an input of %s: %v", h, err)}
		}
		t.DropFieldTTLs, t.DropFunctions, t.DropStreams = o.Target.DropFieldTTLs, o.Target.DropFunctions, o.Target.DropStreams
		t.DropIDMP, t.DropModules, t.DropKeyMeta = o.Target.DropIDMP, o.Target.DropModules, o.Target.DropKeyMeta
		c.o.Target = t
	}
	c.can = capabilitiesOf(c.o.Target)
	if o.Restore {
		c.payload = rdb.NewPayloadWriter(c.o.Target)
	}
	c.entries = newSpool(streamSpoolMemory, o.SpoolDir)
	defer c.entries.reset()
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.stats(), err
		}
		switch e.Kind {
		case rdb.EntryFunction:
			err = c.function(e)
		case rdb.EntryModuleAux:
			err = c.drop(rdb.FeatureModuleAux, c.o.Target.DropModules, nil,
				fmt.Sprintf("module aux data (module %s) cannot be written", e.Module.Name), "an AOF has no form for it")
		case rdb.EntrySlotInfo:
			c.dropped[rdb.FeatureSlotInfo]++
		case rdb.EntrySlotImport:
			c.dropped[rdb.FeatureSlotImport]++
		case rdb.EntryKey:
			if !o.Filter.Match(e) {
				c.st.Filtered++
				_, err = r.SkipValue()
				break
			}
			err = c.key(e)
		}
		if err != nil {
			return c.stats(), err
		}
	}
	return c.stats(), w.Flush()
}

// capabilities are the commands a target server knows.
type capabilities struct {
	fieldTTLs      bool // HPEXPIREAT: Redis 7.4+, Valkey 9
	functions      bool // FUNCTION LOAD: Redis 7.0+
	streams        bool // XADD...: Redis 5.0+
	streamCounters bool // ENTRIESREAD, XSETID ENTRIESADDED/MAXDELETEDID: Redis 7.0+
	createConsumer bool // XGROUP CREATECONSUMER: Redis 6.2+
	restoreArgs    bool // RESTORE ... ABSTTL IDLETIME FREQ: Redis 5.0+
	name           string
}

func capabilitiesOf(t rdb.WriterOptions) capabilities {
	v := t.Version
	c := capabilities{
		fieldTTLs:      (v >= 12 && !t.Valkey) || v == 80,
		functions:      v >= 10,
		streams:        v >= 9,
		streamCounters: v >= 10,
		createConsumer: v >= 10,
		restoreArgs:    v >= 9,
	}
	if v == 9 {
		// RDB 9 is Redis 5.0 to 6.2: CREATECONSUMER came with 6.2.
		major, minor := 6, 2 // the newest line writing 9, as rdb.TargetVersion picks
		if t.ServerVersion != "" {
			fmt.Sscanf(t.ServerVersion, "%d.%d", &major, &minor)
		}
		c.createConsumer = major > 6 || major == 6 && minor >= 2
	}
	family := "Redis"
	if t.Valkey {
		family = "Valkey"
	}
	c.name = fmt.Sprintf("RDB version %d", v)
	if t.ServerVersion != "" {
		c.name = fmt.Sprintf("%s %s (RDB %d)", family, t.ServerVersion, v)
	}
	if v == 80 {
		c.name = "Valkey 9 (VALKEY080)"
	}
	return c
}

type aofConverter struct {
	r       *rdb.Reader
	w       *aof.Writer
	o       AOFOptions
	can     capabilities
	payload *rdb.PayloadWriter
	st      AOFStats
	dropped map[rdb.Feature]uint64
	libs    LibraryCheck // libraries seen, each checked as Redis would load it
	db      int
	keyName []byte
	batch   itemBatch
	num     []byte
	entries *spool // a stream's entries, waiting for its groups
	stream  streamState
}

// stats returns the counts with the drops of both paths.
func (c *aofConverter) stats() AOFStats {
	st := c.st
	counts := maps.Clone(c.dropped)
	if c.payload != nil {
		for _, d := range c.payload.Dropped() {
			counts[d.Feature] += d.Count
		}
	}
	for _, f := range slices.Sorted(maps.Keys(counts)) {
		st.Dropped = append(st.Dropped, rdb.DropCount{Feature: f, Count: counts[f]})
	}
	return st
}

// drop counts an item of a feature the target cannot hold when allowed, or
// returns the refusal ("<what> for <target> (<why>)"), naming the current key
// when key is set.
func (c *aofConverter) drop(f rdb.Feature, allowed bool, key []byte, what, why string) error {
	if allowed {
		c.dropped[f]++
		return nil
	}
	err := &rdb.UnsupportedError{What: what + " for " + c.can.name + " (" + why + ")", Feature: f}
	if key != nil {
		return &KeyError{Key: bytes.Clone(key), Err: err}
	}
	return err
}

// KeyError is a key RDBToAOF cannot write.
type KeyError struct {
	Key []byte
	Err error
}

func (e *KeyError) Error() string { return "key " + rdb.QuoteBytes(e.Key) + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

func (c *aofConverter) function(e *rdb.Entry) error {
	if err := c.libs.Check(e); err != nil {
		return err // a library Redis would refuse to load
	}
	code := e.Function
	if f := e.FunctionPreGA; f != nil {
		// as Redis 7.0 converts a 7.0-RC record
		code = []byte("#!" + string(f.Engine) + " name=" + string(f.Name) + "\n" + string(f.Code))
	}
	if !c.can.functions {
		shebang, _, _ := bytes.Cut(code, []byte("\n"))
		return c.drop(rdb.FeatureFunctions, c.o.Target.DropFunctions, nil,
			"function library "+rdb.QuoteBytes(shebang)+" cannot be written", "FUNCTION LOAD needs Redis 7.0, RDB 10")
	}
	return c.cmd("FUNCTION", "LOAD", code)
}

// cmd writes one command; arguments may be string or []byte.
func (c *aofConverter) cmd(args ...any) error {
	if err := c.w.BeginCommand(len(args)); err != nil {
		return err
	}
	for _, a := range args {
		var err error
		switch v := a.(type) {
		case string:
			err = c.w.WriteArg([]byte(v))
		case []byte:
			err = c.w.WriteArg(v)
		}
		if err != nil {
			return err
		}
	}
	c.st.Commands++
	return nil
}

func (c *aofConverter) itoa(v int64) []byte {
	c.num = strconv.AppendInt(c.num[:0], v, 10)
	return c.num
}

func (c *aofConverter) selectDB(db int) error {
	if db == c.db {
		return nil
	}
	c.db = db
	return c.cmd("SELECT", strconv.Itoa(db))
}

func (c *aofConverter) key(e *rdb.Entry) error {
	c.keyName = append(c.keyName[:0], e.Key...)
	if c.o.Restore {
		return c.restore(e) // the PayloadWriter refuses or drops what it cannot hold
	}
	if len(e.KeyMeta) > 0 {
		if err := c.drop(rdb.FeatureKeyMeta, c.o.Target.DropKeyMeta, c.keyName, "key metadata cannot be written", "neither commands nor RESTORE carry Redis 8.6 key metadata"); err != nil {
			return err
		}
	}
	kind := e.Type.Kind()
	switch {
	case kind == rdb.KindModule:
		if err := c.drop(rdb.FeatureModules, c.o.Target.DropModules, c.keyName,
			"module values cannot be rebuilt by commands", "RESTORE payloads can: --restore"); err != nil {
			return err
		}
		_, err := c.r.SkipValue()
		return err
	case kind == rdb.KindStream && !c.can.streams:
		if err := c.drop(rdb.FeatureStreams, c.o.Target.DropStreams, c.keyName, "streams cannot be written", "they need Redis 5.0, RDB 9"); err != nil {
			return err
		}
		_, err := c.r.SkipValue()
		return err
	}
	if err := c.selectDB(e.DB); err != nil {
		return err
	}
	c.st.Keys++
	var err error
	switch kind {
	case rdb.KindString:
		el, err2 := c.r.NextElem()
		if err2 != nil {
			return err2
		}
		err = c.cmd("SET", c.keyName, el.Member)
	case rdb.KindList:
		err = c.batched("RPUSH", false)
	case rdb.KindSet:
		err = c.batched("SADD", false)
	case rdb.KindZSet:
		err = c.batched("ZADD", true)
	case rdb.KindHash:
		err = c.hash()
	case rdb.KindStream:
		err = c.streamCommands()
	}
	if err != nil {
		return err
	}
	if _, err := c.r.SkipValue(); err != nil {
		return err
	}
	if e.HasExpire {
		return c.cmd("PEXPIREAT", c.keyName, c.itoa(e.ExpireAtMs))
	}
	return nil
}

// batched writes a collection as commands of up to 64 items: RPUSH/SADD
// (member) or ZADD (score member).
func (c *aofConverter) batched(name string, scored bool) error {
	c.batch.reset()
	c.batch.perItem = 1
	if scored {
		c.batch.perItem = 2
	}
	for {
		el, err := c.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if scored {
			c.batch.addScore(el.Score)
		}
		c.batch.add(el.Member)
		if c.batch.items() >= itemsPerCommand {
			if err := c.flushBatch(name); err != nil {
				return err
			}
		}
	}
	return c.flushBatch(name)
}

// itemBatch holds the arguments of the command being batched: copies of the
// elements (an element's bytes are valid only until the next one is read).
type itemBatch struct {
	arena   []byte
	ends    []int // end of each argument in arena
	perItem int   // arguments per item: 1, or 2 for score/member and field/value
	n       int   // arguments added
}

func (b *itemBatch) reset()             { b.arena, b.ends, b.n = b.arena[:0], b.ends[:0], 0 }
func (b *itemBatch) items() int         { return b.n / max(b.perItem, 1) }
func (b *itemBatch) addScore(f float64) { b.arena = appendScore(b.arena, f); b.end() }
func (b *itemBatch) add(p []byte)       { b.arena = append(b.arena, p...); b.end() }
func (b *itemBatch) end()               { b.ends = append(b.ends, len(b.arena)); b.n++ }

// flushBatch writes NAME key arg... from the batch, if it holds anything.
func (c *aofConverter) flushBatch(name string) error {
	b := &c.batch
	if b.n == 0 {
		return nil
	}
	if err := c.w.BeginCommand(2 + b.n); err != nil {
		return err
	}
	if err := c.w.WriteArg([]byte(name)); err != nil {
		return err
	}
	if err := c.w.WriteArg(c.keyName); err != nil {
		return err
	}
	start := 0
	for _, end := range b.ends {
		if err := c.w.WriteArg(b.arena[start:end]); err != nil {
			return err
		}
		start = end
	}
	c.st.Commands++
	b.reset()
	return nil
}

// appendScore renders a score so that ZADD parses back the same float64.
func appendScore(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// hash writes HMSET batches, then one HPEXPIREAT per field TTL.
func (c *aofConverter) hash() error {
	c.batch.reset()
	c.batch.perItem = 2
	var ttls []fieldTTL
	for {
		el, err := c.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		c.batch.add(el.Member)
		c.batch.add(el.Value)
		if el.ExpireAtMs != 0 {
			if !c.can.fieldTTLs {
				if err := c.drop(rdb.FeatureFieldTTLs, c.o.Target.DropFieldTTLs, c.keyName,
					"hash field TTLs cannot be written", "HPEXPIREAT needs Redis 7.4, RDB 12, or Valkey 9"); err != nil {
					return err
				}
			} else {
				ttls = append(ttls, fieldTTL{bytes.Clone(el.Member), el.ExpireAtMs})
			}
		}
		if c.batch.items() >= itemsPerCommand {
			if err := c.flushBatch("HMSET"); err != nil {
				return err
			}
		}
	}
	if err := c.flushBatch("HMSET"); err != nil {
		return err
	}
	for _, t := range ttls {
		if err := c.cmd("HPEXPIREAT", c.keyName, c.itoa(t.ms), "FIELDS", "1", t.field); err != nil {
			return err
		}
	}
	return nil
}

type fieldTTL struct {
	field []byte
	ms    int64
}

// restore writes RESTORE key ttl payload ABSTTL [IDLETIME s] [FREQ f] with a
// payload encoded for the target; below RDB 9, RESTORE key 0 payload and a
// PEXPIREAT.
func (c *aofConverter) restore(e *rdb.Entry) error {
	p := c.payload
	if err := p.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
		return err
	}
	for {
		el, err := c.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := p.WriteElem(el); err != nil {
			return err
		}
	}
	payload, err := p.EndKey()
	if err != nil || payload == nil {
		return err // nil, nil: dropped and counted by the PayloadWriter
	}
	if err := c.selectDB(e.DB); err != nil {
		return err
	}
	c.st.Keys++
	if !c.can.restoreArgs {
		if e.HasIdle {
			c.dropped[rdb.FeatureIdle]++
		}
		if e.HasFreq {
			c.dropped[rdb.FeatureFreq]++
		}
		if err := c.cmd("RESTORE", c.keyName, "0", payload); err != nil {
			return err
		}
		if e.HasExpire {
			return c.cmd("PEXPIREAT", c.keyName, c.itoa(e.ExpireAtMs))
		}
		return nil
	}
	ttl := int64(0)
	if e.HasExpire {
		ttl = e.ExpireAtMs
	}
	args := []any{"RESTORE", c.keyName, c.itoa(ttl), payload, "ABSTTL"}
	if e.HasIdle {
		args = append(args, "IDLETIME", strconv.FormatUint(e.IdleSeconds, 10))
	}
	if e.HasFreq {
		args = append(args, "FREQ", strconv.Itoa(int(e.Freq)))
	}
	return c.cmd(args...)
}
