package aof

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchData []byte
	benchErr  string
)

// benchAOF generates about 50 MB of what a busy server appends: SETs with
// PXAT, counters, hash, list, set and zset writes, expiries, MULTI/EXEC
// blocks, SELECTs and #TS annotations, with mostly small and now and then
// large values. It is made once per process and never written to disk.
func benchAOF(b *testing.B) []byte {
	benchOnce.Do(func() {
		const target = 50 << 20
		rng := rand.New(rand.NewPCG(7, 7))
		var buf bytes.Buffer
		buf.Grow(target + 1<<20)
		w := NewWriter(&buf)
		value := func() []byte {
			n := 8 + rng.IntN(120)
			if rng.IntN(200) == 0 {
				n = 4<<10 + rng.IntN(60<<10)
			}
			v := make([]byte, n)
			for i := range v {
				v[i] = byte('a' + rng.IntN(26))
			}
			return v
		}
		key := func(kind string) []byte {
			return []byte(kind + ":" + strconv.Itoa(rng.IntN(200000)))
		}
		num := func() []byte { return []byte(strconv.Itoa(rng.IntN(1000000))) }
		ts := int64(1795317000)
		for n := 0; buf.Len() < target; n++ {
			if n%1000 == 0 {
				ts++
				w.WriteTimestamp(ts)
				w.WriteCommand([]byte("SELECT"), []byte(strconv.Itoa(rng.IntN(4))))
			}
			switch r := rng.IntN(100); {
			case r < 35:
				w.WriteCommand([]byte("SET"), key("user"), value(), []byte("PXAT"), []byte("1795317935123"))
			case r < 50:
				w.WriteCommand([]byte("INCRBY"), key("counter"), num())
			case r < 62:
				w.WriteCommand([]byte("HSET"), key("hash"), []byte("field"+strconv.Itoa(rng.IntN(50))), value(), []byte("f2"), num())
			case r < 72:
				w.WriteCommand([]byte("RPUSH"), key("list"), value(), value(), value())
			case r < 80:
				w.WriteCommand([]byte("SADD"), key("set"), num(), num(), num(), num())
			case r < 88:
				w.WriteCommand([]byte("ZADD"), key("zset"), []byte("1.5"), value(), []byte("2"), num())
			case r < 93:
				w.WriteCommand([]byte("PEXPIREAT"), key("user"), []byte("1795317935123"))
			case r < 96:
				w.WriteCommand([]byte("DEL"), key("user"))
			default:
				w.WriteCommand([]byte("MULTI"))
				w.WriteCommand([]byte("INCR"), key("counter"))
				w.WriteCommand([]byte("LPUSH"), key("list"), value())
				w.WriteCommand([]byte("EXEC"))
			}
		}
		if err := w.Flush(); err != nil {
			benchErr = err.Error()
			return
		}
		benchData = buf.Bytes()
		if res, err := CheckBytes(benchData, CheckOptions{}); err != nil || !res.OK {
			benchErr = "benchmark data is not valid: " + res.String()
		}
	})
	if benchErr != "" {
		b.Fatal(benchErr)
	}
	return benchData
}

// readAllArgs reads every argument with NextArg and returns their total size.
func readAllArgs(b *testing.B, r *Reader) int {
	total := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return total
		}
		if err != nil {
			b.Fatal(err)
		}
		if rec.Kind != KindCommand {
			continue
		}
		for {
			a, err := r.NextArg()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			total += len(a)
		}
	}
}

// BenchmarkReader reads every argument of a 50 MB AOF; MB/s is of the file.
func BenchmarkReader(b *testing.B) {
	data := benchAOF(b)
	b.Run("NextArg/bytes", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			readAllArgs(b, NewReaderBytes(data, ReaderOptions{Strict: true}))
		}
	})
	b.Run("NextArg/stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			readAllArgs(b, NewReader(bytes.NewReader(data), ReaderOptions{Strict: true}))
		}
	})
	b.Run("ReadCommand/stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r := NewReader(bytes.NewReader(data), ReaderOptions{})
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if rec.Kind == KindCommand {
					if _, err := r.ReadCommand(0); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
	b.Run("Next/stream", func(b *testing.B) { // records only, arguments skipped
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r := NewReader(bytes.NewReader(data), ReaderOptions{Strict: true})
			for {
				if _, err := r.Next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkCheck checks a 50 MB AOF.
func BenchmarkCheck(b *testing.B) {
	data := benchAOF(b)
	b.Run("bytes", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := CheckBytes(data, CheckOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Check(bytes.NewReader(data), CheckOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
