package canon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// Sort puts lines in the format's order (bytewise).
func Sort(lines []string) { slices.Sort(lines) }

// Read returns the lines of r without their newlines. A final empty line (the
// file's trailing newline) is not a line.
func Read(r io.Reader) ([]string, error) {
	var lines []string
	br := bufio.NewReader(r)
	for {
		s, err := br.ReadString('\n')
		if s != "" {
			lines = append(lines, strings.TrimSuffix(s, "\n"))
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// ReadFile returns the lines of the file at path.
func ReadFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Write writes each line followed by a newline.
func Write(w io.Writer, lines []string) error {
	bw := bufio.NewWriter(w)
	for _, l := range lines {
		bw.WriteString(l)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteFile writes lines to the file at path, replacing it.
func WriteFile(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Write(f, lines); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxDiffs bounds how many differing keys Diff describes.
const maxDiffs = 10

// Diff compares two sets of lines by the key each describes (db and key, or the
// functions line) and returns "" when they are equal, else a readable report:
// a summary, then up to ten keys that differ, are missing from got, or are
// unexpected in got, each with the two lines cut around the first differing
// byte.
func Diff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	wm, wdup := index(want)
	gm, gdup := index(got)
	ids := make([]string, 0, len(wm)+len(gm))
	for id := range wm {
		ids = append(ids, id)
	}
	for id := range gm {
		if _, ok := wm[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)

	var differ, missing, extra int
	var details []string
	for _, id := range ids {
		w, inW := wm[id]
		g, inG := gm[id]
		var d string
		switch {
		case !inG:
			missing++
			d = fmt.Sprintf("%s: missing\n  want: %s", id, clip(w, 0))
		case !inW:
			extra++
			d = fmt.Sprintf("%s: unexpected\n  got:  %s", id, clip(g, 0))
		case w != g:
			differ++
			at := firstDiff(w, g)
			d = fmt.Sprintf("%s: differs at offset %d\n  want: %s\n  got:  %s", id, at, clip(w, at), clip(g, at))
		default:
			continue
		}
		if len(details) < maxDiffs {
			details = append(details, d)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "lines by key: %d differ, %d missing, %d unexpected (want %d lines, got %d)",
		differ, missing, extra, len(want), len(got))
	if wdup+gdup > 0 {
		fmt.Fprintf(&b, "; duplicate keys: %d in want, %d in got", wdup, gdup)
	}
	if differ+missing+extra == 0 && wdup+gdup == 0 {
		b.WriteString("; the same lines in a different order (unsorted input?)")
	}
	for _, d := range details {
		b.WriteString("\n")
		b.WriteString(d)
	}
	if n := differ + missing + extra; n > len(details) {
		fmt.Fprintf(&b, "\n... and %d more", n-len(details))
	}
	return b.String()
}

// index maps each line's identity to the line and counts repeated identities.
func index(lines []string) (map[string]string, int) {
	m := make(map[string]string, len(lines))
	dup := 0
	for _, l := range lines {
		id := identity(l)
		if _, ok := m[id]; ok {
			dup++
			continue
		}
		m[id] = l
	}
	return m, dup
}

// identity names the key a line describes: `db 0 key "s:k"`, `functions`, or
// the line itself when it is not a canonical line.
func identity(line string) string {
	var head struct {
		DB        *int            `json:"db"`
		Key       *string         `json:"key"`
		Functions json.RawMessage `json:"functions"`
	}
	if err := json.Unmarshal([]byte(line), &head); err != nil {
		return "line " + clip(line, 0)
	}
	switch {
	case head.DB != nil && head.Key != nil:
		return fmt.Sprintf("db %d key %q", *head.DB, *head.Key)
	case head.Functions != nil:
		return "functions"
	}
	return "line " + clip(line, 0)
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// clip cuts s to a window of about 160 bytes around byte at.
func clip(s string, at int) string {
	const before, after = 60, 100
	lo, hi := max(at-before, 0), min(at+after, len(s))
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	out := s[lo:hi]
	if lo > 0 {
		out = "..." + out
	}
	if hi < len(s) {
		out += fmt.Sprintf("... (%d bytes)", len(s))
	}
	return out
}
