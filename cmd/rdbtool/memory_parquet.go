package main

import (
	"io"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/rdbtool/rdbtool/pkg/memory"
)

// memoryRow is one key in --format parquet: the jsonl columns. Keys are bytes
// (BYTE_ARRAY, a BLOB in DuckDB); key_utf8 holds the same key as text when it
// is valid UTF-8 (null otherwise), which is what queries usually want.
type memoryRow struct {
	DB                  int32   `parquet:"db"`
	Key                 []byte  `parquet:"key"`
	KeyUTF8             *string `parquet:"key_utf8,optional"`
	Type                string  `parquet:"type,dict"`
	Encoding            string  `parquet:"encoding,dict"`
	MemoryBytes         int64   `parquet:"memory_bytes"`
	Elements            int64   `parquet:"elements"`
	LargestElementBytes int64   `parquet:"largest_element_bytes"`
	ExpireAtMs          *int64  `parquet:"expire_at_ms,optional"`
}

// parquetBatch rows are buffered before they go to the writer, and a row
// group is closed every parquetGroupRows rows, so memory stays bounded
// whatever the number of keys.
const (
	parquetBatch     = 4096
	parquetGroupRows = 1 << 20
)

type memoryParquet struct {
	w     *parquet.GenericWriter[memoryRow]
	rows  []memoryRow
	group int
}

func newMemoryParquet(w io.Writer) *memoryParquet {
	return &memoryParquet{w: parquet.NewGenericWriter[memoryRow](w,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy("rdbtool", version, ""),
	)}
}

func (p *memoryParquet) write(k *memory.KeyRecord) error {
	row := memoryRow{
		DB: int32(k.DB), Key: append([]byte(nil), k.Key...), Type: k.Type.Kind().String(), Encoding: k.Usage.Encoding,
		MemoryBytes: k.Usage.Bytes, Elements: int64(k.Usage.Elements), LargestElementBytes: int64(k.Usage.LargestElement),
	}
	if utf8.Valid(k.Key) {
		s := string(k.Key)
		row.KeyUTF8 = &s
	}
	if k.HasExpire {
		e := k.ExpireAtMs
		row.ExpireAtMs = &e
	}
	p.rows = append(p.rows, row)
	if len(p.rows) >= parquetBatch {
		return p.flushRows()
	}
	return nil
}

func (p *memoryParquet) flushRows() error {
	if _, err := p.w.Write(p.rows); err != nil {
		return err
	}
	p.group += len(p.rows)
	p.rows = p.rows[:0]
	if p.group >= parquetGroupRows {
		p.group = 0
		return p.w.Flush()
	}
	return nil
}

func (p *memoryParquet) close() error {
	if err := p.flushRows(); err != nil {
		return err
	}
	return p.w.Close()
}
