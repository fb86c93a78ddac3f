package convert

import (
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// KeyCommands writes, key by key, the commands that rebuild a value: the
// forms of RDBToAOF (SET, RPUSH/SADD/ZADD/HMSET batches of 64 items, the
// XADD/XSETID/XGROUP/XCLAIM sequence of a stream, HPEXPIREAT for field TTLs,
// PEXPIREAT for the key's TTL), without SELECT. It is for callers that decide
// per key how to send it, such as a restore into a live server that takes
// some values as DUMP payloads and others as commands.
type KeyCommands struct {
	c aofConverter
}

// NewKeyCommands returns a KeyCommands writing to w the commands that
// o.Target's server takes (its Drop flags apply); Restore and Filter are
// ignored. Close releases the spool of a big stream's entries.
func NewKeyCommands(w *aof.Writer, o AOFOptions) *KeyCommands {
	o.Restore, o.Filter = false, Filter{}
	k := &KeyCommands{c: aofConverter{w: w, o: o, db: -1, dropped: map[rdb.Feature]uint64{}}}
	k.c.can = capabilitiesOf(o.Target)
	k.c.entries = newSpool(streamSpoolMemory, o.SpoolDir)
	return k
}

// Close removes what a big stream left in the spool's temporary file.
func (k *KeyCommands) Close() { k.c.entries.reset() }

// Write writes the commands for the key e that r.Next just returned, reading
// its value from r, under the name as (e.Key when nil). It returns how many
// commands it wrote; nothing is flushed. A module value is an error: it has
// no command form.
func (k *KeyCommands) Write(r *rdb.Reader, e *rdb.Entry, as []byte) (int64, error) {
	c := &k.c
	c.r = r
	c.db = e.DB // the caller selects databases
	before := c.st.Commands
	name := e.Key
	if as != nil {
		e.Key = as
	}
	err := c.key(e)
	e.Key = name
	return c.st.Commands - before, err
}

// Dropped counts what the target could not hold and a Drop flag left out.
func (k *KeyCommands) Dropped(f rdb.Feature) uint64 { return k.c.dropped[f] }
