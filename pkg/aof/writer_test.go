package aof

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// item is one record for the round-trip property: a command, or an
// annotation when ann is set.
type item struct {
	ann    string
	args   [][]byte
	pieces bool // write the arguments with BeginArg and several Writes
	offset int64
}

// randomArg returns binary-heavy bytes: CR, LF, '*', '$', NUL and high bytes
// are common, and now and then the argument is large.
func randomArg(rng *rand.Rand) []byte {
	var n int
	switch rng.IntN(20) {
	case 0:
		n = 0
	case 1:
		n = 40<<10 + rng.IntN(300<<10) // beyond the reader's first window and the writer's buffer
	case 2:
		n = 1<<20 + rng.IntN(2<<20)
	default:
		n = rng.IntN(40)
	}
	const alphabet = "\r\n*$#\x00\xffab MULTIEXEC0123456789"
	b := make([]byte, n)
	for i := range b {
		if rng.IntN(4) == 0 {
			b[i] = byte(rng.UintN(256))
		} else {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
	}
	return b
}

func randomItems(rng *rand.Rand, n int) []item {
	var items []item
	for range n {
		if rng.IntN(8) == 0 {
			items = append(items, item{ann: "TS:" + string(rune('0'+rng.IntN(10)))})
			continue
		}
		args := make([][]byte, 1+rng.IntN(6))
		for i := range args {
			args[i] = randomArg(rng)
		}
		// Keep names away from MULTI/EXEC: their pairing is tested elsewhere.
		if s := strings.ToLower(string(args[0])); s == "multi" || s == "exec" {
			args[0] = []byte("SET")
		}
		items = append(items, item{args: args, pieces: rng.IntN(3) == 0})
	}
	return items
}

// writeItems writes items and records each one's offset.
func writeItems(t testing.TB, rng *rand.Rand, w io.Writer, items []item) {
	aw := NewWriter(w)
	for i := range items {
		it := &items[i]
		it.offset = aw.Offset()
		if it.ann != "" {
			if err := aw.WriteAnnotation(it.ann); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !it.pieces {
			if err := aw.WriteCommand(it.args...); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := aw.BeginCommand(len(it.args)); err != nil {
			t.Fatal(err)
		}
		for _, a := range it.args {
			if err := aw.BeginArg(int64(len(a))); err != nil {
				t.Fatal(err)
			}
			for rest := a; len(rest) > 0; {
				k := 1 + rng.IntN(min(len(rest), 1+rng.IntN(200<<10)))
				if n, err := aw.Write(rest[:k]); err != nil || n != k {
					t.Fatal(n, err)
				}
				rest = rest[k:]
			}
		}
		if !aw.Complete() {
			t.Fatal("not complete after the last argument")
		}
	}
	if err := aw.Flush(); err != nil {
		t.Fatal(err)
	}
	if aw.Offset() != int64(lenOf(w)) {
		t.Fatalf("Offset %d, wrote %d", aw.Offset(), lenOf(w))
	}
}

func lenOf(w io.Writer) int {
	if b, ok := w.(*bytes.Buffer); ok {
		return b.Len()
	}
	return -1
}

// readItems reads everything back with NextArg.
func readItems(t testing.TB, r *Reader) []item {
	var items []item
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if rec.Kind == KindAnnotation {
			items = append(items, item{ann: string(rec.Text), offset: rec.Offset})
			continue
		}
		it := item{offset: rec.Offset}
		for {
			a, err := r.NextArg()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("NextArg: %v", err)
			}
			it.args = append(it.args, bytes.Clone(a))
		}
		items = append(items, it)
	}
}

func sameItems(a, b []item) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ann != b[i].ann || a[i].offset != b[i].offset || !reflect.DeepEqual(a[i].args, b[i].args) {
			return false
		}
	}
	return true
}

