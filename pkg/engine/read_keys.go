package engine

import (
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Read-only keyspace commands (db.c, expire.c, object.c): EXISTS, TYPE, TTL,
// PTTL, EXPIRETIME, PEXPIRETIME, TOUCH, DBSIZE, KEYS, SCAN, RANDOMKEY, OBJECT
// ENCODING, and SELECT, PING, ECHO.

func registerKeyReads() {
	registerRead("select", 2, func(e *Engine, a [][]byte) Reply {
		if err := cmdSelect(e, a); err != nil {
			return rErr(err)
		}
		return rStatus("OK")
	})
	registerRead("ping", -1, func(e *Engine, a [][]byte) Reply {
		switch len(a) {
		case 1:
			return rStatus("PONG")
		case 2:
			return rBulk(a[1])
		}
		return rArity("ping")
	})
	registerRead("echo", 2, func(e *Engine, a [][]byte) Reply { return rBulk(a[1]) })
	registerRead("exists", -2, readExists)
	registerRead("touch", -2, readExists)
	registerRead("type", 2, func(e *Engine, a [][]byte) Reply {
		o := e.readKey(a[1])
		if o == nil {
			return rStatus("none")
		}
		return rStatus(o.kind.String())
	})
	registerRead("ttl", 2, func(e *Engine, a [][]byte) Reply { return e.readTTL(a[1], false, false) })
	registerRead("pttl", 2, func(e *Engine, a [][]byte) Reply { return e.readTTL(a[1], true, false) })
	registerRead("expiretime", 2, func(e *Engine, a [][]byte) Reply { return e.readTTL(a[1], false, true) })
	registerRead("pexpiretime", 2, func(e *Engine, a [][]byte) Reply { return e.readTTL(a[1], true, true) })
	registerRead("dbsize", 1, func(e *Engine, a [][]byte) Reply {
		return rInt(int64(e.liveKeys(e.db())))
	})
	registerRead("keys", 2, func(e *Engine, a [][]byte) Reply {
		out := []Reply{}
		all := len(a[1]) == 1 && a[1][0] == '*'
		e.eachLiveKey(e.db(), func(k []byte) bool {
			if all || keyMatch(a[1], k) {
				out = append(out, rBulk(k))
			}
			return true
		})
		return rArray(out...)
	})
	registerRead("scan", -2, readScan)
	registerRead("randomkey", 1, func(e *Engine, a [][]byte) Reply {
		// Two passes (count, then take the chosen one) rather than a slice
		// of every key.
		n := e.liveKeys(e.db())
		if n == 0 {
			return rNil()
		}
		var key []byte
		pick := e.randIndex(n)
		e.eachLiveKey(e.db(), func(k []byte) bool {
			if pick == 0 {
				key = k
				return false
			}
			pick--
			return true
		})
		return rBulk(key)
	})
	registerReadSub("object", "encoding", 3, func(e *Engine, a [][]byte) Reply {
		o := e.readKey(a[2])
		if o == nil {
			return rNil()
		}
		return rBulkStr(e.encodingOf(o))
	})
	for _, sub := range []string{"freq", "idletime", "refcount"} {
		registerReadSub("object", sub, 3, func(e *Engine, a [][]byte) Reply {
			return rErrStr("ERR OBJECT " + strings.ToUpper(sub) + " is not tracked offline")
		})
	}
}

func readExists(e *Engine, a [][]byte) Reply {
	n := 0
	for _, k := range a[1:] {
		if e.readKey(k) != nil {
			n++
		}
	}
	return rInt(int64(n))
}

// readTTL is ttlGenericCommand: -2 for a missing key, -1 without expiry, else
// the time left (or the absolute time) in seconds (rounded) or ms.
func (e *Engine) readTTL(key []byte, ms, abs bool) Reply {
	o := e.readKey(key)
	if o == nil {
		return rInt(-2)
	}
	if !o.hasTTL {
		return rInt(-1)
	}
	t := o.expireAt
	if !abs {
		t = max(t-e.now(), 0)
	}
	if ms {
		return rInt(t)
	}
	// (ttl+500)/1000 as the server computes it: without overflow for the
	// largest expiry times (t is not negative).
	return rInt(int64((uint64(t) + 500) / 1000))
}

// eachLiveKey calls fn for the keys of db that have not expired, in slot
// order, until it returns false. It makes no object of an inline string and
// looks no key up again: a pass over millions of keys (DBSIZE, KEYS, the
// replay summary) allocates nothing.
func (e *Engine) eachLiveKey(db *DB, fn func(key []byte) bool) {
	now := e.now()
	for i := range db.slots {
		if db.slots[i] == 0 {
			continue
		}
		en := db.entryAt(i)
		if _, _, live := e.entryLive(db, &en, now); live && !fn(en.key()) {
			return
		}
	}
}

// liveKeys counts the keys of db that have not expired.
func (e *Engine) liveKeys(db *DB) int {
	now, n := e.now(), 0
	db.eachEntry(func(en entry) {
		if _, _, live := e.entryLive(db, &en, now); live {
			n++
		}
	})
	return n
}

// entryLive is the type of the key of en, whether it has a TTL, and whether a
// client sees it at now: not expired, and for a hash with a field that has
// not expired (readKeyIn's rule, without its lookup).
func (e *Engine) entryLive(db *DB, en *entry, now int64) (kind rdb.Kind, hasTTL, live bool) {
	if en.flags&fRef == 0 {
		has, at := en.ttl()
		return rdb.KindString, has, !has || at > now
	}
	o := db.objs[en.idx]
	if o.hasTTL && o.expireAt <= now {
		return o.kind, true, false
	}
	if o.kind == rdb.KindHash && !e.hashHasLiveField(o.hash) {
		return o.kind, o.hasTTL, false
	}
	return o.kind, o.hasTTL, true
}

// scanArgs is parseScanCursorOrReply and scanGenericCommand's options.
type scanArgs struct {
	cursor  uint64
	count   int
	pattern []byte
	typ     string
}

func parseScan(a [][]byte, keyspace bool) (scanArgs, Reply, bool) {
	s := scanArgs{count: 10}
	cur, ok := strtoull(string(a[0]))
	if !ok {
		return s, rErrStr("ERR invalid cursor"), false
	}
	s.cursor = cur
	for i := 1; i < len(a); i += 2 {
		if i+1 >= len(a) {
			return s, rSyntax(), false
		}
		switch {
		case is(a[i], "COUNT"):
			n, ok := parseInt(a[i+1])
			if !ok {
				return s, rNotInt(), false
			}
			if n < 1 {
				return s, rSyntax(), false
			}
			s.count = int(min(n, 1<<30))
		case is(a[i], "MATCH"):
			s.pattern = a[i+1]
		case keyspace && is(a[i], "TYPE"):
			s.typ = strings.ToLower(string(a[i+1]))
		default:
			return s, rSyntax(), false
		}
	}
	return s, Reply{}, true
}

// readScan walks the table from the cursor (a slot index): about COUNT keys a
// call, as Redis's SCAN returns about COUNT; the cursor is 0 at the end. Keys
// present all along are returned once, as SCAN promises, while the dataset
// does not change.
func readScan(e *Engine, a [][]byte) Reply {
	s, r, ok := parseScan(a[1:], true)
	if !ok {
		return r
	}
	db := e.db()
	now := e.now()
	var out []Reply
	i := int(min(s.cursor, uint64(len(db.slots))))
	for ; i < len(db.slots) && len(out) < s.count; i++ {
		if db.slots[i] == 0 {
			continue
		}
		en := db.entryAt(i)
		kind, _, live := e.entryLive(db, &en, now)
		if !live || s.pattern != nil && !keyMatch(s.pattern, en.key()) || s.typ != "" && kind.String() != s.typ {
			continue
		}
		out = append(out, rBulk(en.key()))
	}
	next := int64(i)
	if i >= len(db.slots) {
		next = 0
	}
	return scanReply(next, out)
}

func scanReply(cursor int64, elems []Reply) Reply {
	if elems == nil {
		elems = []Reply{}
	}
	return rArray(rBulkInt(cursor), rArray(elems...))
}
