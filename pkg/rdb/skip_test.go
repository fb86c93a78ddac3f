package rdb_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
)

// readWay is how readVerdict reads.
type readWay struct {
	workers  int  // background workers (in memory only)
	streamed bool // from an io.Reader rather than from memory
	// walk takes every value element by element with NextElem instead of
	// letting Next skip it: the skip loops of plain collections and
	// sorted-set listpacks (skipPlain, skipZSetListpack) must report what
	// the element walk reports.
	walk bool
	// coarse tells an error by its offset and kind only, and not where the
	// reader stands after it: the fuzz test meets top-level strings that
	// skipping and reading word differently (a length past the input is
	// "expected n bytes" skipped, "runs past the end" read) and leave at
	// different places, which the skip loops tested here do not touch.
	coarse bool
}

// readVerdict reads data (strict) and renders everything a caller can
// observe: the error with its offset and key, where the reader stopped, the
// keys read, the checksum and every warning in order.
func readVerdict(data []byte, way readWay) string {
	var warns []string
	opts := rdb.ReaderOptions{Strict: true, Workers: way.workers,
		Warn: func(pe *rdb.ParseError) { warns = append(warns, pe.Error()) }}
	var rd *rdb.Reader
	if way.streamed {
		rd = rdb.NewReader(bytes.NewReader(data), opts)
	} else {
		rd = rdb.NewReaderBytes(data, opts)
	}
	defer rd.Close()
	var err error
	for err == nil {
		var e *rdb.Entry
		if e, err = rd.Next(); err != nil || e.Kind != rdb.EntryKey || !way.walk {
			continue
		}
		for err == nil {
			_, err = rd.NextElem()
		}
		if err == io.EOF {
			err = nil
		}
	}
	state, crc := rd.Checksum()
	var pe *rdb.ParseError
	if err != io.EOF && !errors.As(err, &pe) {
		err = fmt.Errorf("not a ParseError: %w", err)
	}
	at := rd.Offset()
	if way.coarse && pe != nil {
		kind := "other"
		for _, k := range []error{rdb.ErrCorrupt, rdb.ErrTruncated, rdb.ErrChecksum, rdb.ErrValueTooLarge} {
			if errors.Is(err, k) {
				kind = k.Error()
			}
		}
		err, at = fmt.Errorf("%s at %d", kind, pe.Offset), -1
	}
	return fmt.Sprintf("err=%v\noffset=%d keys=%d checksum=%v/%x\nwarnings=%s",
		err, at, rd.KeysRead(), state, crc, strings.Join(warns, "\n  "))
}

// zsetListpackFile is one sorted-set listpack of (member, score) pairs,
// members that look like integers stored as integers, as Redis stores them.
func zsetListpackFile(pairs ...string) []byte {
	var l listpack.Builder
	for i, s := range pairs {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && i%2 == 0 {
			l.AppendInt(n)
		} else {
			l.AppendString([]byte(s))
		}
	}
	return dupFile(rdb.TypeZSetListpack, appendRDBString(nil, l.Bytes()))
}

// TestSkipMatchesElementWalk: skipping a value reports what reading it
// element by element reports (errors, offsets, warnings), on plain sets,
// sorted sets and hashes and on sorted-set listpacks, whole, damaged in
// thousands of ways, and crafted with repeats and out-of-order members.
func TestSkipMatchesElementWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	orig := writeKeys(t, 10, 30, func(i int) *rdb.Value {
		var v *rdb.Value
		switch i % 5 {
		case 0:
			v = numberedSet(520 + rng.IntN(20))
		case 1:
			v = randomZSet(rng, 130+rng.IntN(20))
		case 2:
			v = &rdb.Value{Kind: rdb.KindZSet} // a listpack: integer and text members, integer and text scores
			for j := range 5 + rng.IntN(40) {
				m := strconv.Itoa(j)
				if j%3 == 0 {
					m = "name" + m
				}
				score := float64(rng.IntN(1000) - 500)
				if j%2 == 0 {
					score = rng.NormFloat64() * 1e6
				}
				v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte(m), Score: score})
			}
		case 3:
			v = numberedHash(513+rng.IntN(10), func(j int) []byte { return []byte(strconv.Itoa(j)) })
		case 4: // plain: values longer than 64 bytes
			v = numberedHash(20+rng.IntN(10), func(j int) []byte { return []byte(strings.Repeat("v", 60+j)) })
		}
		return v
	}, rdb.TypeSet, rdb.TypeZSet2, rdb.TypeZSetListpack, rdb.TypeHash)
	inputs := damagedInputs(orig, 2)
	inputs["set, empty"] = dupFile(rdb.TypeSet, plain(rdb.TypeSet, nil))
	inputs["hash, a repeat, short values"] = dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(20, "f0", "x")))
	inputs["hash, a repeat, 513 fields"] = dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(512, "f0", "x")))
	inputs["zset listpack"] = zsetListpackFile("a", "1", "7", "1.5", "b", "2.25", "12", "1e3")
	inputs["zset listpack, same score"] = zsetListpackFile("a", "1", "b", "1", "15", "2", "3", "2")
	inputs["zset listpack, out of order"] = zsetListpackFile("a", "1", "b", "0.5")
	inputs["zset listpack, members out of order"] = zsetListpackFile("5", "2", "40", "2", "7", "2")
	inputs["zset listpack, a repeat"] = zsetListpackFile("a", "1", "a", "1")
	inputs["zset listpack, not a score"] = zsetListpackFile("a", "1", "b", "x1")
	inputs["zset listpack, odd"] = zsetListpackFile("a", "1", "b")
	inputs["zset listpack, empty"] = zsetListpackFile()
	for name, data := range inputs {
		for _, streamed := range []bool{false, true} {
			want := readVerdict(data, readWay{streamed: streamed, walk: true})
			if got := readVerdict(data, readWay{streamed: streamed}); got != want {
				t.Fatalf("%s (streamed %v): skipping\n%s\nelement by element\n%s", name, streamed, got, want)
			}
		}
	}
}

