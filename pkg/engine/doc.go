// Package engine is an in-memory Redis keyspace that applies the write
// commands Redis propagates to an AOF, with Redis's semantics, so that AOF
// files can be replayed offline to the dataset a server would load from them.
//
// # Model
//
//	Engine ─ DB 0..n-1 ─ key ─ object{kind, TTL (absolute ms), value}
//	  string  []byte, or inline in the database's arena (see below)
//	  list    ring-buffer deque (O(1) at both ends)
//	  set     map
//	  zset    member->score map + skiplist with spans
//	  hash    map field->{value, TTL}
//	  stream  entries by ID, last ID, entries_added, max deleted ID,
//	          groups{last delivered, entries_read, PEL, consumers{PEL}}
//	  + function libraries by name
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
// # Time
//
// The engine reads time only from Options.Clock. In ModeLoading (the
// default) it behaves like a server loading an AOF: no key or field
// expires while commands run, and absolute expiry times in the past are
// stored as given. ModeLive is a serving instance: lazy expiry on access, and
// past times delete at once. Options.Expired decides whether Each exports
// keys and hash fields whose time has passed.
//
// # Export and import
//
// Each walks the keyspace in a deterministic order (databases ascending, then
// the order in which keys were last written, a function of the input alone;
// not sorted) and yields pkg/rdb's Entry and Value, ready for an rdb.Writer
// (EachReused saves their allocations); Functions returns the library codes. Load puts a key read by
// pkg/rdb into a database, so that an AOF's RDB base can be loaded before
// its incremental commands are applied.
//
// # Ownership, concurrency, limits
//
// Apply copies what it keeps from its arguments. The slices Each hands out
// alias the engine and are valid until the next Apply. An Engine is not
// safe for concurrent use. Strings are limited to 512 MiB
// (proto-max-bulk-len), even in ModeLoading where Redis skips the check.
// Not implemented: approximate stream trimming that would remove entries,
// and GEO searches with COUNT n ANY that match more than n members, which
// return an *UnsupportedError; SPOP picks the smallest members rather
// than random ones (Redis logs SPOP as SREM, so a replay never depends on it).
package engine
