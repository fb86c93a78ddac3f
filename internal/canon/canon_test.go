package canon

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestEncodeBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"", "s:"},
		{"abc", "s:abc"},
		{"ключ", "s:ключ"},
		{"\x00\x01", "s:\x00\x01"},
		{"\xff\xfe", "x:fffe"},
		{"a\xc3", "x:61c3"},
	} {
		if got := EncodeBytes([]byte(tc.in)); got != tc.want {
			t.Errorf("EncodeBytes(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := DecodeBytes(tc.want)
		if err != nil || string(back) != tc.in {
			t.Errorf("DecodeBytes(%q) = %q, %v", tc.want, back, err)
		}
	}
}

func TestFormatScore(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1.5, "1.5"},
		{-3e300, "-3e+300"},
		{1e-300, "1e-300"},
		{85, "85"},
		{123456, "123456"},
		{1234567, "1.234567e+06"},
		{4.17387305971775e+14, "4.17387305971775e+14"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	} {
		if got := FormatScore(tc.in); got != tc.want {
			t.Errorf("FormatScore(%v) = %q, want %q", tc.in, got, tc.want)
		}
		if back, err := ParseScore(tc.want); err != nil || math.Float64bits(back) != math.Float64bits(tc.in) {
			t.Errorf("ParseScore(%q) = %v, %v", tc.want, back, err)
		}
	}
}

func i64(v int64) *int64 { return &v }

func TestMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		line Line
		want string
	}{
		{"string escaping", NewKey(0, []byte("k<&>\u2028"), 0, Bytes("a\nb\t\"\\\x00\b")),
			`{"db":0,"key":"s:k\u003c\u0026\u003e\u2028","type":"string","value":"s:a\nb\t\"\\\u0000\b"}`},
		{"binary with ttl", NewKey(15, []byte{0xff}, 4102444800000, Bytes{0x80, 0}),
			`{"db":15,"key":"x:ff","type":"string","expire_at_ms":4102444800000,"value":"x:8000"}`},
		{"list keeps order", NewKey(1, []byte("l"), 0, List{[]byte("b"), []byte("a"), {0xfe}}),
			`{"db":1,"key":"s:l","type":"list","value":["s:b","s:a","x:fe"]}`},
		{"set sorted by encoding", NewKey(0, []byte("s"), 0, Set{{0x01, 0xff}, []byte("b"), []byte("a"), []byte("10"), []byte("9")}),
			`{"db":0,"key":"s:s","type":"set","value":["s:10","s:9","s:a","s:b","x:01ff"]}`},
		{"zset order and scores", NewKey(0, []byte("z"), 0, ZSet{
			{[]byte("inf"), math.Inf(1)}, {[]byte("b"), 0}, {[]byte("a"), math.Copysign(0, -1)},
			{[]byte("ninf"), math.Inf(-1)}, {[]byte("x"), 1.5}, {[]byte("big"), -3e300},
		}), `{"db":0,"key":"s:z","type":"zset","value":[["s:ninf","-inf"],["s:big","-3e+300"],["s:a","-0"],["s:b","0"],["s:x","1.5"],["s:inf","inf"]]}`},
		{"hash sorted by field", NewKey(0, []byte("h"), 0, Hash{{[]byte("f2"), []byte("v2")}, {[]byte("f1"), []byte{0xff}}}),
			`{"db":0,"key":"s:h","type":"hash","value":[["s:f1","x:ff"],["s:f2","s:v2"]]}`},
		{"hash field ttls", Key{DB: 0, Key: []byte("h"), Type: TypeHash,
			Value:           Hash{{[]byte("f"), []byte("v")}, {[]byte{0xff}, []byte("w")}},
			FieldExpireAtMs: FieldTTLs{"f": 2000000000000, "\xff": 2100000000000}},
			`{"db":0,"key":"s:h","type":"hash","value":[["s:f","s:v"],["x:ff","s:w"]],"field_expire_at_ms":{"s:f":2000000000000,"x:ff":2100000000000}}`},
		{"empty stream", NewKey(0, []byte("st"), 0, &Stream{}),
			`{"db":0,"key":"s:st","type":"stream","value":{"entries":null,"entries_added":0,"groups":null,"last_id":"0-0","length":0,"max_deleted_entry_id":"0-0"}}`},
		{"stream", NewKey(2, []byte("st"), 0, &Stream{
			Entries: []StreamEntry{
				{StreamID{5, 1}, [][]byte{[]byte("f"), []byte("v")}},
				{StreamID{5, 0}, [][]byte{[]byte("f"), {0xff}}},
			},
			EntriesAdded: 3, LastID: StreamID{5, 2}, Length: 2, MaxDeletedEntryID: StreamID{5, 2},
			Groups: []StreamGroup{
				{Name: []byte("g2"), EntriesRead: -1, LastDelivered: StreamID{5, 1}},
				{Name: []byte("g1"), EntriesRead: 2, LastDelivered: StreamID{5, 1},
					PEL: []PendingEntry{{StreamID{5, 1}, []byte("bob"), 1700000000001, 2}, {StreamID{5, 0}, []byte("al"), 1700000000000, 1}},
					Consumers: []StreamConsumer{
						{Name: []byte("bob"), PEL: []StreamID{{5, 1}}, SeenTimeMs: i64(1700000000002)},
						{Name: []byte("al"), PEL: []StreamID{{5, 0}}},
						{Name: []byte("idle")},
					}},
			},
		}), `{"db":2,"key":"s:st","type":"stream","value":{"entries":[["5-0",["s:f","x:ff"]],["5-1",["s:f","s:v"]]],"entries_added":3,"groups":[` +
			`{"consumers":[{"name":"s:al","pel":["5-0"]},{"name":"s:bob","pel":["5-1"],"seen_time":1700000000002},{"name":"s:idle","pel":null}],"entries_read":2,"last_delivered":"5-1","name":"s:g1","pel":[["5-0","s:al",1700000000000,1],["5-1","s:bob",1700000000001,2]]},` +
			`{"consumers":null,"entries_read":null,"last_delivered":"5-1","name":"s:g2","pel":null}],"last_id":"5-2","length":2,"max_deleted_entry_id":"5-2"}}`},
		{"functions", Functions{Set{[]byte("#!lua name=b\n"), []byte("#!lua name=a\n")}},
			`{"functions":["s:#!lua name=a\n","s:#!lua name=b\n"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Marshal(tc.line); got != tc.want {
				t.Errorf("Marshal:\n got %s\nwant %s", got, tc.want)
			}
			b, err := json.Marshal(tc.line)
			if err != nil || string(b) != tc.want {
				t.Errorf("json.Marshal differs from Marshal: %s, %v", b, err)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := []string{
		`{"db":0,"key":"s:a","type":"string","value":"s:1"}`,
		`{"db":0,"key":"s:b","type":"string","value":"s:2"}`,
		`{"functions":["s:x"]}`,
	}
	if d := Diff(a, a); d != "" {
		t.Fatalf("Diff(a, a) = %q", d)
	}
	b := []string{
		`{"db":0,"key":"s:a","type":"string","value":"s:9"}`,
		`{"db":1,"key":"s:c","type":"string","value":"s:3"}`,
		`{"functions":["s:x"]}`,
	}
	d := Diff(a, b)
	for _, want := range []string{
		"lines by key: 1 differ, 1 missing, 1 unexpected (want 3 lines, got 3)",
		`db 0 key "s:a": differs at offset 47`,
		`db 0 key "s:b": missing`,
		`db 1 key "s:c": unexpected`,
	} {
		if !strings.Contains(d, want) {
			t.Errorf("Diff report lacks %q:\n%s", want, d)
		}
	}
	if d := Diff(a, []string{a[2], a[0], a[1]}); !strings.Contains(d, "different order") {
		t.Errorf("reordered: %s", d)
	}
}

func TestReadWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	lines := []string{`{"a":1}`, `{"b":2}`}
	if err := WriteFile(path, lines); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil || Diff(lines, got) != "" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
}
