package engine

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestMemoryBreakdown replays the AOF named by RDBTOOL_MEM_AOF and prints the
// bytes each kind of value holds (length and capacity): a tool for tuning the
// representation, skipped otherwise.
func TestMemoryBreakdown(t *testing.T) {
	path := os.Getenv("RDBTOOL_MEM_AOF")
	if path == "" {
		t.Skip("RDBTOOL_MEM_AOF is not set")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := New(Options{})
	r := aof.NewReader(bufio.NewReaderSize(f, 1<<20), aof.ReaderOptions{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind != aof.KindCommand {
			continue
		}
		args, err := r.ReadCommand(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Apply(args); err != nil {
			t.Fatal(err)
		}
	}
	type usage struct{ n, used, capa int }
	u := map[string]*usage{}
	add := func(what string, used, capa int) {
		x := u[what]
		if x == nil {
			x = &usage{}
			u[what] = x
		}
		x.n++
		x.used += used
		x.capa += capa
	}
	for _, d := range e.dbs {
		for _, c := range d.chunks {
			add("arena", len(c), cap(c))
		}
		add("slots", 8*len(d.slots), 8*cap(d.slots))
		for _, o := range d.objs {
			if o == nil {
				continue
			}
			switch o.kind {
			case rdb.KindString:
				add("string object", len(o.str), cap(o.str))
			case rdb.KindHash:
				if o.hash.d != nil {
					add("hash dict data", len(o.hash.d.data), cap(o.hash.d.data))
					add("hash dict slots", 5*len(o.hash.d.slots), 5*cap(o.hash.d.slots))
				} else {
					add("hash packed", len(o.hash.pk), cap(o.hash.pk))
				}
			case rdb.KindSet:
				if o.set.d != nil {
					add("set dict data", len(o.set.d.data), cap(o.set.d.data))
					add("set dict slots", 5*len(o.set.d.slots), 5*cap(o.set.d.slots))
				} else {
					add(fmt.Sprintf("set packed %d", o.set.enc), len(o.set.pk), cap(o.set.pk))
				}
			case rdb.KindZSet:
				if o.zset.d != nil {
					add("zset dict data", len(o.zset.d.data), cap(o.zset.d.data))
					add("zset dict slots", 5*len(o.zset.d.slots), 5*cap(o.zset.d.slots))
				}
				for _, b := range o.zset.o.blocks {
					add("zset blocks", len(b.data), cap(b.data))
				}
			case rdb.KindList:
				for _, b := range o.list.blocks() {
					add("list blocks", len(b.data), cap(b.data))
				}
			case rdb.KindStream:
				for _, b := range o.stream.log.blocks {
					add("stream blocks", len(b.data), cap(b.data))
				}
			}
		}
	}
	total := usage{}
	for k, x := range u {
		t.Logf("%-20s %8d allocs %8.1f MB used %8.1f MB capacity", k, x.n, float64(x.used)/(1<<20), float64(x.capa)/(1<<20))
		total.used += x.used
		total.capa += x.capa
	}
	t.Logf("total %.1f MB used, %.1f MB capacity", float64(total.used)/(1<<20), float64(total.capa)/(1<<20))
}
