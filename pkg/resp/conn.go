package resp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options say how to reach and log in to a server.
type Options struct {
	Addr     string // "host:port"
	Username string // ACL user; "" logs in as the default user
	Password string
	HasAuth  bool // send AUTH (a password may be empty)
	DB       int  // SELECT it after logging in when not 0
	// TLS, when set, wraps the connection (rediss://). ServerName defaults to
	// the host of Addr.
	TLS *tls.Config
	// DialTimeout bounds connecting and logging in; default 10 seconds.
	DialTimeout time.Duration
	// Reader bounds the replies accepted.
	Reader ReaderOptions
}

// OptionsFromURL turns a URL into Options; tlsConfig is used when the URL is
// rediss:// (nil means the system's roots).
func OptionsFromURL(u URL, tlsConfig *tls.Config) Options {
	o := Options{Addr: u.Addr(), Username: u.Username, Password: u.Password, HasAuth: u.HasAuth, DB: u.DB}
	if u.TLS {
		if tlsConfig == nil {
			tlsConfig = &tls.Config{}
		}
		o.TLS = tlsConfig
	}
	return o
}

// Conn is a connection to one server.
type Conn struct {
	nc   net.Conn
	bw   *bufio.Writer
	br   *bufio.Reader
	rd   *Reader
	addr string
	stop func() bool // ends the context watch

	mu      sync.Mutex
	timeout time.Duration // per Do; 0 none
}

// Dial connects, negotiates TLS, logs in (AUTH) and selects the database. The
// context bounds the whole life of the connection: when it is cancelled, the
// connection is closed, so any read or write in progress fails at once.
func Dial(ctx context.Context, o Options) (*Conn, error) {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 10 * time.Second
	}
	d := net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	if o.TLS != nil {
		cfg := o.TLS.Clone()
		if cfg.ServerName == "" {
			host, _, _ := net.SplitHostPort(o.Addr)
			cfg.ServerName = host
		}
		tc := tls.Client(nc, cfg)
		hctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", o.Addr, err)
		}
		nc = tc
	}
	c := newConn(nc, o.Addr, o.Reader)
	// Closing is what interrupts a blocked read or write for good: a deadline
	// in the past would be undone by the next Do's own deadline.
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	c.SetTimeout(o.DialTimeout)
	if err := c.login(o); err != nil {
		c.Close()
		return nil, err
	}
	c.SetTimeout(0)
	return c, nil
}

func newConn(nc net.Conn, addr string, ro ReaderOptions) *Conn {
	br := bufio.NewReaderSize(nc, 256<<10)
	return &Conn{nc: nc, br: br, bw: bufio.NewWriterSize(nc, 256<<10), rd: NewReader(br, ro), addr: addr, stop: func() bool { return true }}
}

// AuthError is a failed login: a wrong password or user, or a server that
// wants one and got none.
type AuthError struct {
	Addr string
	Err  error
}

func (e *AuthError) Error() string {
	return "logging in to " + e.Addr + ": " + e.Err.Error()
}
func (e *AuthError) Unwrap() error { return e.Err }

func (c *Conn) login(o Options) error {
	if o.HasAuth {
		args := []string{"AUTH", o.Password}
		if o.Username != "" {
			args = []string{"AUTH", o.Username, o.Password}
		}
		if _, err := c.Do(args...); err != nil {
			var re *Error
			if errors.As(err, &re) {
				return &AuthError{Addr: c.addr, Err: err}
			}
			return err
		}
	}
	if o.DB != 0 {
		if _, err := c.Do("SELECT", strconv.Itoa(o.DB)); err != nil {
			return fmt.Errorf("SELECT %d on %s: %w", o.DB, c.addr, err)
		}
	}
	return nil
}

// Addr is the address the connection was made to.
func (c *Conn) Addr() string { return c.addr }

// SetTimeout bounds each later Do (its write and its read); 0 means none.
func (c *Conn) SetTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	c.mu.Unlock()
}

// SetReadDeadline and SetWriteDeadline pass through to the connection, for
// callers that pipeline.
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.nc.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Close closes the connection.
func (c *Conn) Close() error {
	c.stop()
	return c.nc.Close()
}

// Do sends one command and reads its reply. An error reply is returned as
// the Reply and, as a *Error, as the error.
func (c *Conn) Do(args ...string) (Reply, error) {
	c.mu.Lock()
	to := c.timeout
	c.mu.Unlock()
	if to > 0 {
		c.nc.SetDeadline(time.Now().Add(to))
		defer c.nc.SetDeadline(time.Time{})
	}
	if err := c.Send(AppendCommand(nil, args...)); err != nil {
		return Reply{}, err
	}
	if err := c.Flush(); err != nil {
		return Reply{}, err
	}
	r, err := c.Receive()
	if err != nil {
		return r, fmt.Errorf("reading the reply to %s from %s: %w", cmdName(args), c.addr, err)
	}
	if e := r.Err(); e != nil {
		return r, e
	}
	return r, nil
}

func cmdName(args []string) string {
	if len(args) == 0 {
		return "?"
	}
	if len(args) > 1 && (strings.EqualFold(args[0], "CONFIG") || strings.EqualFold(args[0], "CLUSTER") ||
		strings.EqualFold(args[0], "FUNCTION") || strings.EqualFold(args[0], "INFO")) {
		return args[0] + " " + args[1]
	}
	return args[0]
}

// Send buffers encoded commands (see AppendCommand); Flush writes them.
func (c *Conn) Send(cmds []byte) error {
	_, err := c.bw.Write(cmds)
	return err
}

// Flush writes what Send buffered.
func (c *Conn) Flush() error { return c.bw.Flush() }

// Buffered is how many bytes Send holds that Flush has not written.
func (c *Conn) Buffered() int { return c.bw.Buffered() }

// Receive reads the next reply.
func (c *Conn) Receive() (Reply, error) { return c.rd.Read() }

// ParseInfo reads the "field:value" lines of an INFO reply; sections and
// comments are skipped.
func ParseInfo(text []byte) map[string]string {
	m := map[string]string{}
	for _, line := range bytes.Split(text, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok {
			m[string(k)] = string(v)
		}
	}
	return m
}

// Info runs INFO section and parses it.
func (c *Conn) Info(section string) (map[string]string, error) {
	r, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	if r.Kind != KindBulk {
		return nil, fmt.Errorf("INFO %s on %s: unexpected reply %s", section, c.addr, r)
	}
	return ParseInfo(r.Str), nil
}

// TLS reports whether the connection is encrypted.
func (c *Conn) TLS() bool {
	_, ok := c.nc.(*tls.Conn)
	return ok
}
