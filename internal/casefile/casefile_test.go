package casefile

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const file = `# a comment before the cases
case first strict base=3
// input
00 01
----
out 1
====

case second
----
====
`
	cases, err := Parse("f.txt", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []Case{
		{Name: "first", Options: []string{"strict", "base=3"}, Line: 2,
			Input: []Line{{3, "// input"}, {4, "00 01"}},
			Head:  "case first strict base=3\n// input\n00 01\n----\n", Want: "out 1\n"},
		{Name: "second", Options: []string{}, Line: 9, Head: "case second\n----\n"},
	}
	if !reflect.DeepEqual(cases, want) {
		t.Fatalf("got %+v\nwant %+v", cases, want)
	}
}

func TestParseErrors(t *testing.T) {
	for file, want := range map[string]string{
		"case a\n00\n":                 "case a not terminated by ====",
		"----\n":                       "f.txt:1: ---- outside a case",
		"case a\ncase b\n----\n====\n": "f.txt:2: case a has no ----",
		"case a\n----\nout\n":          "case a not terminated by ====",
	} {
		_, err := Parse("f.txt", strings.NewReader(file))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", file, err, want)
		}
	}
}
