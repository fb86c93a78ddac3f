package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // Reply.String(), or "error: ..." for a failure
	}{
		{"+OK\r\n", `+"OK"`},
		{"+PONG\r\n", `+"PONG"`},
		{"-BUSYKEY Target key name already exists.\r\n", `-"BUSYKEY Target key name already exists."`},
		{":-12\r\n", ":-12"},
		{"$3\r\na\r\n\r\n", `"a\r\n"`},
		{"$0\r\n\r\n", `""`},
		{"$-1\r\n", "(nil)"},
		{"*-1\r\n", "(nil)"},
		{"*0\r\n", "[]"},
		{"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n", `[:1 ["x"]]`},
		{"", "error: EOF"},
		{"+OK", "error: unexpected EOF"},
		{"+OK\n", "error: resp: protocol error: reply line not terminated by CRLF"},
		{"$5\r\nab", "error: unexpected EOF"},
		{"$2\r\nabcd", "error: resp: protocol error: bulk string not followed by CRLF"},
		{"$-2\r\n", `error: resp: protocol error: bad bulk length "-2"`},
		{"$9999999999999\r\n", "error: resp: protocol error: bulk string of 9999999999999 bytes is over the limit of 536870912"},
		{"*99999999\r\n", "error: resp: protocol error: array of 99999999 elements is over the limit of 16777216"},
		{":x\r\n", `error: resp: protocol error: bad integer "x"`},
		{"%1\r\n", `error: resp: protocol error: unknown reply type '%' (RESP3 is not spoken)`},
		{"\r\n", "error: resp: protocol error: empty reply line"},
		{strings.Repeat("*1\r\n", 40) + ":1\r\n", "error: resp: protocol error: arrays nested deeper than 32"},
	} {
		for _, shape := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"onebyte", iotest.OneByteReader}} {
			r := NewReader(shape.wrap(strings.NewReader(tc.in)), ReaderOptions{})
			rep, err := r.Read()
			got := rep.String()
			if err != nil {
				got = "error: " + err.Error()
			}
			if got != tc.want {
				t.Errorf("%q (%s): got %s, want %s", tc.in, shape.name, got, tc.want)
			}
		}
	}
}

func TestReaderLongLine(t *testing.T) {
	long := "+" + strings.Repeat("x", 100<<10) + "\r\n"
	_, err := NewReader(strings.NewReader(long), ReaderOptions{}).Read()
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("a 100 KiB line: %v", err)
	}
	ok := "+" + strings.Repeat("y", 60<<10) + "\r\n"
	r, err := NewReader(iotest.HalfReader(strings.NewReader(ok)), ReaderOptions{}).Read()
	if err != nil || len(r.Str) != 60<<10 {
		t.Fatalf("a 60 KiB line: %d bytes, %v", len(r.Str), err)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	args := [][]byte{[]byte("RESTORE"), {0, '\r', '\n', 0xff}, nil, bytes.Repeat([]byte("z"), 70000)}
	b := AppendCommandBytes(nil, args...)
	r := NewReader(bytes.NewReader(b), ReaderOptions{})
	rep, err := r.Read()
	if err != nil || rep.Kind != KindArray || len(rep.Elems) != len(args) {
		t.Fatalf("%s, %v", rep, err)
	}
	for i, a := range args {
		if !bytes.Equal(rep.Elems[i].Str, a) {
			t.Errorf("argument %d differs", i)
		}
	}
	if got := string(AppendCommand(nil, "SET", "k", "")); got != "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n" {
		t.Errorf("AppendCommand = %q", got)
	}
	if got := string(AppendBulkInt(nil, -42)); got != "$3\r\n-42\r\n" {
		t.Errorf("AppendBulkInt = %q", got)
	}
}

func TestErrorCode(t *testing.T) {
	for msg, code := range map[string]string{
		"MOVED 3999 127.0.0.1:6381": "MOVED", "ERR unknown command": "ERR", "TRYAGAIN": "TRYAGAIN", "": "",
	} {
		if got := (&Error{Msg: msg}).Code(); got != code {
			t.Errorf("Code(%q) = %q, want %q", msg, got, code)
		}
	}
}

func TestParseInfo(t *testing.T) {
	m := ParseInfo([]byte("# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n\r\n# Cluster\r\ncluster_enabled:1\r\n"))
	if m["redis_version"] != "7.0.15" || m["cluster_enabled"] != "1" || len(m) != 3 {
		t.Fatalf("%v", m)
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:5\r\n", "$-1\r\n", "-ERR x\r\n", "*1\r\n*1\r\n*0\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), ReaderOptions{MaxBulk: 1 << 20, MaxArray: 1 << 10})
		for range 100 {
			rep, err := r.Read()
			if err != nil {
				return
			}
			// Whatever parses renders, and a bulk or array round-trips
			// through the writer.
			_ = rep.String()
			if rep.Kind == KindBulk {
				back, err := NewReader(bytes.NewReader(AppendBulk(nil, rep.Str)), ReaderOptions{}).Read()
				if err != nil || !bytes.Equal(back.Str, rep.Str) {
					t.Fatalf("bulk round trip: %v", err)
				}
			}
		}
	})
}
