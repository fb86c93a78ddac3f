package rdb_test

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// payloadServer is a server that judges payloads of some versions.
type payloadServer struct {
	name     string
	bin      func(t *testing.T) redistest.Binaries
	versions []int
}

// payloadServers: each version is taken by the servers that read it.
var payloadServers = []payloadServer{
	{"redis-7.0", func(t *testing.T) redistest.Binaries {
		b := redistest.Require(t)
		if !b.AtLeast(7, 0) || b.AtLeast(7, 2) {
			t.Skipf("redis-server %s is not 7.0", b.Version)
		}
		return b
	}, []int{7, 9, 10}},
	{redistest.Valkey8, func(t *testing.T) redistest.Binaries { return redistest.RequireNewer(t, redistest.Valkey8) }, []int{11}},
	{redistest.Redis74, func(t *testing.T) redistest.Binaries { return redistest.RequireNewer(t, redistest.Redis74) }, []int{11, 12}},
}

// TestPayloadRestore is the judge of PayloadWriter: every value of every
// fixture and generated corpus dump, encoded at 7, 9, 10, 11 and 12, is given
// to RESTORE on each server that reads that version (Debian's Redis 7.0 for
// 10 and below, the Valkey 8 build for 11, the Redis 7.4 build for 11 and
// 12). The server must take every payload and then hold exactly the source
// dataset minus what the version cannot hold (field TTLs below 12, streams
// below 9, a type-15 stream's counters as Redis derives them); and DUMP of
// every restored key, read back with OpenPayload, must give the same value.
func TestPayloadRestore(t *testing.T) {
	srcs := writerSources(t)
	for _, ps := range payloadServers {
		for _, v := range ps.versions {
			t.Run(ps.name+"/v"+strconv.Itoa(v), func(t *testing.T) {
				t.Parallel() // the time goes to round trips: servers run side by side
				bin := ps.bin(t)
				s := redistest.Start(t, redistest.Options{Binaries: bin, Args: []string{"--databases", strconv.Itoa(dbStride * len(srcs))}})
				c := s.Client(t)
				opts := lowerOptions(v)
				p := rdb.NewPayloadWriter(opts)
				var want, dumped []string
				keys := 0
				var batch []restoreItem
				flush := func() {
					dumped = append(dumped, restoreBatch(t, c, batch)...)
					keys += len(batch)
					batch = batch[:0]
				}
				for si, src := range srcs {
					off := si * dbStride
					for _, l := range transformLines(t, canonLines(t, src.data), expectView{version: v, redis70: true, dbOffset: off}) {
						if !strings.HasPrefix(l, `{"functions"`) {
							want = append(want, l)
						}
					}
					eachKey(t, src.data, func(e *rdb.Entry, r *rdb.Reader) {
						val := readValue(t, r)
						payload, err := p.Encode(e, val)
						if err != nil {
							t.Fatalf("%s: %v", src.name, err)
						}
						if payload == nil {
							return
						}
						it := restoreItem{src: src.name, db: e.DB + off, key: bytes.Clone(e.Key), payload: bytes.Clone(payload)}
						if e.HasExpire {
							it.ttl = e.ExpireAtMs
						}
						if batch = append(batch, it); len(batch) == 500 {
							flush()
						}
					})
				}
				flush()
				slices.Sort(want)
				got := transformLines(t, s.Snapshot(t, redistest.SnapshotOptions{Strict: true}), expectView{version: 13})
				if d := diffLines(want, got); d != "" {
					t.Errorf("after RESTORE, the server holds another dataset:\n%s", d)
				}
				if d := diffLines(want, transformLines(t, dumped, expectView{version: 13})); d != "" {
					t.Errorf("DUMP of the restored keys gives other values:\n%s", d)
				}
				t.Logf("%d keys restored from %d sources into %s at RDB %d; dataset and DUMPs match", keys, len(srcs), bin.Name, v)
			})
		}
	}
}

// restoreItem is a key to RESTORE.
type restoreItem struct {
	src     string
	db      int
	key     []byte
	ttl     int64
	payload []byte
}

// restoreBatch RESTOREs the items in one pipeline, then DUMPs them in another
// and returns the canonical line of each value the server gave back.
func restoreBatch(t *testing.T, c *redistest.Client, items []restoreItem) []string {
	t.Helper()
	withDB := func(cmd func(it restoreItem) []any) ([][]any, []int) {
		var cmds [][]any
		var at []int // index of each item's command
		db := -1
		for _, it := range items {
			if it.db != db {
				db = it.db
				cmds = append(cmds, []any{"SELECT", db})
			}
			at = append(at, len(cmds))
			cmds = append(cmds, cmd(it))
		}
		return cmds, at
	}
	cmds, at := withDB(func(it restoreItem) []any { return []any{"RESTORE", it.key, it.ttl, it.payload, "ABSTTL"} })
	replies, err := c.Pipeline(cmds)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if e, ok := replies[at[i]].(redistest.Error); ok {
			t.Fatalf("%s: RESTORE %q: %s", it.src, it.key, e)
		}
	}
	cmds, at = withDB(func(it restoreItem) []any { return []any{"DUMP", it.key} })
	if replies, err = c.Pipeline(cmds); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i, it := range items {
		back, err := redistest.ToBytes(replies[at[i]], nil)
		if err != nil {
			t.Fatalf("%s: DUMP %q: %v", it.src, it.key, err)
		}
		pr, _, err := rdb.OpenPayload(it.key, back, rdb.ReaderOptions{Strict: true})
		if err != nil {
			t.Fatalf("%s: the server's DUMP of %q: %v", it.src, it.key, err)
		}
		bv := readValue(t, pr)
		pr.Close()
		line, err := canon.KeyLine(it.db, it.key, it.ttl, bv, true)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, canon.Marshal(line))
	}
	return lines
}
