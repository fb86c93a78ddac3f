// Package canonjson reads rdbtool's JSON dump (docs/json.md) into the
// canonical lines of package canon, so that tests compare what "rdbtool dump"
// wrote with the datasets servers held. It is apart from canon because it
// needs pkg/convert's JSON reader, and canon stays importable by the packages
// convert is made of.
package canonjson

import (
	"io"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// FromDump decodes the JSON Lines (or array) of a dump into sorted canonical
// lines: one a key, one for the function libraries. strict keeps what a
// server's snapshot has only in the strict corpus files (a consumer's seen
// time).
func FromDump(r io.Reader, strict bool) ([]string, error) {
	jr := convert.NewJSONReader(r, 1<<30)
	var lines []string
	var funcs canon.Set
	for {
		rec, err := jr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch {
		case rec.Value != nil:
			exp := rec.Entry.ExpireAtMs
			if !rec.Entry.HasExpire {
				exp = 0
			}
			l, err := canon.KeyLine(rec.Entry.DB, rec.Entry.Key, exp, rec.Value, strict)
			if err != nil {
				return nil, err
			}
			lines = append(lines, canon.Marshal(l))
		case rec.Entry != nil && rec.Entry.Kind == rdb.EntryFunction:
			funcs = append(funcs, rec.Entry.Function)
		}
	}
	if len(funcs) > 0 {
		lines = append(lines, canon.Marshal(canon.Functions{Libraries: funcs}))
	}
	canon.Sort(lines)
	return lines, nil
}
