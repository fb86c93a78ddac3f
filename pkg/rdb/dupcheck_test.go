package rdb_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/intset"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/listpack"
	"github.com/rdbtool/rdbtool/pkg/rdb/internal/ziplist"
)

// appendRDBString appends s with an RDB length prefix.
func appendRDBString(b []byte, s []byte) []byte {
	switch n := len(s); {
	case n < 1<<6:
		b = append(b, byte(n))
	case n < 1<<14:
		b = append(b, byte(n>>8)|0x40, byte(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return append(b, s...)
}

// dupFile is an RDB 10 file holding one key "k" of type t whose value is the
// already encoded body.
func dupFile(t rdb.Type, body []byte) []byte {
	b := append([]byte("REDIS0010"), 0xFE, 0, byte(t))
	b = appendRDBString(b, []byte("k"))
	b = append(append(b, body...), 0xFF)
	return append(b, make([]byte, 8)...) // a zero checksum is not checked
}

// items are the strings of a collection: members, or field/value (member/
// score) pairs flattened.
func items(n int, extra ...string) []string {
	var out []string
	for i := range n {
		out = append(out, "f"+strconv.Itoa(i), strconv.Itoa(i))
	}
	return append(out, extra...)
}

func packed(t rdb.Type, strs []string) []byte {
	var blob []byte
	switch t {
	case rdb.TypeHashZiplist, rdb.TypeZSetZiplist:
		var z ziplist.Builder
		for _, s := range strs {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && s != "7" {
				z.AppendInt(n)
			} else {
				z.AppendString([]byte(s))
			}
		}
		blob = z.Bytes()
	default:
		var l listpack.Builder
		for _, s := range strs {
			l.AppendString([]byte(s))
		}
		blob = l.Bytes()
	}
	return appendRDBString(nil, blob)
}

// plain encodes a plain set (members), hash (pairs) or zset (member, score).
func plain(t rdb.Type, strs []string) []byte {
	n := len(strs)
	if t != rdb.TypeSet {
		n /= 2
	}
	b := binary.BigEndian.AppendUint32([]byte{0x80}, uint32(n))
	for i, s := range strs {
		if t == rdb.TypeZSet2 && i%2 == 1 {
			f, _ := strconv.ParseFloat(s, 64)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
			continue
		}
		b = appendRDBString(b, []byte(s))
	}
	return b
}

// TestDuplicateElementsAsRedis: verify refuses a repeated element exactly
// where Debian's Redis 7.0, with its defaults, refuses to load the file; each
// crafted file is loaded by the server in the test, whose verdict must be
// the one recorded here and verify's (except where noted).
func TestDuplicateElementsAsRedis(t *testing.T) {
	long := strings.Repeat("x", 65)
	sortedSet := func(n int, extra ...int64) []byte {
		var v []int64
		for i := range n {
			v = append(v, int64(i))
		}
		v = append(v, extra...)
		slices.Sort(v)
		return appendRDBString(nil, intset.Build(nil, v))
	}
	cases := []struct {
		name    string
		file    []byte
		refused bool   // by Redis 7.0 and by verify
		verify  string // what verify says, when refused
		differs string // why verify refuses what Redis loads
	}{
		{"hash listpack, 2 pairs, a repeat", dupFile(rdb.TypeHashListpack, packed(rdb.TypeHashListpack, items(1, "f0", "x"))), false, "", ""},
		{"hash listpack, 512 pairs, a repeat", dupFile(rdb.TypeHashListpack, packed(rdb.TypeHashListpack, items(511, "f0", "x"))), false, "", ""},
		{"hash listpack, 513 pairs, a repeat", dupFile(rdb.TypeHashListpack, packed(rdb.TypeHashListpack, items(512, "f0", "x"))), true, `element "f0" appears twice; the value has 513 elements`, ""},
		{"hash listpack, 513 pairs", dupFile(rdb.TypeHashListpack, packed(rdb.TypeHashListpack, items(513))), false, "", ""},
		{"zset listpack, 128 members, a repeat", dupFile(rdb.TypeZSetListpack, packed(rdb.TypeZSetListpack, items(127, "f0", "500"))), false, "", ""},
		{"zset listpack, 3 members, a repeat", dupFile(rdb.TypeZSetListpack, packed(rdb.TypeZSetListpack, items(2, "f0", "5"))), false, "", ""},
		{"zset listpack, 129 members, a repeat", dupFile(rdb.TypeZSetListpack, packed(rdb.TypeZSetListpack, items(128, "f0", "500"))), true, `element "f0" appears twice; the value has 129 elements`, ""},
		{"hash ziplist, 2 pairs, a repeat", dupFile(rdb.TypeHashZiplist, packed(rdb.TypeHashZiplist, items(1, "f0", "x"))), true, `element "f0" appears twice; Redis refuses any repeat in a ziplist`, ""},
		{"hash ziplist, the integer 7 and the string 7", dupFile(rdb.TypeHashZiplist, packed(rdb.TypeHashZiplist, []string{"7", "a", "8", "b", "7", "c"})), true, `element "7" appears twice`, ""},
		{"hash ziplist, 2 pairs", dupFile(rdb.TypeHashZiplist, packed(rdb.TypeHashZiplist, items(2))), false, "", ""},
		{"zset ziplist, 2 members, a repeat", dupFile(rdb.TypeZSetZiplist, packed(rdb.TypeZSetZiplist, items(1, "f0", "5"))), true, `element "f0" appears twice; Redis refuses any repeat in a ziplist`, ""},
		{"zipmap, a repeat", dupFile(rdb.TypeHashZipmap, appendRDBString(nil, []byte{2, 1, 'a', 1, 0, 'x', 1, 'a', 1, 0, 'y', 0xFF})), true, `element "a" appears twice; Redis refuses any repeat in a zipmap`, ""},
		{"zipmap", dupFile(rdb.TypeHashZipmap, appendRDBString(nil, []byte{2, 1, 'a', 1, 0, 'x', 1, 'b', 1, 0, 'y', 0xFF})), false, "", ""},
		{"set, a repeat", dupFile(rdb.TypeSet, plain(rdb.TypeSet, []string{"a", "b", "a"})), true, "repeats the value's first element; Redis refuses any repeat here", ""},
		{"set of integers, a repeat", dupFile(rdb.TypeSet, plain(rdb.TypeSet, []string{"1", "2", "1"})), true, "repeats the value's first element", ""},
		{"zset, a repeat", dupFile(rdb.TypeZSet2, plain(rdb.TypeZSet2, items(2, "f1", "3"))), true, "; Redis refuses any repeat here", ""},
		{"hash, 2 short pairs, a repeat", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(1, "f0", "x"))), false, "", ""},
		{"hash, a repeat, a long value after it", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(1, "f0", "x", "g", long))), true, "repeats the value's first element; a field or value is longer", ""},
		{"hash, a long value, a repeat after it", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(1, "g", long, "f0", "x"))), true, "repeats the value's first element; a field or value is longer", ""},
		{"hash, a long value, no repeat", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(1, "g", long))), false, "", ""},
		{"hash, 513 pairs, a repeat", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(512, "f5", "x"))), true, "the hash has 513 fields", ""},
		{"hash, 512 pairs, a repeat", dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(511, "f5", "x"))), false, "", ""},
		{"intset, 513 members, a repeat", dupFile(rdb.TypeSetIntset, sortedSet(512, 7)), true, "is not greater than the one before it", ""},
		{"intset, 3 members, a repeat", dupFile(rdb.TypeSetIntset, sortedSet(2, 1)), false, "is not greater than the one before it",
			"the Reader refuses any intset whose values do not ascend strictly (intset.Parse); Redis 7.0 loads it below set-max-intset-entries"},
		{"zset listpack, the same member and score twice", dupFile(rdb.TypeZSetListpack, packed(rdb.TypeZSetListpack, []string{"a", "1", "a", "1"})), false, "is out of order",
			"strict mode checks the order of sorted-set blobs; Redis 7.0 does not look below zset-max-listpack-entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := strictReadErr(c.file)
			wantErr := c.refused || c.differs != ""
			switch {
			case wantErr && err == nil:
				t.Errorf("verify accepts it, want %q", c.verify)
			case !wantErr && err != nil:
				t.Errorf("verify: %v", err)
			case err != nil:
				var pe *rdb.ParseError
				if !errors.As(err, &pe) || pe.Offset <= 10 || !strings.Contains(err.Error(), c.verify) || !strings.Contains(err.Error(), `"k"`) {
					t.Errorf("verify: %v, want an offset, the key and %q", err, c.verify)
				}
			}
			loaded, log := redisLoads(t, c.file)
			if loaded == c.refused {
				t.Errorf("Redis 7.0 %s, the table says the opposite\n%s", refusedText(loaded), log)
			}
		})
	}
}

