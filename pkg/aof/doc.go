// Package aof reads, writes and checks Redis and Valkey append-only files: RESP
// command streams with #TS annotations, and the manifests of multi-part AOF
// directories.
//
// # Format
//
//	file       := [rdb] record*          ; rdb: an RDB preamble or RDB base file ("REDIS"/"VALKEY")
//	record     := command | annotation
//	command    := "*" argc CRLF arg{argc} ; argc >= 1
//	arg        := "$" len CRLF <len bytes> CRLF
//	annotation := "#" text LF            ; e.g. "#TS:1700000000\r\n"; at most 1023 bytes
//
//	appendonlydir/appendonly.aof.manifest:
//	  file appendonly.aof.1.base.rdb seq 1 type b
//	  file appendonly.aof.1.incr.aof seq 1 type i
//
// Reader parses a RESP stream; it does not read RDB data, and reports an RDB
// at the start of its input as ErrRDBPreamble without consuming it, so that a
// caller hands Reader.Rest to an RDB reader and then reads the RESP tail with
// NewReader(tail, ReaderOptions{BaseOffset: rdbLength}). Strict mode applies
// redis-check-aof's rules (CRLF everywhere, balanced MULTI/EXEC); otherwise
// the reader accepts what redis-server's loader accepts. Writer writes what
// Reader reads. ParseManifest and Manifest.WriteTo follow Redis's manifest
// grammar and quoting exactly; OpenDirFS lists a directory's files in load
// order and tells RDB from RESP by content; InspectDataDir says what a server
// would load from a data directory (an fs.FS), as facts for the caller to
// word. Check walks a stream and reports counts,
// the first problem, whether it is a torn tail, and where to cut to repair.
//
// # Ownership, memory and concurrency
//
// Records and argument slices belong to the Reader and are valid until the
// next call to any of its methods. Arguments are slices of the Reader's own
// window (of the caller's memory with NewReaderBytes): nothing is allocated per
// argument. Memory is bounded by the largest argument read whole, never by a
// command's argument count or the file size; lengths read from the input are
// checked against ReaderOptions.MaxArgSize (512 MiB by default) before any
// memory is committed, and the window grows only as data arrives.
// NextArgStream and Check never hold an argument at all; AppendCommand
// copies a command's arguments into the caller's buffer instead. Neither
// Reader nor Writer is safe for concurrent use.
//
// # Errors
//
// Failures in RESP input are *ParseError values wrapping ErrCorrupt (a bad
// byte), ErrTruncated (the input ends inside a command or an open MULTI),
// ErrArgTooLarge (a caller's limit), ErrRDBPreamble, or an I/O error; each
// carries the offsets redis-server and redis-check-aof would truncate to.
// Manifest failures are *ManifestError values. Reader errors are sticky.
package aof
