package rdb

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// corruptionSource is a real RDB written by Redis 7.0 (every type it writes,
// streams with groups and PEL, functions).
func corruptionSource(t *testing.T) []byte {
	for _, p := range []string{
		filepath.Join("..", "..", "fixtures", "types-7.0.rdb"),
		filepath.Join(corpusDir(t), "generated", "redis-7.0.15", "small", "dump.rdb"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	t.Skip("no real RDB file to corrupt")
	return nil
}

// TestSingleByteFlips flips one byte at 2,000+ places spread over a real file:
// every one must be reported as invalid (the checksum guarantees it is invalid;
// the point is that the reader says so, with an offset, and never panics, hangs
// or accepts it).
func TestSingleByteFlips(t *testing.T) {
	orig := corruptionSource(t)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2500
	step := float64(len(orig)) / float64(n)
	buf := make([]byte, len(orig))
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		pos := int(float64(i) * step)
		copy(buf, orig)
		buf[pos] ^= byte(1 + rng.IntN(255))
		_, err := readAll(bytes.NewReader(buf), ReaderOptions{Strict: true})
		if got := classify(err); got != "invalid" {
			t.Fatalf("flip at %d: got %s (%v), want invalid", pos, got, err)
		}
		counts[firstSentinel(err)]++
	}
	t.Logf("%d flips over %d bytes: %v", n, len(orig), counts)
}

// TestTruncations cuts a real file at 200+ points: always invalid.
func TestTruncations(t *testing.T) {
	orig := corruptionSource(t)
	n := 250
	for i := 0; i < n; i++ {
		cut := i * (len(orig) - 1) / (n - 1)
		_, err := readAll(bytes.NewReader(orig[:cut]), ReaderOptions{Strict: true})
		if got := classify(err); got != "invalid" {
			t.Fatalf("cut at %d of %d: got %s (%v), want invalid", cut, len(orig), got, err)
		}
	}
}

func firstSentinel(err error) string {
	for _, s := range []error{ErrChecksum, ErrTruncated, ErrCorrupt, ErrValueTooLarge} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other"
}
