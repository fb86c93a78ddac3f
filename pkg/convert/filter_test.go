package convert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestGlobMatch: GlobMatch is internal/glob's MatchKey (whose tests hold the
// cases): KEYS semantics, where "*" also matches the empty key.
func TestGlobMatch(t *testing.T) {
	if !GlobMatch("*", nil) || !GlobMatch("user:*", []byte("user:1")) || GlobMatch("user:*", []byte("users:1")) {
		t.Error("GlobMatch")
	}
}

func TestFilterMatch(t *testing.T) {
	e := &rdb.Entry{Kind: rdb.EntryKey, DB: 2, Key: []byte("user:7"), Type: rdb.TypeHashListpack, HasExpire: true, ExpireAtMs: 1000}
	cases := []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{DBs: []int{0, 2}}, true},
		{Filter{DBs: []int{0}}, false},
		{Filter{KeyGlob: "user:*"}, true},
		{Filter{KeyGlob: "order:*"}, false},
		{Filter{KeyRegex: regexp.MustCompile(`^user:\d+$`)}, true},
		{Filter{Kinds: []rdb.Kind{rdb.KindHash}}, true},
		{Filter{Kinds: []rdb.Kind{rdb.KindSet}}, false},
		{Filter{Expired: ExpiredExclude, NowMs: 2000}, false},
		{Filter{Expired: ExpiredExclude, NowMs: 500}, true},
		{Filter{Expired: ExpiredOnly, NowMs: 2000}, true},
	}
	for i, c := range cases {
		if got := c.f.Match(e); got != c.want {
			t.Errorf("case %d: Match = %v, want %v", i, got, c.want)
		}
	}
}

func TestSpoolBothWays(t *testing.T) {
	for _, budget := range []int{1 << 20, 64, 1} {
		sp := newSpool(budget, t.TempDir())
		var want []string
		for i := 0; i < 500; i++ {
			rec := make([]byte, i%37)
			for j := range rec {
				rec[j] = byte(i + j)
			}
			want = append(want, string(rec))
			if err := sp.add(rec); err != nil {
				t.Fatal(err)
			}
		}
		var fwd, back []string
		sp.each(false, func(r []byte) error { fwd = append(fwd, string(r)); return nil })
		sp.each(true, func(r []byte) error { back = append(back, string(r)); return nil })
		if len(fwd) != len(want) || len(back) != len(want) {
			t.Fatalf("budget %d: %d forward, %d backward, want %d", budget, len(fwd), len(back), len(want))
		}
		for i := range want {
			if fwd[i] != want[i] || back[len(want)-1-i] != want[i] {
				t.Fatalf("budget %d: record %d differs", budget, i)
			}
		}
		sp.reset()
	}
}

func TestBytesValueRoundTrip(t *testing.T) {
	cases := [][]byte{nil, []byte(""), []byte("plain ascii text of some length"), []byte("quote\" back\\slash\n\r\t\x00\x1f"),
		[]byte("日本語のテキストとASCII mixed"), {0xff, 'a'}, []byte("abcdefgh\xc3"), []byte("12345678\"2345678"),
		[]byte("\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f"), []byte("€€€€€€€€€"), []byte("aaaaaaa\\"), []byte("\xed\xa0\x80 surrogate")}
	rng := uint64(1)
	for i := 0; i < 5000; i++ {
		n := i % 40
		b := make([]byte, n)
		for j := range b {
			rng = rng*6364136223846793005 + 1442695040888963407
			switch (rng >> 60) % 4 {
			case 0:
				b[j] = byte(rng >> 33)
			default:
				b[j] = " a\"\\\n~Z"[int(rng>>40)%7]
			}
		}
		cases = append(cases, b)
	}
	for _, c := range cases {
		out := jsonBuf(nil).bytesValue(c)
		got, err := decodeBytes(json.RawMessage(out))
		if err != nil || !bytes.Equal(got, c) {
			t.Fatalf("%q -> %s -> %q, %v", c, out, got, err)
		}
		if utf8.Valid(c) != (len(out) > 0 && out[0] == '"') {
			t.Fatalf("%q: form %s does not match its validity", c, out)
		}
	}
}

func TestAppendBase64MatchesEncodingBase64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 300; n++ {
		for k := 0; k < 20; k++ {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(rng.Uint32())
			}
			prefix := []byte("x")
			want := base64.StdEncoding.AppendEncode(bytes.Clone(prefix), src)
			if got := appendBase64(bytes.Clone(prefix), src); !bytes.Equal(got, want) {
				t.Fatalf("%d bytes: got %s want %s", n, got, want)
			}
		}
	}
}

// TestFilterGlobLinear is issue 9 item 12: '*a*a*a*b' against one 3,000-byte
// key took over a minute with the backtracking matcher (this test hung).
func TestFilterGlobLinear(t *testing.T) {
	f := Filter{KeyGlob: "*a*a*a*b"}
	e := &rdb.Entry{Kind: rdb.EntryKey, Key: bytes.Repeat([]byte("a"), 3000)}
	if f.Match(e) {
		t.Fatal("matched a key without 'b'")
	}
	if !GlobMatch("[a-]", []byte("^")) {
		t.Error(`"[a-]" is the range ']'..'a' in Redis`)
	}
}
