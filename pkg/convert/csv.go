package convert

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rdbtool/rdbtool/pkg/memory"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// CSVHeader is the column row of the CSV memory report: the columns of
// redis-rdb-tools' memory report, so existing spreadsheets and scripts keep
// working.
var CSVHeader = []string{"database", "type", "key", "size_in_bytes", "encoding", "num_elements", "len_largest_element", "expiry"}

// CSVWriter writes key records as rows of the CSV memory report:
// size_in_bytes is the memory the key takes in a Redis 7.0 server that loaded
// the file (package memory's model, MEMORY USAGE's figure), encoding the
// OBJECT ENCODING it has there, expiry RFC 3339 UTC (milliseconds) or empty.
// Keys that are not valid UTF-8 are written Go-quoted.
type CSVWriter struct {
	w   *csv.Writer
	row []string
}

// NewCSVWriter writes the header row and returns the writer.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	cw := &CSVWriter{w: csv.NewWriter(w), row: make([]string, len(CSVHeader))}
	return cw, cw.w.Write(CSVHeader)
}

// Write writes one key's row.
func (cw *CSVWriter) Write(k *memory.KeyRecord) error {
	row := cw.row
	row[0] = strconv.Itoa(k.DB)
	row[1] = k.Type.Kind().String()
	if utf8.Valid(k.Key) {
		row[2] = string(k.Key)
	} else {
		row[2] = strconv.Quote(string(k.Key))
	}
	row[3] = strconv.FormatInt(k.Usage.Bytes, 10)
	row[4] = k.Usage.Encoding
	row[5] = strconv.FormatUint(k.Usage.Elements, 10)
	row[6] = strconv.Itoa(k.Usage.LargestElement)
	row[7] = ""
	if k.HasExpire {
		row[7] = time.UnixMilli(k.ExpireAtMs).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return cw.w.Write(row)
}

// Flush writes what is buffered and reports any error.
func (cw *CSVWriter) Flush() error {
	cw.w.Flush()
	return cw.w.Error()
}

// DumpCSV writes one CSV row per key (CSVWriter), in file order.
func DumpCSV(r *rdb.Reader, w io.Writer, f Filter) (DumpStats, error) {
	var st DumpStats
	cw, err := NewCSVWriter(w)
	if err != nil {
		return st, err
	}
	rep, err := memory.Analyze(r, memory.ReportOptions{
		Match:       f.Match,
		TopKeys:     -1,
		TopElements: -1,
		PrefixDepth: -1,
		NowMs:       f.NowMs,
		OnKey: func(k *memory.KeyRecord) error {
			st.Keys++
			st.Lines++
			return cw.Write(k)
		},
	})
	if rep != nil {
		st.Filtered = rep.Filtered
	}
	if err != nil {
		return st, err
	}
	return st, cw.Flush()
}

// AppendMemoryJSON appends a key record as one JSON object (no newline), the
// line of rdbtool memory --format jsonl: db, key (in the byte-string form of
// docs/json.md), type, encoding, memory_bytes, elements,
// largest_element_bytes, and expire_at_ms when the key has a TTL.
func AppendMemoryJSON(dst []byte, k *memory.KeyRecord) []byte {
	b := jsonBuf(dst)
	b = append(b, `{"db":`...)
	b = b.int(int64(k.DB))
	b = append(b, `,"key":`...)
	b = b.bytesValue(k.Key)
	b = append(b, `,"type":`...)
	b = b.text(k.Type.Kind().String())
	b = append(b, `,"encoding":`...)
	b = b.text(k.Usage.Encoding)
	b = append(b, `,"memory_bytes":`...)
	b = b.int(k.Usage.Bytes)
	b = append(b, `,"elements":`...)
	b = b.uint(k.Usage.Elements)
	b = append(b, `,"largest_element_bytes":`...)
	b = b.int(int64(k.Usage.LargestElement))
	if k.HasExpire {
		b = append(b, `,"expire_at_ms":`...)
		b = b.int(k.ExpireAtMs)
	}
	return append(b, '}')
}

// AppendJSONBytes appends a byte string in the form of docs/json.md: a JSON
// string when it is valid UTF-8, {"base64":"..."} otherwise.
func AppendJSONBytes(dst, s []byte) []byte { return jsonBuf(dst).bytesValue(s) }
