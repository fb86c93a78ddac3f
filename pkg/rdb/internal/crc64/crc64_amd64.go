//go:build amd64 && !purego

package crc64

import (
	"encoding/binary"

	"golang.org/x/sys/cpu"
)

// Folding with carry-less multiplication, after Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction" (Intel, 2009).
//
// Read the input as a polynomial M over GF(2) whose first bit is the highest
// power. In reflected bit order, bit j of a 16-byte block loaded little-endian
// is the coefficient of x^(127-j) within the block. The CRC is M·x^64 mod P; a
// starting CRC c is xored into the first 8 bytes, which adds c·x^(n-64) to M
// and hence c·x^n to the result, exactly what continuing a CRC means.
//
// Only M mod P matters, so an accumulator A = H·x^64 + L (H is the low, L the
// high quadword of the register) standing T bits before block B may be
// replaced by
//
//	A·x^T + B ≡ H·(x^(T+64) mod P) + L·(x^T mod P) + B  (mod P),
//
// which again fits in 128 bits: two 64×64-bit carry-less multiplies and
// xors per 16 bytes, with no dependency between accumulators T bits apart.
//
// Bit k of the carry-less product of two reflected 64-bit values is the
// coefficient of x^(126-k), one less than the 128-bit reflected frame's
// x^(127-k): the product arrives multiplied by x. Hence the constants are
// x^(T+63) mod P and x^(T-1) mod P.
//
// The last accumulator A satisfies CRC = A·x^64 mod P, which is by definition
// the CRC of A's 16 bytes from a zero register; one table step computes it
// (remainderCRC), in place of the paper's Barrett reduction.

// foldConstants holds, per folding distance T, {x^(T+63) mod P, x^(T-1) mod P}
// in reflected form: the multipliers of the low and high quadword.
type foldConstants struct {
	by512 [2]uint64 // four accumulators, 64 bytes apart
	by128 [2]uint64 // one accumulator into the next block
}

var foldKeys = foldConstants{by512: foldPair(512), by128: foldPair(128)}

func foldPair(distance int) [2]uint64 {
	return [2]uint64{xPowModP(distance + 63), xPowModP(distance - 1)}
}

// xPowModP returns x^e mod P in reflected form (bit j is the coefficient of
// x^(63-j)): start from 1 and multiply by x e times, which in reflected form is
// a right shift, subtracting P whenever x^64 appears.
func xPowModP(e int) uint64 {
	r := uint64(1) << 63
	for range e {
		if r&1 != 0 {
			r = r>>1 ^ reversedPoly
		} else {
			r >>= 1
		}
	}
	return r
}

// minFoldLen is the shortest input the assembly accepts: it starts with four
// 16-byte accumulators. At 64 bytes it already beats the table by half.
const minFoldLen = 64

var useFolding = cpu.X86.HasPCLMULQDQ

// foldBlocks folds p, whose length is a multiple of 16 and at least
// minFoldLen, into a 128-bit remainder (lo, hi) congruent to the message with
// crc xored into its first 8 bytes. Implemented in crc64_amd64.s.
//
//go:noescape
func foldBlocks(crc uint64, p []byte, k *foldConstants) (lo, hi uint64)

func update(crc uint64, p []byte) uint64 {
	if useFolding && len(p) >= minFoldLen {
		n := len(p) &^ 15
		crc = remainderCRC(foldBlocks(crc, p[:n], &foldKeys))
		p = p[n:]
	}
	return updateTable(crc, p)
}

// remainderCRC turns the folded remainder A into the CRC A·x^64 mod P: the
// CRC of A's 16 bytes from a zero register.
func remainderCRC(lo, hi uint64) uint64 {
	var a [16]byte
	binary.LittleEndian.PutUint64(a[:8], lo)
	binary.LittleEndian.PutUint64(a[8:], hi)
	return updateTable(0, a[:])
}
