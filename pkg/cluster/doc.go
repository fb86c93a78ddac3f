// Package cluster knows how Redis Cluster places keys: the CRC16 key slot
// with hash tags, the map from slots to masters (from CLUSTER SHARDS,
// CLUSTER SLOTS, CLUSTER NODES or a nodes.conf file, or written by hand), and
// the MOVED and ASK redirections a node answers with.
//
// # Format
//
//	slot(key)  = CRC16-XMODEM(tag or key) mod 16384
//	tag        = the bytes between the first "{" and the first "}" after it,
//	             when there are any ("{user1}.name" and "{user1}.mail" share a slot)
//	MOVED <slot> <host>:<port>   ; the slot lives there now: update the map
//	ASK <slot> <host>:<port>     ; this key is being imported there: send
//	                             ; ASKING then the command, once
//	nodes.conf / CLUSTER NODES line:
//	  <id> <ip>:<port>@<cport>[,<hostname>] <flags> <master-id|-> <ping> <pong>
//	  <epoch> <link> [<slot>|<start>-<end>|[<slot>-><-<id>]...]
//
// # Concurrency
//
// Slot and Tag are pure functions, safe anywhere. A Map is read-only once
// built; build a new one to change it.
package cluster
