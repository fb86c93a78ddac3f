package restore

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/resp"
)

// ClusterMode says whether the target is a cluster.
type ClusterMode uint8

const (
	ClusterAuto ClusterMode = iota // ask the seed node (INFO cluster: cluster_enabled)
	ClusterOn                      // it is a cluster; fail if it is not
	ClusterOff                     // one server
)

// Options configure Run.
type Options struct {
	// Dial opens a logged-in connection to addr ("host:port") on database 0.
	// The caller owns TLS and credentials; Run dials each master it needs.
	Dial func(ctx context.Context, addr string) (*resp.Conn, error)
	// Seed is the address of the server, or of one node of the cluster.
	Seed    string
	Cluster ClusterMode

	// Replace overwrites existing keys (RESTORE ... REPLACE) and function
	// libraries; SkipExisting keeps them. Without either an existing key
	// stops the run with a *KeyExistsError.
	Replace, SkipExisting bool
	// Filter selects the keys sent (by their source database).
	Filter convert.Filter
	// MapDB gives the target database of a source database, or false to
	// leave the database out; nil keeps every database where it is. A
	// cluster has only database 0: a key mapped anywhere else is an error.
	MapDB func(db int) (int, bool)
	// NowMs judges which keys have expired (they are not sent, as a server
	// loading the file drops them); 0 means the current time.
	NowMs int64
	// DropFieldTTLs sends hashes without their field TTLs when they go as
	// commands to a server that has no HPEXPIREAT; DropFunctions leaves out
	// function libraries a server before 7.0 cannot hold.
	DropFieldTTLs, DropFunctions bool
	// TargetRDBVersion overrides the RDB version Run finds out for the
	// target (FUNCTION DUMP's footer, else INFO's version); 0 finds out.
	TargetRDBVersion int
	// AsCommands sends every value as the commands that rebuild it, never as
	// a RESTORE payload: for servers and proxies that refuse RESTORE. Module
	// values, which only a payload carries, are then refused.
	AsCommands bool
	// Payload makes DUMP payloads; nil means the file's own bytes when the
	// target loads payloads of the file's version (RawPayload), else the value
	// re-encoded for the target (rdb.PayloadWriter, with DropFieldTTLs).
	Payload PayloadFunc
	// FramedValues sends the file's own bytes of a value (when the target
	// loads payloads of the file's version and Payload is nil) as they are
	// framed (rdb.Reader.RawValue: lengths and counts read, nothing inside
	// a string or an encoded blob decoded), rather than decoding and
	// checking every element on the way. It is for a source whose values
	// were checked already, by a pass over the same bytes, or whose caller
	// accepts leaving the check to the file's CRC-64 (verified when the
	// reader reaches the end, after the keys were sent) and to the server.
	// A value cut short is still an error.
	FramedValues bool

	// Window is how many units one connection keeps in flight (default
	// 1024); MaxBytes how many bytes of units may wait for their replies
	// in all (default 64 MiB; one key larger than that still goes, alone).
	Window   int
	MaxBytes int64
	// KeysPerSecond and BytesPerSecond cap the rate; 0 means no cap.
	KeysPerSecond, BytesPerSecond float64
	// RetryTimeout bounds how long a unit is retried after TRYAGAIN,
	// CLUSTERDOWN or LOADING; default one minute. ReplyTimeout bounds the
	// wait for any reply; default two minutes.
	RetryTimeout, ReplyTimeout time.Duration

	// Resume is the state a previous run saved (nil for a fresh run), and
	// ResumeKey a string that must match it (the caller's description of
	// source and options). SaveResume, when set, is called with the state
	// to keep, from one goroutine at a time, about once a second, before any
	// key past the saved horizon is sent, and at the end; the caller writes
	// it atomically.
	Resume     []byte
	ResumeKey  string
	SaveResume func(state []byte) error
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = 1024
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.RetryTimeout <= 0 {
		o.RetryTimeout = time.Minute
	}
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = 2 * time.Minute
	}
}

// Stats count what a run did. Run returns them also when it fails; the
// counters may be read with Snapshot while it runs.
type Stats struct {
	Keys         int64 // keys written and acknowledged
	AsCommands   int64 // of them, sent as commands rather than a payload
	Bytes        int64 // bytes of the units acknowledged (payloads and commands)
	Skipped      int64 // existing keys kept (SkipExisting)
	Present      int64 // keys a cut-off run had written (found existing on resume)
	Expired      int64 // keys whose TTL had passed: not sent
	Filtered     int64 // keys the filter or the database map left out
	Resumed      int64 // keys a previous run had done, skipped on resume
	Functions    int64 // function libraries restored (per master)
	ModuleAux    int64 // module aux records, which have no command to restore them
	FieldTTLsOff int64 // hash-field TTLs dropped (DropFieldTTLs)
	InFlight     int64 // units sent without a reply when the run stopped

	Moved, Ask, TryAgain, ClusterDown, Loading int64 // replies that made a unit go again

	Cluster      bool
	Masters      []NodeStats // per master, in address order
	TargetRDB    int         // the RDB version written for
	TargetServer string      // "redis 7.0.15"
	Seconds      float64
}

// NodeStats are one master's share.
type NodeStats struct {
	Addr     string
	Keys     int64
	InFlight int64
	Err      string // why its connection failed, if it did
}

// counters are the atomics behind Stats.
type counters struct {
	keys, asCommands, bytes, skipped, present, expired, filtered, resumed atomic.Int64
	functions, moduleAux, fieldTTLsOff                                    atomic.Int64
	moved, ask, tryAgain, clusterDown, loading                            atomic.Int64
}

// KeyExistsError is a key that already exists in the target while neither
// Replace nor SkipExisting was given.
type KeyExistsError struct {
	Key []byte
	DB  int
}

func (e *KeyExistsError) Error() string {
	return fmt.Sprintf("key %s exists in the target (BUSYKEY; db %d): --replace overwrites it, --skip-existing keeps it", rdb.QuoteBytes(e.Key), e.DB)
}

// KeyError is a key the server refused.
type KeyError struct {
	Key  []byte
	DB   int
	Addr string
	Err  error // a *resp.Error, or why the key could not be sent
}

func (e *KeyError) Error() string {
	s := "key " + rdb.QuoteBytes(e.Key)
	if e.DB != 0 {
		s += " (db " + strconv.Itoa(e.DB) + ")"
	}
	if e.Addr != "" {
		s += " on " + e.Addr
	}
	return s + ": " + e.Err.Error()
}
func (e *KeyError) Unwrap() error { return e.Err }

// NodeError is a server or cluster node that went away or misbehaved.
type NodeError struct {
	Addr string
	Err  error
}

func (e *NodeError) Error() string { return e.Addr + ": " + e.Err.Error() }
func (e *NodeError) Unwrap() error { return e.Err }

// TargetError is a target that cannot hold what the source has (a module
// value on a server that takes no payload for it, functions before 7.0, a
// non-zero database on a cluster).
type TargetError struct {
	Msg string
}

func (e *TargetError) Error() string { return e.Msg }

// ResumeError is saved state that does not belong to this run.
type ResumeError struct {
	Msg string
}

func (e *ResumeError) Error() string { return "resume state: " + e.Msg }
