package engine

import (
	"math"
	"math/big"
	"strconv"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// String commands (t_string.c, bitops.c): SET and its variants, MSET,
// MSETNX, APPEND, SETRANGE, the INCR family, INCRBYFLOAT, GETSET, GETDEL,
// GETEX, SETBIT, BITFIELD, BITOP. HyperLogLog commands are in hyperloglog.go.

// maxStringBytes is proto-max-bulk-len's default (512 MiB), the largest string
// SETRANGE, APPEND, SETBIT and BITFIELD may build. Redis skips the check while
// loading; the engine keeps it in both modes so that a hostile AOF cannot make
// it allocate gigabytes.
const maxStringBytes = 512 << 20

func registerStrings() {
	register("set", -3, cmdSet)
	register("setnx", 3, func(e *Engine, a [][]byte) error {
		return e.set(a[1], a[2], setNX, nil, "setnx")
	})
	register("setex", 4, func(e *Engine, a [][]byte) error {
		return e.set(a[1], a[3], setEX, a[2], "setex")
	})
	register("psetex", 4, func(e *Engine, a [][]byte) error {
		return e.set(a[1], a[3], setPX, a[2], "psetex")
	})
	register("mset", -3, func(e *Engine, a [][]byte) error { return e.mset(a, false) })
	register("msetnx", -3, func(e *Engine, a [][]byte) error { return e.mset(a, true) })
	register("append", 3, cmdAppend)
	register("setrange", 4, cmdSetRange)
	register("incr", 2, func(e *Engine, a [][]byte) error { return e.incrBy(a[1], 1) })
	register("decr", 2, func(e *Engine, a [][]byte) error { return e.incrBy(a[1], -1) })
	register("incrby", 3, func(e *Engine, a [][]byte) error {
		n, err := argInt(a[2])
		if err != nil {
			return err
		}
		return e.incrBy(a[1], n)
	})
	register("decrby", 3, func(e *Engine, a [][]byte) error {
		n, err := argInt(a[2])
		if err != nil {
			return err
		}
		if n == math.MinInt64 {
			return &Error{"ERR decrement would overflow"}
		}
		return e.incrBy(a[1], -n)
	})
	register("incrbyfloat", 3, cmdIncrByFloat)
	register("getset", 3, func(e *Engine, a [][]byte) error {
		db := e.db()
		slot, h, ok := e.find(db, a[1])
		if ok && db.kindAt(slot) != rdb.KindString {
			return ErrWrongType
		}
		db.putString(slot, h, ok, a[1], a[2], false, 0)
		return nil
	})
	register("getdel", 2, func(e *Engine, a [][]byte) error {
		db := e.db()
		slot, _, ok := e.find(db, a[1])
		if !ok {
			return nil
		}
		if db.kindAt(slot) != rdb.KindString {
			return ErrWrongType
		}
		db.removeSlot(slot)
		return nil
	})
	register("getex", -2, cmdGetEx)
	register("setbit", 4, cmdSetBit)
	register("bitfield", -2, cmdBitfield)
	register("bitop", -4, cmdBitop)
	registerHLL()
}

func newString(b []byte) *object { return &object{kind: rdb.KindString, str: b} }

// Flags of SET and GETEX (t_string.c OBJ_*).
const (
	setNX = 1 << iota
	setXX
	setEX
	setPX
	setKeepTTL
	setGet
	setEXAT
	setPXAT
	setPersist
)

const anyExpire = setEX | setPX | setEXAT | setPXAT

// parseStringOptions is parseExtendedStringArgumentsOrReply. forGet selects
// GETEX's grammar (PERSIST; no NX/XX/GET/KEEPTTL).
func parseStringOptions(a [][]byte, forGet bool) (flags int, expire []byte, err error) {
	j := 3
	if forGet {
		j = 2
	}
	for ; j < len(a); j++ {
		opt := a[j]
		hasNext := j+1 < len(a)
		switch {
		case is(opt, "NX") && flags&setXX == 0 && !forGet:
			flags |= setNX
		case is(opt, "XX") && flags&setNX == 0 && !forGet:
			flags |= setXX
		case is(opt, "GET") && !forGet:
			flags |= setGet
		case is(opt, "KEEPTTL") && flags&(setPersist|anyExpire) == 0 && !forGet:
			flags |= setKeepTTL
		case is(opt, "PERSIST") && forGet && flags&(anyExpire|setKeepTTL) == 0:
			flags |= setPersist
		case is(opt, "EX") && flags&(setKeepTTL|setPersist|anyExpire&^setEX) == 0 && hasNext:
			flags |= setEX
			expire = a[j+1]
			j++
		case is(opt, "PX") && flags&(setKeepTTL|setPersist|anyExpire&^setPX) == 0 && hasNext:
			flags |= setPX
			expire = a[j+1]
			j++
		case is(opt, "EXAT") && flags&(setKeepTTL|setPersist|anyExpire&^setEXAT) == 0 && hasNext:
			flags |= setEXAT
			expire = a[j+1]
			j++
		case is(opt, "PXAT") && flags&(setKeepTTL|setPersist|anyExpire&^setPXAT) == 0 && hasNext:
			flags |= setPXAT
			expire = a[j+1]
			j++
		default:
			return 0, nil, ErrSyntax
		}
	}
	return flags, expire, nil
}

// expireMs is getExpireMillisecondsOrReply: the absolute expiry in ms.
func (e *Engine) expireMs(arg []byte, flags int, name string) (int64, error) {
	ms, err := argInt(arg)
	if err != nil {
		return 0, err
	}
	seconds := flags&(setEX|setEXAT) != 0
	bad := func() error { return errorf("ERR invalid expire time in '%s' command", name) }
	if ms <= 0 || seconds && ms > math.MaxInt64/1000 {
		return 0, bad()
	}
	if seconds {
		ms *= 1000
	}
	if flags&(setEX|setPX) != 0 {
		ms += e.now() // wraps on overflow, as in C, and is caught below
	}
	if ms <= 0 {
		return 0, bad()
	}
	return ms, nil
}

func cmdSet(e *Engine, a [][]byte) error {
	flags, expire, err := parseStringOptions(a, false)
	if err != nil {
		return err
	}
	return e.set(a[1], a[2], flags, expire, "set")
}

// set is setGenericCommand.
func (e *Engine) set(key, val []byte, flags int, expire []byte, name string) error {
	var when int64
	if expire != nil {
		var err error
		if when, err = e.expireMs(expire, flags, name); err != nil {
			return err
		}
	}
	db := e.db()
	slot, h, found := e.find(db, key)
	if flags&setGet != 0 && found && db.kindAt(slot) != rdb.KindString {
		return ErrWrongType
	}
	if flags&setNX != 0 && found || flags&setXX != 0 && !found {
		return nil
	}
	hasTTL := expire != nil
	if !hasTTL && flags&setKeepTTL != 0 && found {
		hasTTL, when = db.ttlAt(slot)
	}
	db.putString(slot, h, found, key, val, hasTTL, when)
	return nil
}

func (e *Engine) mset(a [][]byte, nx bool) error {
	if len(a)%2 == 0 {
		return errArity(map[bool]string{false: "mset", true: "msetnx"}[nx])
	}
	db := e.db()
	if nx {
		for j := 1; j < len(a); j += 2 {
			if e.exists(db, a[j]) {
				return nil
			}
		}
	}
	for j := 1; j < len(a); j += 2 {
		slot, h, ok := e.find(db, a[j])
		db.putString(slot, h, ok, a[j], a[j+1], false, 0)
	}
	return nil
}

func cmdAppend(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindString)
	if err != nil {
		return err
	}
	if o == nil {
		slot, h, ok := db.find(a[1])
		db.putString(slot, h, ok, a[1], a[2], false, 0)
		return nil
	}
	if int64(len(o.str))+int64(len(a[2])) > maxStringBytes {
		return ErrStringTooBig
	}
	if err := e.reserve(int64(len(a[2])), "APPEND"); err != nil {
		return err
	}
	o.str = append(o.str, a[2]...)
	return nil
}

