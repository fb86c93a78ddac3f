package rdb_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// verdict reads data the way verify does (Next alone, strict) and renders
// everything a caller can observe: the error with its offset and key, where
// the reader stopped, the keys read, the checksum and every warning in order.
func verdict(data []byte, workers int) string {
	return readVerdict(data, readWay{workers: workers})
}

// TestParallelMatchesSequential: with workers checking values in the
// background, a reader reports exactly what it reports without them — on the
// fixtures, on every corpus RDB, and on thousands of damaged files, with
// default limits (small values are checked by the parser), with every value
// handed over, one value per batch (so that failures surface while later
// batches are in flight), and with one batch in flight per worker (so that
// the parser checks values itself between values the workers check).
func TestParallelMatchesSequential(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	fixtures, _ := filepath.Glob(filepath.Join(moduleRoot(), "fixtures", "*.rdb"))
	for _, p := range fixtures {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(p), b})
		if strings.Contains(p, "types-7.0") || strings.Contains(p, "compressed-lists") {
			for _, m := range mutations(b) {
				inputs = append(inputs, input{filepath.Base(p) + ":" + m.name, m.data})
			}
		}
	}
	if dir := corpusDirOrEmpty(); dir != "" {
		for _, rel := range corpusRDBFiles(t) {
			b, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, input{rel, b})
		}
	} else {
		t.Log("corpus absent: fixtures and their damaged copies only")
	}
	check := func(label string) {
		for _, in := range inputs {
			want := verdict(in.data, 0)
			for _, w := range []int{1, 3} {
				if got := verdict(in.data, w); got != want {
					t.Fatalf("%s, %s, %d workers:\n got %s\nwant %s", in.name, label, w, got, want)
				}
			}
		}
	}
	check("default limits")
	restore := rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 256, BatchBytes: 256 << 10, PendingPerWorker: 4})
	defer restore()
	check("every value handed over")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 4})
	check("one value per batch")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 1})
	check("one value per batch, one batch per worker in flight (the parser checks many values itself)")
	rdb.SetParallelLimits(rdb.ParallelLimits{BatchJobs: 3, BatchBytes: 1 << 20, PendingPerWorker: 2, MinJobBytes: 64})
	check("values from 64 bytes handed over, in threes")
	t.Logf("%d inputs agree with and without workers", len(inputs))
}

// corpusDirOrEmpty is the corpus folder, or "" when it is absent (outside CI).
func corpusDirOrEmpty() string {
	return testenv.CorpusOrEmpty()
}

// TestParallelNextAfterClose: Close stops the checksum goroutine and the
// workers; a later Next (misuse, but possible) fails instead of panicking.
func TestParallelNextAfterClose(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	rd := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true, Workers: 2})
	for i := 0; i < 10; i++ {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	rd.Close()
	if _, err := rd.Next(); err == nil || err == io.EOF {
		t.Fatalf("Next after Close: %v, want an error", err)
	}
}

// TestParallelMatchesSequentialOnHandedOverValues: what the workers check
// apart from blobs — LZF-compressed strings of every size (light jobs: the
// parser reads their lengths only), plain sets, sorted sets and hashes
// (framed by the parser, their repeats checked by a worker), streams with a
// consumer group (framed too) — yields the
// sequential verdict on a file of such values, on 917 damaged copies of it,
// and on crafted values with repeated elements, whatever the batch limits.
func TestParallelMatchesSequentialOnHandedOverValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	orig := writeKeys(t, 11, 36, func(i int) *rdb.Value {
		var v *rdb.Value
		switch i % 6 {
		case 5:
			st := &rdb.Stream{}
			n := 40 + rng.IntN(40)
			for j := range n {
				st.Entries = append(st.Entries, rdb.StreamEntry{ID: rdb.StreamID{Ms: uint64(1000 + j), Seq: 0},
					Fields: [][]byte{[]byte("name"), []byte("item" + strconv.Itoa(j)), []byte("n"), []byte(strconv.Itoa(rng.IntN(1000)))}})
			}
			last := st.Entries[n-1].ID
			st.Length, st.LastID, st.FirstID, st.EntriesAdded, st.GroupCount = uint64(n), last, st.Entries[0].ID, uint64(n), 1
			g := rdb.StreamGroup{Name: []byte("g"), LastDelivered: last, EntriesRead: int64(n)}
			c := rdb.StreamConsumer{Name: []byte("alice"), SeenTimeMs: 1700000000000, ActiveTimeMs: 1700000000000}
			for j := 0; j < n; j += 3 {
				id := st.Entries[j].ID
				g.PEL = append(g.PEL, rdb.StreamPending{ID: id, DeliveryTimeMs: 1700000000000, DeliveryCount: 1})
				c.PEL = append(c.PEL, id)
			}
			g.Consumers = []rdb.StreamConsumer{c, {Name: []byte("bob"), SeenTimeMs: 1700000000001, ActiveTimeMs: 1700000000001}}
			st.Groups = []rdb.StreamGroup{g}
			v = &rdb.Value{Kind: rdb.KindStream, Stream: st}
		case 0, 1:
			text := strings.Repeat("<li class=\"card\">"+strconv.Itoa(rng.IntN(1000))+"</li>", 2+rng.IntN(60))
			v = &rdb.Value{Kind: rdb.KindString, String: []byte(text)}
		case 2:
			v = numberedSet(130 + rng.IntN(20))
		case 3:
			v = randomZSet(rng, 130+rng.IntN(20))
		case 4:
			v = numberedHash(513+rng.IntN(10), func(j int) []byte { return []byte(strconv.Itoa(j)) })
		}
		return v
	}, rdb.TypeString, rdb.TypeSet, rdb.TypeZSet2, rdb.TypeHash, rdb.TypeStreamListpacks3)
	if !bytes.Contains(orig, []byte{0xC3}) {
		t.Fatal("no LZF-compressed string in the file")
	}
	inputs := damagedInputs(orig, 3)
	limits := []rdb.ParallelLimits{
		{BatchJobs: 256, BatchBytes: 256 << 10, PendingPerWorker: 4, MinJobBytes: 2048},
		{BatchJobs: 256, BatchBytes: 256 << 10, PendingPerWorker: 4},
		{BatchJobs: 1, BatchBytes: 1, PendingPerWorker: 4},
		{BatchJobs: 3, BatchBytes: 1 << 20, PendingPerWorker: 1},
	}
	for _, l := range limits {
		restore := rdb.SetParallelLimits(l)
		for name, data := range inputs {
			want := verdict(data, 0)
			for _, workers := range []int{1, 2} {
				if got := verdict(data, workers); got != want {
					restore()
					t.Fatalf("%s, limits %+v, %d workers:\n got %s\nwant %s", name, l, workers, got, want)
				}
			}
		}
		restore()
	}
}
