package engine

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// HyperLogLog commands (hyperloglog.c): PFADD, PFCOUNT, PFMERGE. Redis 7 logs
// all three as themselves (PFCOUNT because it rewrites the cardinality cached
// in the header), so a replay reproduces Redis's representation byte for
// byte:
//
//	"HYLL" | encoding (0 dense, 1 sparse) | 3 unused | 8-byte cached
//	cardinality, little endian, invalid when the top bit of its last byte is
//	set | registers
//
// Dense registers are 16384 6-bit values packed LSB first (12288 bytes).
// Sparse registers are run-length opcodes: ZERO 00xxxxxx (1-64 zero
// registers), XZERO 01xxxxxx yyyyyyyy (1-16384 zero registers), VAL 1vvvvvxx
// (1-4 registers of value 1-32). An element's register and value come from
// MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register, the
// value is 1 + the number of trailing zeros of the remaining 50 bits. A sparse
// HLL becomes dense when a value exceeds 32 or when it would grow beyond
// hll-sparse-max-bytes (3000, the default). The cardinality estimate is
// Ertl's improved estimator, which Redis uses since 5.0.

const (
	hllP             = 14
	hllQ             = 64 - hllP
	hllRegisters     = 1 << hllP
	hllBits          = 6
	hllRegMax        = 1<<hllBits - 1
	hllHdrSize       = 16
	hllDenseSize     = hllHdrSize + (hllRegisters*hllBits+7)/8
	hllDense         = 0
	hllSparse        = 1
	hllSparseValMax  = 32
	hllSparseValLen  = 4
	hllSparseZeroMax = 64
	hllSparseXZeroMx = 16384
	hllSparseMaxSize = 3000 // hll-sparse-max-bytes
	hllAlphaInf      = 0.721347520444481703680
)

var errHLLType = &Error{"WRONGTYPE Key is not a valid HyperLogLog string value."}

var errHLLInvalid = &Error{"INVALIDOBJ Corrupted HLL object detected"}

func registerHLL() {
	register("pfadd", -2, cmdPFAdd)
	register("pfcount", -2, cmdPFCount)
	register("pfmerge", -2, cmdPFMerge)
}