func cmdSetRange(e *Engine, a [][]byte) error {
	offset, err := argLong(a[2])
	if err != nil {
		return err
	}
	if offset < 0 {
		return &Error{"ERR offset is out of range"}
	}
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindString)
	if err != nil {
		return err
	}
	val := a[3]
	if len(val) == 0 {
		return nil
	}
	if offset+int64(len(val)) > maxStringBytes {
		return ErrStringTooBig
	}
	if o == nil || int64(len(o.str)) < offset+int64(len(val)) {
		have := int64(0)
		if o != nil {
			have = int64(len(o.str))
		}
		if err := e.reserve(offset+int64(len(val))-have, "SETRANGE to offset "+strconv.FormatInt(offset, 10)); err != nil {
			return err
		}
	}
	if o == nil {
		o = newString(nil)
		db.add(a[1], o)
	}
	o.str = growZero(o.str, int(offset)+len(val))
	copy(o.str[offset:], val)
	return nil
}

// growZero extends b with zero bytes to at least n bytes (sdsgrowzero).
func growZero(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	if b == nil {
		b = []byte{}
	}
	return append(b, make([]byte, n-len(b))...)
}

// incrBy is incrDecrCommand; the TTL stays (dbOverwrite). An inline string
// stays inline (overwritten in place while its length does not change).
func (e *Engine) incrBy(key []byte, incr int64) error {
	db := e.db()
	slot, h, found := e.find(db, key)
	var v int64
	var o *object
	if found {
		if db.kindAt(slot) != rdb.KindString {
			return ErrWrongType
		}
		var cur []byte
		if en := db.entryAt(slot); en.flags&fRef != 0 {
			o = db.objs[en.idx]
			cur = o.str
		} else {
			cur = en.val()
		}
		var ok bool
		if v, ok = parseInt(cur); !ok {
			return ErrNotInteger
		}
	}
	if incr < 0 && v < 0 && incr < math.MinInt64-v || incr > 0 && v > 0 && incr > math.MaxInt64-v {
		return ErrOverflow
	}
	v += incr
	if o != nil {
		o.str = formatInt(v)
		return nil
	}
	var buf [20]byte
	hasTTL, at := false, int64(0)
	if found {
		hasTTL, at = db.ttlAt(slot)
	}
	db.putString(slot, h, found, key, strconv.AppendInt(buf[:0], v, 10), hasTTL, at)
	return nil
}

