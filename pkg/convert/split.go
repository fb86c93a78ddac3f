package convert

import (
	"fmt"
	"io"

	"github.com/rdbtool/rdbtool/pkg/cluster"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// SplitOptions configure Split.
type SplitOptions struct {
	// Filter selects the keys written.
	Filter Filter
	// DB is the source database whose keys go to the parts, as database 0
	// (a cluster node has no other). A selected key in another database is
	// an error: leave it out with Filter.DBs.
	DB int
}

// SplitStats count what Split wrote.
type SplitStats struct {
	Keys      []int64 // per part
	Filtered  int64
	Functions int64 // libraries, written to every part
	ModuleAux int64 // module aux records, written to every part
}

// Split writes the keys of r into parts by cluster slot: a key goes to
// parts[owner(slot)], as database 0. Function libraries, module aux data and
// the aux fields go to every part; slot-info and slot-import records, which
// describe the source's own slots, to none. It closes every part writer.
func Split(r *rdb.Reader, owner func(slot int) int, parts []*rdb.Writer, o SplitOptions) (SplitStats, error) {
	st := SplitStats{Keys: make([]int64, len(parts))}
	all := func(e *rdb.Entry) error {
		for _, w := range parts {
			if err := w.WriteEntry(e); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		switch e.Kind {
		case rdb.EntryAux:
			err = all(e)
		case rdb.EntryFunction:
			st.Functions++
			err = all(e)
		case rdb.EntryModuleAux:
			st.ModuleAux++
			err = all(e)
		case rdb.EntryKey:
			if !o.Filter.Match(e) {
				st.Filtered++
				_, err = r.SkipValue()
				break
			}
			if e.DB != o.DB {
				return st, fmt.Errorf("key %s is in database %d, and a cluster node holds database %d only: choose the database to split with --db", rdb.QuoteBytes(e.Key), e.DB, o.DB)
			}
			slot := cluster.Slot(e.Key)
			i := owner(slot)
			if i < 0 || i >= len(parts) {
				return st, fmt.Errorf("key %s is in slot %d, which no master of the map serves", rdb.QuoteBytes(e.Key), slot)
			}
			db := e.DB
			e.DB = 0
			err = CopyValue(r, parts[i], e)
			e.DB = db
			st.Keys[i]++
		}
		if err != nil {
			return st, err
		}
	}
	for _, w := range parts {
		if err := w.Close(); err != nil {
			return st, err
		}
	}
	return st, nil
}
