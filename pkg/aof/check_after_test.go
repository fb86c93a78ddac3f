package aof_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/aof"
)

// TestCheckCountsCommandsAfterDamage: what a cut at the repair offset costs is
// counted truly. Issue 9 item 4: one flipped byte in the middle of an AOF was
// reported as "0 complete commands lost" while the cut removed most of it.
func TestCheckCountsCommandsAfterDamage(t *testing.T) {
	var b bytes.Buffer
	w := aof.NewWriter(&b)
	for i := range 100 {
		if err := w.WriteCommand([]byte("SET"), []byte("key"), []byte(strings.Repeat("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	good := b.Bytes()
	cases := []struct {
		name      string
		data      []byte
		wantAfter int64
		torn      bool
	}{
		{"torn tail", good[:len(good)-5], 0, true},
		{"flipped length in command 40", flip(good, commandOffset(good, 40)+len("*3\r\n$"), '9'), 59, false},
		{"flipped star of command 10", flip(good, commandOffset(good, 10), '+'), 89, false},
		{"LF after the count of command 0", splice(good, commandOffset(good, 0)+2, 2, "\n"), 99, false},
		{"annotation and garbage after command 50", splice(good, commandOffset(good, 50), 0, "#TS:1\r\ngarbage\r\n"), 50, false},
	}
	for _, c := range cases {
		res, err := aof.Check(bytes.NewReader(c.data), aof.CheckOptions{})
		if err == nil || res.Problem == nil {
			t.Fatalf("%s: no problem found", c.name)
		}
		if res.Problem.TornTail != c.torn {
			t.Errorf("%s: torn tail %v, want %v", c.name, res.Problem.TornTail, c.torn)
		}
		if res.Problem.CommandsAfter != c.wantAfter {
			t.Errorf("%s: %d commands after the problem, want %d (%v)", c.name, res.Problem.CommandsAfter, c.wantAfter, err)
		}
		if res.End != int64(len(c.data)) {
			t.Errorf("%s: end %d, want the input's %d bytes", c.name, res.End, len(c.data))
		}
		if res.Problem.LostBytes != res.End-res.RepairOffset {
			t.Errorf("%s: lost bytes %d, want %d", c.name, res.Problem.LostBytes, res.End-res.RepairOffset)
		}
	}
}

// commandOffset is where command i of a file written by Writer starts.
func commandOffset(data []byte, i int) int {
	off := 0
	for range i {
		next := bytes.Index(data[off+1:], []byte("\r\n*3\r\n"))
		off += 1 + next + 2
	}
	return off
}

func flip(data []byte, at int, b byte) []byte {
	out := bytes.Clone(data)
	out[at] = b
	return out
}

func splice(data []byte, at, drop int, insert string) []byte {
	out := append([]byte(nil), data[:at]...)
	out = append(out, insert...)
	return append(out, data[at+drop:]...)
}
