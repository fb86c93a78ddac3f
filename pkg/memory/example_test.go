package memory_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/memory"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Analyze reports what the keys of an RDB file take in a Redis 7.0 server
// once loaded; OnKey sees every key's figure on the way.
func ExampleAnalyze() {
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		panic(err)
	}
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	rep, err := memory.Analyze(r, memory.ReportOptions{
		TopKeys: 3,
		Match:   func(e *rdb.Entry) bool { return e.DB == 0 },
		OnKey: func(k *memory.KeyRecord) error {
			if string(k.Key) == "str:embstr44" {
				fmt.Printf("%s: %d bytes, %s\n", k.Key, k.Usage.Bytes, k.Usage.Encoding)
			}
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("model %s: %d keys, %d bytes (%d keys in other databases left out)\n", rep.Model, rep.Total.Keys, rep.Total.Bytes, rep.Filtered)
	for _, k := range rep.TopKeys {
		fmt.Printf("%s %s %s %d\n", k.Key, k.Type.Kind(), k.Usage.Encoding, k.Usage.Bytes)
	}
	// Output:
	// str:embstr44: 104 bytes, embstr
	// model redis-7.0-jemalloc: 75 keys, 1654815 bytes (9 keys in other databases left out)
	// str:1mib string raw 1310776
	// list:large list quicklist 75816
	// stream:trimmed stream stream 48761
}
