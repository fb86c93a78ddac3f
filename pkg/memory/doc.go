// Package memory predicts the memory a Redis server uses for each key of an
// RDB file once it has loaded it: the figure MEMORY USAGE key SAMPLES 0
// reports on Redis 7.0 built with jemalloc (Debian's redis-server 7.0.15).
//
// The model replays what a loading server does with each value: the
// allocations of the key (an sds string and a dict entry) and of the value,
// rounded to jemalloc's size classes; strings as int, embstr or raw objects;
// listpacks, intsets and quicklist nodes kept as the file stores them, or
// rebuilt element by element when the server converts them (older ziplists,
// plain collections, values over the configured listpack limits); dicts sized
// as a load sizes them, incremental rehashing included; skiplist nodes at
// their expected level; streams with their radix-tree nodes (counted by
// replaying the inserts), node listpacks, groups, consumers and PELs. Sizes
// come from Redis 7.0.15's structures and objectComputeSize; docs/memory.md
// gives the measured accuracy per type and encoding.
//
// What the model cannot know is left to expectations: skiplist levels are
// random, and how many rehash steps a dict still owes depends on its hash
// seed. Module values are counted at their serialized size.
//
// An Estimator holds no more than one element of a key at a time; it is not
// safe for concurrent use.
package memory
