package resp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func TestMarkReader(t *testing.T) {
	mark := strings.Repeat("0123456789", 4)
	data := bytes.Repeat([]byte("rdb-bytes-"), 10000)
	for _, shape := range []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{{"whole", func(r io.Reader) io.Reader { return r }}, {"onebyte", iotest.OneByteReader}, {"half", iotest.HalfReader}} {
		src := shape.wrap(strings.NewReader(string(data) + mark))
		got, err := io.ReadAll(newMarkReader(src, []byte(mark)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, %v", shape.name, len(got), err)
		}
		// Cut before the mark ends: truncated.
		cut := shape.wrap(strings.NewReader(string(data) + mark[:39]))
		_, err = io.ReadAll(newMarkReader(cut, []byte(mark)))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s, cut: %v", shape.name, err)
		}
	}
	// An empty payload is just the mark.
	got, err := io.ReadAll(newMarkReader(strings.NewReader(mark), []byte(mark)))
	if err != nil || len(got) != 0 {
		t.Errorf("empty: %q, %v", got, err)
	}
}

func TestExactReader(t *testing.T) {
	got, err := io.ReadAll(&exactReader{r: iotest.OneByteReader(strings.NewReader("abcdef")), left: 4})
	if err != nil || string(got) != "abcd" {
		t.Errorf("%q, %v", got, err)
	}
	_, err = io.ReadAll(&exactReader{r: strings.NewReader("ab"), left: 4})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short: %v", err)
	}
}

// fakeMaster answers a replica's handshake with the given script.
func fakeMaster(t *testing.T, answer func(w *bufio.Writer, line string) bool) *Conn {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		br := bufio.NewReader(server)
		bw := bufio.NewWriter(server)
		rd := NewReader(br, ReaderOptions{})
		for {
			cmd, err := rd.Read()
			if err != nil {
				return
			}
			var parts []string
			for _, e := range cmd.Elems {
				parts = append(parts, string(e.Str))
			}
			if !answer(bw, strings.Join(parts, " ")) {
				bw.Flush()
				return
			}
			bw.Flush()
		}
	}()
	c := newConn(client, "fake:1", ReaderOptions{})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFullSyncDisk(t *testing.T) {
	c := fakeMaster(t, func(w *bufio.Writer, line string) bool {
		switch {
		case strings.HasPrefix(line, "REPLCONF"):
			w.WriteString("+OK\r\n")
		case line == "PSYNC ? -1":
			w.WriteString("+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 42\r\n\n\n$5\r\nREDIS")
			return false
		}
		return true
	})
	tr, err := c.FullSync(SyncOptions{Idle: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil || string(b) != "REDIS" || tr.Size != 5 || tr.Offset != 42 || tr.Diskless() {
		t.Fatalf("%q %v %+v", b, err, tr)
	}
}

func TestFullSyncDisklessAndSYNC(t *testing.T) {
	mark := strings.Repeat("ab", 20)
	c := fakeMaster(t, func(w *bufio.Writer, line string) bool {
		switch {
		case strings.HasPrefix(line, "REPLCONF"):
			w.WriteString("-ERR unknown subcommand\r\n")
		case line == "PSYNC ? -1":
			w.WriteString("-ERR unknown command 'PSYNC'\r\n")
		case line == "SYNC":
			w.WriteString("\n$EOF:" + mark + "\r\nREDIS0009" + mark)
			return false
		}
		return true
	})
	tr, err := c.FullSync(SyncOptions{Idle: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(tr)
	if err != nil || string(b) != "REDIS0009" || !tr.Diskless() || tr.Command != "SYNC" {
		t.Fatalf("%q %v %+v", b, err, tr)
	}
}

func TestFullSyncRefused(t *testing.T) {
	c := fakeMaster(t, func(w *bufio.Writer, line string) bool {
		switch {
		case strings.HasPrefix(line, "REPLCONF"):
			w.WriteString("-NOPERM this user has no permissions to run the 'replconf' command\r\n")
		case line == "PSYNC ? -1":
			w.WriteString("-NOPERM this user has no permissions to run the 'psync' command\r\n")
		}
		return true
	})
	_, err := c.FullSync(SyncOptions{Idle: 5 * time.Second})
	var se *SyncError
	if !errors.As(err, &se) || se.Command != "PSYNC" || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("%v", err)
	}
}