// TestWriterReaderRoundTrip: Reader(Writer(x)) == x for random binary
// commands, in every reading mode, Strict or not; and writing twice gives the
// same bytes.
func TestWriterReaderRoundTrip(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	for seed := range uint64(rounds) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		items := randomItems(rng, 1+rng.IntN(60))
		var out bytes.Buffer
		writeItems(t, rng, &out, items)
		var again bytes.Buffer
		writeItems(t, rand.New(rand.NewPCG(seed+1000, 1)), &again, items) // other piece sizes, same bytes
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("seed %d: writing twice gives different bytes", seed)
		}
		data := out.Bytes()
		for _, strict := range []bool{true, false} {
			opts := ReaderOptions{Strict: strict}
			readers := map[string]*Reader{
				"bytes":    NewReaderBytes(data, opts),
				"stream":   NewReader(bytes.NewReader(data), opts),
				"half":     NewReader(iotest.HalfReader(bytes.NewReader(data)), opts),
				"bufio-16": NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16), opts),
				"data-err": NewReader(iotest.DataErrReader(bytes.NewReader(data)), opts),
			}
			if len(data) < 256<<10 { // a byte at a time is too slow for megabytes
				readers["one-byte"] = NewReader(iotest.OneByteReader(bytes.NewReader(data)), opts)
			}
			for name, r := range readers {
				if got := readItems(t, r); !sameItems(got, items) {
					t.Fatalf("seed %d, %s, strict=%v: read back %d items, wrote %d", seed, name, strict, len(got), len(items))
				}
			}
			res, err := CheckBytes(data, CheckOptions{Lenient: !strict})
			var cmds int64
			for _, it := range items {
				if it.ann == "" {
					cmds++
				}
			}
			if err != nil || !res.OK || res.Commands != cmds || res.End != int64(len(data)) {
				t.Fatalf("seed %d: Check: %v %s", seed, err, res)
			}
		}
		// Streaming the arguments gives the same bytes.
		r := NewReader(iotest.HalfReader(bytes.NewReader(data)), ReaderOptions{Strict: true})
		for i := 0; ; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Kind != KindCommand {
				continue
			}
			for j := 0; ; j++ {
				n, s, err := r.NextArgStream()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(s)
				if err != nil || int64(len(b)) != n || !bytes.Equal(b, items[i].args[j]) {
					t.Fatalf("seed %d: streamed argument %d.%d differs (%v)", seed, i, j, err)
				}
			}
		}
	}
}

// TestWriterFormat pins the bytes and the usage errors.
func TestWriterFormat(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteTimestamp(1700000000))
	must(w.WriteCommand([]byte("SET"), []byte("k"), []byte("")))
	must(w.BeginCommand(2))
	must(w.WriteArg([]byte("ECHO")))
	must(w.BeginArg(5))
	if w.Complete() {
		t.Fatal("complete with an argument open")
	}
	for _, e := range []error{
		w.WriteAnnotation("x"),
		w.BeginCommand(1),
		w.BeginArg(1),
	} {
		if !errors.Is(e, errWriterState) {
			t.Fatalf("want a usage error, got %v", e)
		}
	}
	if _, err := w.Write([]byte("123456")); !errors.Is(err, errWriterState) {
		t.Fatalf("overlong Write: %v", err)
	}
	_, err := w.Write([]byte("he"))
	must(err)
	_, err = w.Write([]byte("llo"))
	must(err)
	if !w.Complete() {
		t.Fatal("not complete")
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errWriterState) {
		t.Fatalf("Write outside an argument: %v", err)
	}
	for _, e := range []error{
		w.BeginArg(1),
		w.BeginCommand(0),
		w.WriteCommand(),
		w.WriteAnnotation("a\nb"),
		w.WriteAnnotation(strings.Repeat("x", 1021)),
	} {
		if !errors.Is(e, errWriterState) {
			t.Fatalf("want a usage error, got %v", e)
		}
	}
	must(w.WriteAnnotation(strings.Repeat("x", 1020)))
	must(w.Flush())
	want := "#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n#" + strings.Repeat("x", 1020) + "\r\n"
	if b.String() != want {
		t.Fatalf("got %q", b.String())
	}
	// The longest annotation the Writer accepts is one Redis reads whole.
	if res, err := CheckBytes(b.Bytes(), CheckOptions{}); err != nil || res.Annotations != 2 || res.Commands != 2 {
		t.Fatalf("%v %s", err, res)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	k := min(len(p), f.n)
	f.n -= k
	if k < len(p) {
		return k, errors.New("disk full")
	}
	return k, nil
}

func TestWriterErrorsAreSticky(t *testing.T) {
	w := NewWriter(&failWriter{n: 10})
	big := bytes.Repeat([]byte("x"), 100<<10)
	if err := w.WriteCommand([]byte("SET"), []byte("k"), big); err == nil {
		t.Fatal("no error from a failing writer")
	}
	if err := w.WriteCommand([]byte("PING")); err == nil || errors.Is(err, errWriterState) {
		t.Fatalf("not sticky: %v", err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush after a failure")
	}
	// A short write without an error is io.ErrShortWrite.
	w = NewWriter(shortWriter{})
	if err := w.WriteCommand([]byte("PING")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("short write: %v", err)
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }
