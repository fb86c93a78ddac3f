package resp

import (
	"strconv"
	"strings"
)

// Kind tells which RESP2 type a Reply is.
type Kind uint8

const (
	KindSimple Kind = iota + 1 // "+OK"
	KindError                  // "-ERR ..."
	KindInt                    // ":1"
	KindBulk                   // "$3\r\nabc"
	KindArray                  // "*2\r\n..."
	KindNull                   // "$-1" or "*-1"
)

func (k Kind) String() string {
	switch k {
	case KindSimple:
		return "simple string"
	case KindError:
		return "error"
	case KindInt:
		return "integer"
	case KindBulk:
		return "bulk string"
	case KindArray:
		return "array"
	case KindNull:
		return "null"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Reply is one RESP2 reply. Str holds the text of a simple string, an error
// or a bulk string; Int an integer; Elems the elements of an array.
type Reply struct {
	Kind  Kind
	Str   []byte
	Int   int64
	Elems []Reply
}

// Err returns the reply as an error when it is an error reply, else nil.
func (r Reply) Err() error {
	if r.Kind != KindError {
		return nil
	}
	return &Error{Msg: string(r.Str)}
}

// IsOK reports whether the reply is the simple string OK.
func (r Reply) IsOK() bool { return r.Kind == KindSimple && string(r.Str) == "OK" }

// Text returns a string-like reply (simple, bulk, error) as a string, an
// integer in decimal, and "" for anything else.
func (r Reply) Text() string {
	switch r.Kind {
	case KindSimple, KindBulk, KindError:
		return string(r.Str)
	case KindInt:
		return strconv.FormatInt(r.Int, 10)
	}
	return ""
}

// String renders the reply for messages, shortened to about 200 bytes.
func (r Reply) String() string {
	var b strings.Builder
	r.describe(&b)
	s := b.String()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func (r Reply) describe(b *strings.Builder) {
	switch r.Kind {
	case KindSimple:
		b.WriteString("+" + strconv.Quote(string(r.Str)))
	case KindError:
		b.WriteString("-" + strconv.Quote(string(r.Str)))
	case KindInt:
		b.WriteString(":" + strconv.FormatInt(r.Int, 10))
	case KindBulk:
		b.WriteString(strconv.Quote(string(r.Str)))
	case KindNull:
		b.WriteString("(nil)")
	case KindArray:
		b.WriteByte('[')
		for i, e := range r.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			if b.Len() > 200 {
				b.WriteString("...")
				break
			}
			e.describe(b)
		}
		b.WriteByte(']')
	default:
		b.WriteString("(no reply)")
	}
}

// Error is an error reply from the server.
type Error struct {
	Msg string // the whole text, "BUSYKEY Target key name already exists."
}

func (e *Error) Error() string { return e.Msg }

// Code is the first word of the message, by convention the error's class:
// "ERR", "MOVED", "ASK", "BUSYKEY", "TRYAGAIN", "CLUSTERDOWN", "NOAUTH"...
func (e *Error) Code() string {
	code, _, _ := strings.Cut(e.Msg, " ")
	return code
}

// ProtocolError is a reply that breaks RESP2, or one over a limit.
type ProtocolError struct {
	Msg string
}

func (e *ProtocolError) Error() string { return "resp: protocol error: " + e.Msg }
