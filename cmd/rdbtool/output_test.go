package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/urfave/cli/v2"
)

func TestDisplayBytes(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"user:1", 0, "user:1"},
		{"naïve ключ", 0, "naïve ключ"},
		{"", 0, `""`},
		{"a b", 0, "a b"},
		{" lead", 0, `" lead"`},
		{"trail ", 0, `"trail "`},
		{`"quoted"`, 0, `"\"quoted\""`},
		{"line\nbreak", 0, `"line\nbreak"`},
		{"\x1b[31mred", 0, `"\x1b[31mred"`},
		{"\xff\xfe", 0, `"\xff\xfe"`},
		{"abcdefgh", 4, "abcd…(8 bytes)"},
	}
	for _, c := range cases {
		if got := displayBytes([]byte(c.in), c.max); got != c.want {
			t.Errorf("displayBytes(%q, %d) = %s, want %s", c.in, c.max, got, c.want)
		}
	}
}

func TestJSONBytes(t *testing.T) {
	for in, want := range map[string]string{
		"key":      `{"utf8":"key"}`,
		"<a&b>":    `{"utf8":"\u003ca\u0026b\u003e"}`,
		"\xff\x00": `{"base64":"/wA="}`,
	} {
		got, err := json.Marshal(jsonBytes(in))
		if err != nil || string(got) != want {
			t.Errorf("%q: %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestHumanBytesAndCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 20: "5.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	pe := func(err error) error { return &rdb.ParseError{Offset: 7, Op: "x", Err: err} }
	cases := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("boom"), exitFailure},
		{io.ErrUnexpectedEOF, exitFailure},
		{context.Canceled, exitInterrupted},
		{usagef("verify", "bad"), exitUsage},
		{cli.Exit("No help topic for 'x'", 3), exitUsage},
		{pe(rdb.ErrCorrupt), exitInvalid},
		{pe(rdb.ErrTruncated), exitInvalid},
		{pe(rdb.ErrChecksum), exitInvalid},
		{pe(rdb.ErrValueTooLarge), exitUnsupported},
		{pe(&rdb.UnsupportedError{What: "x"}), exitUnsupported},
		{&rdb.UnsupportedError{What: "x"}, exitUnsupported},
		{pe(fmt.Errorf("gzip data: bad: %w", rdb.ErrCorrupt)), exitInvalid},
		{pe(errors.New("read: input/output error")), exitFailure},
		{&reportedError{Err: pe(rdb.ErrChecksum)}, exitInvalid},
		{&fileError{line: "x", err: pe(rdb.ErrCorrupt)}, exitInvalid},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	order := []int{exitOK, exitFailure, exitUnsupported, exitInvalid, exitInterrupted}
	for i := range order {
		for j := range order {
			if got := worse(order[i], order[j]); got != (i > j) {
				t.Errorf("worse(%d, %d) = %v", order[i], order[j], got)
			}
		}
	}
}

func TestDescribe(t *testing.T) {
	err := &rdb.ParseError{Offset: 494, Key: []byte("k\x00"), Op: "ziplist entry", Err: rdb.ErrCorrupt, Detail: "bad prevlen"}
	got := failureLine("f.rdb", err, " of the decompressed gzip stream")
	want := `f.rdb: INVALID at offset 494 of the decompressed gzip stream (key "k\x00"): ziplist entry: bad prevlen`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	err = &rdb.ParseError{Offset: 9, Op: "checksum", Err: rdb.ErrChecksum, Detail: "stored 1, computed 2"}
	if got := failureLine("f", err, ""); got != "f: INVALID at offset 9: checksum: checksum mismatch: stored 1, computed 2" {
		t.Errorf("got %s", got)
	}
	if got := failureLine("f", errors.New("open f: no such file"), ""); got != "f: ERROR: open f: no such file" {
		t.Errorf("got %s", got)
	}
}

func TestTrailingWarning(t *testing.T) {
	mark := []byte("6ce932509f837be39659508afae0e80443148d47")
	if w := trailingWarning(40, mark); !strings.Contains(w, "diskless") {
		t.Errorf("EOF mark: %s", w)
	}
	if w := trailingWarning(41, append(mark, 'x')); strings.Contains(w, "diskless") {
		t.Errorf("41 bytes: %s", w)
	}
	if w := trailingWarning(3, []byte("\x00\x01\x02")); !strings.Contains(w, `"\x00\x01\x02"`) {
		t.Errorf("binary: %s", w)
	}
}

func TestProgressLine(t *testing.T) {
	l := progressLine("/backups/dump.rdb", 50<<20, 100<<20, 2*time.Second, progressWidth)
	for _, want := range []string{"dump.rdb", "50%", "50.0 MiB/100.0 MiB", "25.0 MiB/s", "ETA 0:02", "[==========>"} {
		if !strings.Contains(l, want) {
			t.Errorf("%q lacks %q", l, want)
		}
	}
	if n := len([]rune(l)); n != progressWidth {
		t.Errorf("width %d, want %d: %q", n, progressWidth, l)
	}
	long := progressLine(strings.Repeat("d/", 60)+"dump.rdb", 1, 0, time.Second, progressWidth)
	if n := len([]rune(long)); n != progressWidth || !strings.Contains(long, "dump.rdb") {
		t.Errorf("unknown total, long name: %q (%d)", long, n)
	}
}

// lockedBuffer is an io.Writer safe for the progress goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressDrawsAndClears(t *testing.T) {
	var w lockedBuffer
	var done int64 = 10
	p := &progress{w: &w, label: "x.rdb", total: 100, done: func() int64 { return done },
		delay: 0, interval: time.Millisecond, width: 40}
	p.start()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.String(), "x.rdb") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	out := w.String()
	if !strings.Contains(out, "\rx.rdb") || !strings.HasSuffix(out, "\r"+strings.Repeat(" ", 40)+"\r") {
		t.Errorf("progress output %q", out)
	}

	// A quick file draws nothing at all.
	var quiet lockedBuffer
	p = &progress{w: &quiet, label: "y", total: 1, done: func() int64 { return 1 }, delay: time.Hour, interval: time.Millisecond, width: 40}
	p.start()
	time.Sleep(10 * time.Millisecond)
	p.Stop()
	if quiet.String() != "" {
		t.Errorf("drew %q before the delay", quiet.String())
	}
	(*progress)(nil).Stop() // disabled bars are nil and Stop is a no-op
	if startProgress(false, &quiet, "z", 1, nil) != nil {
		t.Errorf("disabled progress is not nil")
	}
	if isTerminal(&quiet) {
		t.Errorf("a buffer is a terminal")
	}
}
