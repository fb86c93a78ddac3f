package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"time"
)

// Reply is a RESP2 reply: SimpleString, Error, Int, Bulk or Array.
type Reply interface {
	isReply()
}

// SimpleString is a "+..." reply.
type SimpleString string

// Error is a "-..." reply. It is also an error: Do returns it as its error.
type Error string

func (e Error) Error() string { return string(e) }

// Int is a ":..." reply.
type Int int64

// Bulk is a "$..." reply; nil is the null bulk string ("$-1").
type Bulk []byte

// Array is a "*..." reply; nil is the null array ("*-1").
type Array []Reply

func (SimpleString) isReply() {}
func (Error) isReply()        {}
func (Int) isReply()          {}
func (Bulk) isReply()         {}
func (Array) isReply()        {}

// Limits on what the client accepts from a server.
const (
	maxBulk  = 512 << 20 // proto-max-bulk-len's default
	maxArray = 1 << 27
	maxLine  = 64 << 10
)

// Client is a RESP2 connection to one server.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	// Timeout bounds each Do (write and read); 0 means none. Dial sets 2 minutes.
	Timeout time.Duration
}

// Dial connects to addr ("127.0.0.1:port").
func Dial(addr string) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:    conn,
		r:       bufio.NewReaderSize(conn, 64<<10),
		w:       bufio.NewWriterSize(conn, 64<<10),
		Timeout: 2 * time.Minute,
	}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Do sends one command and reads its reply. Arguments may be string, []byte,
// any integer type, float64 (shortest round-trip text, "inf", "-inf") or bool
// ("1"/"0"). A server error reply is returned both as the Reply and as the
// error (of type Error); other errors are I/O or protocol failures, after which
// the connection is unusable.
func (c *Client) Do(args ...any) (Reply, error) {
	if len(args) == 0 {
		return nil, errors.New("redistest: Do without a command")
	}
	if c.Timeout > 0 {
		c.conn.SetDeadline(time.Now().Add(c.Timeout))
		defer c.conn.SetDeadline(time.Time{})
	}
	if err := c.write(args); err != nil {
		return nil, err
	}
	r, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("redistest: reading reply to %s: %w", cmdName(args), err)
	}
	if e, ok := r.(Error); ok {
		return r, e
	}
	return r, nil
}

func cmdName(args []any) string {
	switch v := args[0].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return "?"
}

