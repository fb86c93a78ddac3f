// Package dupkeys finds keys that occur more than once in a stream of keys
// (an RDB file's, say), in bounded memory, whatever the number of keys.
//
// A Finder keeps a 64-bit hash of each (database, key) and the offset where
// the key was found: 16 bytes a key. Add only hashes; a goroutine of the
// Finder files the records into 256 partitions by the top bits of their
// hash, so that equal hashes share a partition, and past
// Options.MemoryBytes appends the partitions to files in a temporary folder.
// Finish sorts each partition (radix sort, on several goroutines) and
// returns the groups of offsets whose hashes are equal: candidates, since
// different keys may share a 64-bit hash. Confirm keeps the groups whose keys
// really are equal, given the keys at those offsets (read again by the
// caller: only the few candidates are).
//
// Memory: MemoryBytes (at least about 12 MiB), plus at the end a sorting
// scratch of one partition (a 256th of 16 bytes a key) per goroutine; disk:
// 16 bytes a key past the budget. Close removes the temporary folder: call it (deferred) whatever
// happens, an interrupt included.
//
// A Finder is used by one goroutine (it runs others of its own).
package dupkeys
