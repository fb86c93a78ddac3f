package rdb_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "|", "", "\n", "").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawValueOf writes one key at opts and returns its type byte and value
// bytes (after the key name), as CopyRawValue sees them.
func rawValueOf(t *testing.T, opts rdb.WriterOptions, key string, v *rdb.Value) (rdb.Type, []byte) {
	t.Helper()
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	if err := w.WriteKey(&rdb.Entry{Key: []byte(key)}, v); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := rdb.NewReaderBytes(out.Bytes(), rdb.ReaderOptions{Strict: true})
	defer r.Close()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryKey {
			var raw bytes.Buffer
			if _, err := r.CopyRawValue(&raw); err != nil {
				t.Fatal(err)
			}
			return e.Type, raw.Bytes()
		}
	}
}

// TestWriterExactBytes checks values against bytes real servers wrote
// (FORMAT-NOTES examples marked "checked", and Redis 7.0 output).
func TestWriterExactBytes(t *testing.T) {
	v12 := rdb.WriterOptions{Version: 12}
	cases := []struct {
		name string
		opts rdb.WriterOptions
		v    rdb.Value
		typ  rdb.Type
		raw  string
	}{
		{"SET n1 12345", v12, rdb.Value{Kind: rdb.KindString, String: []byte("12345")}, rdb.TypeString, "C1 39 30"},
		{"SET big 2147483648", v12, rdb.Value{Kind: rdb.KindString, String: []byte("2147483648")}, rdb.TypeString, "0A 32313437343833363438"},
		{"SET z 007", v12, rdb.Value{Kind: rdb.KindString, String: []byte("007")}, rdb.TypeString, "03 303037"},
		{"SET m -0", v12, rdb.Value{Kind: rdb.KindString, String: []byte("-0")}, rdb.TypeString, "02 2D30"},
		{"LZF 100 x a", v12, rdb.Value{Kind: rdb.KindString, String: bytes.Repeat([]byte("a"), 100)}, rdb.TypeString, ""},
		{"SADD sl a b 3", v12, rdb.Value{Kind: rdb.KindSet, Set: [][]byte{[]byte("a"), []byte("b"), []byte("3")}}, rdb.TypeSetListpack,
			"0F | 0F 00 00 00 | 03 00 | 81 61 02 | 81 62 02 | 03 01 | FF"},
		{"SADD sl a b 3 at 10", rdb.WriterOptions{Version: 10}, rdb.Value{Kind: rdb.KindSet, Set: [][]byte{[]byte("a"), []byte("b"), []byte("3")}}, rdb.TypeSet,
			"03 | 01 61 | 01 62 | C0 03"},
		{"SADD si 3 -1 70000", v12, rdb.Value{Kind: rdb.KindSet, Set: [][]byte{[]byte("3"), []byte("-1"), []byte("70000")}}, rdb.TypeSetIntset,
			"14 | 04 00 00 00 | 03 00 00 00 | FF FF FF FF | 03 00 00 00 | 70 11 01 00"},
		{"HSET h f1 v1 (field TTL)", v12, rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f1"), Value: []byte("v1"), ExpireAtMs: 1726000000000}, {Field: []byte("f2"), Value: []byte("v2")}}},
			rdb.TypeHashListpackEx, "00 EC 9D DD 91 01 00 00 | 23 | 23 00 00 00 06 00 | 82 66 31 03 | 82 76 31 03 | F4 00 EC 9D DD 91 01 00 00 09 | 82 66 32 03 | 82 76 32 03 | 00 01 | FF"},
		{"ZADD z 1.5 a 2 b", rdb.WriterOptions{Version: 10}, rdb.Value{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("b"), Score: 2}, {Member: []byte("a"), Score: 1.5}}},
			rdb.TypeZSetListpack, "14 | 14 00 00 00 04 00 | 81 61 02 | 83 31 2E 35 04 | 81 62 02 | 02 01 | FF"},
		{"ZADD z 0.1 a (7.0 %.17g)", rdb.WriterOptions{Version: 10}, rdb.Value{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("a"), Score: 0.1}}},
			rdb.TypeZSetListpack, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			typ, raw := rawValueOf(t, c.opts, "k", &c.v)
			if typ != c.typ {
				t.Errorf("type %s, want %s", typ, c.typ)
			}
			if c.raw != "" {
				if want := hexBytes(t, c.raw); !bytes.Equal(raw, want) {
					t.Errorf("value bytes\n got %X\nwant %X", raw, want)
				}
			}
		})
	}
}