func cmdIncrByFloat(e *Engine, a [][]byte) error {
	db := e.db()
	o, err := e.lookupKind(db, a[1], rdb.KindString)
	if err != nil {
		return err
	}
	v := new(big.Float).SetPrec(longDoublePrec)
	if o != nil {
		var ok bool
		if v, ok = parseLongDouble(o.str); !ok {
			return ErrNotFloat
		}
	}
	incr, ok := parseLongDouble(a[2])
	if !ok {
		return ErrNotFloat
	}
	sum, ok := addLongDouble(v, incr)
	if !ok {
		return &Error{"ERR increment would produce NaN or Infinity"}
	}
	if o == nil {
		db.add(a[1], newString(formatLongDouble(sum)))
	} else {
		o.str = formatLongDouble(sum)
	}
	return nil
}

func cmdGetEx(e *Engine, a [][]byte) error {
	flags, expire, err := parseStringOptions(a, true)
	if err != nil {
		return err
	}
	db := e.db()
	slot, _, ok := e.find(db, a[1])
	if !ok {
		return nil
	}
	if db.kindAt(slot) != rdb.KindString {
		return ErrWrongType
	}
	var when int64
	if expire != nil {
		if when, err = e.expireMs(expire, flags, "getex"); err != nil {
			return err
		}
	}
	switch {
	case flags&(setEXAT|setPXAT) != 0 && e.live() && when <= e.now():
		db.removeSlot(slot)
	case expire != nil:
		db.setTTLAt(slot, true, when)
	case flags&setPersist != 0:
		db.setTTLAt(slot, false, 0)
	}
	return nil
}

// bitOffset is getBitOffsetFromArgument; hash allows "#n" (n*bits).
func bitOffset(arg []byte, hash bool, bits int) (uint64, error) {
	bad := &Error{"ERR bit offset is not an integer or out of range"}
	use := hash && bits > 0 && len(arg) > 0 && arg[0] == '#'
	p := arg
	if use {
		p = arg[1:]
	}
	v, ok := parseInt(p)
	if !ok {
		return 0, bad
	}
	if use {
		v *= int64(bits) // wraps like C's signed multiply on x86-64
	}
	if v < 0 || v>>3 >= maxStringBytes {
		return 0, bad
	}
	return uint64(v), nil
}

// stringForBits is lookupStringForBitCommand: the string of key grown (with
// zeros) to hold bit maxbit, created when missing.
func (e *Engine) stringForBits(key []byte, maxbit uint64) (*object, error) {
	db := e.db()
	o, err := e.lookupKind(db, key, rdb.KindString)
	if err != nil {
		return nil, err
	}
	n := int(maxbit>>3) + 1
	have := 0
	if o != nil {
		have = len(o.str)
	}
	if n > have {
		if err := e.reserve(int64(n-have), "bit offset "+strconv.FormatUint(maxbit, 10)); err != nil {
			return nil, err
		}
	}
	if o == nil {
		o = newString(make([]byte, n))
		db.add(key, o)
		return o, nil
	}
	o.str = growZero(o.str, n)
	return o, nil
}

