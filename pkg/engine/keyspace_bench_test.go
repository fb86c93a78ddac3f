package engine_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// stringsCommands is a small version of bench/gen's strings dataset: SET
// key:<n> with 40-200 random bytes (most short), ~1% with a PEXPIREAT.
func stringsCommands(n int, seed uint64) [][][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([][][]byte, 0, n+n/100)
	for i := 0; i < n; i++ {
		key := []byte("key:" + strconv.Itoa(i))
		l := 40 + int(160*r.Float64()*r.Float64()*r.Float64())
		val := make([]byte, l)
		for j := range val {
			val[j] = byte(r.Uint32())
		}
		out = append(out, [][]byte{[]byte("SET"), key, val})
		if r.IntN(100) == 0 {
			out = append(out, [][]byte{[]byte("PEXPIREAT"), key, []byte("4102444800000")})
		}
	}
	return out
}

// BenchmarkReplayStrings applies SET commands to a fresh engine and writes
// the dataset as an RDB file: the path of "rdbtool convert" on the strings
// benchmark AOF, without the AOF parsing.
func BenchmarkReplayStrings(b *testing.B) {
	cmds := stringsCommands(200000, 1)
	opts, _ := rdb.TargetVersion("redis:7.0")
	b.ReportAllocs()
	for b.Loop() {
		e := engine.New(engine.Options{})
		for _, c := range cmds {
			if err := e.Apply(c); err != nil {
				b.Fatal(err)
			}
		}
		if err := convert.WriteEngine(e, rdb.NewWriter(io.Discard, opts), convert.Filter{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(cmds)), "ns/cmd")
}

// BenchmarkApplySet is the cost of one SET of a new key.
func BenchmarkApplySet(b *testing.B) {
	cmds := stringsCommands(200000, 2)
	b.ReportAllocs()
	e := engine.New(engine.Options{})
	i := 0
	for b.Loop() {
		if i == len(cmds) {
			b.StopTimer()
			e = engine.New(engine.Options{})
			i = 0
			b.StartTimer()
		}
		if err := e.Apply(cmds[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWriteStrings is the cost of writing an engine's strings as RDB.
func BenchmarkWriteStrings(b *testing.B) {
	e := engine.New(engine.Options{})
	for _, c := range stringsCommands(200000, 3) {
		e.Apply(c)
	}
	opts, _ := rdb.TargetVersion("redis:7.0")
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := convert.WriteEngine(e, rdb.NewWriter(&buf, opts), convert.Filter{}); err != nil {
			b.Fatal(err)
		}
	}
}
