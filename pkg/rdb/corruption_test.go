package rdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// corruptionSource is a real RDB written by Redis 7.0 (every type it writes,
// streams with groups and PEL, functions).
func corruptionSource(t *testing.T) (string, []byte) {
	p := filepath.Join(moduleRoot(), "fixtures", "types-7.0.rdb")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

type mutation struct {
	name string
	data []byte
}

// mutations returns 2,500 single-byte flips spread evenly over the file and 250
// truncations, deterministically.
func mutations(orig []byte) []mutation {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []mutation
	const flips, cuts = 2500, 250
	for i := 0; i < flips; i++ {
		pos := i * len(orig) / flips
		b := bytes.Clone(orig)
		b[pos] ^= byte(1 + rng.IntN(255))
		out = append(out, mutation{fmt.Sprintf("flip@%d", pos), b})
	}
	for i := 0; i < cuts; i++ {
		cut := i * (len(orig) - 1) / (cuts - 1)
		out = append(out, mutation{fmt.Sprintf("cut@%d", cut), orig[:cut]})
	}
	return out
}

// TestCorruption damages a real file in 2,750 ways: every one must be reported as
// invalid (ErrCorrupt, ErrTruncated or ErrChecksum, which the CLI maps to exit
// 3) with a *ParseError, never accepted, never a panic or hang. Where Redis is
// installed, redis-check-rdb runs on the same files and the agreement is logged.
func TestCorruption(t *testing.T) {
	_, orig := corruptionSource(t)
	var checker string
	if bins, err := redistest.Lookup(); err == nil {
		checker = bins.CheckRDB
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("redis-check-rdb missing under CI: %v", err)
	}
	dir := t.TempDir()
	bySentinel := map[string]int{}
	agree, disagree := 0, 0
	var examples []string
	// redis-check-rdb costs a process per file: every fifth file by default,
	// all of them with RDBTOOL_FULL_CORRUPTION=1.
	sample := 5
	if os.Getenv("RDBTOOL_FULL_CORRUPTION") == "1" {
		sample = 1
	}
	for i, m := range mutations(orig) {
		_, err := drain(rdb.NewReaderBytes(m.data, rdb.ReaderOptions{Strict: true}))
		if got := classify(err); got != "invalid" {
			t.Fatalf("%s: got %s (%v), want invalid", m.name, got, err)
		}
		var pe *rdb.ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: %v is not a *ParseError", m.name, err)
		}
		bySentinel[sentinelName(err)]++
		if _, serr := skipAll(m.data, rdb.ReaderOptions{Strict: true}); classify(serr) != "invalid" {
			t.Fatalf("%s: skipping values gives %s (%v), want invalid", m.name, classify(serr), serr)
		}
		if checker == "" || i%sample != 0 {
			continue
		}
		p := filepath.Join(dir, "m.rdb")
		if err := os.WriteFile(p, m.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if exec.Command(checker, p).Run() != nil {
			agree++ // redis-check-rdb rejected it too
		} else {
			disagree++
			if len(examples) < 5 {
				examples = append(examples, m.name)
			}
		}
	}
	t.Logf("%d damaged files, all invalid for rdbtool: %v", len(mutations(orig)), bySentinel)
	if checker != "" {
		t.Logf("redis-check-rdb, run on %d of them, rejected %d and accepted %d (accepted e.g. %v)", agree+disagree, agree, disagree, examples)
	}
}

func sentinelName(err error) string {
	for _, s := range []error{rdb.ErrChecksum, rdb.ErrTruncated, rdb.ErrCorrupt} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other"
}
