// Package intset reads and writes Redis intsets, the blob behind sets made
// only of integers (RDB type 11, FORMAT-NOTES §4.3).
//
// # Format
//
//	u32le encoding   width of every value in bytes: 2, 4 or 8
//	u32le length     number of values
//	length × int16le | int32le | int64le, strictly ascending
//
// The blob must be exactly 8 + length×encoding bytes. Redis picks the
// narrowest width that holds every value, but accepts a wider one, and so
// does Parse.
//
// An empty intset parses: Redis refuses to load one, but whether that is an
// error is the caller's decision (a strict reader reports it, a salvage tool
// may skip the key).
//
// # Slices, allocation, concurrency
//
// A Set reads its values straight from the blob passed to Parse and is valid
// as long as that blob is; it never allocates and is safe for concurrent
// reads. Build writes into the capacity of dst when it can.
package intset