// murmur64A is MurmurHash64A as in Redis (little-endian reads).
func murmur64A(data []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ (uint64(len(data)) * m)
	n := len(data) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(data[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	rest := data[n:]
	if len(rest) > 0 {
		for i := len(rest) - 1; i >= 0; i-- {
			h ^= uint64(rest[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen is the register index and value of an element.
func hllPatLen(ele []byte) (int, uint8) {
	h := murmur64A(ele, 0xadc83b19)
	idx := int(h & (hllRegisters - 1))
	h >>= hllP
	h |= 1 << hllQ
	return idx, uint8(bits.TrailingZeros64(h) + 1)
}

// newHLL is createHLLObject: an empty sparse HLL (one XZERO of 16384).
func newHLL() []byte {
	b := make([]byte, hllHdrSize+2)
	copy(b, "HYLL")
	b[4] = hllSparse
	b[hllHdrSize] = 0x40 | byte((hllRegisters-1)>>8)
	b[hllHdrSize+1] = byte((hllRegisters - 1) & 0xff)
	return b
}

// validHLL is isHLLObjectOrReply's check of a string value.
func validHLL(s []byte) bool {
	if len(s) < hllHdrSize || string(s[:4]) != "HYLL" || s[4] > hllSparse {
		return false
	}
	return s[4] != hllDense || len(s) == hllDenseSize
}

// hllObject looks key up for an HLL command: nil when absent, an error when it
// is not a valid HLL string.
func (e *Engine) hllObject(key []byte) (*object, error) {
	o, err := e.lookupKind(e.db(), key, rdb.KindString)
	if err != nil {
		return nil, err
	}
	if o != nil && !validHLL(o.str) {
		return nil, errHLLType
	}
	return o, nil
}

func hllInvalidate(s []byte) { s[15] |= 0x80 }

func denseGet(r []byte, i int) uint8 {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	b0 := uint(r[byt])
	var b1 uint
	if byt+1 < len(r) {
		b1 = uint(r[byt+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func denseSet(r []byte, i int, v uint8) {
	byt := i * hllBits / 8
	fb := uint(i * hllBits & 7)
	r[byt] &^= byte(hllRegMax << fb)
	r[byt] |= byte(uint(v) << fb)
	if byt+1 < len(r) {
		r[byt+1] &^= byte(hllRegMax >> (8 - fb))
		r[byt+1] |= byte(uint(v) >> (8 - fb))
	}
}

// denseUpdate is hllDenseSet: it raises register i to v and reports a change.
func denseUpdate(r []byte, i int, v uint8) bool {
	if v > denseGet(r, i) {
		denseSet(r, i, v)
		return true
	}
	return false
}

// sparseOp decodes the opcode at p: its register span, value (0 for the zero
// opcodes) and length in bytes.
func sparseOp(s []byte, p int) (span, val, oplen int) {
	c := s[p]
	switch {
	case c&0xc0 == 0:
		return int(c&0x3f) + 1, 0, 1
	case c&0x80 != 0:
		return int(c&3) + 1, int(c>>2&0x1f) + 1, 1
	default:
		// A truncated XZERO reads the NUL terminator every sds has.
		var lo int
		if p+1 < len(s) {
			lo = int(s[p+1])
		}
		return (int(c&0x3f)<<8 | lo) + 1, 0, 2
	}
}

func sparseVal(v, n int) byte { return byte((v-1)<<2|(n-1)) | 0x80 }

func sparseZeros(n int) []byte {
	if n > hllSparseZeroMax {
		return []byte{0x40 | byte((n-1)>>8), byte((n - 1) & 0xff)}
	}
	return []byte{byte(n - 1)}
}

// sparseToDense is hllSparseToDense; ok is false for a corrupted HLL.
func sparseToDense(s []byte) ([]byte, bool) {
	if s[4] == hllDense {
		return s, true
	}
	d := make([]byte, hllDenseSize)
	copy(d, s[:hllHdrSize])
	d[4] = hllDense
	r := d[hllHdrSize:]
	idx := 0
	for p := hllHdrSize; p < len(s); {
		span, val, oplen := sparseOp(s, p)
		if val > 0 {
			if span+idx > hllRegisters {
				break
			}
			for j := 0; j < span; j++ {
				denseSet(r, idx+j, uint8(val))
			}
		}
		idx += span
		p += oplen
	}
	if idx != hllRegisters {
		return nil, false
	}
	return d, true
}

// sparseSet is hllSparseSet: it raises register index to count in the HLL s,
// returning the new string, 1 when a register changed, 0 when not, -1 when
// s is corrupted.
func sparseSet(s []byte, index int, count uint8) ([]byte, int) {
	if count > hllSparseValMax {
		return promote(s, index, count)
	}
	end := len(s)
	first, span, prev := 0, 0, -1
	p := hllHdrSize
	for p < end {
		var oplen int
		span, _, oplen = sparseOp(s, p)
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return s, -1
	}
	runlen, curval, oplen := sparseOp(s, p)
	isVal := curval > 0
	if isVal {
		if curval >= int(count) {
			return s, 0
		}
	}
	if (isVal || oplen == 1) && runlen == 1 {
		s[p] = sparseVal(int(count), 1)
	} else {
		last := first + span - 1
		var seq []byte
		if !isVal {
			if index != first {
				seq = append(seq, sparseZeros(index-first)...)
			}
			seq = append(seq, sparseVal(int(count), 1))
			if index != last {
				seq = append(seq, sparseZeros(last-index)...)
			}
		} else {
			if index != first {
				seq = append(seq, sparseVal(curval, index-first))
			}
			seq = append(seq, sparseVal(int(count), 1))
			if index != last {
				seq = append(seq, sparseVal(curval, last-index))
			}
		}
		delta := len(seq) - oplen
		if delta > 0 && len(s)+delta > hllSparseMaxSize {
			return promote(s, index, count)
		}
		ns := make([]byte, 0, len(s)+len(seq))
		ns = append(ns, s[:p]...)
		ns = append(ns, seq...)
		if p+oplen <= len(s) {
			ns = append(ns, s[p+oplen:]...)
		}
		// A truncated XZERO (corrupted input) loses seq's last byte as the
		// string length only grows by delta in Redis.
		s = ns[:len(s)+delta]
	}
	// Merge adjacent VAL opcodes of the same value, scanning up to 5
	// opcodes from the previous one.
	p = hllHdrSize
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < len(s) && scan > 0; scan-- {
		c := s[p]
		if c&0xc0 == 0x40 {
			p += 2
			continue
		}
		if c&0xc0 == 0 {
			p++
			continue
		}
		if p+1 < len(s) && s[p+1]&0x80 != 0 {
			_, v1, _ := sparseOp(s, p)
			_, v2, _ := sparseOp(s, p+1)
			if v1 == v2 {
				n := int(c&3) + int(s[p+1]&3) + 2
				if n <= hllSparseValLen {
					s[p+1] = sparseVal(v1, n)
					s = append(s[:p], s[p+1:]...)
					continue
				}
			}
		}
		p++
	}
	hllInvalidate(s)
	return s, 1
}

func promote(s []byte, index int, count uint8) ([]byte, int) {
	d, ok := sparseToDense(s)
	if !ok {
		return s, -1
	}
	denseUpdate(d[hllHdrSize:], index, count)
	return d, 1
}

// hllAdd adds one element; see sparseSet for the results.
func hllAdd(s, ele []byte) ([]byte, int) {
	idx, count := hllPatLen(ele)
	if s[4] == hllDense {
		if denseUpdate(s[hllHdrSize:], idx, count) {
			return s, 1
		}
		return s, 0
	}
	return sparseSet(s, idx, count)
}

// hllMerge is hllMerge: max[i] = MAX(max[i], register i of s).
func hllMerge(max []uint8, s []byte) bool {
	if s[4] == hllDense {
		r := s[hllHdrSize:]
		for i := range max {
			if v := denseGet(r, i); v > max[i] {
				max[i] = v
			}
		}
		return true
	}
	i := 0
	for p := hllHdrSize; p < len(s); {
		span, val, oplen := sparseOp(s, p)
		if val > 0 {
			if span+i > hllRegisters {
				break
			}
			for j := i; j < i+span; j++ {
				if uint8(val) > max[j] {
					max[j] = uint8(val)
				}
			}
		}
		i += span
		p += oplen
	}
	return i == hllRegisters
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		d := 1 - x
		z -= d * d * y
		if zp == z {
			return z / 3
		}
	}
}

// hllCountHisto is hllCount's estimate from the register histogram.
func hllCountHisto(h *[64]int) uint64 {
	m := float64(hllRegisters)
	z := m * hllTau((m-float64(h[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(h[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

// hllCount is the cardinality estimate of a valid HLL; ok is false when its
// sparse registers are corrupted.
func hllCount(s []byte) (uint64, bool) {
	var h [64]int
	if s[4] == hllDense {
		r := s[hllHdrSize:]
		for i := 0; i < hllRegisters; i++ {
			h[denseGet(r, i)]++
		}
		return hllCountHisto(&h), true
	}
	idx := 0
	for p := hllHdrSize; p < len(s); {
		span, val, oplen := sparseOp(s, p)
		h[val] += span
		idx += span
		p += oplen
	}
	if idx != hllRegisters {
		return 0, false
	}
	return hllCountHisto(&h), true
}

func cmdPFAdd(e *Engine, a [][]byte) error {
	o, err := e.hllObject(a[1])
	if err != nil {
		return err
	}
	updated := false
	if o == nil {
		o = newString(newHLL())
		e.db().add(a[1], o)
		updated = true
	}
	for _, ele := range a[2:] {
		s, r := hllAdd(o.str, ele)
		o.str = s
		switch r {
		case 1:
			updated = true
		case -1:
			return errHLLInvalid
		}
	}
	if updated {
		hllInvalidate(o.str)
	}
	return nil
}

func cmdPFCount(e *Engine, a [][]byte) error {
	if len(a) > 2 {
		max := make([]uint8, hllRegisters)
		for _, k := range a[1:] {
			o, err := e.hllObject(k)
			if err != nil {
				return err
			}
			if o != nil && !hllMerge(max, o.str) {
				return errHLLInvalid
			}
		}
		return nil
	}
	o, err := e.hllObject(a[1])
	if err != nil || o == nil {
		return err
	}
	if o.str[15]&0x80 == 0 {
		return nil // the cached cardinality is valid
	}
	card, ok := hllCount(o.str)
	if !ok {
		return errHLLInvalid
	}
	binary.LittleEndian.PutUint64(o.str[8:16], card)
	return nil
}

func cmdPFMerge(e *Engine, a [][]byte) error {
	max := make([]uint8, hllRegisters)
	dense := false
	for _, k := range a[1:] {
		o, err := e.hllObject(k)
		if err != nil {
			return err
		}
		if o == nil {
			continue
		}
		if o.str[4] == hllDense {
			dense = true
		}
		if !hllMerge(max, o.str) {
			return errHLLInvalid
		}
	}
	db := e.db()
	o := e.lookup(db, a[1])
	if o == nil {
		o = newString(newHLL())
		db.add(a[1], o)
	}
	if dense {
		d, ok := sparseToDense(o.str)
		if !ok {
			return errHLLInvalid
		}
		o.str = d
	}
	for i, v := range max {
		if v == 0 {
			continue
		}
		if o.str[4] == hllDense {
			denseUpdate(o.str[hllHdrSize:], i, v)
		} else {
			o.str, _ = sparseSet(o.str, i, v)
		}
	}
	hllInvalidate(o.str)
	return nil
}
