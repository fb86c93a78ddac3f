package engine

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// RESTORE (cluster.c restoreCommand). A DUMP payload is the value's type
// byte, the value as an RDB file holds it, the RDB version (2 bytes, little
// endian) and a CRC-64 of all that (8 bytes, little endian). The value is
// decoded by pkg/rdb from a one-key RDB stream built around it.

func registerRestore() {
	register("restore", -4, cmdRestore)
}

// rdbVersion is the RDB_VERSION of the modelled server: the newest payload
// version RESTORE accepts.
func (e *Engine) rdbVersion() int {
	switch v := e.version(); {
	case v >= 704:
		return 12
	case v >= 702:
		return 11
	default:
		return 10
	}
}

func cmdRestore(e *Engine, a [][]byte) error {
	var replace, absttl bool
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(a); j++ {
		more := len(a) - j - 1
		switch {
		case is(a[j], "REPLACE"):
			replace = true
		case is(a[j], "ABSTTL"):
			absttl = true
		case is(a[j], "IDLETIME") && more >= 1 && freq == -1:
			v, err := argInt(a[j+1])
			if err != nil {
				return err
			}
			if v < 0 {
				return &Error{"ERR Invalid IDLETIME value, must be >= 0"}
			}
			idle = v
			j++
		case is(a[j], "FREQ") && more >= 1 && idle == -1:
			v, err := argInt(a[j+1])
			if err != nil {
				return err
			}
			if v < 0 || v > 255 {
				return &Error{"ERR Invalid FREQ value, must be >= 0 and <= 255"}
			}
			freq = v
			j++
		default:
			return ErrSyntax
		}
	}
	db := e.db()
	key := a[1]
	if !replace && e.exists(db, key) {
		return ErrBusyKey
	}
	ttl, err := argInt(a[2])
	if err != nil {
		return err
	}
	if ttl < 0 {
		return &Error{"ERR Invalid TTL value, must be >= 0"}
	}
	payload := a[3]
	if !e.verifyDump(payload) {
		return &Error{"ERR DUMP payload version or checksum are wrong"}
	}
	v, err := decodeDump(payload)
	if err != nil {
		return err
	}
	o, err := e.objectOf(key, v)
	if err != nil {
		return err
	}
	if replace {
		e.del(db, key)
	}
	if ttl != 0 && !absttl {
		now := e.now()
		if ttl > math.MaxInt64-now {
			ttl = math.MaxInt64 // overflows in Redis; far future either way
		} else {
			ttl += now
		}
	}
	if ttl != 0 && e.live() && ttl <= e.now() {
		return nil
	}
	slot, h, found := db.find(key)
	if v.Kind == rdb.KindString {
		db.putString(slot, h, found, key, v.String, ttl != 0, ttl)
		return nil
	}
	o.hasTTL, o.expireAt = ttl != 0, ttl
	db.putObject(slot, h, found, key, o)
	return nil
}

// verifyDump is verifyDumpPayload.
func (e *Engine) verifyDump(p []byte) bool {
	if len(p) < 10 {
		return false
	}
	footer := p[len(p)-10:]
	if int(binary.LittleEndian.Uint16(footer)) > e.rdbVersion() {
		return false
	}
	return rdb.CRC64(p[:len(p)-8]) == binary.LittleEndian.Uint64(footer[2:])
}

var errBadData = &Error{"ERR Bad data format"}

// decodeDump reads the value of a verified payload.
func decodeDump(p []byte) (v *rdb.Value, err error) {
	ver := int(binary.LittleEndian.Uint16(p[len(p)-10:]))
	if ver < 1 {
		ver = 1
	}
	body := p[:len(p)-10]
	if len(body) == 0 {
		return nil, errBadData
	}
	stream := make([]byte, 0, len(body)+20)
	stream = fmt.Appendf(stream, "REDIS%04d", ver)
	stream = append(stream, body[0], 1, 'k')
	stream = append(stream, body[1:]...)
	stream = append(stream, 0xff, 0, 0, 0, 0, 0, 0, 0, 0)
	defer func() {
		if recover() != nil {
			v, err = nil, errBadData
		}
	}()
	r := rdb.NewReaderBytes(stream, rdb.ReaderOptions{})
	defer r.Close()
	ent, err := r.Next()
	if err != nil || ent.Kind != rdb.EntryKey {
		return nil, errBadData
	}
	v, err = r.ReadValue(0)
	if err != nil {
		return nil, errBadData
	}
	return v, nil
}
