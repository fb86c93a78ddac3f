//go:build amd64 && !purego

package crc64

import (
	"math/rand/v2"
	"testing"
)

// TestFoldConstants checks xPowModP against the table CRC: a message of a 1
// bit followed by 8L-1 zero bits is x^(8L-1), whose CRC is x^(8L+63) mod P.
// Every folding exponent (T+63 and T-1 with T a multiple of 128) has this form.
func TestFoldConstants(t *testing.T) {
	for _, k := range [][2]uint64{foldKeys.by512, foldKeys.by128} {
		t.Logf("fold constants %#016x %#016x", k[0], k[1])
	}
	for e := 71; e <= 1024; e += 8 {
		msg := make([]byte, (e-63)/8)
		msg[0] = 1
		if got, want := xPowModP(e), updateTable(0, msg); got != want {
			t.Errorf("xPowModP(%d) = %#x, CRC of x^%d is %#x", e, got, 8*len(msg)-1, want)
		}
	}
}

// TestFoldBlocks drives the assembly directly, so that a machine without
// PCLMULQDQ reports it as skipped rather than silently testing the table twice.
func TestFoldBlocks(t *testing.T) {
	if !useFolding {
		t.Skip("CPU lacks PCLMULQDQ")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	buf := randomBytes(rng, 4096+15)
	for n := minFoldLen; n <= 4096; n += 16 {
		off := rng.IntN(16)
		p := buf[off : off+n]
		crc := rng.Uint64()
		if got, want := remainderCRC(foldBlocks(crc, p, &foldKeys)), bitwiseUpdate(crc, p); got != want {
			t.Fatalf("foldBlocks(%#x, len %d at offset %d) gives %#x, want %#x", crc, n, off, got, want)
		}
	}
}