// TestWriterScoreText checks the score renderings of each server line.
func TestWriterScoreText(t *testing.T) {
	member := func(v int, f float64) string {
		_, raw := rawValueOf(t, rdb.WriterOptions{Version: v, NoCompress: true}, "z", &rdb.Value{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("m"), Score: f}}})
		return string(raw) // the score text is inside the blob
	}
	for _, c := range []struct {
		f        float64
		v10, v11 string // text in the blob
		v9       string
	}{
		{0.1, "0.10000000000000001", "0.1", "0.10000000000000001"},
		{1e300, "1.0000000000000001e+300", "1e+300", "1.0000000000000001e+300"},
		{-2.5e-7, "-2.4999999999999999e-07", "-2.5e-7", "-2.4999999999999999e-07"},
		{1.0 / 3, "0.33333333333333331", "0.3333333333333333", "0.33333333333333331"},
		{123456.5, "123456.5", "123456.5", "123456.5"},
		{math.Inf(-1), "-inf", "-inf", "-inf"},
		{math.Copysign(0, -1), "-0", "-0", "-0"},
	} {
		if got := member(10, c.f); !strings.Contains(got, c.v10) {
			t.Errorf("v10 %g: %q lacks %q", c.f, got, c.v10)
		}
		if got := member(11, c.f); !strings.Contains(got, c.v11) {
			t.Errorf("v11 %g: %q lacks %q", c.f, got, c.v11)
		}
		if got := member(9, c.f); !strings.Contains(got, c.v9) {
			t.Errorf("v9 %g: %q lacks %q", c.f, got, c.v9)
		}
	}
}

// TestWriterHeaderAndAux checks the magic, the standard AUX fields and the
// trailer.
func TestWriterHeaderAndAux(t *testing.T) {
	for _, c := range []struct {
		opts  rdb.WriterOptions
		magic string
		aux   []string
	}{
		{rdb.WriterOptions{Version: 10, CTime: 1700000000}, "REDIS0010", []string{"redis-ver=7.0.0", "redis-bits=64", "ctime=1700000000", "used-mem=0", "aof-base=0"}},
		{rdb.WriterOptions{Version: 9}, "REDIS0009", []string{"redis-ver=6.2.0", "redis-bits=64", "ctime=0", "used-mem=0", "aof-preamble=0"}},
		{rdb.WriterOptions{Version: 7}, "REDIS0007", []string{"redis-ver=3.2.0", "redis-bits=64", "ctime=0", "used-mem=0"}},
		{rdb.WriterOptions{Version: 11, Valkey: true}, "REDIS0011", []string{"valkey-ver=8.1.0", "redis-bits=64", "ctime=0", "used-mem=0", "aof-base=0"}},
		{rdb.WriterOptions{Version: 80, Valkey: true, Clock: func() time.Time { return time.Unix(42, 0) }}, "VALKEY080", []string{"valkey-ver=9.0.0", "redis-bits=64", "ctime=42", "used-mem=0", "aof-base=0"}},
	} {
		var out bytes.Buffer
		w := rdb.NewWriter(&out, c.opts)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		if string(b[:9]) != c.magic {
			t.Errorf("magic %q, want %q", b[:9], c.magic)
		}
		if got := strings.Join(auxList(t, b), " "); got != strings.Join(c.aux, " ") {
			t.Errorf("%s: aux %s, want %s", c.magic, got, strings.Join(c.aux, " "))
		}
		if rdb.CRC64(b[:len(b)-8]) != leUint64(b[len(b)-8:]) {
			t.Errorf("%s: bad CRC trailer", c.magic)
		}
	}
	// Given AUX fields: the version is the target's, ctime/used-mem/aof-base
	// are kept (aof-base becomes aof-preamble below 10), others follow.
	var out bytes.Buffer
	w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 9})
	for _, a := range [][2]string{{"redis-ver", "7.4.1"}, {"redis-bits", "64"}, {"ctime", "1234"}, {"used-mem", "999"}, {"repl-id", "abc"}, {"aof-base", "1"}} {
		if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryAux, AuxName: []byte(a[0]), AuxValue: []byte(a[1])}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntrySelectDB, DB: 0}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryAux, AuxName: []byte("lua"), AuxValue: []byte("return 1")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "redis-ver=6.2.0 redis-bits=64 ctime=1234 used-mem=999 repl-id=abc aof-preamble=1 lua=return 1"
	if got := strings.Join(auxList(t, out.Bytes()), " "); got != want {
		t.Errorf("aux %s\nwant %s", got, want)
	}
	// NoChecksum writes a zero trailer.
	out.Reset()
	w = rdb.NewWriter(&out, rdb.WriterOptions{Version: 10, NoChecksum: true})
	w.Close()
	if leUint64(out.Bytes()[out.Len()-8:]) != 0 {
		t.Error("NoChecksum: trailer is not zero")
	}
	// Close does not close the underlying writer and is idempotent.
	cw := &closeTracker{}
	w = rdb.NewWriter(cw, rdb.WriterOptions{Version: 10})
	if err := w.Close(); err != nil || w.Close() != nil || cw.closed {
		t.Errorf("Close: err %v, closed underlying %v", err, cw.closed)
	}
}

