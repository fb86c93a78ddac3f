package resp

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
