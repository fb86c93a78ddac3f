package restore

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/resp"
)

// benchFile is an RDB 10 file of every common type and encoding (strings,
// listpacks, quicklists, hash tables, skip lists, sets, intsets), about
// 24 MB.
func benchFile(b *testing.B) []byte {
	b.Helper()
	var out bytes.Buffer
	w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 10})
	member := func(i, j int) []byte {
		return []byte(fmt.Sprintf("member-%d-%d-%s", i, j, bytes.Repeat([]byte("x"), j%40)))
	}
	for i := range 20000 {
		e := &rdb.Entry{Kind: rdb.EntryKey, Key: []byte(fmt.Sprintf("key:%d", i))}
		n := 4 + i%200 // listpacks mostly; every 50th big enough for a hash table
		v := &rdb.Value{}
		switch i % 6 {
		case 0:
			v.Kind, v.String = rdb.KindString, bytes.Repeat([]byte("value "), 20+i%400)
		case 1:
			v.Kind = rdb.KindList
			for j := range n * 4 {
				v.List = append(v.List, member(i, j))
			}
		case 2:
			v.Kind = rdb.KindHash
			for j := range n + (i%50/49)*600 {
				v.Hash = append(v.Hash, rdb.HashField{Field: member(i, j), Value: member(j, i)})
			}
		case 3:
			v.Kind = rdb.KindZSet
			for j := range n + (i%50/49)*200 {
				v.ZSet = append(v.ZSet, rdb.ZMember{Member: member(i, j), Score: float64(j) / 3})
			}
		case 4:
			v.Kind = rdb.KindSet
			for j := range n {
				v.Set = append(v.Set, member(i, j))
			}
		case 5:
			v.Kind = rdb.KindSet
			for j := range n {
				v.Set = append(v.Set, []byte(fmt.Sprint(j*7919)))
			}
		}
		if err := w.WriteKey(e, v); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkRestoreCommands makes the RESTORE command of every key of a file
// read in memory, as a restore into a server of the file's version does:
// "checked" copies each value while decoding and checking it (RawPayload,
// CopyRawValue), then into the command; "framed" takes the value by its
// framing (RawValue) and writes it once, into the command.
func BenchmarkRestoreCommands(b *testing.B) {
	data := benchFile(b)
	for _, mode := range []string{"checked", "framed"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var payload bytes.Buffer
			var cmd []byte
			for b.Loop() {
				r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
				h, _ := r.Header()
				for {
					e, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if e.Kind != rdb.EntryKey {
						continue
					}
					cmd = resp.AppendBulk(resp.AppendArray(cmd[:0], 5), e.Key)
					if mode == "checked" {
						payload.Reset()
						if _, err := RawPayload(&payload, r, e, h, 10); err != nil {
							b.Fatal(err)
						}
						cmd = resp.AppendBulk(cmd, payload.Bytes())
					} else {
						body, err := r.RawValue(nil)
						if err != nil {
							b.Fatal(err)
						}
						cmd = appendFramedPayload(cmd, e.Type.Wire(), body, h.Version)
					}
				}
				r.Close()
			}
		})
	}
}
