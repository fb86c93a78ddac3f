// Package restore writes the dataset of an RDB stream into a live Redis or
// Valkey server, or into a Redis Cluster, over pipelined connections.
//
// # What is sent
//
// Each key is one unit, sent whole to the master of its slot:
//
//	RESTORE key ttl payload ABSTTL [REPLACE] [IDLETIME s | FREQ f]
//	  payload := type byte, the value's bytes as the file holds them,
//	             RDB version (2 bytes LE), CRC-64 (8 bytes LE)
//
// when the target takes the payload (PayloadFunc decides: by default when
// its RDB version is not older than the file's, and the payload fits in its
// proto-max-bulk-len), else the commands that rebuild the value
// (convert.KeyCommands), in one transaction that builds the value under a
// helper key of the same slot and renames it, so that an existing key is
// never touched unless Replace says so:
//
//	MULTI
//	DEL {tag}rdbtool:restore:tmp
//	RPUSH {tag}rdbtool:restore:tmp ...  (64 items a command; PEXPIREAT last)
//	RENAMENX {tag}rdbtool:restore:tmp key   ; 0: the key exists
//	DEL {tag}rdbtool:restore:tmp
//	EXEC
//
// Function libraries go first, one FUNCTION RESTORE each, to every master.
//
// # Cluster
//
// The slot map comes from CLUSTER SHARDS (CLUSTER SLOTS before Redis 7.0);
// each master gets its own pipeline and they run concurrently. MOVED updates
// the map and resends the unit to the new owner; ASK resends it once to the
// importing node behind ASKING (a transaction takes one ASKING before MULTI);
// TRYAGAIN, CLUSTERDOWN and LOADING are retried with a growing pause until
// Options.RetryTimeout. A connection that fails stops the whole run.
//
// # Acknowledgements and resuming
//
// Keys are numbered in source order. A Tracker records which have been
// acknowledged (or skipped) and saves, through Options.SaveResume, the
// lowest number not yet done, the few done above it, and a horizon below
// which every key sent so far lies; the horizon is saved before any key
// beyond it is sent. A run given that state skips what was done and treats
// an existing key below the horizon as written by the run that was cut off
// (it may have been applied without its reply arriving), so a resumed run
// neither writes a key twice nor stops on the BUSYKEY its predecessor
// caused.
//
// # Memory and concurrency
//
// A unit holds its commands until acknowledged (MOVED must be able to resend
// it), so memory is bounded by Options.MaxBytes in flight (twice that at
// worst: buffers are recycled in powers of two) plus the largest single key.
// Each connection keeps up to Options.Window units in flight; when the
// window is full, it is refilled once half of it has been answered, in one
// write. Run uses one goroutine reading the source, and two per master
// (writing and reading); Stats may be read while it runs.
package restore
