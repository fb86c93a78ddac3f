package convert_test

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Dumping the keys of an RDB file that match a glob as JSON lines: the
// lossless form of docs/json.md (strings that are not valid UTF-8 come out as
// {"base64": ...}).
func ExampleDumpJSON() {
	data, err := os.ReadFile("../../fixtures/types-7.0.rdb")
	if err != nil {
		log.Fatal(err)
	}
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var out bytes.Buffer
	st, err := convert.DumpJSON(r, &out, convert.DumpOptions{
		Filter: convert.Filter{KeyGlob: "str:b[i]n*"},
	})
	if err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	fmt.Printf("%d keys written\n", st.Keys)
	for _, l := range lines {
		if strings.HasPrefix(l, `{"db"`) { // keys; other lines are the header, aux fields, functions
			fmt.Println(l)
		}
	}
	// Output:
	// 1 keys written
	// {"db":0,"key":"str:binary","type":"string","value":{"base64":"gIH/AMMo"}}
}
