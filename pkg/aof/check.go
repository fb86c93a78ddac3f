package aof

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// BaseOffset is the offset of the stream's first byte in its file: the
	// length of the RDB preamble for the RESP tail of a preamble AOF. Every
	// offset in the result includes it.
	BaseOffset int64
	// Lenient applies redis-server's loading rules instead of redis-check-aof's
	// (see ReaderOptions.Strict).
	Lenient bool
	// ToTimestamp, when non-zero, asks where redis-check-aof
	// --truncate-to-timestamp would cut: at the first "#TS:" annotation later
	// than this Unix time.
	ToTimestamp int64
	// Command, when set, judges every command (commands.go): verify uses it
	// to refuse what a server refuses to load.
	Command CommandCheck
}

// CheckResult is what Check found; every offset counts from the start of the
// file. (rdbtool verify's JSON form of it is the command line's own.)
type CheckResult struct {
	OK    bool
	Start int64 // offset of the stream's first byte (CheckOptions.BaseOffset)
	End   int64 // offset after its last byte: the file size when read to the end

	Commands     int64 // complete commands before any problem
	Annotations  int64 // '#' lines before any problem
	Timestamps   int64 // of which "#TS:<unix>" annotations
	Transactions int64 // complete MULTI ... EXEC blocks
	// FirstTimestamp and LastTimestamp are the Unix times of the first and last
	// "#TS:" annotations, 0 when there are none.
	FirstTimestamp int64
	LastTimestamp  int64
	// MultiBalanced is false when a MULTI is left open at the end, nested, or an
	// EXEC has no MULTI.
	MultiBalanced bool

	// LastCommandEnd is the end of the last complete command.
	LastCommandEnd int64
	// RepairOffset is where the stream can be cut so that what remains is
	// valid: End when OK, otherwise where redis-check-aof --fix truncates
	// (its ok_up_to): before an open MULTI, else at the start of the record
	// that failed. One exception: redis-check-aof reads an argument count
	// below one ("*0\r\n") as a command without arguments and cuts later,
	// keeping a record redis-server refuses; RepairOffset cuts before it.
	RepairOffset int64

	// Problem is the first problem, nil when OK.
	Problem *CheckProblem
	// TimestampCut is set when CheckOptions.ToTimestamp is and an annotation
	// later than it exists before any problem.
	TimestampCut *TimestampCut
}

// CheckProblem describes the first problem in a stream.
type CheckProblem struct {
	Offset int64  // where the offending item starts
	Record int64  // start of the record it belongs to
	Kind   string // "truncated", "corrupt", "too-large" or "io"
	Op     string // what was being read
	Detail string // what was expected and found
	// TornTail is true when the input ends inside a command or inside an open
	// MULTI: what a crash during a write leaves. redis-server cuts it off at
	// ServerTruncateOffset (aof-load-truncated yes, the last file only);
	// redis-check-aof --fix at the result's RepairOffset. Any other problem
	// makes redis-server refuse the file.
	TornTail             bool
	ServerTruncateOffset int64
	// MultiStart is the offset of the MULTI still open at the problem, -1 if none.
	MultiStart int64
	// LostBytes is how many bytes cutting at RepairOffset removes, and
	// LostCommands how many complete commands among them before the problem
	// (those of the open transaction).
	LostBytes    int64
	LostCommands int64
	// CommandsAfter is how many well-formed commands follow the problem,
	// found by resynchronizing at the next line that starts one: what a cut
	// at RepairOffset loses besides LostCommands. A flipped byte in the middle
	// of a file makes this most of the file; a torn tail makes it 0.
	CommandsAfter int64

	Err error // the *ParseError, for errors.Is
}

// TimestampCut locates the first "#TS:" annotation later than
// CheckOptions.ToTimestamp, where redis-check-aof --truncate-to-timestamp cuts.
type TimestampCut struct {
	ToTimestamp int64
	Offset      int64 // the annotation's '#': the file is cut here
	Timestamp   int64 // its time
	// CommandsBefore is the number of complete commands kept by the cut; 0
	// makes redis-check-aof refuse ("has nothing before timestamp") when the
	// cut is at the file's start.
	CommandsBefore int64
	// InsideMulti is set when the cut falls inside a transaction, which the
	// cut leaves open (redis-server then also drops the transaction's start).
	InsideMulti bool
	LostBytes   int64
}