// TestDuplicateElementsAsRedis74: the same rule for the types of RDB 11 and
// 12, judged by the Redis 7.4-era build (set listpacks past
// set-max-listpack-entries, 128; hash listpacks past 512, as in 7.0).
func TestDuplicateElementsAsRedis74(t *testing.T) {
	bin := redistest.RequireNewer(t, redistest.Redis74)
	set := func(n int, extra ...string) []byte {
		var strs []string
		for i := range n {
			strs = append(strs, "m"+strconv.Itoa(i))
		}
		file := dupFile(rdb.TypeSetListpack, packed(rdb.TypeSetListpack, append(strs, extra...)))
		copy(file[5:9], "0012")
		return file
	}
	hash := func(n int, extra ...string) []byte {
		file := dupFile(rdb.TypeHashListpack, packed(rdb.TypeHashListpack, items(n, extra...)))
		copy(file[5:9], "0012")
		return file
	}
	cases := []struct {
		name    string
		file    []byte
		refused bool
	}{
		{"set listpack, 128 members, a repeat", set(127, "m0"), false},
		{"set listpack, 129 members, a repeat", set(128, "m0"), true},
		{"set listpack, 129 members", set(129), false},
		{"hash listpack, 512 pairs, a repeat", hash(511, "f0", "x"), false},
		{"hash listpack, 513 pairs, a repeat", hash(512, "f0", "x"), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := strictReadErr(c.file)
			if (err != nil) != c.refused {
				t.Errorf("verify: %v, want refused %v", err, c.refused)
			} else if err != nil && !strings.Contains(err.Error(), `element "`) {
				t.Errorf("verify: %v, want the repeated element named", err)
			}
			if loaded, log := redisLoadsOn(t, bin, c.file); loaded == c.refused {
				t.Errorf("Redis 7.4 %s, the table says the opposite\n%s", refusedText(loaded), log)
			}
		})
	}
}

