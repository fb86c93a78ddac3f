// Package dupkeys finds keys that occur more than once in a stream of keys
// (an RDB file's, say), in bounded memory, whatever the number of keys.
//
// A Finder keeps a 64-bit hash of each (database, key) and the offset where
// the key was found: 16 bytes a key, plus as much again to sort them. Past
// Options.MemoryBytes the records go to disk, split into 256 partition files
// by the top bits of their hash, so that equal hashes share a file. Finish
// sorts the records (in memory, or one partition at a time) with a radix
// sort and returns the groups of offsets whose hashes are equal: candidates,
// since different keys may share a 64-bit hash. Confirm keeps the groups
// whose keys really are equal, given the keys at those offsets (read again by
// the caller: only the few candidates are).
//
// Memory: MemoryBytes at most, or one partition (a 256th of 16 bytes a key)
// when that is more; disk: 16 bytes a key past the budget. Close removes the
// temporary folder: call it (deferred) whatever happens, an interrupt
// included.
//
// A Finder is used by one goroutine.
package dupkeys
