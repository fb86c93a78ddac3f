package rdb

import (
	"bufio"
	"encoding/binary"
	"hash/maphash"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/internal/scratch"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/codec"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/lzf"
)

// output buffers what the Writer produces and keeps the running CRC-64.
type output struct {
	w   io.Writer
	buf []byte
	crc uint64
	err error
	par *parOut // parallel compression (writer_parallel.go); nil: none
	seg bool    // a SegmentWriter's: everything stays in buf
}

const outFlushSize = 64 << 10

func (o *output) flush() error {
	if o.seg {
		return o.err
	}
	if o.par != nil {
		return o.drain()
	}
	if o.err != nil || len(o.buf) == 0 {
		return o.err
	}
	o.crc = UpdateCRC64(o.crc, o.buf)
	_, o.err = o.w.Write(o.buf)
	o.buf = o.buf[:0]
	return o.err
}

// maybeFlush writes the buffer out once it is large.
func (o *output) maybeFlush() error {
	if o.seg {
		return o.err
	}
	if o.par != nil {
		if o.parSize() >= parChunkBytes {
			return o.submit()
		}
		return o.err
	}
	if len(o.buf) >= outFlushSize {
		return o.flush()
	}
	return o.err
}

// write appends p, writing big slices straight through.
func (o *output) write(p []byte) error {
	if len(p) < outFlushSize || o.par != nil || o.seg {
		o.buf = append(o.buf, p...)
		return o.maybeFlush()
	}
	if err := o.flush(); err != nil {
		return err
	}
	o.crc = UpdateCRC64(o.crc, p)
	_, o.err = o.w.Write(p)
	return o.err
}

// appendLen appends an RDB length (FORMAT-NOTES §2.1) in its smallest form.
func appendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, 0x40|byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		dst = append(dst, 0x80)
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	dst = append(dst, 0x81)
	return binary.BigEndian.AppendUint64(dst, n)
}

func appendMs64(dst []byte, ms int64) []byte {
	return binary.LittleEndian.AppendUint64(dst, uint64(ms))
}

func appendRawID(dst []byte, id StreamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.Ms)
	return binary.BigEndian.AppendUint64(dst, id.Seq)
}

// strEncoder writes RDB strings (§2.2) as Redis's rdbSaveRawString does:
// integer encoding for canonical integers of at most 11 bytes that fit in 32
// bits, LZF for strings longer than 20 bytes when it saves at least 4 bytes,
// raw otherwise.
type strEncoder struct {
	compress bool
	lzfBuf   []byte
}

func (s *strEncoder) appendStr(dst, b []byte) []byte {
	if len(b) <= 11 {
		if v, ok := codec.ParseCanonicalInt(b); ok && v >= math.MinInt32 && v <= math.MaxInt32 {
			return appendIntStr(dst, v)
		}
	}
	if s.compress && len(b) > 20 {
		c, ok := lzf.Compress(s.lzfBuf[:0], b)
		s.lzfBuf = c // also after a failure: incompressible values are common
		if ok {
			dst = append(dst, 0xC3)
			dst = appendLen(dst, uint64(len(c)))
			dst = appendLen(dst, uint64(len(b)))
			return append(dst, c...)
		}
	}
	dst = appendLen(dst, uint64(len(b)))
	return append(dst, b...)
}

