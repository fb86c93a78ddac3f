package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// This file is the only one that knows how reports look: tables (tablewriter),
// plain text, and the helpers that render bytes and sizes for people.

// section is one titled block of a report: key/value lines, or a table.
type section struct {
	Title  string
	KV     [][2]string // rendered as "name  value" lines
	Header []string    // table columns, when Rows is used
	Rows   [][]string
	Right  []bool // columns aligned right (numbers)
	Empty  string // shown instead of an empty table, e.g. "none"
}

// renderReport writes the sections as bordered tables ("table") or as plain
// aligned columns ("text").
func renderReport(w io.Writer, secs []section, style string) error {
	for i, s := range secs {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		var err error
		if style == "table" {
			err = renderTable(w, s)
		} else {
			err = renderText(w, s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func renderTable(w io.Writer, s section) error {
	if _, err := fmt.Fprintln(w, strings.ToUpper(s.Title)); err != nil {
		return err
	}
	header, rows, right := s.Header, s.Rows, s.Right
	if s.KV != nil {
		header, right = nil, nil
		rows = make([][]string, len(s.KV))
		for i, kv := range s.KV {
			rows[i] = []string{kv[0], kv[1]}
		}
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "  %s\n", s.emptyText())
		return err
	}
	aligns := make([]tw.Align, len(rows[0]))
	for i := range aligns {
		aligns[i] = tw.AlignLeft
		if i < len(right) && right[i] {
			aligns[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{Global: tw.AlignLeft, PerColumn: aligns}),
	)
	if header != nil {
		t.Header(header)
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

func renderText(w io.Writer, s section) error {
	if _, err := fmt.Fprintln(w, s.Title); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	switch {
	case s.KV != nil:
		for _, kv := range s.KV {
			fmt.Fprintf(tw, "  %s\t%s\n", kv[0], kv[1])
		}
	case len(s.Rows) == 0:
		fmt.Fprintf(tw, "  %s\n", s.emptyText())
	default:
		fmt.Fprintf(tw, "  %s\n", strings.Join(s.Header, "\t"))
		for _, r := range s.Rows {
			fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
		}
	}
	return tw.Flush()
}

func (s section) emptyText() string {
	if s.Empty != "" {
		return s.Empty
	}
	return "none"
}

// displayBytes renders a key or value for people: as is when it is printable
// UTF-8 that cannot be mistaken for a quoted string, otherwise Go-quoted, so
// that no control byte ever reaches the terminal. max > 0 shortens long input.
func displayBytes(b []byte, max int) string {
	suffix := ""
	if max > 0 && len(b) > max {
		suffix = "…(" + strconv.Itoa(len(b)) + " bytes)"
		b = b[:max]
		for len(b) > 0 && !utf8.Valid(b) && len(b) > max-3 {
			b = b[:len(b)-1] // do not cut a UTF-8 sequence in half
		}
	}
	if isPlain(b) {
		return string(b) + suffix
	}
	return strconv.Quote(string(b)) + suffix
}

// isPlain reports whether b can be shown unquoted.
func isPlain(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) || b[0] == '"' {
		return false
	}
	first, _ := utf8.DecodeRune(b)
	last, _ := utf8.DecodeLastRune(b)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// jsonBytes marshals bytes as {"utf8": "..."} when they are valid UTF-8 and
// {"base64": "..."} otherwise, so that binary keys survive a JSON round trip.
type jsonBytes []byte

func (b jsonBytes) MarshalJSON() ([]byte, error) {
	if utf8.Valid(b) {
		return json.Marshal(struct {
			UTF8 string `json:"utf8"`
		}{string(b)})
	}
	return json.Marshal(struct {
		Base64 string `json:"base64"`
	}{base64.StdEncoding.EncodeToString(b)})
}

// humanBytes renders a byte count with binary units: 512 B, 1.2 KiB, 3.4 MiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}

// count renders an integer with thousands separators for tables: 1,234,567.
func count[T int | int64 | uint64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	if n < 0 {
		return "-" + count(-n)
	}
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// plural returns "1 key" / "2 keys".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// failure is an error taken apart for reports.
type failure struct {
	Offset *int64 // where in the (decompressed) input, when known
	Key    []byte // the key being read, nil outside a key
	What   string // the message without offset and key
}

// describe takes err apart for a report. Errors of pkg/aof are shown in the
// same shape as those of pkg/rdb.
func describe(err error) failure {
	if text, ok := describeRefusal(err); ok {
		return failure{What: text}
	}
	var pe *rdb.ParseError
	var ape *aof.ParseError
	var me *aof.ManifestError
	var inner error
	switch {
	case errors.As(err, &pe):
		inner = pe
	case errors.As(err, &ape):
		inner = ape
		pe = &rdb.ParseError{Offset: ape.Offset, Op: ape.Op, Err: ape.Err, Detail: ape.Detail}
	case errors.As(err, &me):
		what := err.Error()
		if errors.Is(me.Err, aof.ErrCorrupt) {
			what += "; redis-server refuses to start on this AOF folder"
		}
		return failure{What: what}
	}
	var ts *truncatedStream
	if pe == nil && errors.As(err, &ts) {
		off := ts.offset
		return failure{Offset: &off, What: ts.format + " data ends early: the file is cut short"}
	}
	if pe == nil {
		var ue *rdb.UnsupportedError
		if errors.As(err, &ue) {
			return failure{What: ue.What}
		}
		return failure{What: err.Error()}
	}
	off := pe.Offset
	var parts []string
	// Keep what wrapping added in front ("appendonly.aof.2.incr.aof: ").
	if full, in := err.Error(), inner.Error(); len(full) > len(in) && strings.HasSuffix(full, in) {
		if prefix := strings.TrimSuffix(strings.TrimSuffix(full, in), ": "); prefix != "" {
			parts = append(parts, prefix)
		}
	}
	if pe.Op != "" {
		parts = append(parts, pe.Op)
	}
	var ue *rdb.UnsupportedError
	switch {
	case errors.As(pe.Err, &ue):
		parts = append(parts, ue.What)
	case (pe.Err == rdb.ErrCorrupt || pe.Err == aof.ErrCorrupt) && pe.Detail != "":
		// "INVALID" already says it; the detail says how.
	default:
		parts = append(parts, pe.Err.Error())
	}
	if pe.Detail != "" {
		parts = append(parts, pe.Detail)
	}
	return failure{Offset: &off, Key: pe.Key, What: strings.Join(parts, ": ")}
}

// text renders "at offset N<note> (key "k"): what".
func (f failure) text(note string) string {
	var b strings.Builder
	if f.Offset != nil {
		fmt.Fprintf(&b, "at offset %d%s", *f.Offset, note)
		if f.Key != nil {
			b.WriteString(" (key " + rdb.QuoteBytes(f.Key) + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(f.What)
	return b.String()
}

// statusWord names the class of a failed input: invalid, unsupported or error.
func statusWord(err error) string {
	switch exitCode(err) {
	case exitOK:
		return "ok"
	case exitInvalid:
		return "invalid"
	case exitUnsupported:
		return "unsupported"
	}
	return "error"
}

// failureLine renders "NAME: INVALID at offset N<note> (key "k"): what".
func failureLine(name string, err error, note string) string {
	f := describe(err)
	sep := " "
	if f.Offset == nil {
		sep = ": "
	}
	return name + ": " + strings.ToUpper(statusWord(err)) + sep + f.text(note)
}

// fileError is the failure of one input, for commands that stop at the first
// one; exitCode classifies it by the error it wraps.
type fileError struct {
	line string
	err  error
}

func (e *fileError) Error() string { return e.line }
func (e *fileError) Unwrap() error { return e.err }

// newFileError describes err, read from in (nil when the input did not open).
func newFileError(name string, in *input, err error) error {
	note := ""
	if in != nil {
		note = in.offsetNote()
	}
	return &fileError{line: failureLine(name, err, note), err: err}
}
