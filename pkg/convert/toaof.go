package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// AOFOptions tune RDBToAOF.
type AOFOptions struct {
	Filter Filter
	// Restore writes every key as RESTORE key ttl payload ABSTTL [IDLETIME s]
	// [FREQ f] with a DUMP payload made of the value's bytes in the file, instead
	// of the commands that rebuild it. Module values need this (and the module
	// loaded in the server).
	Restore bool
	// RestoreVersion is the RDB version written in DUMP payload footers; 0 means
	// the input file's version. A server refuses payloads newer than itself.
	RestoreVersion int
	// DropFieldTTLs leaves hash-field TTLs out (HPEXPIREAT needs Redis 7.4);
	// without it such a TTL is an error naming the key.
	DropFieldTTLs bool
	// NoEntriesRead leaves ENTRIESREAD out of XGROUP CREATE (Redis < 7.0).
	NoEntriesRead bool
}

// AOFStats counts what RDBToAOF wrote.
type AOFStats struct {
	Keys, Filtered, Commands int64
	DroppedFieldTTLs         int64
}

// itemsPerCommand is how many elements Redis's own AOF rewrite puts in one
// RPUSH/SADD/ZADD/HMSET (AOF_REWRITE_ITEMS_PER_CMD).
const itemsPerCommand = 64

// RDBToAOF writes the dataset of an RDB stream as the RESP commands that
// recreate it exactly, in the forms Redis's AOF rewrite uses: SELECT on database
// changes, FUNCTION LOAD, SET/RPUSH/SADD/ZADD/HMSET in batches of 64 items,
// XADD + XSETID + XGROUP CREATE ... ENTRIESREAD + XGROUP CREATECONSUMER +
// XCLAIM ... FORCE JUSTID for streams, PEXPIREAT and HPEXPIREAT for TTLs. Big
// values are written as they are read.
func RDBToAOF(r *rdb.Reader, w *aof.Writer, o AOFOptions) (AOFStats, error) {
	c := &aofConverter{r: r, w: w, o: o, db: -1}
	h, err := r.Header()
	if err != nil {
		return c.st, err
	}
	c.version = h.Version
	if o.RestoreVersion > 0 {
		c.version = o.RestoreVersion
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c.st, err
		}
		switch e.Kind {
		case rdb.EntryFunction:
			err = c.cmd("FUNCTION", "LOAD", e.Function)
		case rdb.EntryKey:
			if !o.Filter.Match(e) {
				c.st.Filtered++
				_, err = r.SkipValue()
				break
			}
			c.st.Keys++
			err = c.key(e)
		}
		if err != nil {
			return c.st, err
		}
	}
	return c.st, w.Flush()
}