// Check walks one RESP stream (a single-file AOF, a RESP base or an incr file,
// or the tail after an RDB preamble) with redis-check-aof's rules and reports
// what it found. Arguments are skipped, never held, so any argument size is
// fine and memory stays small; after a problem the rest of the input is read
// only to measure it.
//
// The result is never nil. The error is nil when the stream is valid,
// otherwise the *ParseError of the problem (wrapping ErrCorrupt or
// ErrTruncated), an I/O error of r, or a *ParseError wrapping ErrRDBPreamble
// when the input starts with an RDB, which Check does not read: check the RDB,
// then call Check on what follows it with BaseOffset set.
func Check(r io.Reader, opts CheckOptions) (*CheckResult, error) {
	rd := NewReader(r, ReaderOptions{BaseOffset: opts.BaseOffset, Strict: !opts.Lenient})
	return check(rd, opts)
}

// CheckBytes is Check on an input held in memory, such as a memory-mapped
// file: the fastest way to check a local file.
func CheckBytes(data []byte, opts CheckOptions) (*CheckResult, error) {
	rd := NewReaderBytes(data, ReaderOptions{BaseOffset: opts.BaseOffset, Strict: !opts.Lenient})
	return check(rd, opts)
}

func check(rd *Reader, opts CheckOptions) (*CheckResult, error) {
	rd.noLimit = true
	res := &CheckResult{Start: opts.BaseOffset}
	var err error
	for {
		var rec *Record
		rec, err = rd.Next()
		if err != nil {
			break
		}
		if rec.Kind == KindCommand && opts.Command != nil {
			if err = checkCommand(rd, rec, opts.Command); err != nil {
				break
			}
		}
		if rec.Kind != KindAnnotation || !rec.HasTimestamp {
			continue
		}
		res.Timestamps++
		if res.FirstTimestamp == 0 {
			res.FirstTimestamp = rec.Timestamp
		}
		res.LastTimestamp = rec.Timestamp
		if opts.ToTimestamp != 0 && res.TimestampCut == nil && rec.Timestamp > opts.ToTimestamp {
			st := rd.Stats()
			res.TimestampCut = &TimestampCut{ToTimestamp: opts.ToTimestamp, Offset: rec.Offset, Timestamp: rec.Timestamp,
				CommandsBefore: st.Commands, InsideMulti: st.MultiDepth > 0}
		}
	}
	st := rd.Stats()
	res.Commands, res.Annotations, res.Transactions = st.Commands, st.Annotations, st.Transactions
	res.LastCommandEnd = st.GoodEnd
	res.MultiBalanced = st.MultiDepth == 0
	res.End = rd.Offset()
	if err == io.EOF {
		res.OK = true
		res.RepairOffset = res.End
		if c := res.TimestampCut; c != nil {
			c.LostBytes = res.End - c.Offset
		}
		return res, nil
	}
	var pe *ParseError
	if !errors.As(err, &pe) || errors.Is(err, ErrRDBPreamble) {
		res.RepairOffset = res.Start
		return res, err
	}
	p := &CheckProblem{Offset: pe.Offset, Record: pe.Record, Op: pe.Op, Detail: pe.Detail,
		MultiStart: pe.MultiStart, Err: err}
	switch {
	case errors.Is(err, ErrTruncated):
		p.Kind, p.TornTail, p.ServerTruncateOffset = "truncated", true, pe.GoodEnd
	case errors.Is(err, ErrCorrupt):
		p.Kind = "corrupt"
	case errors.Is(err, ErrArgTooLarge):
		p.Kind = "too-large"
	default:
		p.Kind = "io"
	}
	if pe.Op == "MULTI" || pe.Op == "EXEC" {
		res.MultiBalanced = false
	}
	res.RepairOffset = pe.RepairOffset()
	if pe.MultiStart >= 0 {
		p.LostCommands = rd.multiCmds
	}
	if p.Kind != "io" {
		n, cmds, ioErr := countAfter(rd.src.Rest())
		res.End += n
		p.CommandsAfter = cmds
		if ioErr != nil {
			p.Detail += " (and reading the rest failed: " + ioErr.Error() + ")"
		}
	}
	p.LostBytes = res.End - res.RepairOffset
	res.Problem = p
	if c := res.TimestampCut; c != nil {
		c.LostBytes = res.End - c.Offset
	}
	return res, err
}

