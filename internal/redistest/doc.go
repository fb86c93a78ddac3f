// Package redistest runs real redis-server processes for tests and reads their
// state back as canonical JSON lines (package canon), so that rdbtool's readers,
// writers and replay engine can be judged by Redis itself.
//
// Servers listen on 127.0.0.1 on a free port, keep their files in a temporary
// directory, save nothing unless asked (--save ""), and are stopped by their own
// PID (SIGTERM, then SIGKILL after a timeout) when the test ends. Require skips a
// test when the binaries are missing, except under CI=true, where it fails.
//
// The RESP2 client (Dial, Client.Do) is deliberately small: one connection, one
// command at a time, binary-safe arguments and replies. It is meant for trusted
// local servers; reply sizes are still bounded (512 MiB bulk, 2^27 elements).
//
// A Server and a Client are not safe for concurrent use; start one per test.
package redistest
