package aof

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rdbtool/rdbtool/internal/casefile"
)

// Data-driven reader cases live in testdata/reader/*.txt:
//
//	// comment
//	case NAME [strict|lenient] [base=N]
//	input lines: Go string-literal bodies ("*1\r\n$4\r\nPING\r\n"), joined
//	  without separators; a line "hex: 0a ff" adds raw bytes; "// ..." comments
//	----
//	expected dump (dumpText), then the Check result as JSON, up to "===="
//
// A case without a mode runs in both modes and must dump the same in each.

type ddCase struct {
	casefile.Case
	modes []bool // Strict values to run
	base  int64
	input []byte
}

func parseDDFile(t testing.TB, path string) []ddCase {
	var out []ddCase
	for _, c := range casefile.Load(t, path) {
		dc := ddCase{Case: c, modes: []bool{true, false}}
		for _, f := range c.Options {
			switch {
			case f == "strict":
				dc.modes = []bool{true}
			case f == "lenient":
				dc.modes = []bool{false}
			case strings.HasPrefix(f, "base="):
				dc.base, _ = strconv.ParseInt(f[5:], 10, 64)
			default:
				t.Fatalf("%s:%d: unknown case option %q", path, c.Line, f)
			}
		}
		for _, l := range c.Input {
			line := l.Text
			if strings.HasPrefix(strings.TrimSpace(line), "//") || strings.TrimSpace(line) == "" {
				continue
			}
			if h, ok := strings.CutPrefix(line, "hex:"); ok {
				b, err := hex.DecodeString(strings.Join(strings.Fields(h), ""))
				if err != nil {
					t.Fatalf("%s:%d: bad hex: %v", path, l.N, err)
				}
				dc.input = append(dc.input, b...)
				continue
			}
			s, err := strconv.Unquote(`"` + line + `"`)
			if err != nil {
				t.Fatalf("%s:%d: bad string literal: %v", path, l.N, err)
			}
			dc.input = append(dc.input, s...)
		}
		out = append(out, dc)
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the expected output of data-driven cases")

func TestDataDriven(t *testing.T) {
	files, _ := filepath.Glob("testdata/reader/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/reader cases")
	}
	for _, path := range files {
		cases := parseDDFile(t, path)
		if *update {
			rewriteDD(t, path, cases)
			continue
		}
		for _, c := range cases {
			t.Run(filepath.Base(path)+"/"+c.Name, func(t *testing.T) {
				if strings.Contains(c.Want, "MISMATCH") {
					t.Errorf("%s:%d: the expected output records a disagreement between ways of reading", path, c.Line)
				}
				for _, strict := range c.modes {
					got := dumpText(c.input, ReaderOptions{Strict: strict, BaseOffset: c.base})
					if got != c.Want {
						t.Errorf("%s:%d (strict=%v)\n--- got\n%s--- want\n%s", path, c.Line, strict, got, c.Want)
					}
				}
			})
		}
	}
}

// rewriteDD rewrites a case file with the current output, keeping the
// file's leading comment and each case's text.
func rewriteDD(t *testing.T, path string, cases []ddCase) {
	old, _ := os.ReadFile(path)
	var b strings.Builder
	if i := strings.Index(string(old), "case "); i > 0 {
		b.WriteString(string(old[:i]))
	}
	for i, c := range cases {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(c.Head)
		b.WriteString(dumpText(c.input, ReaderOptions{Strict: c.modes[0], BaseOffset: c.base}))
		b.WriteString("====\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dumpText reads input every way the package can and renders what the
// Reader saw, one line per record, then the Check result. The ways of reading
// (NextArg from a stream and one byte at a time, NextArgStream one byte at a
// time, ReadCommand from memory, AppendCommand from a stream, skipping) must
// agree; a difference is
// reported in the dump.
func dumpText(input []byte, opts ReaderOptions) string {
	a := dumpRecords(NewReader(bytes.NewReader(input), opts), modeNextArg)
	b := dumpRecords(NewReader(iotest.OneByteReader(bytes.NewReader(input)), opts), modeStream)
	c := dumpRecords(NewReaderBytes(input, opts), modeReadCommand)
	d := dumpRecords(NewReader(iotest.HalfReader(bytes.NewReader(input)), opts), modeSkip)
	// Whole arguments from a trickle: every payload ends at the window's end.
	e := dumpRecords(NewReader(iotest.OneByteReader(bytes.NewReader(input)), opts), modeNextArg)
	f := dumpRecords(NewReader(iotest.HalfReader(bytes.NewReader(input)), opts), modeAppendCommand)
	out := a
	if b != a {
		out += "MISMATCH NextArgStream/OneByteReader:\n" + b
	}
	if c != a {
		out += "MISMATCH ReadCommand/bytes:\n" + c
	}
	if d != skipView(a) {
		out += "MISMATCH skip/HalfReader:\n" + d
	}
	if e != a {
		out += "MISMATCH NextArg/OneByteReader:\n" + e
	}
	if f != a {
		out += "MISMATCH AppendCommand/HalfReader:\n" + f
	}
	res, err := Check(bytes.NewReader(input), CheckOptions{BaseOffset: opts.BaseOffset, Lenient: !opts.Strict, ToTimestamp: 1700000000})
	res2, err2 := CheckBytes(input, CheckOptions{BaseOffset: opts.BaseOffset, Lenient: !opts.Strict, ToTimestamp: 1700000000})
	j, j2 := checkLine(res), checkLine(res2)
	out += "check " + j + "\n"
	if j != j2 || fmt.Sprint(err) != fmt.Sprint(err2) {
		out += "MISMATCH CheckBytes: " + j2 + "\n"
	}
	return out
}

type readMode int

const (
	modeNextArg readMode = iota
	modeStream
	modeReadCommand
	modeSkip
)

// skipView is what a dump looks like when arguments are not read.
func skipView(dump string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(dump, "\n") {
		if i := strings.Index(line, " end="); i >= 0 && strings.HasPrefix(line, "cmd ") {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

func dumpRecords(r *Reader, mode readMode) string {
	var b strings.Builder
	fail := func(err error) {
		var pe *ParseError
		if errors.As(err, &pe) {
			fmt.Fprintf(&b, "error @%d record=@%d commands=%d good=%d multi=%d repair=%d: %s: %s: %s\n",
				pe.Offset, pe.Record, pe.Command, pe.GoodEnd, pe.MultiStart, pe.RepairOffset(), errName(pe.Err), pe.Op, pe.Detail)
		} else {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			st := r.Stats()
			fmt.Fprintf(&b, "eof @%d commands=%d annotations=%d transactions=%d\n", r.Offset(), st.Commands, st.Annotations, st.Transactions)
			break
		}
		if err != nil {
			fail(err)
			break
		}
		if rec.Kind == KindAnnotation {
			fmt.Fprintf(&b, "ann @%d end=%d %q", rec.Offset, rec.End, rec.Text)
			if rec.HasTimestamp {
				fmt.Fprintf(&b, " ts=%d", rec.Timestamp)
			}
			b.WriteString("\n")
			continue
		}
		var args []string
		var aerr error
		switch mode {
		case modeNextArg:
			for {
				a, err := r.NextArg()
				if err != nil {
					if err != io.EOF {
						aerr = err
					}
					break
				}
				args = append(args, strconv.Quote(string(a)))
			}
		case modeStream:
			for {
				_, s, err := r.NextArgStream()
				if err != nil {
					if err != io.EOF {
						aerr = err
					}
					break
				}
				a, err := io.ReadAll(s)
				if err != nil {
					aerr = err
					break
				}
				args = append(args, strconv.Quote(string(a)))
			}
		case modeReadCommand:
			all, err := r.ReadCommand(0)
			if err != nil && err != io.EOF {
				aerr = err
			}
			for _, a := range all {
				args = append(args, strconv.Quote(string(a)))
			}
		case modeAppendCommand:
			buf, ends, err := r.AppendCommand([]byte("prefix"), []int{6}, 0)
			if err != nil && err != io.EOF {
				aerr = err
			}
			start := 6
			for _, end := range ends[1:] {
				args = append(args, strconv.Quote(string(buf[start:end])))
				start = end
			}
		case modeSkip:
			fmt.Fprintf(&b, "cmd @%d argc=%d\n", rec.Offset, rec.Argc)
			continue
		}
		if aerr != nil {
			// Arguments read before a failure differ by mode; show the failure only.
			fmt.Fprintf(&b, "cmd @%d argc=%d\n", rec.Offset, rec.Argc)
			fail(aerr)
			break
		}
		fmt.Fprintf(&b, "cmd @%d argc=%d end=%d args: %s\n", rec.Offset, rec.Argc, rec.End, strings.Join(args, " "))
	}
	return b.String()
}

func errName(err error) string {
	switch {
	case errors.Is(err, ErrCorrupt):
		return "corrupt"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrArgTooLarge):
		return "too-large"
	case errors.Is(err, ErrRDBPreamble):
		return "rdb-preamble"
	}
	return err.Error()
}