type closeTracker struct {
	bytes.Buffer
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func auxList(t *testing.T, b []byte) []string {
	r := rdb.NewReaderBytes(b, rdb.ReaderOptions{Strict: true})
	defer r.Close()
	var out []string
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == rdb.EntryAux {
			out = append(out, string(e.AuxName)+"="+string(e.AuxValue))
		}
	}
}

// TestWriterRefusals: what a target cannot hold is an error naming the key
// and the feature, or, with the drop flag, left out and counted.
func TestWriterRefusals(t *testing.T) {
	hashTTL := &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f"), Value: []byte("v"), ExpireAtMs: 4102444800000}, {Field: []byte("g"), Value: []byte("w"), ExpireAtMs: 4102444800001}}}
	stream := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{{ID: rdb.StreamID{Ms: 1, Seq: 1}, Fields: [][]byte{[]byte("a"), []byte("1")}}},
		StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 1, Seq: 1}, EntriesAdded: 1}}}
	idmp := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{StreamMeta: rdb.StreamMeta{LastID: rdb.StreamID{Ms: 5}},
		IDMP: &rdb.StreamIDMPSection{StreamIDMP: rdb.StreamIDMP{DurationSeconds: 10, MaxEntries: 5, Producers: 1},
			Entries: []rdb.StreamIDMPEntry{{Producer: []byte("p"), IID: []byte("i"), ID: rdb.StreamID{Ms: 5}}}}}}
	module := &rdb.Value{Kind: rdb.KindModule, Module: &rdb.ModuleValue{ID: 12345 << 10, Raw: []byte{0}}}
	function := &rdb.Entry{Kind: rdb.EntryFunction, Function: []byte("#!lua name=mylib\nredis.register_function('f', function() return 1 end)")}

	type tc struct {
		name    string
		opts    rdb.WriterOptions
		key     string
		value   *rdb.Value
		entry   *rdb.Entry
		keyMeta []byte
		want    []string // substrings of the error
		feature rdb.Feature
		count   uint64
	}
	cases := []tc{
		{name: "field TTLs at 11", opts: rdb.WriterOptions{Version: 11}, key: "hfe-key", value: hashTTL, want: []string{`"hfe-key"`, "hash field TTLs", "RDB version 11"}, feature: rdb.FeatureFieldTTLs, count: 2},
		{name: "field TTLs at valkey 11", opts: rdb.WriterOptions{Version: 11, Valkey: true}, key: "hfe-valkey", value: hashTTL, want: []string{`"hfe-valkey"`, "hash field TTLs"}, feature: rdb.FeatureFieldTTLs, count: 2},
		{name: "functions at 9", opts: rdb.WriterOptions{Version: 9}, entry: function, want: []string{`"mylib"`, "function libraries", "RDB version 9"}, feature: rdb.FeatureFunctions, count: 1},
		{name: "streams at 8", opts: rdb.WriterOptions{Version: 8}, key: "stream-key", value: stream, want: []string{`"stream-key"`, "streams", "RDB version 8"}, feature: rdb.FeatureStreams, count: 1},
		{name: "IDMP at 12", opts: rdb.WriterOptions{Version: 12}, key: "idmp-key", value: idmp, want: []string{`"idmp-key"`, "IDMP"}, feature: rdb.FeatureIDMP, count: 1},
		{name: "IDMP at valkey 80", opts: rdb.WriterOptions{Version: 80, Valkey: true}, key: "idmp-key", value: idmp, want: []string{`"idmp-key"`, "VALKEY080"}, feature: rdb.FeatureIDMP, count: 1},
		{name: "modules at 7", opts: rdb.WriterOptions{Version: 7}, key: "mod-key", value: module, want: []string{`"mod-key"`, "module values"}, feature: rdb.FeatureModules, count: 1},
		{name: "key meta at 12", opts: rdb.WriterOptions{Version: 12}, key: "meta-key", value: &rdb.Value{Kind: rdb.KindString, String: []byte("x")}, keyMeta: []byte{0}, want: []string{`"meta-key"`, "key metadata"}, feature: rdb.FeatureKeyMeta, count: 1},
	}
	write := func(c tc, drop bool) (*rdb.Writer, []byte, error) {
		opts := c.opts
		if drop {
			opts.DropFieldTTLs, opts.DropFunctions, opts.DropStreams, opts.DropIDMP, opts.DropModules, opts.DropKeyMeta = true, true, true, true, true, true
		}
		var out bytes.Buffer
		w := rdb.NewWriter(&out, opts)
		var err error
		if c.entry != nil {
			err = w.WriteEntry(c.entry)
		} else {
			err = w.WriteKey(&rdb.Entry{Key: []byte(c.key), KeyMeta: c.keyMeta}, c.value)
		}
		if err == nil {
			err = w.Close()
		}
		return w, out.Bytes(), err
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := write(c, false)
			if err == nil {
				t.Fatal("no error")
			}
			var ue *rdb.UnsupportedError
			if !errors.As(err, &ue) {
				t.Errorf("error %v is not an *UnsupportedError", err)
			} else if ue.Feature != c.feature {
				t.Errorf("error %v names feature %v, want %v", err, ue.Feature, c.feature)
			}
			if strings.Contains(err.Error(), "Drop") {
				t.Errorf("error %q names a Go option", err)
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			w, out, err := write(c, true)
			if err != nil {
				t.Fatalf("with the drop flag: %v", err)
			}
			got := w.Dropped()
			if len(got) != 1 || got[0].Feature != c.feature || got[0].Count != c.count {
				t.Errorf("Dropped() = %v, want [{%s %d}]", got, c.feature, c.count)
			}
			// The file is valid and holds what was not dropped.
			dump := recordDump(t, out)
			switch c.feature {
			case rdb.FeatureStreams, rdb.FeatureModules, rdb.FeatureFunctions:
				for _, l := range dump {
					if strings.HasPrefix(l, "key ") || strings.HasPrefix(l, "function") {
						t.Errorf("dropped record still written: %s", l)
					}
				}
			default:
				n := 0
				for _, l := range dump {
					if strings.HasPrefix(l, "key ") {
						n++
						if strings.Contains(l, "@41024448") || strings.Contains(l, "idmp {") {
							t.Errorf("dropped feature still written: %s", l)
						}
					}
				}
				if n != 1 {
					t.Errorf("%d keys written, want 1", n)
				}
			}
		})
	}
}

