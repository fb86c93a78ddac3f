// Package canon defines the canonical JSON lines that describe a Redis dataset,
// one line per key plus one line for the function libraries, so that a live
// server's state and the output of rdbtool's readers can be compared as text.
//
// The format is the one of the generated corpus (shared/corpus/generated/README.md,
// "Canonical JSON"):
//
//	{"db":N,"key":ENC,"type":T,"expire_at_ms":MS,"value":V,"field_expire_at_ms":{ENC:MS}}
//	{"functions":[ENC,...]}
//
// Every byte string is ENC: "s:"+text when it is valid UTF-8, else "x:"+lowercase
// hex (EncodeBytes). V is ENC for a string, [ENC,...] for a list (head to tail) and
// a set (sorted by ENC), [[ENC,SCORE],...] for a zset (ZRANGE order; SCORE is a JSON
// string, see FormatScore), [[ENC,ENC],...] for a hash (sorted by the encoded field)
// and an object for a stream (see Stream). Lines are sorted bytewise; empty lists
// are null; escaping is Go's json.Marshal (HTML-safe).
//
// The value types (Bytes, List, Set, ZSet, Hash, Stream) hold raw bytes and encode
// and order themselves in MarshalJSON, so json.Marshal of a Key or Functions is
// always the canonical line whatever order the caller filled them in. Values do
// not copy the slices they are given; do not modify them until marshalled.
//
// Marshal is safe for concurrent use; the types carry no hidden state.
package canon