// TestRepeatCheckIsBounded: the repeat check of a plain collection keeps 40
// bytes an element, so past ReaderOptions.MaxRepeatCheck it gives up on that
// value with a warning instead of growing with the largest key; a negative
// limit checks everything.
func TestRepeatCheckIsBounded(t *testing.T) {
	file := dupFile(rdb.TypeSet, plain(rdb.TypeSet, append(items(200)[:200:200], "f3")))
	read := func(limit int) (warnings []string, err error) {
		err = readAllErr(file, rdb.ReaderOptions{Strict: true, MaxRepeatCheck: limit,
			Warn: func(pe *rdb.ParseError) { warnings = append(warnings, pe.Error()) }})
		return warnings, err
	}
	for _, limit := range []int{0, -1, 500} {
		if w, err := read(limit); err == nil || !strings.Contains(err.Error(), "repeats") || len(w) != 0 {
			t.Errorf("limit %d: %v (warnings %q), want the repeat found", limit, err, w)
		}
	}
	w, err := read(100)
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "not checked for repeated elements") || !strings.Contains(w[0], `"k"`) {
		t.Errorf("limit 100: %v, warnings %q; want no error and one warning naming the key", err, w)
	}
}

// TestRepeatCheckExactUnderCollisions: the repeat check of plain collections
// files each element under a 64-bit hash and compares two elements exactly
// before it calls one a repeat. With the hash cut to two bits, so that nearly
// every pair of elements collides, every verdict (the error, its offset, the
// elements it names) is the one given with the full hash, on an in-memory
// input (the earlier element read again) and on a stream (a second hash).
func TestRepeatCheckExactUnderCollisions(t *testing.T) {
	lzfString := func(s string) []byte { // a literal-only LZF stream
		return append([]byte{0xC3, byte(len(s) + 1), byte(len(s)), byte(len(s) - 1)}, s...)
	}
	set := func(elems ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32([]byte{0x80}, uint32(len(elems)))
		for _, e := range elems {
			b = append(b, e...)
		}
		return dupFile(rdb.TypeSet, b)
	}
	str := func(s string) []byte { return appendRDBString(nil, []byte(s)) }
	var distinct, lastRepeats [][]byte
	for i := range 300 {
		distinct = append(distinct, str("m"+strconv.Itoa(i)))
	}
	lastRepeats = append(slices.Clone(distinct), str("m299"))
	files := map[string][]byte{
		"set, 300 distinct":                    set(distinct...),
		"set, the last repeats the one before": set(lastRepeats...),
		"set, the first repeated last":         set(append(slices.Clone(distinct), str("m0"))...),
		"set, two repeats, the earlier named":  set(append(slices.Clone(distinct), str("m7"), str("m3"), str("m3"))...),
		"set, an integer and its text":         set(str("a"), []byte{0xC0, 5}, str("b"), str("5")),
		"set, an integer and another":          set(str("a"), []byte{0xC0, 5}, str("b"), []byte{0xC0, 6}),
		"set, LZF and plain text":              set(str("x"), lzfString("hello"), str("y"), str("hello")),
		"set, LZF, no repeat":                  set(str("x"), lzfString("hello"), str("y"), str("hellp")),
		"set, the first is LZF and repeats":    set(lzfString("hello"), str("y"), lzfString("hello")),
		"zset, a repeat":                       dupFile(rdb.TypeZSet2, plain(rdb.TypeZSet2, items(300, "f1", "3"))),
		"zset, no repeat":                      dupFile(rdb.TypeZSet2, plain(rdb.TypeZSet2, items(300))),
		"hash, 513 pairs, a repeat":            dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(512, "f5", "x"))),
		"hash, 600 pairs":                      dupFile(rdb.TypeHash, plain(rdb.TypeHash, items(600))),
	}
	verdicts := func() map[string]string {
		out := map[string]string{}
		for name, file := range files {
			whole := fmt.Sprint(strictReadErr(file))
			r := rdb.NewReader(bytes.NewReader(file), rdb.ReaderOptions{Strict: true})
			var err error
			for err == nil {
				if _, err = r.Next(); err == nil {
					_, err = r.SkipValue()
				}
			}
			if err == io.EOF {
				err = nil
			}
			if stream := fmt.Sprint(err); stream != whole {
				t.Errorf("%s: in memory %s, streamed %s", name, whole, stream)
			}
			out[name] = whole
		}
		return out
	}
	want := verdicts()
	for _, name := range []string{"set, 300 distinct", "set, an integer and another", "set, LZF, no repeat", "zset, no repeat", "hash, 600 pairs"} {
		if want[name] != "<nil>" {
			t.Errorf("%s: %s, want no error", name, want[name])
		}
	}
	for name, verdict := range map[string]string{
		"set, two repeats, the earlier named":  "offset 1409 (key \"k\"): set: corrupt data: this element repeats the one at offset 40;",
		"set, the last repeats the one before": "offset 1409 (key \"k\"): set: corrupt data: this element repeats the one at offset 1404;",
		"set, the first repeated last":         "this element repeats the value's first element",
		"set, an integer and its text":         "offset 25 (key \"k\"): set: corrupt data: this element repeats the one at offset 21;",
		"set, LZF and plain text":              "offset 32 (key \"k\"): set: corrupt data: this element repeats the one at offset 21;",
		"set, the first is LZF and repeats":    "offset 30 (key \"k\"): set: corrupt data: this element repeats the value's first element",
		"hash, 513 pairs, a repeat":            "this element repeats the one at offset 44; the hash has 513 fields",
	} {
		if !strings.Contains(want[name], verdict) {
			t.Errorf("%s: %s, want %q", name, want[name], verdict)
		}
	}
	restore := rdb.WeakenRepeatHash()
	defer restore()
	got := verdicts()
	for name := range files {
		if got[name] != want[name] {
			t.Errorf("%s, colliding hashes:\n got %s\nwant %s", name, got[name], want[name])
		}
	}
}
