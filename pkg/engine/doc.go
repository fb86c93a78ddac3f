// Package engine is an in-memory Redis keyspace that applies the write
// commands Redis propagates to an AOF, with Redis's semantics, so that AOF
// files can be replayed offline to the dataset a server would load from them,
// and answers the read-only commands of a client against that dataset.
//
// # Model
//
//	Engine ─ DB 0..n-1 ─ key ─ value, TTL (absolute ms)
//	  string  inline in the database's arena, or []byte
//	  hash    packed (field, value, expiry) triplets │ dict
//	  set     intset │ packed members (7.2+) │ dict
//	  zset    one packed block of (score, member) │ sorted packed blocks + dict
//	  list    packed blocks in a deque (7.2+: listpack or quicklist)
//	  stream  packed entry blocks by first ID, last ID, entries_added, max
//	          deleted ID, groups{last delivered, entries_read, PEL, consumers}
//	  + function libraries by name
//
// Nothing that grows with the data is a Go pointer per element: a value is a
// handful of pointer-free byte slices. Each type has Redis's small and large
// forms (the "encodings" OBJECT ENCODING names), and converts between them
// where the emulated server does, past the same thresholds (the defaults of
// hash-max-listpack-*, set-max-intset-entries, set-max-listpack-*,
// zset-max-listpack-*, list-max-listpack-size): both because Redis's
// behaviour depends on them in places (a score of -0 survives only in a
// skiplist-encoded sorted set; a listpack keeps insertion order) and because
// OBJECT ENCODING must answer as the server would.
//
//   - Packed (pack.go): a small collection is one byte slice holding its
//     elements back to back, each a uvarint length and its bytes, as Redis
//     keeps it in a listpack; lookups walk it, as Redis walks its listpack.
//     An intset is sorted integers of 2, 4 or 8 bytes, as in Redis.
//   - dict (dict.go): the large form of hashes and sets, and a large sorted
//     set's member index: an open-addressing table (4-byte entry offsets,
//     1-byte hash tags) over one byte slice of entries.
//   - zorder (zorder.go): a large sorted set's order, packed blocks of about
//     2 KiB found by binary search on their first elements; a small sorted
//     set is a single block and no index.
//   - qlist (qlist.go): a list's elements in blocks of about 4 KiB in a deque,
//     like Redis's quicklist of listpacks.
//   - slog (streamlog.go): a stream's entries in blocks of about 4 KiB by
//     first ID; entries with the block's first field names keep only their
//     values, and IDs are relative to the block's first, as in Redis's stream
//     listpacks.
//
// Conversions follow t_hash.c, t_set.c, t_zset.c, t_list.c and rdb.c of the
// emulated version: growth by count and by element size, the store commands
// (SINTERSTORE, ZUNIONSTORE, ZRANGESTORE, GEO ... STORE, SORT ... STORE) that
// build a new value and convert it back to the packed form when it fits, and
// loading (Load, RESTORE) that picks the form from the value and its RDB type.
// One approximation remains: from Redis 7.2 a shrinking quicklist becomes a
// listpack again only when it is one node, and the engine does not keep
// Redis's node boundaries (it assumes one node).
//
// A database is compact (keyspace.go): its keys live back to back in an arena
// of large pointer-free chunks, found through an open-addressing hash table of
// integers; a plain string of up to 64 KiB is stored inline after its key,
// any other value is an object the entry points to. A keyspace of millions of
// small strings thus takes little more memory than its bytes, and gives the
// garbage collector almost nothing to scan.
//
// Apply executes one command (name in any case). Commands are grouped by
// type family in keys.go, strings.go, hyperloglog.go (PFADD, PFCOUNT,
// PFMERGE, with Redis's sparse/dense registers byte for byte), lists.go,
// sets.go, zsets.go, geo.go (GEORADIUS* STORE, GEOSEARCHSTORE), sort.go
// (SORT ... STORE), restore.go (RESTORE of DUMP payloads), hashes.go,
// streams.go, multi.go and functions.go; each file says which commands it
// holds and where Redis's behaviour was taken from. A command
// that Redis would refuse returns an *Error carrying Redis's reply text and
// changes nothing; see Apply for the other error types.
//
// Exec answers one read-only command with its Reply, shaped as the emulated
// server would shape it (read.go, read_keys.go, read_types.go, read_zset.go,
// read_stream.go), and changes nothing. Summary counts keys by database and
// type.
//
// # Servers
//
// Options.Version selects the Redis release whose behaviour the engine
// follows where releases differ, Options.Valkey the Valkey family (which
// behaves as the Redis 7.2 it forked from, but where noted: ZADD sizes a new
// sorted set by its longest member).
//
// # Time
//
// The engine reads time only from Options.Clock. In ModeLoading (the
// default) it behaves like a server loading an AOF: no key or field
// expires while commands run, and absolute expiry times in the past are
// stored as given. ModeLive is a serving instance: lazy expiry on access, and
// past times delete at once. Options.Expired decides whether Each exports
// keys and hash fields whose time has passed. Exec always answers as a
// client at the clock's time sees the data: expired keys and fields absent.
//
// # Export and import
//
// Each walks the keyspace in a deterministic order (databases ascending, then
// the order in which keys were last written, a function of the input alone;
// not sorted) and yields pkg/rdb's Entry and Value, ready for an rdb.Writer
// (EachReused saves their allocations); elements come in the order of the
// value's form (a listpack's insertion order, an intset's ascending order, a
// dict's order of last writing). Parts cuts that order into runs of keys of
// about a given size, which Exporters walk at the same time on several
// goroutines (to encode them on every core). Functions returns the library
// codes. Load
// puts a key read by pkg/rdb into a database, so that an AOF's RDB base, or
// an RDB file to answer reads from, can be loaded before its incremental
// commands are applied.
//
// # Ownership, concurrency, limits
//
// Apply copies what it keeps from its arguments. The slices Each hands out
// alias the engine and are valid until the next Apply. An Engine is not
// safe for concurrent use, but for Exporters walking parts while nothing
// changes it. A Preparer reads no engine: a caller reading commands on one
// goroutine prepares them there (Preparer.Prepare) and applies them on
// another (ApplyPrepared), which then does less. Strings are limited to
// 512 MiB (proto-max-bulk-len), even in ModeLoading where Redis skips the
// check; a hash, set or sorted set to 4 GiB of entries. Not implemented: approximate
// stream trimming that would remove entries, and GEO searches with COUNT n
// ANY that match more than n members, which return an *UnsupportedError;
// SPOP picks the smallest members rather than random ones (Redis logs SPOP
// as SREM, so a replay never depends on it). Exec does not answer GEOSEARCH,
// GEORADIUS_RO, LCS, DUMP nor XINFO HELP.
package engine
