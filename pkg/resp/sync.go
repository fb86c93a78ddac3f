package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Transfer is the RDB payload of a full synchronization, read as it arrives.
type Transfer struct {
	// Size is the payload's length for a disk-based transfer, -1 for a
	// diskless one (which ends with its EOF mark instead).
	Size int64
	// ReplID and Offset are what +FULLRESYNC announced; empty after SYNC.
	ReplID string
	Offset int64
	// Command is the command that started it: "PSYNC" or "SYNC".
	Command string

	r    io.Reader
	c    *Conn
	idle time.Duration
}

// Diskless reports whether the master streams the RDB without a file, ending
// it with an EOF mark instead of announcing its length.
func (t *Transfer) Diskless() bool { return t.Size < 0 }

// Read reads the RDB bytes. It returns io.EOF after the last byte (and, for
// a diskless transfer, after the EOF mark, which is not part of the data),
// and io.ErrUnexpectedEOF when the connection ends before.
func (t *Transfer) Read(p []byte) (int, error) {
	if t.idle > 0 {
		t.c.nc.SetReadDeadline(time.Now().Add(t.idle))
	}
	return t.r.Read(p)
}

// SyncOptions tune FullSync.
type SyncOptions struct {
	// Idle is how long the master may stay silent, while it forks or sends,
	// before the transfer fails; 0 means 5 minutes. Masters send a newline
	// every second while they prepare the snapshot.
	Idle time.Duration
}

// SyncError is a master's refusal of the synchronization.
type SyncError struct {
	Command string // the command refused: "REPLCONF", "PSYNC", "SYNC"
	Err     error
}

func (e *SyncError) Error() string { return e.Command + " refused: " + e.Err.Error() }
func (e *SyncError) Unwrap() error { return e.Err }

// FullSync asks the server for a full synchronization as a replica does and
// returns the RDB stream once the master has begun to send it. The
// connection serves nothing else afterwards: close it when the transfer has
// been read (the master then drops this replica).
func (c *Conn) FullSync(o SyncOptions) (*Transfer, error) {
	if o.Idle <= 0 {
		o.Idle = 5 * time.Minute
	}
	c.SetTimeout(o.Idle)
	defer c.SetTimeout(0)
	// Announce that we read the diskless format (capa eof) and PSYNC2, so
	// that a master with repl-diskless-sync streams to us directly. rdb-only
	// (Redis 7.0+) tells the master that no command stream is wanted after
	// the snapshot; older servers refuse it, which changes nothing for us.
	if _, err := c.Do("REPLCONF", "capa", "eof", "capa", "psync2"); err != nil {
		var re *Error
		if errors.As(err, &re) && re.Code() == "NOAUTH" {
			return nil, &SyncError{Command: "REPLCONF", Err: err}
		}
		if !errors.As(err, &re) {
			return nil, err
		}
	}
	c.Do("REPLCONF", "rdb-only", "1")
	t := &Transfer{c: c, idle: o.Idle, Command: "PSYNC", Offset: -1}
	c.nc.SetDeadline(time.Now().Add(o.Idle))
	if err := c.Send(AppendCommand(nil, "PSYNC", "?", "-1")); err != nil {
		return nil, err
	}
	if err := c.Flush(); err != nil {
		return nil, err
	}
	line, err := c.syncLine()
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(line, []byte("+FULLRESYNC")):
		f := strings.Fields(string(line[1:]))
		if len(f) == 3 {
			t.ReplID = f[1]
			t.Offset, _ = strconv.ParseInt(f[2], 10, 64)
		}
		if line, err = c.syncLine(); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(line, []byte("-")):
		// Servers before 2.8 have no PSYNC: SYNC answers with the payload.
		msg := string(line[1:])
		if !strings.Contains(strings.ToLower(msg), "unknown command") {
			return nil, &SyncError{Command: "PSYNC", Err: &Error{Msg: msg}}
		}
		t.Command = "SYNC"
		if err := c.Send(AppendCommand(nil, "SYNC")); err != nil {
			return nil, err
		}
		if err := c.Flush(); err != nil {
			return nil, err
		}
		if line, err = c.syncLine(); err != nil {
			return nil, err
		}
	default:
		return nil, &ProtocolError{Msg: "unexpected answer to PSYNC: " + strconv.Quote(string(line))}
	}
	if len(line) > 0 && line[0] == '-' {
		return nil, &SyncError{Command: t.Command, Err: &Error{Msg: string(line[1:])}}
	}
	if len(line) == 0 || line[0] != '$' {
		return nil, &ProtocolError{Msg: "expected the payload header ($<length> or $EOF:<mark>), got " + strconv.Quote(string(line))}
	}
	c.nc.SetDeadline(time.Time{})
	if mark, ok := bytes.CutPrefix(line[1:], []byte("EOF:")); ok {
		if len(mark) != eofMarkLen {
			return nil, &ProtocolError{Msg: fmt.Sprintf("EOF mark of %d bytes, want %d", len(mark), eofMarkLen)}
		}
		t.Size = -1
		t.r = newMarkReader(c.br, mark)
		return t, nil
	}
	n, err := strconv.ParseInt(string(line[1:]), 10, 64)
	if err != nil || n < 0 {
		return nil, &ProtocolError{Msg: "bad payload length " + strconv.Quote(string(line[1:]))}
	}
	t.Size = n
	t.r = &exactReader{r: c.br, left: n}
	return t, nil
}

