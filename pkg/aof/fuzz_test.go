package aof

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzSeeds are the inputs of the data-driven cases plus a few real files.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/reader/*.txt")
	for _, p := range files {
		for _, c := range parseDDFile(f, p) {
			f.Add(c.input)
		}
	}
	for _, p := range []string{
		corpusPath("replicator/appendonly1.aof"),
		corpusPath("replicator/appendonly7.aof"),
		corpusPath("hdt3213/hash_with_hfe.aof"),
		filepath.Join(fixturesDir, "aof-7.0/appendonlydir/appendonly.aof.2.incr.aof"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// readOutcome is what one way of reading saw: the records and how it ended.
type readOutcome struct {
	records []string
	err     error
}

func (o readOutcome) String() string {
	return strings.Join(o.records, "\n") + "\nend: " + describeErr(o.err)
}

// describeErr renders the parts of an error every way of reading must agree on.
func describeErr(err error) string {
	if err == io.EOF {
		return "EOF"
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		return "not a ParseError: " + fmt.Sprint(err)
	}
	return fmt.Sprintf("%s op=%q offset=%d record=%d commands=%d good=%d multi=%d repair=%d",
		errName(pe.Err), pe.Op, pe.Offset, pe.Record, pe.Command, pe.GoodEnd, pe.MultiStart, pe.RepairOffset())
}

// budgetExceeded reports whether ReadCommand failed on its byte budget where
// NextArg found the input too short: ReadCommand charges 24 bytes per
// argument on top of its length, so a claimed length within 24·argc of
// MaxInt64 (strtol saturates there) exceeds even a MaxInt64 budget. The
// claim being far beyond any fuzz input, the two verdicts are the same.
func budgetExceeded(readCommand, nextArg error) bool {
	var a, b *ParseError
	return errors.As(readCommand, &a) && errors.As(nextArg, &b) &&
		errors.Is(a, ErrArgTooLarge) && errors.Is(b, ErrTruncated) &&
		a.Op == "argument" && b.Op == "argument" && a.Offset == b.Offset && a.Record == b.Record
}

// modeNextArgOneByte is NextArg from a reader that returns a byte at a time.
const modeNextArgOneByte readMode = 100

// modeAppendCommand is AppendCommand from a reader that returns half of what
// is asked, every command appended to one buffer after the ones before it.
const modeAppendCommand readMode = 101

// appendPrefix is what the buffer AppendCommand appends to starts with.
const appendPrefix = "prefix"

// readAll reads input in one of six ways and returns what it saw. Limits are
// lifted so that only the input decides the outcome.
func readAll(input []byte, strict bool, mode readMode) readOutcome {
	opts := ReaderOptions{Strict: strict, MaxArgSize: math.MaxInt64, MaxArgs: math.MaxInt64}
	var r *Reader
	switch mode {
	case modeNextArg:
		r = NewReader(bytes.NewReader(input), opts)
	case modeNextArgOneByte:
		r = NewReader(iotest.OneByteReader(bytes.NewReader(input)), opts)
		mode = modeNextArg
	case modeStream:
		r = NewReader(iotest.OneByteReader(bytes.NewReader(input)), opts)
	case modeReadCommand:
		r = NewReaderBytes(input, opts)
	case modeSkip, modeAppendCommand:
		r = NewReader(iotest.HalfReader(bytes.NewReader(input)), opts)
	}
	var out readOutcome
	dst, ends := []byte(appendPrefix), []int{len(appendPrefix)}
	for {
		rec, err := r.Next()
		if err != nil {
			out.err = err
			return out
		}
		if rec.Kind == KindAnnotation {
			out.records = append(out.records, fmt.Sprintf("ann @%d-%d %q %v %d", rec.Offset, rec.End, rec.Text, rec.HasTimestamp, rec.Timestamp))
			continue
		}
		out.records = append(out.records, fmt.Sprintf("cmd @%d argc=%d", rec.Offset, rec.Argc))
		var args [][]byte
		switch mode {
		case modeNextArg:
			for {
				a, err := r.NextArg()
				if err == io.EOF {
					break
				}
				if err != nil {
					out.err = err
					return out
				}
				args = append(args, bytes.Clone(a))
			}
		case modeStream:
			for {
				_, s, err := r.NextArgStream()
				if err == io.EOF {
					break
				}
				if err != nil {
					out.err = err
					return out
				}
				a, err := io.ReadAll(s)
				if err != nil {
					out.err = err
					return out
				}
				args = append(args, a)
			}
		case modeReadCommand:
			all, err := r.ReadCommand(math.MaxInt64)
			if err != nil && err != io.EOF {
				out.err = err
				return out
			}
			for _, a := range all {
				args = append(args, bytes.Clone(a))
			}
		case modeAppendCommand:
			n0, e0 := len(dst), len(ends)
			var err error
			dst, ends, err = r.AppendCommand(dst, ends, math.MaxInt64)
			if err != nil && err != io.EOF {
				if len(dst) != n0 || len(ends) != e0 {
					err = fmt.Errorf("AppendCommand kept %d bytes and %d ends of a failed command: %w", len(dst)-n0, len(ends)-e0, err)
				}
				out.err = err
				return out
			}
			start := n0
			for _, end := range ends[e0:] {
				args = append(args, bytes.Clone(dst[start:end]))
				start = end
			}
			if string(dst[:len(appendPrefix)]) != appendPrefix || ends[0] != len(appendPrefix) {
				out.err = fmt.Errorf("AppendCommand changed what its buffers held")
				return out
			}
		case modeSkip:
			continue
		}
		if int64(len(args)) != rec.Argc {
			out.records = append(out.records, fmt.Sprintf("BAD: %d arguments for argc %d", len(args), rec.Argc))
		}
		out.records = append(out.records, fmt.Sprintf("args end=%d %q", rec.End, args))
	}
}

// commandsOf returns the commands of a valid input.
func commandsOf(t testing.TB, input []byte, strict bool) [][][]byte {
	r := NewReaderBytes(input, ReaderOptions{Strict: strict, MaxArgSize: math.MaxInt64, MaxArgs: math.MaxInt64})
	var cmds [][][]byte
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return cmds
		}
		if err != nil {
			t.Fatalf("reading a valid input: %v", err)
		}
		if rec.Kind != KindCommand {
			continue
		}
		var args [][]byte
		for {
			a, err := r.NextArg()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("reading a valid input: %v", err)
			}
			args = append(args, bytes.Clone(a))
		}
		cmds = append(cmds, args)
	}
}

func FuzzReader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		valid := map[bool]bool{}
		for _, strict := range []bool{true, false} {
			base := readAll(input, strict, modeNextArg)
			for _, mode := range []readMode{modeNextArgOneByte, modeStream, modeReadCommand, modeAppendCommand} {
				got := readAll(input, strict, mode)
				if (mode == modeReadCommand || mode == modeAppendCommand) && budgetExceeded(got.err, base.err) {
					got.err = base.err
				}
				if got.String() != base.String() {
					t.Fatalf("strict=%v: mode %d disagrees with NextArg\n--- NextArg\n%s\n--- mode %d\n%s", strict, mode, base, mode, got)
				}
			}
			skipped := readOutcome{err: base.err}
			for _, rec := range base.records {
				if !strings.HasPrefix(rec, "args ") {
					skipped.records = append(skipped.records, rec)
				}
			}
			if got := readAll(input, strict, modeSkip); got.String() != skipped.String() {
				t.Fatalf("strict=%v: skipping disagrees with NextArg\n--- NextArg\n%s\n--- skip\n%s", strict, skipped, got)
			}

			// Check agrees with the Reader about validity and, when the
			// input is bad, about where and how.
			opts := CheckOptions{Lenient: !strict}
			res, err := Check(bytes.NewReader(input), opts)
			res2, err2 := CheckBytes(input, opts)
			if !reflect.DeepEqual(res, res2) || fmt.Sprint(err) != fmt.Sprint(err2) {
				t.Fatalf("strict=%v: Check and CheckBytes disagree:\n%+v %v\n%+v %v", strict, res, err, res2, err2)
			}
			// The same bytes as the tail of a preamble file: every offset moves
			// by BaseOffset, and "REDIS" is no longer a preamble.
			const shift = 1000
			if !hasRDBMagic(input) {
				tail, terr := CheckBytes(input, CheckOptions{Lenient: !strict, BaseOffset: shift})
				if tail.OK != res.OK || tail.RepairOffset != res.RepairOffset+shift || tail.End != res.End+shift ||
					tail.Commands != res.Commands || (terr == nil) != (err == nil) {
					t.Fatalf("strict=%v: with BaseOffset %d: %s; without: %s", strict, shift, tail, res)
				}
			}
			okReader := base.err == io.EOF
			if res.OK != okReader || (err == nil) != okReader {
				t.Fatalf("strict=%v: Check says ok=%v (%v), the Reader ends with %s", strict, res.OK, err, describeErr(base.err))
			}
			if res.End != int64(len(input)) && !errors.Is(err, ErrRDBPreamble) {
				t.Fatalf("strict=%v: Check End %d, input %d bytes", strict, res.End, len(input))
			}
			if okReader {
				if res.RepairOffset != int64(len(input)) {
					t.Fatalf("strict=%v: valid input, RepairOffset %d of %d", strict, res.RepairOffset, len(input))
				}
			} else if describeErr(err) != describeErr(base.err) {
				t.Fatalf("strict=%v: Check fails with %s, the Reader with %s", strict, describeErr(err), describeErr(base.err))
			} else if !errors.Is(err, ErrRDBPreamble) {
				var pe *ParseError
				errors.As(err, &pe)
				if res.RepairOffset != pe.RepairOffset() || res.Problem == nil || res.Problem.Offset != pe.Offset {
					t.Fatalf("strict=%v: CheckResult %+v does not match %v", strict, res, err)
				}
				if res.RepairOffset > int64(len(input)) || res.RepairOffset < 0 {
					t.Fatalf("strict=%v: RepairOffset %d outside the input", strict, res.RepairOffset)
				}
				// What the repair keeps is valid, with the same commands.
				cut := input[:res.RepairOffset]
				if hasRDBMagic(cut) {
					return // cutting a tail can leave what starts like an RDB
				}
				if r2, err := CheckBytes(cut, opts); err != nil {
					t.Fatalf("strict=%v: the input cut at RepairOffset %d is not valid: %v (%s)", strict, res.RepairOffset, err, r2)
				}
			}
			valid[strict] = okReader
		}
		if valid[true] && !valid[false] {
			t.Fatalf("valid under redis-check-aof's rules but not under redis-server's")
		}
		if !valid[false] {
			return
		}
		// Valid input re-encoded by the Writer reads back as the same
		// commands, under either rule set, and is itself valid.
		cmds := commandsOf(t, input, false)
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, c := range cmds {
			if err := w.WriteCommand(c...); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if hasRDBMagic(buf.Bytes()) {
			t.Fatal("the Writer's output starts with an RDB magic")
		}
		if got := commandsOf(t, buf.Bytes(), true); !reflect.DeepEqual(got, cmds) && !(len(got) == 0 && len(cmds) == 0) {
			t.Fatalf("Writer round trip:\n got %q\nwant %q", got, cmds)
		}
	})
}

func FuzzManifest(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add([]byte(s))
	}
	for _, p := range []string{
		corpusPath("redisshake/appendonlydir/appendonly.aof.manifest"),
		corpusPath("fred-rs/appendonlydir/appendonly.aof.manifest"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		m, err := ParseManifest(bytes.NewReader(input))
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrArgTooLarge) {
				t.Fatalf("ParseManifest error %v (%T) is not a *ManifestError wrapping ErrCorrupt", err, err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := m.WriteTo(&out); err != nil {
			// The manifests Redis loads but WriteTo will not write.
			if !writeRefusalExpected(m) {
				t.Fatalf("WriteTo refused a parsed manifest: %v\n%q", err, input)
			}
			return
		}
		m2, err := ParseManifest(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("reading back what WriteTo wrote: %v\n%q", err, out.Bytes())
		}
		if a, b := stripLines(m), stripLines(m2); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the manifest\n in: %+v\nout: %+v\nwritten: %q", a, b, out.Bytes())
		}
		var again bytes.Buffer
		if _, err := m2.WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("writing the manifest read back gives different bytes (%v):\n%q\n%q", err, out.Bytes(), again.Bytes())
		}
	})
}

// writeRefusalExpected reports whether m, which ParseManifest accepted, is one
// WriteTo rightly refuses: it lists nothing (a manifest of comments only), a
// name is empty, or a line would outgrow Redis's line buffer once quoted.
func writeRefusalExpected(m *Manifest) bool {
	files := m.LoadOrder()
	files = append(files, m.History...)
	if len(files) == 0 {
		return true
	}
	for i := range files {
		if files[i].Name == "" || len(appendManifestLine(nil, &files[i])) > manifestLineMax {
			return true
		}
	}
	return false
}

// stripLines drops what legitimately changes in a round trip: line numbers.
func stripLines(m *Manifest) Manifest {
	c := Manifest{}
	if m.Base != nil {
		b := *m.Base
		b.Line = 0
		c.Base = &b
	}
	for _, f := range m.History {
		f.Line = 0
		c.History = append(c.History, f)
	}
	for _, f := range m.Incr {
		f.Line = 0
		c.Incr = append(c.Incr, f)
	}
	return c
}
