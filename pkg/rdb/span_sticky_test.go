package rdb_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestOpenSpanKeepsStickyError: errors are sticky on every Reader, value
// readers included. Opening the next span after a value failed must not
// clear the error and let the reader go on as if nothing had happened (the
// former Reader.OpenSpan did).
func TestOpenSpanKeepsStickyError(t *testing.T) {
	var buf bytes.Buffer
	w := rdb.NewWriter(&buf, rdb.WriterOptions{Version: 11})
	for _, k := range []string{"bad", "good"} {
		v := &rdb.Value{Kind: rdb.KindSet, Set: [][]byte{[]byte("m1-" + k), []byte("m2-" + k)}}
		if err := w.WriteKey(&rdb.Entry{Kind: rdb.EntryKey, Key: []byte(k)}, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// The first set is a listpack; its terminator follows the last member's
	// backlen byte. Damage it: the framing (lengths only) still finds the
	// value, decoding it fails.
	i := bytes.Index(data, []byte("m2-bad"))
	if i < 0 || data[i+len("m2-bad")+1] != 0xFF {
		t.Fatal("the first set is not the listpack this test expects")
	}
	data[i+len("m2-bad")+1] = 0xFE

	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var spans [2]rdb.ValueSpan
	for i := range spans {
		for {
			e, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind == rdb.EntryKey {
				break
			}
		}
		if !r.Spans().Skip(&spans[i], 0) {
			t.Fatalf("span %d not framed", i)
		}
	}
	values := r.Spans().ValueReader()
	vr := values.Open(&spans[0])
	var first error
	for first == nil {
		_, first = vr.NextElem()
	}
	if first == io.EOF || !errors.Is(first, rdb.ErrCorrupt) {
		t.Fatalf("the damaged value read as %v, want ErrCorrupt", first)
	}
	if again := values.Open(&spans[1]); again != vr {
		t.Fatal("Open returned another Reader")
	}
	if el, err := vr.NextElem(); err != first {
		t.Fatalf("after a failed value, the next span read %v, %v: want the sticky error %v", el, err, first)
	}
	if _, err := vr.ReadValue(0); err != first {
		t.Fatalf("ReadValue after the error: %v, want %v", err, first)
	}
}