// countAfter reads what follows a problem to the end and counts the
// well-formed commands in it: it tries a command where it stands, and after
// anything that does not parse it moves to the next line starting with '*'.
// Arguments are skipped, never held. It returns the bytes read, the commands
// found, and an I/O error of r if there was one.
func countAfter(r io.Reader) (n, commands int64, err error) {
	cr := &countingByteReader{r: bufio.NewReaderSize(r, 64<<10)}
	for {
		ok, err := skipCommand(cr)
		if err != nil {
			return cr.n, commands, ignoreEOF(err)
		}
		if ok {
			commands++
			continue
		}
		// Not a command here: move to the next line that starts one.
		for {
			b, err := cr.ReadByte()
			if err != nil {
				return cr.n, commands, ignoreEOF(err)
			}
			if b != '\n' {
				continue
			}
			next, err := cr.r.Peek(1)
			if err != nil {
				return cr.n, commands, ignoreEOF(err)
			}
			if next[0] == '*' || next[0] == '#' {
				break
			}
		}
		// Skip annotations between commands.
		for {
			next, err := cr.r.Peek(1)
			if err != nil {
				return cr.n, commands, ignoreEOF(err)
			}
			if next[0] != '#' {
				break
			}
			if err := skipLine(cr); err != nil {
				return cr.n, commands, ignoreEOF(err)
			}
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

// countingByteReader counts the bytes consumed from its bufio.Reader.
type countingByteReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingByteReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

func (c *countingByteReader) discard(k int64) error {
	for k > 0 {
		step := int(min(k, 1<<30))
		d, err := c.r.Discard(step)
		c.n += int64(d)
		k -= int64(d)
		if err != nil {
			return err
		}
	}
	return nil
}

// skipCommand consumes one command in redis-check-aof's syntax ("*N" CRLF,
// then N times "$len" CRLF payload CRLF) and reports whether it was one. On
// false, what it consumed is not a command and the caller resynchronizes.
func skipCommand(c *countingByteReader) (bool, error) {
	argc, ok, err := readCountLine(c, '*')
	if !ok || err != nil || argc < 1 {
		return false, err
	}
	for range argc {
		size, ok, err := readCountLine(c, '$')
		if !ok || err != nil {
			return false, err
		}
		if err := c.discard(size); err != nil {
			return false, err
		}
		for _, want := range []byte("\r\n") {
			b, err := c.ReadByte()
			if err != nil || b != want {
				return false, err
			}
		}
	}
	return true, nil
}

// readCountLine reads "<prefix><decimal>\r\n"; ok is false when the bytes
// read are not such a line (they are consumed all the same).
func readCountLine(c *countingByteReader, prefix byte) (v int64, ok bool, err error) {
	b, err := c.ReadByte()
	if err != nil || b != prefix {
		return 0, false, err
	}
	digits := 0
	for {
		b, err = c.ReadByte()
		if err != nil {
			return 0, false, err
		}
		if b < '0' || b > '9' {
			break
		}
		if digits++; digits > 18 {
			return 0, false, nil
		}
		v = v*10 + int64(b-'0')
	}
	if digits == 0 || b != '\r' {
		return 0, false, nil
	}
	if b, err = c.ReadByte(); err != nil || b != '\n' {
		return 0, false, err
	}
	return v, true, nil
}

// skipLine consumes through the next LF.
func skipLine(c *countingByteReader) error {
	for {
		b, err := c.ReadByte()
		if err != nil {
			return err
		}
		if b == '\n' {
			return nil
		}
	}
}

// String renders the result in one line for a person.
func (c *CheckResult) String() string {
	var b strings.Builder
	counts := strconv.FormatInt(c.Commands, 10) + " commands, " + strconv.FormatInt(c.Annotations, 10) + " annotations, " +
		strconv.FormatInt(c.Transactions, 10) + " transactions, " + strconv.FormatInt(c.End-c.Start, 10) + " bytes"
	if c.OK {
		b.WriteString("ok: " + counts)
	} else if p := c.Problem; p != nil {
		if p.TornTail {
			b.WriteString("torn tail")
		} else {
			b.WriteString(p.Kind)
		}
		b.WriteString(" at offset " + strconv.FormatInt(p.Offset, 10) + ": ")
		if p.Op != "" {
			b.WriteString(p.Op + ": ")
		}
		b.WriteString(p.Detail + "; " + counts + " before it; repair: truncate to " + strconv.FormatInt(c.RepairOffset, 10) +
			" (drops " + strconv.FormatInt(p.LostBytes, 10) + " bytes, " + strconv.FormatInt(p.LostCommands, 10) + " complete commands)")
	} else {
		b.WriteString("not checked: " + counts)
	}
	if t := c.TimestampCut; t != nil {
		b.WriteString("; first #TS after " + strconv.FormatInt(t.ToTimestamp, 10) + " at offset " + strconv.FormatInt(t.Offset, 10) +
			" (" + strconv.FormatInt(t.CommandsBefore, 10) + " commands before it)")
	}
	return b.String()
}
