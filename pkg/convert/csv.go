package convert

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// CSVHeader is the column row of DumpCSV: the columns of redis-rdb-tools'
// memory report, so existing spreadsheets and scripts keep working.
var CSVHeader = []string{"database", "type", "key", "size_in_bytes", "encoding", "num_elements", "len_largest_element", "expiry"}

// DumpCSV writes one row per key. size_in_bytes is the key's serialized size in
// the file (its whole record), not an estimate of server memory; encoding is the
// OBJECT ENCODING name of the stored form; expiry is RFC 3339 UTC or empty.
// Keys that are not valid UTF-8 are written Go-quoted.
func DumpCSV(r *rdb.Reader, w io.Writer, f Filter) (DumpStats, error) {
	var st DumpStats
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return st, err
	}
	row := make([]string, len(CSVHeader))
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		if !f.Match(e) {
			st.Filtered++
			if _, err := r.SkipValue(); err != nil {
				return st, err
			}
			continue
		}
		st.Keys++
		row[0] = strconv.Itoa(e.DB)
		row[1] = e.Type.Kind().String()
		if utf8.Valid(e.Key) {
			row[2] = string(e.Key)
		} else {
			row[2] = strconv.Quote(string(e.Key))
		}
		row[4] = ObjectEncoding(e.Type)
		row[7] = ""
		if e.HasExpire {
			row[7] = time.UnixMilli(e.ExpireAtMs).UTC().Format("2006-01-02T15:04:05.000Z")
		}
		largest := 0
		for {
			el, err := r.NextElem()
			if err == io.EOF {
				break
			}
			if err != nil {
				return st, err
			}
			largest = max(largest, elemSize(el))
		}
		row[3] = strconv.FormatInt(r.Offset()-e.Offset, 10)
		row[5] = strconv.FormatUint(r.ElemCount(), 10)
		row[6] = strconv.Itoa(largest)
		if err := cw.Write(row); err != nil {
			return st, err
		}
		st.Lines++
	}
	cw.Flush()
	return st, cw.Error()
}

func elemSize(el *rdb.Elem) int {
	switch el.Kind {
	case rdb.ElemStreamEntry:
		n := 0
		for _, f := range el.Fields {
			n += len(f)
		}
		return n
	case rdb.ElemModule:
		return len(el.Module.Raw)
	}
	return len(el.Member) + len(el.Value)
}

// ObjectEncoding names a stored type as OBJECT ENCODING (and redis-rdb-tools)
// would describe it.
func ObjectEncoding(t rdb.Type) string {
	switch t {
	case rdb.TypeString:
		return "string"
	case rdb.TypeList:
		return "linkedlist"
	case rdb.TypeListZiplist, rdb.TypeZSetZiplist, rdb.TypeHashZiplist:
		return "ziplist"
	case rdb.TypeListQuicklist, rdb.TypeListQuicklist2:
		return "quicklist"
	case rdb.TypeSet, rdb.TypeHash, rdb.TypeHashMetadata, rdb.TypeHashMetadataPreGA, rdb.TypeValkeyHash2:
		return "hashtable"
	case rdb.TypeSetIntset:
		return "intset"
	case rdb.TypeSetListpack, rdb.TypeZSetListpack, rdb.TypeHashListpack:
		return "listpack"
	case rdb.TypeHashListpackEx, rdb.TypeHashListpackExPreGA:
		return "listpackex"
	case rdb.TypeZSet, rdb.TypeZSet2:
		return "skiplist"
	case rdb.TypeHashZipmap:
		return "zipmap"
	case rdb.TypeStreamListpacks, rdb.TypeStreamListpacks2, rdb.TypeStreamListpacks3, rdb.TypeStreamListpacks4:
		return "stream"
	case rdb.TypeModule2, rdb.TypeModulePreGA:
		return "module"
	}
	return t.String()
}
