package aof_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/aof"
)

// Reading commands and annotations in file order; arguments arrive one by one,
// so a huge argument never has to be held whole (NextArgStream streams it).
func ExampleReader() {
	in := "#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
	r := aof.NewReader(strings.NewReader(in), aof.ReaderOptions{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err) // a *aof.ParseError with the offset
		}
		if rec.Kind == aof.KindAnnotation {
			fmt.Printf("annotation at %d: timestamp %d\n", rec.Offset, rec.Timestamp)
			continue
		}
		args, err := r.ReadCommand(1 << 20) // the whole command, up to 1 MiB
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("command at %d: %q\n", rec.Offset, args)
	}
	// Output:
	// annotation at 0: timestamp 1700000000
	// command at 16: ["SET" "k" "v"]
	// command at 43: ["INCR" "n"]
}

// Writing commands in the exact form Redis writes them.
func ExampleWriter() {
	var out bytes.Buffer
	w := aof.NewWriter(&out)
	w.WriteTimestamp(1700000000)
	w.WriteCommand([]byte("SELECT"), []byte("0"))
	w.WriteCommand([]byte("SET"), []byte("k"), []byte("v"))
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", out.String())
	// Output: "#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
}