func cmdSetBit(e *Engine, a [][]byte) error {
	off, err := bitOffset(a[2], false, 0)
	if err != nil {
		return err
	}
	on, err := argIntMsg(a[3], "bit is not an integer or out of range")
	if err != nil {
		return err
	}
	if on&^1 != 0 {
		return &Error{"ERR bit is not an integer or out of range"}
	}
	o, err := e.stringForBits(a[1], off)
	if err != nil {
		return err
	}
	bit := 7 - off&7
	o.str[off>>3] = o.str[off>>3]&^(1<<bit) | byte(on)<<bit
	return nil
}

func getUnsignedBits(p []byte, offset uint64, bits int) uint64 {
	var v uint64
	for j := 0; j < bits; j++ {
		b := p[offset>>3]
		v = v<<1 | uint64(b>>(7-offset&7)&1)
		offset++
	}
	return v
}

func getSignedBits(p []byte, offset uint64, bits int) int64 {
	v := getUnsignedBits(p, offset, bits)
	if bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= ^uint64(0) << bits
	}
	return int64(v)
}

func setBits(p []byte, offset uint64, bits int, v uint64) {
	for j := 0; j < bits; j++ {
		bit := v >> (bits - 1 - j) & 1
		shift := 7 - offset&7
		p[offset>>3] = p[offset>>3]&^(1<<shift) | byte(bit)<<shift
		offset++
	}
}

// Overflow behaviours of BITFIELD.
const (
	bfWrap = iota
	bfSat
	bfFail
)

// unsignedOverflow is checkUnsignedBitfieldOverflow.
func unsignedOverflow(value uint64, incr int64, bits int, ow int) (bool, uint64) {
	max := ^uint64(0)
	if bits < 64 {
		max = 1<<bits - 1
	}
	maxincr := int64(max - value)
	minincr := int64(-value)
	wrap := func() uint64 {
		res := value + uint64(incr)
		if bits < 64 {
			res &= 1<<bits - 1
		}
		return res
	}
	if value > max || incr > 0 && incr > maxincr {
		switch ow {
		case bfWrap:
			return true, wrap()
		case bfSat:
			return true, max
		}
		return true, 0
	}
	if incr < 0 && incr < minincr {
		switch ow {
		case bfWrap:
			return true, wrap()
		case bfSat:
			return true, 0
		}
		return true, 0
	}
	return false, 0
}