// Pipeline sends cmds at once and reads their replies, in order: one round
// trip for all of them, where Do costs one each. An error reply is returned
// as an Error among the replies, so that one failing command hides none of
// the others; the error is for I/O and protocol failures (the connection is
// then unusable) and for a bad argument (then nothing was sent). Keep batches
// to a few thousand commands: the server holds every reply until it is read.
func (c *Client) Pipeline(cmds [][]any) ([]Reply, error) {
	if c.Timeout > 0 {
		c.conn.SetDeadline(time.Now().Add(c.Timeout))
		defer c.conn.SetDeadline(time.Time{})
	}
	all := make([][][]byte, len(cmds))
	for i, args := range cmds {
		if len(args) == 0 {
			return nil, fmt.Errorf("redistest: pipelined command %d is empty", i)
		}
		bufs, err := commandBytes(args)
		if err != nil {
			return nil, err
		}
		all[i] = bufs
	}
	for _, bufs := range all {
		c.buffer(bufs)
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	replies := make([]Reply, len(cmds))
	for i := range cmds {
		r, err := c.read()
		if err != nil {
			return nil, fmt.Errorf("redistest: reading reply to %s (pipelined, %d of %d): %w", cmdName(cmds[i]), i+1, len(cmds), err)
		}
		replies[i] = r
	}
	return replies, nil
}

// commandBytes converts a command's arguments.
func commandBytes(args []any) ([][]byte, error) {
	bufs := make([][]byte, len(args))
	for i, a := range args {
		b, err := argBytes(a)
		if err != nil {
			return nil, fmt.Errorf("redistest: argument %d of %s: %w", i, cmdName(args), err)
		}
		bufs[i] = b
	}
	return bufs, nil
}

// buffer writes one command into the connection's buffer.
func (c *Client) buffer(bufs [][]byte) {
	c.w.WriteString("*" + strconv.Itoa(len(bufs)) + "\r\n")
	for _, b := range bufs {
		c.w.WriteString("$" + strconv.Itoa(len(b)) + "\r\n")
		c.w.Write(b)
		c.w.WriteString("\r\n")
	}
}

// write sends one command. Every argument is converted before anything is
// buffered, so a bad argument leaves the connection clean.
func (c *Client) write(args []any) error {
	bufs, err := commandBytes(args)
	if err != nil {
		return err
	}
	c.buffer(bufs)
	return c.w.Flush()
}

func argBytes(a any) ([]byte, error) {
	switch v := a.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	case Bulk:
		return v, nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(nil, v, 10), nil
	case uint:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(nil, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(nil, v, 10), nil
	case float64:
		return []byte(formatFloat(v)), nil
	case bool:
		if v {
			return []byte("1"), nil
		}
		return []byte("0"), nil
	}
	return nil, fmt.Errorf("unsupported type %T", a)
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func (c *Client) read() (Reply, error) {
	line, err := c.line()
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, errors.New("empty reply line")
	}
	body := string(line[1:])
	switch line[0] {
	case '+':
		return SimpleString(body), nil
	case '-':
		return Error(body), nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer reply %q", body)
		}
		return Int(n), nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxBulk {
			return nil, fmt.Errorf("bad bulk length %q", body)
		}
		if n == -1 {
			return Bulk(nil), nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, b); err != nil {
			return nil, err
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return nil, errors.New("bulk string not followed by CRLF")
		}
		return Bulk(b[:n:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxArray {
			return nil, fmt.Errorf("bad array length %q", body)
		}
		if n == -1 {
			return Array(nil), nil
		}
		a := make(Array, 0, min(n, 1024))
		for range n {
			e, err := c.read()
			if err != nil {
				return nil, err
			}
			a = append(a, e)
		}
		return a, nil
	}
	return nil, fmt.Errorf("unknown reply type %q (RESP3 is not supported)", line[0])
}

// line reads one CRLF-terminated line without its CRLF.
func (c *Client) line() ([]byte, error) {
	var buf []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		buf = append(buf, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
		if len(buf) > maxLine {
			return nil, errors.New("reply line too long")
		}
	}
	if len(buf) < 2 || buf[len(buf)-2] != '\r' {
		return nil, errors.New("reply line not terminated by CRLF")
	}
	return buf[:len(buf)-2], nil
}

// ToInt returns an Int reply's value; it takes Do's results as they are:
// n, err := ToInt(c.Do("DBSIZE")).
func ToInt(r Reply, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	if v, ok := r.(Int); ok {
		return int64(v), nil
	}
	return 0, fmt.Errorf("redistest: want an integer reply, got %s", Describe(r))
}

// ToBytes returns a Bulk or SimpleString reply's bytes (nil for a null bulk).
func ToBytes(r Reply, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	switch v := r.(type) {
	case Bulk:
		return v, nil
	case SimpleString:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("redistest: want a string reply, got %s", Describe(r))
}

// ToString is ToBytes as a string.
func ToString(r Reply, err error) (string, error) {
	b, err := ToBytes(r, err)
	return string(b), err
}

// ToArray returns an Array reply.
func ToArray(r Reply, err error) (Array, error) {
	if err != nil {
		return nil, err
	}
	if v, ok := r.(Array); ok {
		return v, nil
	}
	return nil, fmt.Errorf("redistest: want an array reply, got %s", Describe(r))
}

// ToBytesList returns an Array reply of strings as byte slices (nil for null
// elements).
func ToBytesList(r Reply, err error) ([][]byte, error) {
	a, err := ToArray(r, err)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(a))
	for i, e := range a {
		if out[i], err = ToBytes(e, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Describe renders a reply for error messages, cut to about 200 bytes.
func Describe(r Reply) string {
	var s string
	switch v := r.(type) {
	case nil:
		s = "no reply"
	case SimpleString:
		s = "+" + strconv.Quote(string(v))
	case Error:
		s = "-" + strconv.Quote(string(v))
	case Int:
		s = ":" + strconv.FormatInt(int64(v), 10)
	case Bulk:
		if v == nil {
			s = "(nil bulk)"
		} else {
			s = strconv.Quote(string(v))
		}
	case Array:
		if v == nil {
			s = "(nil array)"
		} else {
			s = "["
			for i, e := range v {
				if i > 0 {
					s += " "
				}
				s += Describe(e)
				if len(s) > 200 {
					break
				}
			}
			s += "]"
		}
	default:
		s = fmt.Sprintf("%T", r)
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