// FuzzSkipMatchesElementWalk: on any input, skipping values reports what
// reading them element by element reports, in memory and streamed.
func FuzzSkipMatchesElementWalk(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Add(dupFile(rdb.TypeSet, plain(rdb.TypeSet, append(items(30)[:30:30], "f3"))))
	f.Add(dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(20, "f0", "x", "g", strings.Repeat("x", 65)))))
	f.Add(dupFile(rdb.TypeZSet2, plain(rdb.TypeZSet2, items(30, "f1", "3"))))
	f.Add(zsetListpackFile("a", "1", "7", "1.5", "b", "2.25", "12", "1e3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, streamed := range []bool{false, true} {
			got := readVerdict(data, readWay{streamed: streamed, coarse: true})
			if want := readVerdict(data, readWay{streamed: streamed, walk: true, coarse: true}); got != want {
				t.Fatalf("streamed %v: skipping\n%s\nelement by element\n%s", streamed, got, want)
			}
		}
	})
}

// writeKeys writes n keys, "key:0" and on, whose values value returns, as an
// RDB file of the given version, and fails t unless the file holds a value of
// each type in want (the writer picks the encodings).
func writeKeys(t *testing.T, version, n int, value func(i int) *rdb.Value, want ...rdb.Type) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := rdb.NewWriter(&buf, rdb.WriterOptions{Version: version})
	for i := range n {
		if err := w.WriteKey(&rdb.Entry{Kind: rdb.EntryKey, Key: []byte("key:" + strconv.Itoa(i))}, value(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	types := map[rdb.Type]int{}
	rd := rdb.NewReaderBytes(buf.Bytes(), rdb.ReaderOptions{})
	for {
		e, err := rd.Next()
		if err != nil {
			break
		}
		types[e.Type]++
	}
	rd.Close()
	for _, ty := range want {
		if types[ty] == 0 {
			t.Fatalf("the file has no value of type %v (%v)", ty, types)
		}
	}
	return buf.Bytes()
}

// numberedSet is a set of n members "member:0" and on.
func numberedSet(n int) *rdb.Value {
	v := &rdb.Value{Kind: rdb.KindSet}
	for j := range n {
		v.Set = append(v.Set, []byte("member:"+strconv.Itoa(j)))
	}
	return v
}

// randomZSet is a sorted set of n members "m0" and on, with random scores.
func randomZSet(rng *rand.Rand, n int) *rdb.Value {
	v := &rdb.Value{Kind: rdb.KindZSet}
	for j := range n {
		v.ZSet = append(v.ZSet, rdb.ZMember{Member: []byte("m" + strconv.Itoa(j)), Score: rng.NormFloat64()})
	}
	return v
}

// numberedHash is a hash of n fields "f0" and on, with the values value gives.
func numberedHash(n int, value func(j int) []byte) *rdb.Value {
	v := &rdb.Value{Kind: rdb.KindHash}
	for j := range n {
		v.Hash = append(v.Hash, rdb.HashField{Field: []byte("f" + strconv.Itoa(j)), Value: value(j)})
	}
	return v
}

// damagedInputs is orig, every every-th of its mutations, and crafted plain
// collections with a repeated element.
func damagedInputs(orig []byte, every int) map[string][]byte {
	inputs := map[string][]byte{"whole": orig}
	for i, m := range mutations(orig) {
		if i%every == 0 {
			inputs[m.name] = m.data
		}
	}
	long := strings.Repeat("x", 65)
	inputs["set, a repeat"] = dupFile(rdb.TypeSet, plain(rdb.TypeSet, append(items(300)[:300:300], "f3")))
	inputs["hash, a repeat, a long value"] = dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(200, "f0", "x", "g", long)))
	inputs["zset, a repeat"] = dupFile(rdb.TypeZSet2, plain(rdb.TypeZSet2, items(300, "f1", "3")))
	return inputs
}