// syncLine reads the next line that is not a keep-alive newline.
func (c *Conn) syncLine() ([]byte, error) {
	for {
		b, err := c.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%s closed the connection before the transfer began: %w", c.addr, io.ErrUnexpectedEOF)
			}
			if err == bufio.ErrBufferFull {
				return nil, &ProtocolError{Msg: "line too long before the payload"}
			}
			return nil, err
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) > 0 {
			return append([]byte(nil), b...), nil
		}
	}
}

const eofMarkLen = 40 // RDB_EOF_MARK_SIZE

// exactReader reads exactly left bytes; an early end is io.ErrUnexpectedEOF.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && e.left == 0 {
		err = io.EOF
	}
	return n, err
}

// markReader passes bytes through until the stream ends with mark, holding
// back the last len(mark) bytes until it knows they are not the mark.
type markReader struct {
	r    io.Reader
	mark []byte
	buf  []byte // undelivered bytes: the last len(mark) are held back
	off  int    // start of undelivered bytes in buf
	done bool   // the mark was seen at the end of buf
	err  error
}

func newMarkReader(r io.Reader, mark []byte) *markReader {
	return &markReader{r: r, mark: append([]byte(nil), mark...), buf: make([]byte, 0, 64<<10)}
}

func (m *markReader) deliverable() int {
	n := len(m.buf) - m.off
	if !m.done {
		n -= len(m.mark)
	}
	return max(n, 0)
}

func (m *markReader) Read(p []byte) (int, error) {
	for m.deliverable() == 0 {
		if m.done {
			return 0, io.EOF
		}
		if m.err != nil {
			return 0, m.err
		}
		// Keep the held-back tail at the front, then read after it.
		if m.off > 0 {
			m.buf = m.buf[:copy(m.buf, m.buf[m.off:])]
			m.off = 0
		}
		if len(m.buf) == cap(m.buf) {
			m.buf = append(m.buf, 0)[:len(m.buf)]
		}
		n, err := m.r.Read(m.buf[len(m.buf):cap(m.buf)])
		m.buf = m.buf[:len(m.buf)+n]
		if len(m.buf) >= len(m.mark) && bytes.Equal(m.buf[len(m.buf)-len(m.mark):], m.mark) {
			m.done = true
			m.buf = m.buf[:len(m.buf)-len(m.mark)]
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("the transfer ended without its EOF mark: %w", io.ErrUnexpectedEOF)
			}
			m.err = err
		}
	}
	n := copy(p, m.buf[m.off:m.off+m.deliverable()])
	m.off += n
	return n, nil
}
