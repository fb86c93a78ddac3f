package resp

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// ReaderOptions bound what a Reader accepts. Zero fields take the defaults.
type ReaderOptions struct {
	MaxBulk  int64 // longest bulk string; default 512 MiB (proto-max-bulk-len's default)
	MaxArray int   // most elements in one array; default 2^24
	MaxDepth int   // deepest nesting of arrays; default 32
}

const (
	defaultMaxBulk  = 512 << 20
	defaultMaxArray = 1 << 24
	defaultMaxDepth = 32
	maxLine         = 64 << 10 // a simple string, error or length line
)

// Reader parses RESP2 replies.
type Reader struct {
	br   *bufio.Reader
	opts ReaderOptions
	line []byte // scratch for lines that span the buffer
}

// NewReader returns a Reader over r; a *bufio.Reader is used as it is.
func NewReader(r io.Reader, o ReaderOptions) *Reader {
	if o.MaxBulk <= 0 {
		o.MaxBulk = defaultMaxBulk
	}
	if o.MaxArray <= 0 {
		o.MaxArray = defaultMaxArray
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = defaultMaxDepth
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &Reader{br: br, opts: o}
}

// Read reads one reply. An error reply is returned as a Reply of KindError
// and a nil error; the error is for I/O failures and *ProtocolError.
func (r *Reader) Read() (Reply, error) { return r.read(0) }

// okText is shared by every +OK reply: pipelines get thousands of them.
var okText = []byte("OK")

func (r *Reader) read(depth int) (Reply, error) {
	line, err := r.readLine()
	if err != nil {
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, &ProtocolError{Msg: "empty reply line"}
	}
	body := line[1:]
	switch line[0] {
	case '+':
		if string(body) == "OK" {
			return Reply{Kind: KindSimple, Str: okText}, nil
		}
		return Reply{Kind: KindSimple, Str: clone(body)}, nil
	case '-':
		return Reply{Kind: KindError, Str: clone(body)}, nil
	case ':':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return Reply{}, &ProtocolError{Msg: "bad integer " + strconv.Quote(string(body))}
		}
		return Reply{Kind: KindInt, Int: n}, nil
	case '$':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || n < -1 {
			return Reply{}, &ProtocolError{Msg: "bad bulk length " + strconv.Quote(string(body))}
		}
		if n == -1 {
			return Reply{Kind: KindNull}, nil
		}
		if n > r.opts.MaxBulk {
			return Reply{}, &ProtocolError{Msg: fmt.Sprintf("bulk string of %d bytes is over the limit of %d", n, r.opts.MaxBulk)}
		}
		b, err := r.readBulk(n)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Kind: KindBulk, Str: b}, nil
	case '*':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil || n < -1 {
			return Reply{}, &ProtocolError{Msg: "bad array length " + strconv.Quote(string(body))}
		}
		if n == -1 {
			return Reply{Kind: KindNull}, nil
		}
		if n > int64(r.opts.MaxArray) {
			return Reply{}, &ProtocolError{Msg: fmt.Sprintf("array of %d elements is over the limit of %d", n, r.opts.MaxArray)}
		}
		if depth >= r.opts.MaxDepth {
			return Reply{}, &ProtocolError{Msg: fmt.Sprintf("arrays nested deeper than %d", r.opts.MaxDepth)}
		}
		elems := make([]Reply, 0, min(n, 1024))
		for range n {
			e, err := r.read(depth + 1)
			if err != nil {
				return Reply{}, err
			}
			elems = append(elems, e)
		}
		return Reply{Kind: KindArray, Elems: elems}, nil
	}
	return Reply{}, &ProtocolError{Msg: fmt.Sprintf("unknown reply type %q (RESP3 is not spoken)", line[0])}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// readBulk reads n bytes and the CRLF after them, growing the buffer as the
// bytes arrive so that a lying length costs nothing.
func (r *Reader) readBulk(n int64) ([]byte, error) {
	const chunk = 1 << 20
	b := make([]byte, 0, min(n, chunk))
	for int64(len(b)) < n {
		k := int(min(n-int64(len(b)), chunk))
		if cap(b)-len(b) < k {
			nb := make([]byte, len(b), min(n, max(2*int64(cap(b)), int64(len(b)+k))))
			copy(nb, b)
			b = nb
		}
		m, err := io.ReadFull(r.br, b[len(b):len(b)+k])
		b = b[:len(b)+m]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	var crlf [2]byte
	if _, err := io.ReadFull(r.br, crlf[:]); err != nil {
		return nil, unexpected(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return nil, &ProtocolError{Msg: "bulk string not followed by CRLF"}
	}
	return b, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLine reads one CRLF-terminated line without the CRLF. The slice is
// valid until the next read.
func (r *Reader) readLine() ([]byte, error) {
	frag, err := r.br.ReadSlice('\n')
	if err == nil {
		return trimCRLF(frag)
	}
	if err != bufio.ErrBufferFull {
		if err == io.EOF && len(frag) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	r.line = append(r.line[:0], frag...)
	for {
		frag, err = r.br.ReadSlice('\n')
		r.line = append(r.line, frag...)
		if len(r.line) > maxLine {
			return nil, &ProtocolError{Msg: "reply line over 64 KiB"}
		}
		if err == nil {
			return trimCRLF(r.line)
		}
		if err != bufio.ErrBufferFull {
			return nil, unexpected(err)
		}
	}
}

func trimCRLF(b []byte) ([]byte, error) {
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, &ProtocolError{Msg: "reply line not terminated by CRLF"}
	}
	return b[:len(b)-2], nil
}
