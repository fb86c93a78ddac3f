// Package resp speaks RESP2, the Redis wire protocol, to a live server: a
// client connection with pipelining, AUTH (password or ACL user), TLS and
// SELECT; the parsing of replies under limits; redis:// and rediss:// URLs;
// and the replica side of a full synchronization, which streams a fresh RDB
// snapshot out of a server.
//
// # Format
//
//	command := "*" argc CRLF ( "$" len CRLF bytes CRLF ){argc}
//	reply   := "+" text CRLF             ; simple string
//	         | "-" text CRLF             ; error: "CODE message" (MOVED, ASK, BUSYKEY...)
//	         | ":" int CRLF              ; integer
//	         | "$" len CRLF bytes CRLF   ; bulk string; "$-1" is null
//	         | "*" n CRLF reply{n}       ; array; "*-1" is null
//
//	full sync (replica side), as a Redis replica does it:
//	  > REPLCONF capa eof capa psync2      < +OK
//	  > PSYNC ? -1                         < +FULLRESYNC <replid> <offset>
//	  < "\n"*                              ; keep-alives while the master forks
//	  < "$" len CRLF <len bytes>           ; disk transfer
//	  < "$EOF:" mark(40) CRLF <bytes> mark ; diskless transfer
//	Servers without PSYNC get SYNC, answered by the payload directly.
//
// # Pipelining, ownership and limits
//
// Conn.Send buffers pre-encoded commands (Append* build them), Flush writes
// them and Receive reads the replies in order, so a caller keeps many
// commands in flight; Do is one round trip. Replies are fresh values the
// caller owns. Every length a server sends is checked before anything is
// allocated for it (ReaderOptions: 512 MiB bulk strings, 2^24 array elements
// and 32 levels of nesting by default), and arrays grow only as elements
// arrive. A Conn is not safe for concurrent use, except that one goroutine
// may Send/Flush while another Receives: the two directions share nothing.
//
// # Errors
//
// An error reply is a *Error (its Code is the first word, "MOVED", "BUSYKEY");
// Do returns it as its error, Receive returns it inside the Reply. Protocol
// violations are *ProtocolError values; I/O errors come as they are, and
// leave the connection unusable.
package resp