// signedOverflow is checkSignedBitfieldOverflow.
func signedOverflow(value, incr int64, bits int, ow int) (bool, int64) {
	max := int64(math.MaxInt64)
	if bits < 64 {
		max = 1<<(bits-1) - 1
	}
	min := -max - 1
	maxincr := int64(uint64(max) - uint64(value))
	minincr := min - value
	wrap := func() int64 {
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := ^uint64(0) << bits
			if c&(1<<(bits-1)) != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	if value > max || bits != 64 && incr > maxincr || value >= 0 && incr > 0 && incr > maxincr {
		switch ow {
		case bfWrap:
			return true, wrap()
		case bfSat:
			return true, max
		}
		return true, 0
	}
	if value < min || bits != 64 && incr < minincr || value < 0 && incr < 0 && incr < minincr {
		switch ow {
		case bfWrap:
			return true, wrap()
		case bfSat:
			return true, min
		}
		return true, 0
	}
	return false, 0
}

type bitfieldOp struct {
	opcode int // 0 get, 1 set, 2 incrby
	offset uint64
	value  int64
	ow     int
	bits   int
	signed bool
}

func cmdBitfield(e *Engine, a [][]byte) error {
	var ops []bitfieldOp
	ow := bfWrap
	readonly := true
	var highest uint64
	for j := 2; j < len(a); j++ {
		rem := len(a) - j - 1
		var op bitfieldOp
		switch {
		case is(a[j], "GET") && rem >= 2:
			op.opcode = 0
		case is(a[j], "SET") && rem >= 3:
			op.opcode = 1
		case is(a[j], "INCRBY") && rem >= 3:
			op.opcode = 2
		case is(a[j], "OVERFLOW") && rem >= 1:
			j++
			switch {
			case is(a[j], "WRAP"):
				ow = bfWrap
			case is(a[j], "SAT"):
				ow = bfSat
			case is(a[j], "FAIL"):
				ow = bfFail
			default:
				return &Error{"ERR Invalid OVERFLOW type specified"}
			}
			continue
		default:
			return ErrSyntax
		}
		t := a[j+1]
		badType := &Error{"ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."}
		if len(t) == 0 || t[0] != 'i' && t[0] != 'u' {
			return badType
		}
		op.signed = t[0] == 'i'
		n, ok := parseInt(t[1:])
		if !ok || n < 1 || op.signed && n > 64 || !op.signed && n > 63 {
			return badType
		}
		op.bits = int(n)
		off, err := bitOffset(a[j+2], true, op.bits)
		if err != nil {
			return err
		}
		op.offset = off
		if op.opcode != 0 {
			readonly = false
			if highest < off+uint64(op.bits)-1 {
				highest = off + uint64(op.bits) - 1
			}
			if op.value, err = argInt(a[j+3]); err != nil {
				return err
			}
		}
		op.ow = ow
		ops = append(ops, op)
		if op.opcode == 0 {
			j += 2
		} else {
			j += 3
		}
	}
	if readonly {
		_, err := e.lookupKind(e.db(), a[1], rdb.KindString)
		return err
	}
	o, err := e.stringForBits(a[1], highest)
	if err != nil {
		return err
	}
	for _, op := range ops {
		if op.opcode == 0 {
			continue // GET changes nothing
		}
		if op.signed {
			old := getSignedBits(o.str, op.offset, op.bits)
			var nv int64
			var overflow bool
			var wrapped int64
			if op.opcode == 2 {
				overflow, wrapped = signedOverflow(old, op.value, op.bits, op.ow)
				nv = old + op.value
			} else {
				nv = op.value
				overflow, wrapped = signedOverflow(nv, 0, op.bits, op.ow)
			}
			if overflow {
				nv = wrapped
			}
			if !(overflow && op.ow == bfFail) {
				setBits(o.str, op.offset, op.bits, uint64(nv))
			}
		} else {
			old := getUnsignedBits(o.str, op.offset, op.bits)
			var nv uint64
			var overflow bool
			var wrapped uint64
			if op.opcode == 2 {
				nv = old + uint64(op.value)
				overflow, wrapped = unsignedOverflow(old, op.value, op.bits, op.ow)
			} else {
				nv = uint64(op.value)
				overflow, wrapped = unsignedOverflow(nv, 0, op.bits, op.ow)
			}
			if overflow {
				nv = wrapped
			}
			if !(overflow && op.ow == bfFail) {
				setBits(o.str, op.offset, op.bits, nv)
			}
		}
	}
	return nil
}

func cmdBitop(e *Engine, a [][]byte) error {
	const (
		opAnd = iota
		opOr
		opXor
		opNot
	)
	var op int
	switch {
	case is(a[1], "AND"):
		op = opAnd
	case is(a[1], "OR"):
		op = opOr
	case is(a[1], "XOR"):
		op = opXor
	case is(a[1], "NOT"):
		op = opNot
	default:
		return ErrSyntax
	}
	if op == opNot && len(a) != 4 {
		return &Error{"ERR BITOP NOT must be called with a single source key."}
	}
	db := e.db()
	srcs := make([][]byte, 0, len(a)-3)
	maxlen := 0
	for _, k := range a[3:] {
		o := e.view(db, k)
		if o != nil && o.kind != rdb.KindString {
			return ErrWrongType
		}
		var s []byte
		if o != nil {
			s = o.str
		}
		srcs = append(srcs, s)
		maxlen = max(maxlen, len(s))
	}
	if maxlen == 0 {
		e.del(db, a[2])
		return nil
	}
	if err := e.reserve(int64(maxlen), "BITOP"); err != nil {
		return err
	}
	res := make([]byte, maxlen)
	at := func(s []byte, j int) byte {
		if j < len(s) {
			return s[j]
		}
		return 0
	}
	for j := range res {
		out := at(srcs[0], j)
		if op == opNot {
			out = ^out
		}
		for _, s := range srcs[1:] {
			b := at(s, j)
			switch op {
			case opAnd:
				out &= b
			case opOr:
				out |= b
			case opXor:
				out ^= b
			}
		}
		res[j] = out
	}
	e.setKey(db, a[2], newString(res), false)
	return nil
}
