package rdb_test

import (
	"bytes"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestWriterStreamChecksAgainstRedis shows, for each stream rule the Writer
// took from the Reader's strict checks, the file the Writer now refuses to
// make (a valid one, patched) and what Debian's Redis 7.0 and verify say of
// it. Redis 7.0 loads a max deleted ID above the last ID and fewer entries
// added than the length (rdbLoadObject reads them unchecked; XADD and XINFO
// then work from wrong numbers), and refuses a pending entry without a
// consumer only under sanitize-dump-payload yes; verify refuses all three,
// and nothing the Writer makes may fail verify.
func TestWriterStreamChecksAgainstRedis(t *testing.T) {
	const seen = 0x1122334455667788
	id := rdb.StreamID{Ms: 10}
	stream := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{
		Entries:    []rdb.StreamEntry{{ID: id, Fields: [][]byte{[]byte("f"), []byte("v")}}},
		StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 33}, MaxDeletedID: rdb.StreamID{Ms: 21}, EntriesAdded: 7},
		Groups: []rdb.StreamGroup{{Name: []byte("grp"), LastDelivered: id, EntriesRead: 1,
			PEL:       []rdb.StreamPending{{ID: id, DeliveryTimeMs: 5, DeliveryCount: 1}},
			Consumers: []rdb.StreamConsumer{{Name: []byte("cons"), SeenTimeMs: seen, PEL: []rdb.StreamID{id}}}}},
	}}
	var out bytes.Buffer
	w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 10})
	if err := w.WriteKey(&rdb.Entry{Key: []byte("st")}, stream); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good := out.Bytes()
	// Length 1, last 33-0, first 10-0, max deleted 21-0, 7 added, 1 group.
	meta := []byte{1, 33, 0, 10, 0, 21, 0, 7, 1}
	// Consumer "cons", seen time (little-endian), one pending ID.
	consumer := append([]byte{4, 'c', 'o', 'n', 's', 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 1}, make([]byte, 16)...)
	consumer[len(consumer)-16+7] = 10
	for _, part := range [][]byte{meta, consumer} {
		if bytes.Count(good, part) != 1 {
			t.Fatalf("% x is not once in the file", part)
		}
	}
	patch := func(old, new []byte) []byte {
		return zeroChecksum(bytes.Replace(bytes.Clone(good), old, new, 1))
	}
	cases := []struct {
		name      string
		file      []byte
		verify    string
		loads     bool // Redis 7.0 with its defaults
		sanitized bool // with sanitize-dump-payload yes
	}{
		{"max deleted ID above the last ID", patch(meta, []byte{1, 33, 0, 10, 0, 48, 0, 7, 1}), "max deleted ID 48-0 is above the last ID 33-0", true, true},
		{"entries added below the length", patch(meta, []byte{1, 33, 0, 10, 0, 21, 0, 0, 1}), "0 entries added is less than the length 1", true, true},
		{"pending entry without a consumer", patch(consumer, append(bytes.Clone(consumer[:len(consumer)-17]), 0)), "consumers own 0 pending entries but the group PEL has 1", true, false},
	}
	if err := strictReadErr(good); err != nil {
		t.Fatalf("the valid file: %v", err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := strictReadErr(c.file); err == nil || !hasAll(err.Error(), c.verify, `"st"`) {
				t.Errorf("verify: %v, want %q naming the key", err, c.verify)
			}
			if loaded, log := redisLoads(t, c.file); loaded != c.loads {
				t.Errorf("Redis 7.0 %s, want the opposite\n%s", refusedText(loaded), log)
			}
			if loaded, log := redisLoads(t, c.file, "--sanitize-dump-payload", "yes"); loaded != c.sanitized {
				t.Errorf("Redis 7.0 with sanitize-dump-payload yes %s, want the opposite\n%s", refusedText(loaded), log)
			}
		})
	}
}
