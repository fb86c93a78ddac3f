package resp

import (
	"crypto/tls"
	"net"
)

// okReply is the whole of the reply a pipeline of writes mostly gets.
const okReply = "+OK\r\n"

// ReceiveOK consumes the next reply and reports true when it is +OK and
// already buffered; otherwise it consumes nothing and reports false, and
// Receive reads the reply. It never waits for the network, so it is safe
// before any reply: a pipeline of RESTOREs gets hundreds of thousands of
// +OK, and this skips parsing them into Replies one by one.
func (c *Conn) ReceiveOK() bool {
	if c.br.Buffered() < len(okReply) {
		return false
	}
	b, _ := c.br.Peek(len(okReply)) // buffered: neither waits nor fails
	if string(b) != okReply {
		return false
	}
	c.br.Discard(len(okReply))
	return true
}

// WriteBuffers writes what Send buffered, then the slices of bufs, which it
// does not copy: on a plain TCP connection in as few writev(2) calls as the
// system allows. Over TLS the slices go through the buffer, so that they
// make full records rather than one per slice. bufs is consumed.
func (c *Conn) WriteBuffers(bufs *net.Buffers) error {
	if _, ok := c.nc.(*tls.Conn); ok {
		for _, b := range *bufs {
			if _, err := c.bw.Write(b); err != nil {
				return err
			}
		}
		*bufs = (*bufs)[:0]
		return c.bw.Flush()
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	_, err := bufs.WriteTo(c.nc)
	return err
}
