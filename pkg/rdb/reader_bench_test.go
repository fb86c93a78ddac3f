package rdb_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// The reader's benchmarks run the check `rdbtool verify` does (Strict, every
// record, every inner blob) over files made by the Writer, sequentially and
// with one worker. RDBTOOL_BENCH_RDB=path adds a file of your own, such as
// one bench/run.sh generated with a real server:
//
//	RDBTOOL_BENCH_RDB=/tmp/rdbtool-bench/pages.rdb go test -run '^$' -bench Verify ./pkg/rdb

// benchPageText returns n bytes of HTML-like text, compressible as web
// pages are.
func benchPageText(rng *rand.Rand, n int) []byte {
	words := []string{"oak", "lamp", "garden", "steel", "modern", "sofa", "linen", "sale", "desk", "glass"}
	b := []byte(`<ul class="grid">`)
	for len(b) < n {
		id := rng.IntN(1_000_000)
		b = append(b, "\n  <li class=\"card\" data-id=\""...)
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, "\">\n    <a href=\"/p/"...)
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, "\">"...)
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, ' ')
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, "</a>\n    <span class=\"price\">"...)
		b = strconv.AppendInt(b, int64(rng.IntN(100000)), 10)
		b = append(b, "</span>\n  </li>"...)
	}
	return b[:n]
}

// benchRDB writes keys made by value(i) for i < n.
func benchRDB(b *testing.B, n int, value func(i int) *rdb.Value) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := rdb.NewWriter(&buf, rdb.WriterOptions{Version: 10})
	for i := range n {
		e := &rdb.Entry{Kind: rdb.EntryKey, Key: []byte("key:" + strconv.Itoa(i))}
		if i%10 == 0 {
			e.ExpireAtMs, e.HasExpire = 4102444800000+int64(i), true
		}
		if err := w.WriteKey(e, value(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// benchPages: strings of 100 B to 2.4 KB of page text, most of them small,
// stored LZF-compressed.
func benchPages(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	return benchRDB(b, 20000, func(int) *rdb.Value {
		u := rng.Float64()
		return &rdb.Value{Kind: rdb.KindString, String: benchPageText(rng, 100+int(2300*u*u*u*u*u))}
	})
}

// benchZSets: listpack sorted sets of 50 members with fractional scores.
func benchZSets(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	return benchRDB(b, 5000, func(int) *rdb.Value {
		v := &rdb.Value{Kind: rdb.KindZSet}
		for j := range 50 {
			v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte("member:" + strconv.Itoa(j)), Score: float64(rng.IntN(1e6)) / 1000})
		}
		return v
	})
}

// benchHashes: listpack hashes of 40 short fields, values text or integers.
func benchHashes(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(5, 6))
	return benchRDB(b, 5000, func(int) *rdb.Value {
		v := &rdb.Value{Kind: rdb.KindHash}
		for j := range 40 {
			val := strconv.Itoa(rng.IntN(1 << 30))
			if j%2 == 0 {
				val = string(benchPageText(rng, 10+rng.IntN(50)))
			}
			v.Hash = append(v.Hash, rdb.HashField{Field: []byte("field:" + strconv.Itoa(j)), Value: []byte(val)})
		}
		return v
	})
}

// benchPlain: collections past the listpack limits, stored as plain sets,
// sorted sets and hashes, whose elements the repeat check follows: sets of
// 1,000 members, sorted sets of 300, hashes of 600 fields.
func benchPlain(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	return benchRDB(b, 600, func(i int) *rdb.Value {
		switch i % 3 {
		case 0:
			v := &rdb.Value{Kind: rdb.KindSet}
			for j := range 1000 {
				v.Set = append(v.Set, []byte("member:"+strconv.Itoa(j*7+rng.IntN(7))))
			}
			return v
		case 1:
			v := &rdb.Value{Kind: rdb.KindZSet}
			for j := range 300 {
				v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte("m" + strconv.Itoa(j)), Score: rng.NormFloat64() * 1e6})
			}
			return v
		}
		v := &rdb.Value{Kind: rdb.KindHash}
		for j := range 600 {
			v.Hash = append(v.Hash, rdb.HashField{Field: []byte("field:" + strconv.Itoa(j)), Value: []byte(strconv.Itoa(rng.IntN(1 << 30)))})
		}
		return v
	})
}

// verifyAll reads data as `rdbtool verify` does.
func verifyAll(b *testing.B, data []byte, workers int) {
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true, Workers: workers})
	defer r.Close()
	for {
		_, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	files := []struct {
		name string
		make func(*testing.B) []byte
	}{
		{"pages", benchPages},
		{"zsets", benchZSets},
		{"hashes", benchHashes},
		{"plain", benchPlain},
	}
	if path := os.Getenv("RDBTOOL_BENCH_RDB"); path != "" {
		files = append(files, struct {
			name string
			make func(*testing.B) []byte
		}{"file", func(b *testing.B) []byte {
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			return data
		}})
	}
	for _, f := range files {
		data := f.make(b)
		for _, workers := range []int{0, 1} {
			b.Run(f.name+"/workers="+strconv.Itoa(workers), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					verifyAll(b, data, workers)
				}
			})
		}
	}
}
