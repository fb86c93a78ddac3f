package convert

import (
	"context"
	"fmt"
	"io"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// CopyOptions choose what CopyRDB copies.
type CopyOptions struct {
	// Filter selects the keys copied; every other record is copied.
	Filter Filter
	// Context, when set, stops the copy once it is done: it is checked every
	// few thousand records, since an input read from memory (a mapped file)
	// reads nothing that would notice.
	Context context.Context
}

// CopyRDB copies the records r returns to w, in file order, and closes w: aux
// fields, function libraries (each checked as Redis loads it, LibraryCheck),
// module aux data, and the keys o.Filter selects, element by element, so
// that memory stays bounded by the largest element. What w's target cannot
// hold is refused or left out as its WriterOptions say (see w.Dropped).
func CopyRDB(r *rdb.Reader, w *rdb.Writer, o CopyOptions) error {
	var libs LibraryCheck
	for n := 0; ; n++ {
		if n%4096 == 0 && o.Context != nil {
			if err := o.Context.Err(); err != nil {
				return fmt.Errorf("interrupted: %w", err)
			}
		}
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case e.Kind != rdb.EntryKey:
			if err := libs.Check(e); err != nil {
				return err
			}
			err = w.WriteEntry(e)
		case o.Filter.Match(e):
			err = CopyValue(r, w, e)
		default:
			_, err = r.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	return w.Close()
}

// CopyValue writes the key e, which r.Next just returned, and its value,
// element by element, to w.
func CopyValue(r *rdb.Reader, w *rdb.Writer, e *rdb.Entry) error {
	if err := w.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
		return err
	}
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if err := w.WriteElem(el); err != nil {
			return err
		}
	}
	return w.EndKey()
}
