package engine

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func reviewArgs(s ...string) [][]byte {
	var a [][]byte
	for _, x := range s {
		a = append(a, []byte(x))
	}
	return a
}

// TestBitopSourcesSurviveCompaction: BITOP holds its sources' bytes while a
// lazy expiry deletes a key; the compaction that deletion makes due must wait
// until the command is done, or the sources would point at other keys' bytes.
func TestBitopSourcesSurviveCompaction(t *testing.T) {
	now := int64(1000)
	e := New(Options{Mode: ModeLive, Clock: func() int64 { return now }})
	d1000 := string(bytes.Repeat([]byte("d"), 1000))
	for i := 0; i < 260; i++ {
		if err := e.Apply(reviewArgs("SET", fmt.Sprintf("d%05d", i), d1000)); err != nil {
			t.Fatal(err)
		}
	}
	src := string(bytes.Repeat([]byte{0xff}, 100))
	e.Apply(reviewArgs("SET", "src", src))
	y := string(bytes.Repeat([]byte{0x00}, 100))
	for i := 0; i < 4000; i++ {
		e.Apply(reviewArgs("SET", fmt.Sprintf("y%05d", i), y))
	}
	e.Apply(reviewArgs("SET", "x", string(bytes.Repeat([]byte("x"), 50)), "PXAT", "2000"))
	db := e.DB(0)
	for i := 0; i < 259; i++ {
		e.Apply(reviewArgs("DEL", fmt.Sprintf("d%05d", i)))
	}
	t.Logf("dead=%d live=%d", db.dead, db.live)
	now = 3000
	if err := e.Apply(reviewArgs("BITOP", "OR", "dest", "src", "x")); err != nil {
		t.Fatal(err)
	}
	t.Logf("dead=%d live=%d", db.dead, db.live)
	var got []byte
	e.Each(func(dbi int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		if string(key) == "dest" {
			got = append([]byte(nil), v.String...)
		}
		return nil
	})
	if string(got) != src {
		t.Fatalf("BITOP OR dest src x: got %q, want 100 x 0xff", got)
	}
}

// TestHugeKeyChunkHoldsNoLaterEntries: a chunk made for one huge entry is
// longer than a location can address; once that entry dies, no entry may be
// placed past the addressable offset, by compaction or by later writes.
func TestHugeKeyChunkHoldsNoLaterEntries(t *testing.T) {
	e := New(Options{})
	big := string(bytes.Repeat([]byte("k"), 9<<20))
	if err := e.Apply(reviewArgs("SET", big, "v")); err != nil {
		t.Fatal(err)
	}
	e.Apply(reviewArgs("SET", "a", "1"))
	e.Apply(reviewArgs("DEL", big)) // compaction: "a" moves into the 9 MiB chunk
	db := e.DB(0)
	t.Logf("chunks=%d cap0=%d len0=%d", len(db.chunks), cap(db.chunks[0]), len(db.chunks[0]))
	v := string(bytes.Repeat([]byte("v"), 1000))
	for i := 0; i < 9000; i++ {
		if err := e.Apply(reviewArgs("SET", fmt.Sprintf("s%06d", i), v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.check(); err != nil {
		t.Fatal(err)
	}
}
