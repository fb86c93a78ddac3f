package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func main() {
	files, _ := convert.AOFFiles(os.Args[1])
	e := engine.New(engine.Options{})
	t0 := time.Now()
	if _, err := convert.ReplayAOF(files, e, convert.ReplayOptions{}); err != nil {
		panic(err)
	}
	fmt.Println("replay", time.Since(t0))
	for i := 0; i < 3; i++ {
		t1 := time.Now()
		n := 0
		e.EachReused(func(_ int, _ []byte, _ *rdb.Entry, v *rdb.Value) error {
			if v.Kind == rdb.KindHash {
				for _, f := range v.Hash {
					if f.ExpireAtMs != 0 {
						n++
					}
				}
			}
			return nil
		})
		walk := time.Since(t1)
		t2 := time.Now()
		opts, _ := rdb.TargetVersion("10")
		convert.WriteEngine(e, rdb.NewWriter(io.Discard, opts), convert.Filter{})
		fmt.Println("walk", walk, "write", time.Since(t2), n)
	}
}
