package convert

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// parallelEngines are datasets to write: one of every type in several
// databases (big keys, TTLs, a stream with a group), and the replay of every
// AOF of the generated corpus when it is there.
func parallelEngines(t *testing.T) map[string]*engine.Engine {
	t.Helper()
	clock := func() int64 { return 1_700_000_000_000 }
	e := engine.New(engine.Options{Clock: clock})
	apply := func(args ...string) {
		t.Helper()
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		if err := e.Apply(b); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	for i := range 400 {
		n := strconv.Itoa(i)
		apply("SELECT", strconv.Itoa(i/50%3))
		apply("SET", "s:"+n, strings.Repeat("v"+n, 1+i%30))
		if i%7 == 0 {
			apply("PEXPIREAT", "s:"+n, strconv.Itoa(1_600_000_000_000+i))
		}
		for j := range i % 40 {
			apply("RPUSH", "l:"+n, strings.Repeat("e", j))
			apply("HSET", "h:"+n, "f"+strconv.Itoa(j), strings.Repeat("w", j*i%90))
			apply("ZADD", "z:"+n, strconv.Itoa(j*i%17), "m"+strconv.Itoa(j*j))
			apply("SADD", "t:"+n, strconv.Itoa(j*i))
		}
		if i%50 == 0 {
			apply("XADD", "x:"+n, "*", "f", n)
			apply("XGROUP", "CREATE", "x:"+n, "g", "0")
			apply("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x:"+n, ">")
			apply("SET", "big:"+n, strings.Repeat("big "+n, 30000))
		}
	}
	engines := map[string]*engine.Engine{"types": e}
	dir := testenv.CorpusOrEmpty()
	if dir == "" {
		t.Log("corpus absent: one dataset")
		return engines
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "generated", "*", "*", "appendonlydir"))
	for _, s := range sets {
		files, err := AOFFiles(os.DirFS(filepath.Dir(s)), "appendonlydir")
		if err != nil {
			t.Fatal(err)
		}
		e := engine.New(engine.Options{Clock: clock})
		if _, err := ReplayAOF(files, e, ReplayOptions{}); err != nil {
			t.Fatal(err)
		}
		engines[s] = e
	}
	return engines
}

// TestWriteEngineParallel: WriteEngine with compression workers (keys encoded
// in parts on workers, big keys by the caller) writes the bytes of the
// sequential WriteEngine, with parts of every size, with and without LZF,
// and with a filter.
func TestWriteEngineParallel(t *testing.T) {
	defer func(p, b int) { writePartBytes, writeBigBytes = p, b }(writePartBytes, writeBigBytes)
	filters := []Filter{{}, {DBs: []int{1, 2}, KeyGlob: "*1*", Expired: ExpiredExclude, NowMs: 1_650_000_000_000}}
	for name, e := range parallelEngines(t) {
		for fi, f := range filters {
			for _, noCompress := range []bool{false, true} {
				// Version 11 refuses hash field TTLs: the error must be the same.
				opts := rdb.WriterOptions{Version: 11, NoCompress: noCompress}
				var want bytes.Buffer
				wantErr := fmt.Sprint(WriteEngine(e, rdb.NewWriter(&want, opts), f))
				for _, sizes := range [][2]int{{1 << 20, 4 << 20}, {1, 1 << 30}, {300, 2000}, {4096, 64}} {
					writePartBytes, writeBigBytes = sizes[0], sizes[1]
					for _, workers := range []int{1, 3} {
						o := opts
						o.CompressWorkers = workers
						var got bytes.Buffer
						if err := fmt.Sprint(WriteEngine(e, rdb.NewWriter(&got, o), f)); err != wantErr {
							t.Fatalf("%s, parts %v, %d workers: error %s, the sequential writer's %s", name, sizes, workers, err, wantErr)
						}
						if wantErr == "<nil>" && !bytes.Equal(got.Bytes(), want.Bytes()) {
							t.Fatalf("%s, filter %d, no LZF %v, parts %v, %d workers: %d bytes, the sequential writer %d",
								name, fi, noCompress, sizes, workers, got.Len(), want.Len())
						}
					}
				}
			}
		}
	}
}
