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
				for si, src := range srcs {
					off := si * dbStride
					for _, l := range transformLines(t, canonLines(t, src.data), expectView{version: v, redis70: true, dbOffset: off}) {
						if !strings.HasPrefix(l, `{"functions"`) {
							want = append(want, l)
						}
					}
					db := -1
					eachKey(t, src.data, func(e *rdb.Entry, r *rdb.Reader) {
						val := readValue(t, r)
						payload, err := p.Encode(e, val)
						if err != nil {
							t.Fatalf("%s: %v", src.name, err)
						}
						if payload == nil {
							return
						}
						if e.DB+off != db {
							db = e.DB + off
							if _, err := c.Do("SELECT", db); err != nil {
								t.Fatal(err)
							}
						}
						ttl := int64(0)
						if e.HasExpire {
							ttl = e.ExpireAtMs
						}
						if _, err := c.Do("RESTORE", e.Key, ttl, payload, "ABSTTL"); err != nil {
							t.Fatalf("%s: RESTORE %q (%s): %v", src.name, e.Key, val.Kind, err)
						}
						keys++
						back, err := redistest.ToBytes(c.Do("DUMP", e.Key))
						if err != nil {
							t.Fatal(err)
						}
						pr, _, err := rdb.OpenPayload(e.Key, back, rdb.ReaderOptions{Strict: true})
						if err != nil {
							t.Fatalf("%s: the server's DUMP of %q: %v", src.name, e.Key, err)
						}
						bv := readValue(t, pr)
						pr.Close()
						line, err := canon.KeyLine(db, bytes.Clone(e.Key), ttl, bv, true)
						if err != nil {
							t.Fatal(err)
						}
						dumped = append(dumped, canon.Marshal(line))
					})
				}
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