type aofConverter struct {
	r       *rdb.Reader
	w       *aof.Writer
	o       AOFOptions
	st      AOFStats
	db      int
	version int
	keyName []byte
	batch   itemBatch
	num     []byte
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
	if err := c.selectDB(e.DB); err != nil {
		return err
	}
	c.keyName = append(c.keyName[:0], e.Key...)
	if c.o.Restore {
		return c.restore(e)
	}
	var err error
	switch e.Type.Kind() {
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
		err = c.stream()
	case rdb.KindModule:
		return &rdb.UnsupportedError{What: fmt.Sprintf("key %s: a module value cannot be rebuilt by commands without its module; use RESTORE payloads (--restore)", rdb.QuoteBytes(c.keyName))}
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
			if c.o.DropFieldTTLs {
				c.st.DroppedFieldTTLs++
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

func idText(id rdb.StreamID) []byte {
	return []byte(id.String())
}

// stream writes XADD per entry, XSETID, and the groups with their consumers and
// pending entries.
func (c *aofConverter) stream() error {
	var group, consumer []byte
	var pel []rdb.StreamPending
	owners := map[rdb.StreamID][]byte{}
	entries := 0
	flushGroup := func() error {
		for _, p := range pel {
			owner, ok := owners[p.ID]
			if !ok {
				continue // Redis never has an unowned PEL entry
			}
			if err := c.cmd("XCLAIM", c.keyName, group, owner, "0", idText(p.ID),
				"TIME", c.itoa(p.DeliveryTimeMs), "RETRYCOUNT", strconv.FormatUint(p.DeliveryCount, 10),
				"JUSTID", "FORCE"); err != nil {
				return err
			}
		}
		pel = pel[:0]
		clear(owners)
		return nil
	}
	for {
		el, err := c.r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch el.Kind {
		case rdb.ElemStreamEntry:
			entries++
			if err := c.w.BeginCommand(3 + len(el.Fields)); err != nil {
				return err
			}
			c.w.WriteArg([]byte("XADD"))
			c.w.WriteArg(c.keyName)
			c.w.WriteArg(idText(el.ID))
			for _, f := range el.Fields {
				if err := c.w.WriteArg(f); err != nil {
					return err
				}
			}
			c.st.Commands++
		case rdb.ElemStreamMeta:
			m := el.Stream
			if entries == 0 {
				// Redis's own trick for an empty stream: add an entry and trim it.
				if err := c.cmd("XADD", c.keyName, "MAXLEN", "0", "0-1", "x", "y"); err != nil {
					return err
				}
			}
			if err := c.cmd("XSETID", c.keyName, idText(m.LastID), "ENTRIESADDED", strconv.FormatUint(m.EntriesAdded, 10),
				"MAXDELETEDID", idText(m.MaxDeletedID)); err != nil {
				return err
			}
		case rdb.ElemStreamGroup:
			if err := flushGroup(); err != nil {
				return err
			}
			g := el.Group
			group = bytes.Clone(g.Name)
			args := []any{"XGROUP", "CREATE", c.keyName, group, idText(g.LastDelivered)}
			if g.EntriesRead >= 0 && !c.o.NoEntriesRead {
				args = append(args, "ENTRIESREAD", strconv.FormatInt(g.EntriesRead, 10))
			}
			if err := c.cmd(args...); err != nil {
				return err
			}
		case rdb.ElemStreamPending:
			pel = append(pel, *el.Pending)
		case rdb.ElemStreamConsumer:
			consumer = bytes.Clone(el.Consumer.Name)
			if err := c.cmd("XGROUP", "CREATECONSUMER", c.keyName, group, consumer); err != nil {
				return err
			}
		case rdb.ElemStreamConsumerPending:
			owners[el.ID] = consumer
		case rdb.ElemStreamIDMP, rdb.ElemStreamIDMPEntry:
			return fmt.Errorf("key %s: the idempotent-producer state of a Redis 8.6 stream has no command form; use --restore", rdb.QuoteBytes(c.keyName))
		}
	}
	return flushGroup()
}

// restore writes RESTORE key ttl payload ABSTTL [IDLETIME s] [FREQ f].
func (c *aofConverter) restore(e *rdb.Entry) error {
	var payload bytes.Buffer
	payload.WriteByte(e.Type.Wire())
	if _, err := c.r.CopyRawValue(&payload); err != nil {
		return err
	}
	var footer [10]byte
	binary.LittleEndian.PutUint16(footer[:], uint16(c.version))
	payload.Write(footer[:2])
	binary.LittleEndian.PutUint64(footer[2:], rdb.CRC64(payload.Bytes()))
	payload.Write(footer[2:])
	ttl := int64(0)
	if e.HasExpire {
		ttl = e.ExpireAtMs
	}
	args := []any{"RESTORE", c.keyName, c.itoa(ttl), payload.Bytes(), "ABSTTL"}
	if e.HasIdle {
		args = append(args, "IDLETIME", strconv.FormatUint(e.IdleSeconds, 10))
	}
	if e.HasFreq {
		args = append(args, "FREQ", strconv.Itoa(int(e.Freq)))
	}
	return c.cmd(args...)
}

// AOFDirLayout names the files of a fresh multi-part AOF folder as Redis 7
// does after a rewrite: base `<name>.1.base.rdb` (or `.aof` for a RESP base),
// an empty `<name>.1.incr.aof`, and the manifest `<name>.manifest` listing both.
func AOFDirLayout(appendFilename string, rdbBase bool) (base, incr, manifest string, m *aof.Manifest) {
	base = appendFilename + ".1.base.aof"
	if rdbBase {
		base = appendFilename + ".1.base.rdb"
	}
	incr = appendFilename + ".1.incr.aof"
	m = &aof.Manifest{
		Base: &aof.ManifestFile{Name: base, Seq: 1, Type: aof.TypeBase},
		Incr: []aof.ManifestFile{{Name: incr, Seq: 1, Type: aof.TypeIncr}},
	}
	return base, incr, appendFilename + ".manifest", m
}
