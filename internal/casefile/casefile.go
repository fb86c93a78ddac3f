// Package casefile reads the data-driven test files of pkg/rdb and pkg/aof
// (testdata/reader/*.txt, in the manner of pebble's datadriven package):
//
//	case NAME [OPTION...]
//	input, one or more lines in the package's own notation
//	----
//	the expected output, up to a line
//	====
//
// Lines outside a case are comments. The framing is shared; what the input
// lines and options mean is each package's business.
package casefile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// Case is one case of a file.
type Case struct {
	Name    string
	Options []string // the words after the name
	Line    int      // the line number of "case"
	Input   []Line   // the lines between "case" and "----"
	Head    string   // the case's text from "case" through "----", newline-terminated, for rewriting a file
	Want    string   // the lines between "----" and "====", each newline-terminated
}

// Line is an input line and its number in the file.
type Line struct {
	N    int
	Text string
}

// ParseFile reads the cases of the file at path.
func ParseFile(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Load reads the cases of the file at path for a test, which it fails when
// the file cannot be read or is malformed.
func Load(t testing.TB, path string) []Case {
	t.Helper()
	cases, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// Parse reads the cases of r; name prefixes its errors.
func Parse(name string, r io.Reader) ([]Case, error) {
	var cases []Case
	var cur *Case
	var head, want strings.Builder
	inWant := false
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case inWant && line == "====":
			cur.Want = want.String()
			cases = append(cases, *cur)
			cur, inWant = nil, false
			want.Reset()
		case inWant:
			want.WriteString(line + "\n")
		case strings.HasPrefix(line, "case "):
			fields := strings.Fields(line)
			if cur != nil {
				return nil, fmt.Errorf("%s:%d: case %s has no ----", name, n, cur.Name)
			}
			cur = &Case{Name: fields[1], Options: fields[2:], Line: n}
			head.Reset()
			head.WriteString(line + "\n")
		case line == "----":
			if cur == nil {
				return nil, fmt.Errorf("%s:%d: ---- outside a case", name, n)
			}
			head.WriteString(line + "\n")
			cur.Head = head.String()
			inWant = true
		case cur != nil:
			head.WriteString(line + "\n")
			cur.Input = append(cur.Input, Line{N: n, Text: line})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: case %s not terminated by ====", name, cur.Name)
	}
	return cases, nil
}