// TestWriterInvalidInput: input no server could hold is refused, naming the key.
func TestWriterInvalidInput(t *testing.T) {
	dupSet := &rdb.Value{Kind: rdb.KindSet, Set: [][]byte{[]byte("a"), []byte("b"), []byte("a")}}
	bigDup := &rdb.Value{Kind: rdb.KindSet}
	for i := range 1000 {
		bigDup.Set = append(bigDup.Set, []byte{byte(i), byte(i >> 8), 'x'})
	}
	bigDup.Set = append(bigDup.Set, []byte{7, 0, 'x'})
	cases := []struct {
		name string
		v    *rdb.Value
		err  error
		want string
	}{
		{"duplicate set member", dupSet, rdb.ErrDuplicate, `member "a" appears twice`},
		{"duplicate in a big set", bigDup, rdb.ErrDuplicate, "appears twice"},
		{"duplicate hash field", &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f")}, {Field: []byte("f")}}}, rdb.ErrDuplicate, `field "f"`},
		{"duplicate zset member", &rdb.Value{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("m")}, {Member: []byte("m"), Score: 1}}}, rdb.ErrDuplicate, `member "m"`},
		{"NaN score", &rdb.Value{Kind: rdb.KindZSet, ZSet: []rdb.ZMember{{Member: []byte("m"), Score: math.NaN()}}}, rdb.ErrInvalidValue, "NaN"},
		{"empty list", &rdb.Value{Kind: rdb.KindList}, rdb.ErrInvalidValue, "empty list"},
		{"empty hash", &rdb.Value{Kind: rdb.KindHash}, rdb.ErrInvalidValue, "empty hash"},
		{"field TTL beyond 2^48", &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("f"), ExpireAtMs: 1 << 50}}}, rdb.ErrInvalidValue, "expiry"},
		{"stream IDs out of order", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}, {ID: rdb.StreamID{Ms: 1}, Fields: [][]byte{[]byte("a"), []byte("b")}}},
			StreamMeta: rdb.StreamMeta{Length: 2, LastID: rdb.StreamID{Ms: 2}}}}, rdb.ErrInvalidValue, "does not come after"},
		{"stream last ID below entries", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}}, StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 1}}}}, rdb.ErrInvalidValue, "last ID"},
		{"consumer owns an ID outside the PEL", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}}, StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 2}, EntriesAdded: 1},
			Groups: []rdb.StreamGroup{{Name: []byte("g"), PEL: []rdb.StreamPending{{ID: rdb.StreamID{Ms: 1}}},
				Consumers: []rdb.StreamConsumer{{Name: []byte("c"), PEL: []rdb.StreamID{{Ms: 2}}}}}}}}, rdb.ErrInvalidValue, "not in the group PEL"},
		{"consumers claim more than the group PEL", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}}, StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 2}, EntriesAdded: 1},
			Groups: []rdb.StreamGroup{{Name: []byte("g"), Consumers: []rdb.StreamConsumer{{Name: []byte("c"), PEL: []rdb.StreamID{{Ms: 2}}}}}}}}, rdb.ErrInvalidValue, "consumers claim more pending entries"},
		// What the Reader's strict checks (verify) refuse; the mutation suite
		// made such files from JSON (a max deleted ID above the last ID).
		{"stream max deleted ID above the last ID", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}},
			StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 2}, MaxDeletedID: rdb.StreamID{Ms: 3}, EntriesAdded: 1}}}, rdb.ErrInvalidValue, "max deleted ID 3-0 is above the last ID 2-0"},
		{"stream entries added below its length", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}},
			StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 2}}}}, rdb.ErrInvalidValue, "0 entries added is less than the length 1"},
		{"group PEL entry without a consumer", &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{Entries: []rdb.StreamEntry{
			{ID: rdb.StreamID{Ms: 2}, Fields: [][]byte{[]byte("a"), []byte("b")}}}, StreamMeta: rdb.StreamMeta{Length: 1, LastID: rdb.StreamID{Ms: 2}, EntriesAdded: 1},
			Groups: []rdb.StreamGroup{{Name: []byte("g"), PEL: []rdb.StreamPending{{ID: rdb.StreamID{Ms: 2}}},
				Consumers: []rdb.StreamConsumer{{Name: []byte("c")}}}}}}, rdb.ErrInvalidValue, "consumers own 0 pending entries but the group PEL has 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := rdb.NewWriter(io.Discard, rdb.WriterOptions{Version: 12})
			err := w.WriteKey(&rdb.Entry{Key: []byte("bad-key")}, c.v)
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"bad-key"`) {
				t.Fatalf("error %v; want %v mentioning %q and the key", err, c.err, c.want)
			}
			if w.Close() == nil {
				t.Error("Close after an error succeeded; errors must be sticky")
			}
		})
	}
	// Count mismatches and misuse.
	w := rdb.NewWriter(io.Discard, rdb.WriterOptions{Version: 12})
	if err := w.StartKey(&rdb.Entry{Key: []byte("l")}, rdb.KindList, 2); err != nil {
		t.Fatal(err)
	}
	w.WriteElem(&rdb.Elem{Kind: rdb.ElemMember, Member: []byte("x")})
	if err := w.EndKey(); !errors.Is(err, rdb.ErrInvalidValue) || !strings.Contains(err.Error(), "announced 2") {
		t.Errorf("count mismatch: %v", err)
	}
	w = rdb.NewWriter(io.Discard, rdb.WriterOptions{Version: 12})
	if err := w.WriteElem(&rdb.Elem{Kind: rdb.ElemMember}); !errors.Is(err, rdb.ErrWriterState) {
		t.Errorf("WriteElem outside a key: %v", err)
	}
	w = rdb.NewWriter(io.Discard, rdb.WriterOptions{Version: 12})
	w.StartKey(&rdb.Entry{Key: []byte("s")}, rdb.KindSet, rdb.UnknownCount)
	if err := w.WriteElem(&rdb.Elem{Kind: rdb.ElemField}); !errors.Is(err, rdb.ErrInvalidValue) {
		t.Errorf("wrong element kind: %v", err)
	}
	for _, o := range []rdb.WriterOptions{{Version: 6}, {Version: 14}, {Version: 80}, {Version: 12, Valkey: true}} {
		if err := rdb.NewWriter(io.Discard, o).Close(); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// TestWriterValkey80AndV13 round-trips the layouts only these targets have.
func TestWriterValkey80AndV13(t *testing.T) {
	hash := &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("a"), Value: []byte("1"), ExpireAtMs: 4102444800000}, {Field: []byte("b"), Value: []byte("2")}}}
	typ, raw := rawValueOf(t, rdb.WriterOptions{Version: 80, Valkey: true}, "h", hash)
	want := "02 | 01 61 | C0 01 | 00 D8 C3 2C BB 03 00 00 | 01 62 | C0 02 | FF FF FF FF FF FF FF FF"
	if typ != rdb.TypeValkeyHash2 || !bytes.Equal(raw, hexBytes(t, want)) {
		t.Errorf("valkey HASH_2: %s %X, want %s", typ, raw, want)
	}
	// A big hash with one TTL: type 24 with relative TTLs at 12.
	big := &rdb.Value{Kind: rdb.KindHash}
	for i := range 600 {
		f := rdb.HashField{Field: []byte{'f', byte(i), byte(i >> 8)}, Value: []byte("v")}
		if i == 5 {
			f.ExpireAtMs = 4102444800000
		}
		big.Hash = append(big.Hash, f)
	}
	if typ, _ := rawValueOf(t, rdb.WriterOptions{Version: 12}, "h", big); typ != rdb.TypeHashMetadata {
		t.Errorf("big hash with a TTL at 12: %s", typ)
	}
	big.Hash[5].ExpireAtMs = 0
	if typ, _ := rawValueOf(t, rdb.WriterOptions{Version: 12}, "h", big); typ != rdb.TypeHash {
		t.Errorf("big hash without TTL at 12: %s", typ)
	}
	// v13 streams are type 26 with an IDMP section (zeros when none given).
	st := &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{StreamMeta: rdb.StreamMeta{LastID: rdb.StreamID{Ms: 3}}}}
	typ, raw = rawValueOf(t, rdb.WriterOptions{Version: 13}, "s", st)
	if typ != rdb.TypeStreamListpacks4 || !bytes.HasSuffix(raw, []byte{0, 0, 0, 0, 0}) {
		t.Errorf("v13 stream: %s %X", typ, raw)
	}
}

// TestTargetVersion checks the named targets.
func TestTargetVersion(t *testing.T) {
	for _, c := range []struct {
		name    string
		version int
		valkey  bool
		ver     string
		plain   int64
	}{
		{"redis:7.0", 10, false, "7.0.0", 1 << 30},
		{"redis:7.0.15", 10, false, "7.0.15", 1 << 30},
		{"redis:7.2", 11, false, "7.2.0", 1 << 30},
		{"redis:7.4", 12, false, "7.4.0", 0},
		{"redis:8.0", 12, false, "8.0.0", 0},
		{"redis:8.2", 12, false, "8.2.0", 0},
		{"redis:8.4", 12, false, "8.4.0", 0},
		{"redis:8.6", 13, false, "8.6.0", 0},
		{"redis:6.2", 9, false, "6.2.0", 0},
		{"redis:6.0", 9, false, "6.0.0", 0},
		{"redis:5.0", 9, false, "5.0.0", 0},
		{"redis:4.0", 8, false, "4.0.0", 0},
		{"redis:3.2", 7, false, "3.2.0", 0},
		{"valkey:7.2", 11, true, "7.2.4", 1 << 30},
		{"valkey:8.0", 11, true, "8.0.0", 0},
		{"valkey:8.1", 11, true, "8.1.0", 0},
		{"valkey:9.0", 80, true, "9.0.0", 0},
		{"VALKEY080", 80, true, "9.0.0", 0},
		{"REDIS0012", 12, false, "8.4.0", 0},
		{"10", 10, false, "7.0.0", 1 << 30},
	} {
		o, err := rdb.TargetVersion(c.name)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if o.Version != c.version || o.Valkey != c.valkey || o.ServerVersion != c.ver || o.Encoding == nil || o.Encoding.ListPackedThreshold != c.plain {
			t.Errorf("%s: got version %d valkey %v ver %q enc %+v", c.name, o.Version, o.Valkey, o.ServerVersion, o.Encoding)
		}
		if err := rdb.NewWriter(io.Discard, o).Close(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	for _, bad := range []string{"", "redis:2.8", "redis:9.9", "valkey:6.0", "14", "REDIS0006", "mongo:1.0"} {
		if _, err := rdb.TargetVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if len(rdb.Targets()) != 16 {
		t.Errorf("Targets() has %d entries", len(rdb.Targets()))
	}
}

// TestWriterBoundedMemory streams big values element by element with an
// unknown count and checks that the heap does not grow with them: quicklist
// and stream nodes, big hashes and sets go through a spool file.
func TestWriterBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes about 100 MB")
	}
	const elems = 200_000
	elem := bytes.Repeat([]byte("0123456789abcdef"), 6) // 96 bytes, not a listpack value
	var peak uint64
	sample := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
	}
	sample()
	base := peak
	w := rdb.NewWriter(io.Discard, rdb.WriterOptions{Version: 12, SpoolMemory: 1 << 20, SpoolDir: t.TempDir(), NoDuplicateCheck: true})
	var el rdb.Elem
	for _, kind := range []rdb.Kind{rdb.KindList, rdb.KindHash, rdb.KindSet, rdb.KindStream} {
		if err := w.StartKey(&rdb.Entry{Key: []byte(kind.String())}, kind, rdb.UnknownCount); err != nil {
			t.Fatal(err)
		}
		for i := range elems {
			m := append(strconv.AppendInt(nil, int64(i), 10), elem...)
			switch kind {
			case rdb.KindList, rdb.KindSet:
				el = rdb.Elem{Kind: rdb.ElemMember, Member: m}
			case rdb.KindHash:
				el = rdb.Elem{Kind: rdb.ElemField, Member: m, Value: elem, ExpireAtMs: int64(i%2) * 4102444800000}
			case rdb.KindStream:
				el = rdb.Elem{Kind: rdb.ElemStreamEntry, ID: rdb.StreamID{Ms: uint64(i + 1)}, Fields: [][]byte{[]byte("f"), m}}
			}
			if err := w.WriteElem(&el); err != nil {
				t.Fatal(err)
			}
			if i%50_000 == 0 {
				sample()
			}
		}
		if kind == rdb.KindStream {
			el = rdb.Elem{Kind: rdb.ElemStreamMeta, Stream: &rdb.StreamMeta{Length: elems, LastID: rdb.StreamID{Ms: elems}, EntriesAdded: elems}}
			if err := w.WriteElem(&el); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.EndKey(); err != nil {
			t.Fatal(err)
		}
		sample()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("heap grew by %d KiB at most", (peak-base)>>10)
	if grown := peak - base; grown > 16<<20 {
		t.Errorf("heap grew by %d MiB while writing %d MiB values", grown>>20, 4*elems*len(elem)>>20)
	}
}

// TestWriterChecksRawChunks: module values and key metadata are byte chunks
// the Writer copies as they are; it refuses those the Reader refuses (an LZF
// string that does not decompress to its length, more than 64 metadata
// classes, bytes after the end), naming the key. Each refused chunk is also
// written, by patching a valid one of the same size, to show that the Reader
// refuses the file the Writer would otherwise have made.
func TestWriterChecksRawChunks(t *testing.T) {
	modID := uint64(12345 << 10)
	cases := []struct {
		name       string
		good, bad  []byte
		keyMeta    bool
		wantDetail string
	}{
		// Opcode 5 (string), LZF: clen 2, ulen 1 vs 5: one literal byte.
		{"module LZF string of the wrong length", []byte{5, 0xC3, 2, 1, 0, 'a', 0}, []byte{5, 0xC3, 2, 5, 0, 'a', 0}, false, "LZF"},
		{"module bytes after EOF", []byte{1, 7, 0}, []byte{0, 7, 0}, false, "after its end"},
		{"key metadata with 65 classes", []byte{0x40, 0}, []byte{0x40, 65}, true, "at most 64"},
		{"key metadata bytes after its end", []byte{1, 1, 2, 3, 4, 0}, []byte{0, 1, 2, 3, 4, 0}, true, "after its end"},
	}
	write := func(raw []byte, keyMeta bool) ([]byte, error) {
		var out bytes.Buffer
		w := rdb.NewWriter(&out, rdb.WriterOptions{Version: 13})
		e := &rdb.Entry{Key: []byte("chunk-key")}
		v := &rdb.Value{Kind: rdb.KindString, String: []byte("x")}
		if keyMeta {
			e.KeyMeta = raw
		} else {
			v = &rdb.Value{Kind: rdb.KindModule, Module: &rdb.ModuleValue{ID: modID, Raw: raw}}
		}
		err := w.WriteKey(e, v)
		if err == nil {
			err = w.Close()
		}
		return out.Bytes(), err
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := write(c.bad, c.keyMeta)
			if !errors.Is(err, rdb.ErrInvalidValue) || !strings.Contains(err.Error(), `"chunk-key"`) || !strings.Contains(err.Error(), c.wantDetail) {
				t.Errorf("error %v; want an invalid value naming the key and %q", err, c.wantDetail)
			}
			file, err := write(c.good, c.keyMeta)
			if err != nil {
				t.Fatal(err)
			}
			at := bytes.Index(file, c.good)
			if at < 0 || len(c.good) != len(c.bad) {
				t.Fatal("the valid chunk is not in the file")
			}
			copy(file[at:], c.bad)
			if strictReadErr(zeroChecksum(file)) == nil {
				t.Fatal("the Reader accepts the chunk the Writer refuses")
			}
		})
	}
}
