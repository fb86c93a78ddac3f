package rdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// rawWalk reads every record of a file; for each key it takes the value's
// bytes with RawValue (framing only) or, with copyValue, with CopyRawValue
// (which checks them). It returns one line per key (type and bytes in hex)
// and the error that ended the walk (nil at the end of a good file).
func rawWalk(r *rdb.Reader, copyValue bool) (keys []string, err error) {
	defer r.Close()
	var buf []byte
	for {
		e, err := r.Next()
		if err == io.EOF {
			return keys, nil
		}
		if err != nil {
			return keys, err
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		var raw []byte
		if copyValue {
			var b bytes.Buffer
			_, err = r.CopyRawValue(&b)
			raw = b.Bytes()
		} else {
			raw, err = r.RawValue(buf)
			buf = raw[:0] // reused when streamed; in memory, RawValue does not write to it
		}
		if err != nil {
			return keys, err
		}
		keys = append(keys, fmt.Sprintf("%q %v %x", e.Key, e.Type, raw))
	}
}

// TestRawValueMatchesCopy: over every corpus file, whole in memory and
// streamed in odd chunks, RawValue finds the same bytes for every key as
// CopyRawValue, which decodes and checks them, and the file ends the same
// way (the checksum is still verified). Where a file is damaged inside a
// value, RawValue, which does not look inside, may go further; it must
// agree on every key before.
func TestRawValueMatchesCopy(t *testing.T) {
	dir := corpusDir(t)
	for _, rel := range corpusRDBFiles(t) {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := rawWalk(rdb.NewReaderBytes(data, rdb.ReaderOptions{}), true)
		inputs := map[string]func() *rdb.Reader{
			"bytes":  func() *rdb.Reader { return rdb.NewReaderBytes(data, rdb.ReaderOptions{}) },
			"stream": func() *rdb.Reader { return rdb.NewReader(bytes.NewReader(data), rdb.ReaderOptions{}) },
		}
		if len(data) < 1<<20 {
			inputs["onebyte"] = func() *rdb.Reader {
				return rdb.NewReader(iotest.OneByteReader(bytes.NewReader(data)), rdb.ReaderOptions{})
			}
		}
		for name, open := range inputs {
			got, err := rawWalk(open(), false)
			n := min(len(got), len(want))
			for i := range n {
				if got[i] != want[i] {
					t.Errorf("%s via %s: key %d differs:\nRawValue:     %.200s\nCopyRawValue: %.200s", rel, name, i, got[i], want[i])
					break
				}
			}
			if wantErr == nil && (err != nil || len(got) != len(want)) {
				t.Errorf("%s via %s: RawValue read %d keys, %v; CopyRawValue %d keys to the end", rel, name, len(got), err, len(want))
			}
			if wantErr != nil && err == nil && errors.Is(wantErr, rdb.ErrChecksum) {
				t.Errorf("%s via %s: RawValue read to the end; CopyRawValue failed on the checksum: %v", rel, name, wantErr)
			}
		}
	}
}

// TestRawValueTruncated: a file cut anywhere is an error with RawValue too,
// ErrTruncated or ErrCorrupt, never a value made up or a panic.
func TestRawValueTruncated(t *testing.T) {
	dir := corpusDir(t)
	var files []string
	for _, rel := range corpusRDBFiles(t) {
		if corpusVerdict(rel) == "valid" {
			files = append(files, rel)
		}
	}
	tried := 0
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 64<<10 {
			continue
		}
		if _, err := rawWalk(rdb.NewReaderBytes(data, rdb.ReaderOptions{}), false); err != nil {
			continue // unsupported: not this test's business
		}
		tried++
		step := max(1, len(data)/97)
		for cut := 9; cut < len(data); cut += step {
			_, copyErr := rawWalk(rdb.NewReaderBytes(data[:cut], rdb.ReaderOptions{}), true)
			for name, r := range map[string]*rdb.Reader{
				"bytes":  rdb.NewReaderBytes(data[:cut], rdb.ReaderOptions{}),
				"stream": rdb.NewReader(iotest.HalfReader(bytes.NewReader(data[:cut])), rdb.ReaderOptions{}),
			} {
				_, err := rawWalk(r, false)
				if copyErr == nil && err == nil {
					continue // trailing bytes after the checksum were cut: still a whole file
				}
				if !errors.Is(err, rdb.ErrTruncated) && !errors.Is(err, rdb.ErrCorrupt) {
					t.Fatalf("%s cut at %d of %d via %s: %v, want ErrTruncated or ErrCorrupt", rel, cut, len(data), name, err)
				}
				var pe *rdb.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s cut at %d via %s: %T is not a *rdb.ParseError", rel, cut, name, err)
				}
			}
		}
	}
	if tried < 50 {
		t.Fatalf("only %d corpus files tried", tried)
	}
}

