package aof

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/persist"
)

func TestArgTooLarge(t *testing.T) {
	in := []byte("*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n*1\r\n$4\r\nPING\r\n")
	r := NewReaderBytes(in, ReaderOptions{MaxArgSize: 9})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if a, err := r.NextArg(); err != nil || string(a) != "ECHO" {
		t.Fatal(a, err)
	}
	_, err := r.NextArg()
	var pe *ParseError
	if !errors.Is(err, ErrArgTooLarge) || !errors.As(err, &pe) || pe.Offset != 19 || pe.RepairOffset() != 0 {
		t.Fatalf("got %v", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Fatalf("not sticky: %v", err2)
	}
	// NextArgStream and skipping are not bounded.
	r = NewReaderBytes(in, ReaderOptions{MaxArgSize: 9})
	r.Next()
	r.NextArg()
	if n, s, err := r.NextArgStream(); err != nil || n != 10 {
		t.Fatal(n, err)
	} else if b, _ := io.ReadAll(s); string(b) != "0123456789" {
		t.Fatalf("%q", b)
	}
	if rec, err := r.Next(); err != nil || rec.Offset != 31 {
		t.Fatal(rec, err)
	}
	// Check never applies the limits.
	if res, err := CheckBytes(in, CheckOptions{}); err != nil || res.Commands != 2 {
		t.Fatal(res, err)
	}

	// A length beyond the limit is refused before any read: NextArg says
	// too large where Check, which never holds arguments, says truncated.
	huge := []byte("*1\r\n$4\r\nPING\r\n*1\r\n$99999999999999999999999\r\nabc")
	r = NewReaderBytes(huge, ReaderOptions{})
	r.Next()
	r.Next()
	if _, err := r.NextArg(); !errors.Is(err, ErrArgTooLarge) || !errors.As(err, &pe) || pe.RepairOffset() != 14 {
		t.Fatalf("huge length: %v", err)
	}
	res, err := Check(bytes.NewReader(huge), CheckOptions{})
	if !errors.Is(err, ErrTruncated) || res.RepairOffset != 14 || res.Problem.Kind != "truncated" {
		t.Fatalf("Check: %v %s", err, res)
	}

	// MaxArgs bounds the count; Check does not.
	many := []byte("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
	if _, err := NewReaderBytes(many, ReaderOptions{MaxArgs: 2}).Next(); !errors.Is(err, ErrArgTooLarge) {
		t.Fatalf("MaxArgs: %v", err)
	}
	// A count of 2^31-1 with nothing after it costs nothing.
	if _, err := Check(strings.NewReader("*2147483647\r\n"), CheckOptions{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("huge count: %v", err)
	}

	// ReadCommand's budget: each argument costs its length plus 24.
	r = NewReaderBytes(many, ReaderOptions{})
	r.Next()
	if _, err := r.ReadCommand(3*25 - 1); !errors.Is(err, ErrArgTooLarge) {
		t.Fatalf("budget: %v", err)
	}
	r = NewReaderBytes(many, ReaderOptions{})
	r.Next()
	if args, err := r.ReadCommand(3 * 25); err != nil || len(args) != 3 || string(args[2]) != "c" {
		t.Fatal(args, err)
	}
	if _, err := r.ReadCommand(0); err != io.EOF {
		t.Fatalf("after the last argument: %v", err)
	}
}

func TestReaderProtocol(t *testing.T) {
	in := "#TS:5\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
	r := NewReader(strings.NewReader(in), ReaderOptions{})
	if _, err := r.NextArg(); !errors.Is(err, errNoCommand) {
		t.Fatalf("NextArg before Next: %v", err)
	}
	rec, err := r.Next()
	if err != nil || rec.Kind != KindAnnotation || !rec.HasTimestamp || rec.Timestamp != 5 || rec.End != 7 {
		t.Fatal(rec, err)
	}
	if _, err := r.NextArg(); !errors.Is(err, errNoCommand) {
		t.Fatalf("NextArg after an annotation: %v", err)
	}
	rec, err = r.Next()
	if err != nil || rec.Kind != KindCommand || rec.Argc != 2 || rec.End != -1 || r.Offset() != 11 {
		t.Fatal(rec, err, r.Offset())
	}
	// Read part of the first argument only; Next skips the rest.
	_, s, err := r.NextArgStream()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2)
	if n, err := s.Read(b); n != 2 || err != nil || string(b) != "GE" {
		t.Fatal(n, err, b)
	}
	rec, err = r.Next()
	if err != nil || rec.Offset != 27 || rec.Argc != 3 {
		t.Fatal(rec, err)
	}
	if st := r.Stats(); st.Commands != 1 || st.Annotations != 1 || st.GoodEnd != 27 || st.MultiStart != -1 {
		t.Fatalf("%+v", st)
	}
	args, err := r.ReadCommand(0)
	if err != nil || len(args) != 3 || string(args[0]) != "SET" || rec.End != int64(len(in)) {
		t.Fatal(args, err, rec.End)
	}
	if _, err := r.NextArg(); err != io.EOF {
		t.Fatalf("after the last argument: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal("EOF is not sticky")
	}
}

// TestPreambleRest: the RDB is left for an RDB reader, and the RESP tail is
// read from the same buffered reader with BaseOffset.
func TestPreambleRest(t *testing.T) {
	rdb := "REDIS0011\xfa\x00\xff12345678"
	tail := "*1\r\n$4\r\nPING\r\n"
	for _, peek := range []bool{true, false} {
		var src io.Reader = strings.NewReader(rdb + tail)
		var br *bufio.Reader
		if peek {
			br = bufio.NewReader(src)
			src = br
		}
		r := NewReader(src, ReaderOptions{})
		if _, err := r.Next(); !errors.Is(err, ErrRDBPreamble) {
			t.Fatal(err)
		}
		if peek && br.Buffered() != len(rdb+tail) {
			t.Fatalf("the bufio.Reader was consumed: %d buffered", br.Buffered())
		}
		rest := r.Rest()
		head := make([]byte, len(rdb))
		if _, err := io.ReadFull(rest, head); err != nil || string(head) != rdb {
			t.Fatal(err, head)
		}
		tr := NewReader(rest, ReaderOptions{BaseOffset: int64(len(rdb))})
		rec, err := tr.Next()
		if err != nil || rec.Offset != int64(len(rdb)) {
			t.Fatal(rec, err)
		}
		if _, err := tr.Next(); err != io.EOF || tr.Offset() != int64(len(rdb+tail)) {
			t.Fatal(err, tr.Offset())
		}
	}
}

// TestBigArgumentsMemory: streaming an argument keeps the window small, and
// a window grown for one whole argument shrinks afterwards.
func TestBigArgumentsMemory(t *testing.T) {
	const size = 64 << 20
	var head bytes.Buffer
	w := NewWriter(&head)
	w.BeginCommand(2)
	w.WriteArg([]byte("SET"))
	w.BeginArg(size)
	w.Flush()
	in := io.MultiReader(&head, io.LimitReader(zeros{}, size), strings.NewReader("\r\n*1\r\n$4\r\nPING\r\n"))
	r := NewReader(in, ReaderOptions{})
	r.Next()
	r.NextArg()
	n, s, err := r.NextArgStream()
	if err != nil || n != size {
		t.Fatal(n, err)
	}
	if k, err := io.Copy(io.Discard, s); k != size || err != nil {
		t.Fatal(k, err)
	}
	if c := cap(r.src.Buf); c > persist.FullSize {
		t.Fatalf("streaming grew the window to %d", c)
	}
	if rec, err := r.Next(); err != nil || rec.Argc != 1 {
		t.Fatal(rec, err)
	}

	// Whole: the window grows to the argument, then shrinks.
	const whole = 8 << 20
	var buf bytes.Buffer
	w = NewWriter(&buf)
	w.WriteCommand([]byte("SET"), []byte("k"), bytes.Repeat([]byte("v"), whole))
	for range 100 {
		w.WriteCommand([]byte("PING"))
	}
	w.Flush()
	r = NewReader(&buf, ReaderOptions{})
	r.Next()
	args, err := r.ReadCommand(0)
	if err != nil || len(args[2]) != whole {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if c := cap(r.src.Buf); c > maxIdleBufSize {
		t.Fatalf("the window stayed at %d", c)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// stuckReader returns nothing, and no error, forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderNoProgress(t *testing.T) {
	_, err := NewReader(io.MultiReader(strings.NewReader("*1\r\n$4\r\nPI"), stuckReader{}), ReaderOptions{}).Next()
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(io.MultiReader(strings.NewReader("*1\r\n$4\r\nPI"), stuckReader{}), ReaderOptions{})
	r.Next()
	if _, err := r.NextArg(); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v", err)
	}
	res, err := Check(io.MultiReader(strings.NewReader("*1\r\n$4\r\nPI"), stuckReader{}), CheckOptions{})
	if !errors.Is(err, io.ErrNoProgress) || res.Problem == nil || res.Problem.Kind != "io" {
		t.Fatalf("Check: %v %+v", err, res)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReaderIOError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("*1\r\n$4\r\nPING\r\n*1\r\n"), failingReader{boom}), ReaderOptions{})
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || rec.Argc != 1 {
		t.Fatal(rec, err)
	}
	_, err := r.Next()
	var pe *ParseError
	if !errors.Is(err, boom) || !errors.As(err, &pe) || errors.Is(err, ErrTruncated) || pe.GoodEnd != 14 {
		t.Fatalf("got %v", err)
	}
}

func TestStrings(t *testing.T) {
	for got, want := range map[string]string{
		KindCommand.String():        "command",
		KindAnnotation.String():     "annotation",
		Kind(9).String():            "Kind(9)",
		TypeBase.String():           "base",
		TypeHistory.String():        "history",
		TypeIncr.String():           "incr",
		FileType('x').String():      `FileType("x")`,
		FormatMissing.String():      "missing",
		FormatEmpty.String():        "empty",
		FormatRDB.String():          "rdb",
		FormatRESP.String():         "resp",
		Format(9).String():          "Format(9)",
		SourceNone.String():         "none",
		SourceMultiPart.String():    "multi-part AOF",
		SourceLegacyAOF.String():    "single-file AOF",
		SourceRDB.String():          "RDB",
		Source(9).String():          "Source(9)",
		QuoteBytes([]byte("a\r\n")): `"a\r\n"`,
		(&ManifestError{Line: 3, Err: ErrCorrupt, Detail: "d"}).Error(): "manifest line 3: corrupt data: d",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if q := QuoteBytes(bytes.Repeat([]byte("x"), 81)); !strings.HasSuffix(q, `x"...81 bytes`) || len(q) != 82+len("...81 bytes") {
		t.Errorf("%s", q)
	}
	res, _ := CheckBytes([]byte("*1\r\n$5\r\nMULTI\r\n*1\r\n$4\r\nPING\r\n"), CheckOptions{})
	if s := res.String(); !strings.HasPrefix(s, "torn tail at offset 29: MULTI: ") || !strings.Contains(s, "repair: truncate to 0 (drops 29 bytes, 2 complete commands)") {
		t.Errorf("%s", s)
	}
	res, _ = CheckBytes([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n#TS:9\r\n"), CheckOptions{ToTimestamp: 5})
	if s := res.String(); s != "ok: 1 commands, 2 annotations, 0 transactions, 28 bytes; first #TS after 5 at offset 21 (1 commands before it)" {
		t.Errorf("%s", s)
	}
}
