package rdb_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Reading a file record by record and a key element by element: memory stays
// bounded by the largest element, however big the key.
func ExampleReader() {
	f, err := os.Open("../../fixtures/types-7.0.rdb")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := rdb.NewReader(f, rdb.ReaderOptions{})
	defer r.Close()
	keys, elems := 0, 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break // the EOF opcode was reached and the checksum verified
		}
		if err != nil {
			log.Fatal(err) // a *rdb.ParseError: offset, key, what was expected
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		keys++
		for {
			_, err := r.NextElem()
			if err == io.EOF {
				break
			}
			if err != nil {
				log.Fatal(err)
			}
			elems++
		}
	}
	h, _ := r.Header()
	fmt.Printf("%s: %d keys, %d elements\n", h, keys, elems)
	// Output: REDIS0010: 84 keys, 8417 elements
}

// Converting a file for an older server: the writer picks the encodings of the
// target, and refuses what it cannot hold (naming the key) unless a Drop
// option says to leave it out.
func ExampleWriter() {
	in, err := os.ReadFile("../../fixtures/types-7.0.rdb")
	if err != nil {
		log.Fatal(err)
	}
	opts, err := rdb.TargetVersion("redis:6.2")
	if err != nil {
		log.Fatal(err)
	}
	opts.DropFunctions = true // RDB 9 has no function libraries
	var out bytes.Buffer
	r := rdb.NewReaderBytes(in, rdb.ReaderOptions{})
	defer r.Close()
	w := rdb.NewWriter(&out, opts)
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if e.Kind != rdb.EntryKey {
			if err := w.WriteEntry(e); err != nil {
				log.Fatal(err)
			}
			continue
		}
		v, err := r.ReadValue(64 << 20) // whole values, up to 64 MiB each
		if err != nil {
			log.Fatal(err)
		}
		if err := w.WriteKey(e, v); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil { // EOF opcode and CRC-64
		log.Fatal(err)
	}
	for _, d := range w.Dropped() {
		fmt.Printf("dropped %d %s\n", d.Count, d.Feature)
	}
	fmt.Printf("%s\n", out.Bytes()[:9])
	// Output:
	// dropped 2 functions
	// REDIS0009
}
