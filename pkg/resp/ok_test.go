package resp

import (
	"bufio"
	"strings"
	"testing"
)

// TestReceiveOK: +OK is taken whole from the buffer; anything else, or a
// reply not yet buffered, is left to Receive, which reads it as usual.
func TestReceiveOK(t *testing.T) {
	replies := "+OK\r\n-BUSYKEY Target key name already exists.\r\n+OK\r\n:1\r\n+OK\r\n+O"
	br := bufio.NewReader(strings.NewReader(replies))
	c := &Conn{br: br, rd: NewReader(br, ReaderOptions{})}
	var got []string
	for range 6 {
		if c.ReceiveOK() {
			got = append(got, "ok")
			continue
		}
		r, err := c.Receive()
		if err != nil {
			got = append(got, "error: "+err.Error())
			break
		}
		got = append(got, r.String())
	}
	// The first +OK is read by Receive: nothing was buffered before it.
	want := []string{`+"OK"`, `-"BUSYKEY Target key name already exists."`, "ok", ":1", "ok", "error: unexpected EOF"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
