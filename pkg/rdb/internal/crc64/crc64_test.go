package crc64

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// bitwiseUpdate is the definition: a right-shifting register, one bit at a time.
func bitwiseUpdate(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ reversedPoly
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

func randomBytes(rng *rand.Rand, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(rng.Uint32())
	}
	return p
}

func TestCheckValue(t *testing.T) {
	const want uint64 = 0xE9C6D914C4B8D9CA // Redis's crc64 self-test value
	msg := []byte("123456789")
	for name, got := range map[string]uint64{
		"Checksum":    Checksum(msg),
		"Update":      Update(Update(0, msg[:4]), msg[4:]),
		"updateTable": updateTable(0, msg),
		"bitwise":     bitwiseUpdate(0, msg),
	} {
		if got != want {
			t.Errorf("%s(%q) = %#x, want %#x", name, msg, got, want)
		}
	}
}

// TestEveryLength compares against the bitwise definition and the table for
// every length up to 1024 at every alignment 0..15, from random starting CRCs.
func TestEveryLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := randomBytes(rng, 1024+16)
	for n := 0; n <= 1024; n++ {
		for off := range 16 {
			p := buf[off : off+n]
			crc := rng.Uint64()
			want := bitwiseUpdate(crc, p)
			if got := Update(crc, p); got != want {
				t.Fatalf("Update(%#x, len %d at offset %d) = %#x, want %#x", crc, n, off, got, want)
			}
			if got := updateTable(crc, p); got != want {
				t.Fatalf("updateTable(%#x, len %d at offset %d) = %#x, want %#x", crc, n, off, got, want)
			}
			if crc == 0 || off == 0 {
				if got := Checksum(p); got != bitwiseUpdate(0, p) {
					t.Fatalf("Checksum(len %d at offset %d) = %#x", n, off, got)
				}
			}
		}
	}
}

// TestChunking checks that any split of a large buffer gives the same CRC.
func TestChunking(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := randomBytes(rng, 1<<20+13)
	want := updateTable(0, buf)
	if got := Checksum(buf); got != want {
		t.Fatalf("Checksum = %#x, want %#x", got, want)
	}
	for trial := range 200 {
		var crc uint64
		for p := buf; len(p) > 0; {
			// Mostly short chunks, sometimes long ones, so the folding
			// path sees ragged starts and ends.
			n := rng.IntN(300)
			if rng.IntN(8) == 0 {
				n = rng.IntN(64 << 10)
			}
			n = min(n, len(p))
			crc = Update(crc, p[:n])
			p = p[n:]
		}
		if crc != want {
			t.Fatalf("trial %d: chunked CRC = %#x, want %#x", trial, crc, want)
		}
	}
}

func FuzzUpdate(f *testing.F) {
	f.Add(uint64(0), []byte("123456789"), uint(4))
	f.Add(uint64(1<<63|1), make([]byte, 200), uint(77))
	f.Fuzz(func(t *testing.T, crc uint64, p []byte, split uint) {
		want := updateTable(crc, p)
		if got := Update(crc, p); got != want {
			t.Fatalf("Update(%#x, len %d) = %#x, want %#x", crc, len(p), got, want)
		}
		i := int(split % uint(len(p)+1))
		if got := Update(Update(crc, p[:i]), p[i:]); got != want {
			t.Fatalf("Update split at %d of %d = %#x, want %#x", i, len(p), got, want)
		}
	})
}

var benchSizes = []int{64, 1 << 10, 64 << 10, 1 << 20}

func benchmark(b *testing.B, update func(uint64, []byte) uint64) {
	for _, size := range benchSizes {
		buf := randomBytes(rand.New(rand.NewPCG(5, 6)), size)
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			var crc uint64
			for b.Loop() {
				crc = update(crc, buf)
			}
		})
	}
}

// BenchmarkUpdate measures the dispatching entry point (the folding path on
// amd64 unless built with -tags purego).
func BenchmarkUpdate(b *testing.B) { benchmark(b, Update) }

// BenchmarkUpdateTable measures the portable slicing-by-16 fallback.
func BenchmarkUpdateTable(b *testing.B) { benchmark(b, updateTable) }
