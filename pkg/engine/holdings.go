package engine

import "github.com/rdbtool/rdbtool/pkg/rdb"

// Holdings is what a dataset holds that not every RDB version can: what
// decides the lowest version a writer may use for it.
type Holdings struct {
	FieldTTLs bool // a hash field with a TTL (RDB 12, Redis 7.4)
	Streams   bool // a stream (RDB 9, Redis 5.0)
}

// Holds reports what Each would hand out that needs a newer RDB version.
// Under ExpiredDrop, expired keys and hash fields do not count, as Each
// leaves them out. It reads objects only (a string never matters), skips the
// packed hashes that never had a field TTL, and stops once it has found
// both: a fraction of the cost of an Each, which builds every value.
func (e *Engine) Holds() Holdings {
	var h Holdings
	drop := e.opts.Expired == ExpiredDrop
	var now int64
	if drop {
		now = e.now()
	}
	for _, db := range e.dbs {
		for _, o := range db.objs {
			if o == nil || drop && o.hasTTL && o.expireAt <= now {
				continue
			}
			switch o.kind {
			case rdb.KindStream:
				h.Streams = true
			case rdb.KindHash:
				h.FieldTTLs = h.FieldTTLs || o.hash.holdsFieldTTL(drop, now)
			}
			if h.FieldTTLs && h.Streams {
				return h
			}
		}
	}
	return h
}

// holdsFieldTTL reports whether a field of h has a TTL (with drop, one
// later than now). A packed hash without ex never had one.
func (h *hash) holdsFieldTTL(drop bool, now int64) bool {
	if h.d == nil && !h.ex {
		return false
	}
	found := false
	h.each(func(_, _ []byte, ttl int64) bool {
		found = ttl != 0 && (!drop || ttl > now)
		return !found
	})
	return found
}
