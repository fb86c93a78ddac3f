package rdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// A DUMP payload is what DUMP returns and RESTORE takes: one value as an RDB
// file stores it, without a key, with a footer.
//
//	payload := type-byte value-body rdb-version:u16le crc64:u64le
//
// The CRC-64 covers everything before it, the version included. A server
// refuses a payload whose version is newer than the RDB version it writes
// (Redis 7.0: 10, Redis 7.2 and Valkey 7.2-8.1: 11, Redis 7.4-8.4: 12) or whose
// checksum is wrong ("DUMP payload version or checksum are wrong"); the key's
// TTL, LRU idle time and LFU counter travel as RESTORE arguments instead
// (ttl ABSTTL IDLETIME FREQ, Redis 5.0+).

// PayloadWriter encodes values as DUMP payloads for a target server: the
// value body is exactly what a Writer with the same WriterOptions would write
// into a file (the same encodings, thresholds, refusals and drop flags), and
// the footer carries opts.Version (80 for Valkey 9). Use it to make RESTORE
// commands for a server that is older or newer than the one a value came
// from.
//
// A value is given whole with Encode, or element by element with StartKey,
// WriteElem and EndKey, in the order Reader.NextElem delivers them (see
// Writer.StartKey), so a payload can be made straight from a Reader:
//
//	p := rdb.NewPayloadWriter(opts) // opts from rdb.TargetVersion("valkey:8.0")
//	for each key e read from r:
//		p.StartKey(e, e.Type.Kind(), rdb.UnknownCount)
//		for each element el from r.NextElem() { p.WriteElem(el) }
//		payload, err := p.EndKey() // nil, nil: the key was dropped
//		RESTORE e.Key ttl payload ABSTTL ...
//
// Of the Entry, only Key (for messages) and KeyMeta are used: the database,
// TTL, idle time and LFU counter are the caller's to pass to RESTORE. A DUMP
// payload cannot carry Redis 8.6 key metadata: a key with some is refused
// unless DropKeyMeta is set (then it is dropped and counted).
//
// Unlike a Writer's, a PayloadWriter's errors end only the key being encoded:
// the next StartKey or Encode starts afresh, so a caller may report a key the
// target cannot hold and go on. The payload returned is valid until the next
// StartKey or Encode. Memory is a Writer's for one key plus the payload
// itself, which RESTORE needs whole. A PayloadWriter is not safe for
// concurrent use.
type PayloadWriter struct {
	opts    WriterOptions
	w       *Writer
	buf     bytes.Buffer
	ent     Entry
	err     error // the current key's error
	dropped [featureCount]uint64
	active  bool
}

// NewPayloadWriter returns a PayloadWriter for the target opts describes
// (TargetVersion gives them for a named server; the AUX, CTime, Clock, Bits
// and ServerVersion fields are unused). Invalid options are reported by the
// first call.
func NewPayloadWriter(opts WriterOptions) *PayloadWriter {
	p := &PayloadWriter{opts: opts}
	p.reset()
	return p
}

// reset makes a fresh inner Writer in payload mode, keeping the drop counts.
func (p *PayloadWriter) reset() {
	if p.w != nil {
		for f, n := range p.w.dropped {
			p.dropped[f] += n
		}
	}
	w := NewWriter(&p.buf, p.opts)
	// No magic, no AUX fields, no SELECTDB: a payload is one value.
	w.started, w.auxDone, w.payload = true, true, true
	w.dbSet = true
	p.w = w
}

// Version is the RDB version written in payload footers.
func (p *PayloadWriter) Version() int { return p.opts.Version }

// Dropped returns what was left out under the drop flags so far, one count
// per feature in Feature order, omitting zeros (as Writer.Dropped).
func (p *PayloadWriter) Dropped() []DropCount {
	var out []DropCount
	for f := Feature(1); f < featureCount; f++ {
		if n := p.dropped[f] + p.w.dropped[f]; n > 0 {
			out = append(out, DropCount{f, n})
		}
	}
	return out
}

// begin prepares for a new key: a fresh inner Writer after an error, the
// entry stripped of what RESTORE's arguments carry.
func (p *PayloadWriter) begin(e *Entry) error {
	if p.w.err != nil && p.opts.validateErr() == nil {
		p.reset()
	}
	p.buf.Reset()
	p.err = nil
	p.active = true
	p.ent = Entry{Kind: EntryKey, Key: append(p.ent.Key[:0], e.Key...), Type: e.Type}
	if len(e.KeyMeta) > 0 {
		if !p.opts.DropKeyMeta {
			p.err = &WriteError{Key: append([]byte{}, e.Key...), Op: "key metadata", Err: &UnsupportedError{
				What: "key metadata cannot be put in a DUMP payload (RESTORE has no place for it)", Feature: FeatureKeyMeta}}
			return p.err
		}
		p.dropped[FeatureKeyMeta]++
	}
	return nil
}

// StartKey begins a value whose elements follow with WriteElem; kind and
// count are as for Writer.StartKey.
func (p *PayloadWriter) StartKey(e *Entry, kind Kind, count uint64) error {
	if err := p.begin(e); err != nil {
		return err
	}
	if err := p.w.StartKey(&p.ent, kind, count); err != nil {
		p.err = err
	}
	return p.err
}

