package engine

import "github.com/rdbtool/rdbtool/pkg/rdb"

// encodingOf is what OBJECT ENCODING says of o on the emulated server.
func (e *Engine) encodingOf(o *object) string {
	switch o.kind {
	case rdb.KindString:
		return stringEncoding(o.str, o.rawStr)
	case rdb.KindList:
		if e.version() >= 702 && o.list.packed {
			return "listpack"
		}
		return "quicklist"
	case rdb.KindSet:
		switch o.set.enc {
		case setIntset:
			return "intset"
		case setListpack:
			return "listpack"
		}
		return "hashtable"
	case rdb.KindZSet:
		if o.zset.skiplist() {
			return "skiplist"
		}
		return "listpack"
	case rdb.KindHash:
		switch {
		case o.hash.d != nil:
			return "hashtable"
		case o.hash.ex && e.version() >= 704:
			return "listpackex"
		}
		return "listpack"
	case rdb.KindStream:
		return "stream"
	}
	return "unknown"
}

// embstrLimit is OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrLimit = 44

// stringEncoding is the encoding tryObjectEncoding gives a string value
// (int, embstr, raw); raw says a command built it in place (APPEND, SETRANGE,
// SETBIT...), which leaves it raw.
func stringEncoding(s []byte, raw bool) string {
	switch {
	case raw:
		return "raw"
	case len(s) <= 20:
		if _, ok := parseInt(s); ok {
			return "int"
		}
	}
	if len(s) <= embstrLimit {
		return "embstr"
	}
	return "raw"
}
