package restore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// PayloadFunc writes to w the DUMP payload of the key e that r.Next just
// returned (type byte, value, version footer and CRC-64), for a server
// writing RDB version target, and reports true; or reports false without
// reading the value when it cannot make a payload that server loads, in
// which case the key is sent as commands. This is the one place payloads
// are made: a re-encoder for older targets plugs in here.
type PayloadFunc func(w *bytes.Buffer, r *rdb.Reader, e *rdb.Entry, src rdb.Header, target int) (bool, error)

// RawPayload copies the value's bytes as the file holds them, when the
// target loads payloads of the file's version (AcceptsPayload). The footer
// carries the file's version.
func RawPayload(w *bytes.Buffer, r *rdb.Reader, e *rdb.Entry, src rdb.Header, target int) (bool, error) {
	if !AcceptsPayload(src.Version, target) {
		return false, nil
	}
	w.WriteByte(e.Type.Wire())
	if _, err := r.CopyRawValue(w); err != nil {
		return false, err
	}
	appendFooter(w, src.Version)
	return true, nil
}

// reencoder makes payloads of values a target cannot take as the file holds
// them (the file is newer than the target): the value is read element by
// element and written as the target's own writer would.
type reencoder struct {
	pw *rdb.PayloadWriter
}

// payload copies the file's bytes when the target loads them, and re-encodes
// the value otherwise. Module values cannot be re-encoded (their format is
// the module's): they report false, and the caller says why they cannot go.
func (re *reencoder) payload(w *bytes.Buffer, r *rdb.Reader, e *rdb.Entry, src rdb.Header, target int) (bool, error) {
	if AcceptsPayload(src.Version, target) {
		return RawPayload(w, r, e, src, target)
	}
	if e.Type.Kind() == rdb.KindModule {
		return false, nil
	}
	if err := re.pw.StartKey(e, e.Type.Kind(), rdb.UnknownCount); err != nil {
		return false, err
	}
	for {
		el, err := r.NextElem()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, err
		}
		if err := re.pw.WriteElem(el); err != nil {
			return false, err
		}
	}
	p, err := re.pw.EndKey()
	if err != nil {
		return false, err
	}
	if p == nil {
		return false, &TargetError{Msg: fmt.Sprintf("key %s: the target cannot hold it (%s)", rdb.QuoteBytes(e.Key), describeDrops(re.pw.Dropped()))}
	}
	w.Write(p)
	return true, nil
}

// dropped counts what re-encoding left out of the feature f.
func (re *reencoder) dropped(f rdb.Feature) uint64 {
	for _, d := range re.pw.Dropped() {
		if d.Feature == f {
			return d.Count
		}
	}
	return 0
}

func describeDrops(ds []rdb.DropCount) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%d × %s", d.Count, d.Feature))
	}
	return strings.Join(parts, ", ")
}

// appendFooter ends a payload: version (2 bytes LE) and the CRC-64 of
// everything before it, version included (createDumpPayload in cluster.c).
func appendFooter(w *bytes.Buffer, version int) {
	var f [8]byte
	binary.LittleEndian.PutUint16(f[:2], uint16(version))
	w.Write(f[:2])
	binary.LittleEndian.PutUint64(f[:], rdb.CRC64(w.Bytes()))
	w.Write(f[:])
}

// payloadOverhead is what a DUMP payload adds to the value's bytes: the
// type byte, the version (2 bytes) and the CRC-64 (8 bytes).
const payloadOverhead = 11

// appendFramedPayload appends, as a RESP bulk string, the DUMP payload of a
// value whose bytes the file holds as body: the type byte, body, the
// version and the CRC-64 of them, computed where they are written (one copy
// of the value, from the file straight into the command).
func appendFramedPayload(dst []byte, typ byte, body []byte, version int) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(body)+payloadOverhead), 10)
	dst = append(dst, '\r', '\n')
	start := len(dst)
	dst = append(dst, typ)
	dst = append(dst, body...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(version))
	dst = binary.LittleEndian.AppendUint64(dst, rdb.CRC64(dst[start:]))
	return append(dst, '\r', '\n')
}

// functionPayload is FUNCTION DUMP's format for one library:
// RDB_OPCODE_FUNCTION2, the code as an RDB string, the footer.
func functionPayload(code []byte, version int) []byte {
	var w bytes.Buffer
	w.WriteByte(0xF5) // RDB_OPCODE_FUNCTION2
	w.Write(appendRDBLen(nil, uint64(len(code))))
	w.Write(code)
	appendFooter(&w, version)
	return w.Bytes()
}

// appendRDBLen writes an RDB length: 6, 14, 32 or 64 bits.
func appendRDBLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|0x40, byte(n))
	case n <= 0xFFFFFFFF:
		return binary.BigEndian.AppendUint32(append(dst, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0x81), n)
}

// payloadReader opens a one-key RDB stream around a payload, so that a value
// made as a payload can still be sent as commands (when it turns out to be
// larger than the target's proto-max-bulk-len). The key is named "k"; the
// caller gives the real name. The CRC trailer is zero (not checked): the
// bytes were checked when they were read.
func payloadReader(payload []byte, src rdb.Header) (*rdb.Reader, *rdb.Entry, error) {
	body := payload[:len(payload)-10]
	data := make([]byte, 0, len(body)+32)
	data = append(data, src.String()...)
	data = append(data, body[0], 1, 'k')
	data = append(data, body[1:]...)
	data = append(data, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0)
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	for {
		e, err := r.Next()
		if err != nil {
			r.Close()
			return nil, nil, fmt.Errorf("re-reading a payload: %w", err)
		}
		if e.Kind == rdb.EntryKey {
			return r, e, nil
		}
	}
}