// TestRawValueLyingLengths: lengths that point far past the input, or that
// no input can hold, are errors with an offset, and nothing is allocated
// from them.
func TestRawValueLyingLengths(t *testing.T) {
	cases := []struct {
		name string
		body []byte // type byte, key "k", value
		want error
	}{
		{"string past the end", []byte{0x00, 1, 'k', 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 'a'}, rdb.ErrTruncated},
		{"string of 2^64-1 bytes", []byte{0x00, 1, 'k', 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 'a'}, rdb.ErrCorrupt},
		{"unknown string encoding", []byte{0x00, 1, 'k', 0xC4}, rdb.ErrCorrupt},
		{"set of 2^32 members", []byte{0x02, 1, 'k', 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 1, 'a'}, rdb.ErrCorrupt}, // then the 0xFF of the trailer
		{"LZF past the end", []byte{0x00, 1, 'k', 0xC3, 0x80, 0x10, 0, 0, 0, 0x80, 0x10, 0, 0, 0, 1}, rdb.ErrTruncated},
		{"stream PEL of 2^60", []byte{0x15, 1, 'k', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 'g', 0, 0, 0, 0x81, 0x10, 0, 0, 0, 0, 0, 0, 0}, rdb.ErrTruncated},
	}
	for _, c := range cases {
		data := append([]byte("REDIS0011"), c.body...)
		data = append(data, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0)
		for name, r := range map[string]*rdb.Reader{
			"bytes":  rdb.NewReaderBytes(data, rdb.ReaderOptions{}),
			"stream": rdb.NewReader(bytes.NewReader(data), rdb.ReaderOptions{}),
		} {
			_, err := rawWalk(r, false)
			var pe *rdb.ParseError
			if !errors.Is(err, c.want) || !errors.As(err, &pe) || pe.Offset < 12 || !strings.Contains(pe.Error(), `"k"`) {
				t.Errorf("%s via %s: %v, want %v at an offset in the value of \"k\"", c.name, name, err, c.want)
			}
		}
	}
}

// TestRawValueCallOrder: RawValue is for a whole value, right after Next.
func TestRawValueCallOrder(t *testing.T) {
	var out bytes.Buffer
	w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 11})
	if err := w.WriteKey(&rdb.Entry{Key: []byte("k")}, &rdb.Value{Kind: rdb.KindList, List: [][]byte{[]byte("a"), []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := rdb.NewReaderBytes(out.Bytes(), rdb.ReaderOptions{})
	defer r.Close()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryKey {
			break
		}
	}
	if _, err := r.NextElem(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.RawValue(nil); err == nil {
		t.Fatal("RawValue after NextElem succeeded")
	}
}

// plainEncoding makes hash tables, skip lists and plain sets of small values.
var plainEncoding = rdb.Encoding{HashMaxListpackEntries: 1, HashMaxListpackValue: 1, ZSetMaxListpackEntries: 1,
	ZSetMaxListpackValue: 1, SetMaxIntsetEntries: 1, SetMaxListpackEntries: 1, SetMaxListpackValue: 1}

// FuzzRawValue: on any input RawValue terminates without a panic, and
// wherever reading with CopyRawValue (which checks every value) gets to the
// end, RawValue gets there with the same bytes for every key, in memory and
// streamed.
func FuzzRawValue(f *testing.F) {
	// Small seeds: the fuzzer spends its time minimizing big ones.
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil && len(b) < 8<<10 {
			f.Add(b)
		}
	}
	for _, v := range []*rdb.Value{
		{Kind: rdb.KindString, String: bytes.Repeat([]byte("abc"), 30)},
		{Kind: rdb.KindList, List: [][]byte{[]byte("a"), []byte("12")}},
		{Kind: rdb.KindSet, Set: [][]byte{[]byte("a"), bytes.Repeat([]byte("b"), 200)}},
		{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("a"), Score: 1.5}}},
		{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f"), Value: []byte("v")}}},
	} {
		for _, o := range []rdb.WriterOptions{{Version: 11}, {Version: 11, Encoding: &plainEncoding}} {
			var out bytes.Buffer
			w := rdb.NewWriter(&out, o)
			if w.WriteKey(&rdb.Entry{Key: []byte("k")}, v) == nil && w.Close() == nil {
				f.Add(out.Bytes())
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := rdb.ReaderOptions{MaxElementSize: 1 << 20}
		want, wantErr := rawWalk(rdb.NewReaderBytes(data, opts), true)
		for name, r := range map[string]*rdb.Reader{
			"bytes":  rdb.NewReaderBytes(data, opts),
			"stream": rdb.NewReader(iotest.HalfReader(bytes.NewReader(data)), opts),
		} {
			got, err := rawWalk(r, false)
			if wantErr != nil {
				continue
			}
			if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("via %s: RawValue read %d keys, %v; CopyRawValue %d keys to the end", name, len(got), err, len(want))
			}
		}
	})
}
