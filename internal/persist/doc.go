// Package persist holds what the readers and writers of Redis's two
// persistence formats, RDB (pkg/rdb) and AOF (pkg/aof), share: the buffered
// window a reader parses from (Source), how a key or argument is quoted in a
// message (QuoteBytes) and Redis's sorted-set order (CompareZ).
//
// It is a leaf: it imports nothing of rdbtool, so that rdb and aof, which may
// not import each other, can both import it and keep one copy of each
// mechanism instead of two that drift apart. (The sentinel errors stay two
// sets of values, each package's own: see pkg/rdb's ErrTruncated.)
package persist