// WriteElem gives the next element of the value begun with StartKey. The
// element is copied where it is kept; el may be reused.
func (p *PayloadWriter) WriteElem(el *Elem) error {
	if p.err != nil {
		return p.err
	}
	if !p.active {
		return &WriteError{Op: "element", Err: ErrWriterState, Detail: "WriteElem outside StartKey/EndKey"}
	}
	if err := p.w.WriteElem(el); err != nil {
		p.err = err
	}
	return p.err
}

// EndKey finishes the value and returns its payload, or nil (and no error)
// when the key was left out under a drop flag (a stream below version 9
// with DropStreams, a module value below 8 with DropModules).
func (p *PayloadWriter) EndKey() ([]byte, error) {
	if p.err != nil {
		p.active = false
		return nil, p.err
	}
	if !p.active {
		return nil, &WriteError{Op: "key", Err: ErrWriterState, Detail: "EndKey without StartKey"}
	}
	p.active = false
	if err := p.w.EndKey(); err != nil {
		p.err = err
		return nil, err
	}
	return p.finish()
}

// Encode returns the payload of a whole value (as Reader.ReadValue returns
// it), or nil when the key was left out under a drop flag; see EndKey.
func (p *PayloadWriter) Encode(e *Entry, v *Value) ([]byte, error) {
	if err := p.begin(e); err != nil {
		p.active = false
		return nil, err
	}
	p.active = false
	if err := p.w.WriteKey(&p.ent, v); err != nil {
		p.err = err
		return nil, err
	}
	return p.finish()
}

// finish appends the footer to the value written.
func (p *PayloadWriter) finish() ([]byte, error) {
	if p.w.key.skip {
		return nil, nil
	}
	if err := p.w.out.flush(); err != nil {
		p.err = p.w.ioErr(err)
		return nil, p.err
	}
	var footer [10]byte
	binary.LittleEndian.PutUint16(footer[:2], uint16(p.opts.Version))
	p.buf.Write(footer[:2])
	binary.LittleEndian.PutUint64(footer[2:], CRC64(p.buf.Bytes()))
	p.buf.Write(footer[2:])
	return p.buf.Bytes(), nil
}

// validateErr is the options' own error, which no fresh Writer can cure.
func (o *WriterOptions) validateErr() error {
	_, err := o.validate()
	return err
}

// PayloadVersion returns the RDB version in a DUMP payload's footer, and
// whether its CRC-64 matches (false also for a payload too short to have a
// footer).
func PayloadVersion(payload []byte) (version int, ok bool) {
	if len(payload) < 11 {
		return 0, false
	}
	f := payload[len(payload)-10:]
	version = int(binary.LittleEndian.Uint16(f))
	return version, CRC64(payload[:len(payload)-8]) == binary.LittleEndian.Uint64(f[2:])
}

// OpenPayload returns a Reader positioned on the value of a DUMP payload, and
// the key's Entry (Key set to key, Type from the payload; no TTL, database 0),
// so that the value can be read with NextElem or ReadValue, checked, or handed
// to a Writer or PayloadWriter of another version. The footer's version picks
// the type numbering (80 is Valkey 9's). The payload is copied; Close the
// Reader when done.
//
// A payload too short for its footer, or with a wrong checksum, is ErrCorrupt
// (RESTORE refuses it too); an unknown version is an *UnsupportedError.
func OpenPayload(key, payload []byte, opts ReaderOptions) (*Reader, *Entry, error) {
	version, ok := PayloadVersion(payload)
	if !ok {
		return nil, nil, &ParseError{Op: "DUMP payload", Err: ErrCorrupt, Detail: "too short, or its CRC-64 does not match"}
	}
	var magic string
	switch {
	case version == 80:
		magic = "VALKEY080"
	case version >= 1 && version <= 13:
		magic = fmt.Sprintf("REDIS%04d", version)
	default:
		return nil, nil, &ParseError{Op: "DUMP payload", Err: unsupported("DUMP payload of RDB version %d", version)}
	}
	body := payload[:len(payload)-10]
	if body[0] >= 0xF0 {
		// The record opcodes: a payload holds a value, never a record.
		return nil, nil, &ParseError{Op: "DUMP payload", Err: ErrCorrupt, Detail: fmt.Sprintf("type byte %d is not a value type", body[0])}
	}
	stream := make([]byte, 0, len(magic)+len(body)+len(key)+20)
	stream = append(stream, magic...)
	stream = append(stream, body[0])
	stream = appendLen(stream, uint64(len(key)))
	stream = append(stream, key...)
	stream = append(stream, body[1:]...)
	stream = append(stream, opEOF)
	if version >= 5 {
		stream = binary.LittleEndian.AppendUint64(stream, CRC64(stream))
	}
	r := NewReaderBytes(stream, opts)
	e, err := r.Next()
	if err != nil && err != io.EOF {
		r.Close()
		return nil, nil, err
	}
	if err == io.EOF || e.Kind != EntryKey {
		r.Close()
		return nil, nil, &ParseError{Op: "DUMP payload", Err: ErrCorrupt, Detail: fmt.Sprintf("type byte %d is not a value type", body[0])}
	}
	return r, e, nil
}