// appendIntStr writes v (which fits in 32 bits) as an integer-encoded string.
func appendIntStr(dst []byte, v int64) []byte {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(dst, 0xC0, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return append(dst, 0xC1, byte(v), byte(v>>8))
	}
	return append(dst, 0xC2, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// Score text, as the servers render doubles.

// double2ll is Redis 7's double2ll: the integer value of d when d is integral
// and within ±LLONG_MAX/2.
func double2ll(d float64) (int64, bool) {
	const lim = float64(math.MaxInt64 / 2)
	if !(d >= -lim && d <= lim) {
		return 0, false
	}
	ll := int64(d)
	return ll, float64(ll) == d
}

// small2ll is the integer test of Redis ≤ 6.2's d2string and of
// rdbSaveDoubleValue: integral and strictly within ±2^52.
func small2ll(d float64) (int64, bool) {
	if d > -4503599627370495 && d < 4503599627370496 && d == float64(int64(d)) {
		return int64(d), true
	}
	return 0, false
}

// appendG17 appends d as C's printf("%.17g") renders it.
func appendG17(dst []byte, d float64) []byte {
	if d == 0 {
		if math.Signbit(d) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	s := strconv.FormatFloat(d, 'e', 16, 64) // [-]d.dddddddddddddddde±XX: 17 significant digits
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := mant[:1] + mant[2:]
	if neg {
		dst = append(dst, '-')
	}
	if exp < -4 || exp >= 17 {
		frac := strings.TrimRight(digits[1:], "0")
		dst = append(dst, digits[0])
		if frac != "" {
			dst = append(dst, '.')
			dst = append(dst, frac...)
		}
		return appendCExp(dst, exp, 2)
	}
	var intPart, frac string
	if exp >= 0 {
		intPart, frac = digits[:exp+1], digits[exp+1:]
	} else {
		intPart, frac = "0", strings.Repeat("0", -exp-1)+digits
	}
	frac = strings.TrimRight(frac, "0")
	dst = append(dst, intPart...)
	if frac != "" {
		dst = append(dst, '.')
		dst = append(dst, frac...)
	}
	return dst
}

// appendCExp appends "e±NN" with at least minDigits exponent digits.
func appendCExp(dst []byte, exp, minDigits int) []byte {
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	e := strconv.Itoa(exp)
	for i := len(e); i < minDigits; i++ {
		dst = append(dst, '0')
	}
	return append(dst, e...)
}

// appendFpconv appends d as Redis 7.2+'s fpconv_dtoa renders it: the shortest
// digits that read back as d, laid out as its emit_digits does. (fpconv uses
// Grisu2, which in rare cases emits a digit more than the shortest form; both
// texts parse to the same double.)
func appendFpconv(dst []byte, d float64) []byte {
	if d == 0 {
		if math.Signbit(d) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	s := strconv.FormatFloat(d, 'e', -1, 64)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
		dst = append(dst, '-')
	}
	mant, expText, _ := strings.Cut(s, "e")
	x, _ := strconv.Atoi(expText)
	digits := mant
	if len(mant) > 1 {
		digits = mant[:1] + mant[2:]
	}
	nd := len(digits)
	k := x - (nd - 1) // value = digits × 10^k
	exp := x
	if exp < 0 {
		exp = -exp
	}
	if k >= 0 && exp < nd+7 {
		dst = append(dst, digits...)
		return append(dst, strings.Repeat("0", k)...)
	}
	if k < 0 && (k > -7 || exp < 4) {
		offset := nd + k
		if offset <= 0 {
			dst = append(dst, "0."...)
			dst = append(dst, strings.Repeat("0", -offset)...)
			return append(dst, digits...)
		}
		dst = append(dst, digits[:offset]...)
		dst = append(dst, '.')
		return append(dst, digits[offset:]...)
	}
	maxDigits := 18
	if neg {
		maxDigits = 17
	}
	if nd > maxDigits {
		digits, nd = digits[:maxDigits], maxDigits
	}
	dst = append(dst, digits[0])
	if nd > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	return appendCExp(dst, x, 1)
}

// appendRDBTextScore appends a ZSET (type 3) score as rdbSaveDoubleValue
// writes it: a length byte and text, or 253/254/255 for NaN/+inf/-inf.
// Negative zero keeps its sign ("-0"; Redis 3.2 wrote "0").
func appendRDBTextScore(dst []byte, d float64) []byte {
	switch {
	case math.IsInf(d, 1):
		return append(dst, 254)
	case math.IsInf(d, -1):
		return append(dst, 255)
	}
	var tmp [40]byte
	var t []byte
	if v, ok := small2ll(d); ok && !(d == 0 && math.Signbit(d)) {
		t = strconv.AppendInt(tmp[:0], v, 10)
	} else {
		t = appendG17(tmp[:0], d)
	}
	dst = append(dst, byte(len(t)))
	return append(dst, t...)
}

// spool holds encoded bytes whose count prefix is not known yet: in memory up
// to a limit, then in a temporary file.
type spool struct {
	mem   []byte
	f     *os.File
	size  int64
	limit int64 // < 0: never use a file
	dir   string
	fbuf  *bufio.Writer
}

func (s *spool) write(p []byte) error {
	s.size += int64(len(p))
	if s.f == nil {
		if s.limit < 0 || int64(len(s.mem))+int64(len(p)) <= s.limit {
			s.mem = append(s.mem, p...)
			return nil
		}
		f, err := scratch.New(s.dir, "rdbtool-spool-*") // nameless: nothing left behind on a kill
		if err != nil {
			return err
		}
		s.f = f
		if s.fbuf == nil {
			s.fbuf = bufio.NewWriterSize(f, 256<<10)
		} else {
			s.fbuf.Reset(f)
		}
		if _, err := s.fbuf.Write(s.mem); err != nil {
			return err
		}
		s.mem = s.mem[:0]
	}
	_, err := s.fbuf.Write(p)
	return err
}

// reader returns the spooled bytes from the start; valid until reset.
func (s *spool) reader() (io.Reader, error) {
	if s.f == nil {
		return &sliceReader{b: s.mem}, nil
	}
	if err := s.fbuf.Flush(); err != nil {
		return nil, err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(s.f, 256<<10), nil
}

// copyTo writes the spooled bytes to o.
func (s *spool) copyTo(o *output) error {
	if s.f == nil {
		return o.write(s.mem)
	}
	r, err := s.reader()
	if err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := o.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// reset empties the spool, removing its file.
func (s *spool) reset() error {
	var err error
	if s.f != nil {
		err = scratch.Remove(s.f)
		s.f = nil
	}
	if cap(s.mem) > 4<<20 {
		s.mem = nil
	}
	s.mem = s.mem[:0]
	s.size = 0
	return err
}

// sliceReader is a minimal bytes.Reader.
type sliceReader struct {
	b []byte
	i int
}

func (r *sliceReader) ReadByte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	r.i++
	return r.b[r.i-1], nil
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

// dupSet detects repeated elements by a 128-bit digest (two independent
// seeded hashes), so it need not keep the elements themselves.
type dupSet struct {
	seeds [2]maphash.Seed
	m     map[[2]uint64]struct{}
}

func newDupSet() dupSet {
	return dupSet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64]struct{}{}}
}

// add reports false when b was added before.
func (d *dupSet) add(b []byte) bool {
	k := [2]uint64{maphash.Bytes(d.seeds[0], b), maphash.Bytes(d.seeds[1], b)}
	if _, ok := d.m[k]; ok {
		return false
	}
	d.m[k] = struct{}{}
	return true
}

func (d *dupSet) reset() {
	if len(d.m) > 4096 {
		d.m = map[[2]uint64]struct{}{}
	} else {
		clear(d.m)
	}
}
