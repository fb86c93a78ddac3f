package engine

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// keyLine renders what Each gives for a key, compactly.
func keyLine(db int, key []byte, ent *rdb.Entry, v *rdb.Value) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %q %v %d %s %d", db, key, ent.HasExpire, ent.ExpireAtMs, v.Kind, v.Elems)
	for _, m := range v.List {
		b.Write(m)
	}
	for _, m := range v.Set {
		b.Write(m)
	}
	for _, m := range v.ZSet {
		fmt.Fprintf(&b, "%s:%g", m.Member, m.Score)
	}
	for _, f := range v.Hash {
		fmt.Fprintf(&b, "%s=%s@%d", f.Field, f.Value, f.ExpireAtMs)
	}
	if v.Stream != nil {
		fmt.Fprintf(&b, "%v", v.Stream.Entries)
	}
	b.Write(v.String)
	return b.String()
}

// TestPartsCoverEach: the parts of Parts, each walked by Exporter.Each (on
// goroutines of their own, at the same time), give the keys of Each in its
// order, whatever the sizes, with dead entries, several chunks, several
// databases, big values and expired keys left out under ExpiredDrop.
func TestPartsCoverEach(t *testing.T) {
	now := int64(1000)
	e := summaryEngine(t, 3000, &now)
	for i := range 300 {
		k := "l:" + strconv.Itoa(i)
		for j := range i % 40 {
			mustApply(t, e, "RPUSH", k, strings.Repeat("x", j))
		}
		mustApply(t, e, "SELECT", strconv.Itoa(i%4))
		mustApply(t, e, "HSET", "h:"+strconv.Itoa(i), "f", strconv.Itoa(i), "g", strings.Repeat("y", i))
		mustApply(t, e, "SELECT", "0")
		mustApply(t, e, "DEL", "s:"+strconv.Itoa(i*7))
	}
	mustApply(t, e, "SET", "big", strings.Repeat("b", 100<<10))
	for _, expired := range []ExpiredPolicy{ExpiredKeep, ExpiredDrop} {
		e.opts.Expired = expired
		now = 6000
		var want []string
		if err := e.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
			want = append(want, keyLine(db, key, ent, v))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, sz := range [][2]int{{1, 1 << 30}, {500, 1 << 30}, {5000, 200}, {1 << 30, 1 << 30}, {64 << 10, 90 << 10}} {
			parts := e.Parts(sz[0], sz[1])
			base := e.NewExporter()
			got := make([][]string, len(parts))
			var wg sync.WaitGroup
			for i, p := range parts {
				if p.Big && p.Bytes < sz[1] {
					t.Errorf("sizes %v: a big part of %d bytes", sz, p.Bytes)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					base.Clone().Each(p, func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
						got[i] = append(got[i], keyLine(db, key, ent, v))
						return nil
					})
				}()
			}
			wg.Wait()
			var all []string
			for _, g := range got {
				all = append(all, g...)
			}
			if strings.Join(all, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%v, sizes %v: %d parts give %d keys, Each %d, or another order", expired, sz, len(parts), len(all), len(want))
			}
			if sz[0] == 1 && len(parts) < len(want) {
				t.Errorf("parts of 1 byte: %d parts for %d keys", len(parts), len(want))
			}
		}
	}
}
