package convert

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/errclass"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func jsonToRDB(t *testing.T, input string, reread bool) (string, error) {
	t.Helper()
	var warnings []string
	o := JSONToRDBOptions{
		WriterOptions: func(h rdb.Header) (rdb.WriterOptions, error) { return rdb.WriterOptions{Version: 10}, nil },
		Warn:          func(s string) { warnings = append(warnings, s) },
	}
	if reread {
		o.Reread = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(input)), nil }
	}
	var out bytes.Buffer
	_, err := JSONToRDB(strings.NewReader(input), &out, o)
	return strings.Join(warnings, "\n"), err
}

const jsonHeader = `{"magic":"REDIS","rdb_version":10}` + "\n"

// TestJSONToRDBRefuses is issue 9 items 6 and 13: JSON that made an RDB Redis
// refuses (or that decoded into something else than it says) is invalid
// input, naming its line.
func TestJSONToRDBRefuses(t *testing.T) {
	lib := func(name, fn string) string {
		return `{"function":"#!lua name=` + name + `\nredis.register_function('` + fn + `', function() return 1 end)"}` + "\n"
	}
	key := func(db, k string) string {
		return `{"db":` + db + `,"key":"` + k + `","type":"string","value":"v"}` + "\n"
	}
	stream := func(rest string) string {
		return `{"db":0,"key":"s","type":"stream","value":{"entries":[["1-0",["f","v"]]],"length":1,"last_id":"1-0","first_id":"1-0",` + rest + "}}\n"
	}
	cases := []struct{ name, input, want string }{
		{"duplicate key", jsonHeader + key("0", "a") + key("0", "b") + key("0", "a"), `line 4: key "a" of database 0 is also on line 2`},
		{"duplicate library", jsonHeader + lib("x", "f") + lib("x", "g"), "line 3: function library x is also on line 2"},
		{"library function twice", jsonHeader + lib("x", "f") + lib("y", "f"), "line 3: function library y: Function f already exists"},
		{"library does not compile", jsonHeader + `{"function":"#!lua name=bad\nredis.register_function("}` + "\n", "line 2: function library bad: Error compiling function"},
		{"duplicate member", jsonHeader + `{"db":0,"key":"a","key":"b","type":"string","value":"v"}` + "\n", `line 2: member "key" appears twice`},
		{"duplicate nested member", jsonHeader + `{"db":0,"key":"h","type":"hash","value":{"f":"1","f":"2"}}` + "\n", `line 2: member "f" appears twice`},
		{"lone surrogate", jsonHeader + `{"db":0,"key":"\ud800x","type":"string","value":"v"}` + "\n", `line 2: lone UTF-16 surrogate \uD800`},
		{"lone low surrogate", jsonHeader + `{"db":0,"key":"k","type":"string","value":"\udc00"}` + "\n", `line 2: lone UTF-16 surrogate \uDC00`},
		{"not UTF-8", jsonHeader + "{\"db\":0,\"key\":\"\xff\",\"type\":\"string\",\"value\":\"v\"}\n", "line 2: not valid UTF-8"},
		{"missing header", key("0", "a"), "line 1: not a header line"},
		{"empty", "", "line 1: no lines"},
		{"second header", jsonHeader + key("0", "a") + jsonHeader, "line 3: a second header line"},
		{"wrong magic", `{"magic":"KEYDB","rdb_version":10}` + "\n", "line 1: header names no RDB format"},
		{"wrong version", `{"magic":"REDIS","rdb_version":99}` + "\n", "line 1: header names no RDB format"},
		{"db 2^32", jsonHeader + key("4294967296", "a"), "line 2: key line without a valid db"},
		// What the Reader's strict checks refuse (verify), refused from JSON
		// by the RDB writer: the mutation suite made three such files.
		{"stream max deleted ID", jsonHeader + stream(`"max_deleted_id":"5-0","entries_added":1,"groups":[]`), `line 2: rdb writer (key "s"): stream meta: invalid value: max deleted ID 5-0 is above the last ID 1-0`},
		{"stream entries added", jsonHeader + stream(`"max_deleted_id":"0-0","entries_added":0,"groups":[]`), `line 2: rdb writer (key "s"): stream meta: invalid value: 0 entries added is less than the length 1`},
		{"pending entry without owner", jsonHeader + stream(`"max_deleted_id":"0-0","entries_added":1,"groups":[{"name":"g","last_delivered":"1-0","entries_read":1,"consumers":[],"pel":[["1-0",null,1,1]]}]`),
			`line 2: key "s": stream group "g": pending entry 1-0 belongs to no consumer, but no consumer lists it`},
		{"pending entry given to two", jsonHeader + stream(`"max_deleted_id":"0-0","entries_added":1,"groups":[{"name":"g","last_delivered":"1-0","entries_read":1,"consumers":[{"name":"a","seen_time_ms":1,"active_time_ms":1,"pel":["1-0"]}],"pel":[["1-0","b",1,1]]}]`),
			`line 2: key "s": stream group "g": consumer "a" lists pending entry 1-0, which the group's pel gives to consumer "b"`},
		{"pending entry listed by nobody", jsonHeader + stream(`"max_deleted_id":"0-0","entries_added":1,"groups":[{"name":"g","last_delivered":"1-0","entries_read":1,"consumers":[{"name":"a","seen_time_ms":1,"active_time_ms":1,"pel":[]}],"pel":[["1-0","a",1,1]]}]`),
			`line 2: key "s": stream group "g": pending entry 1-0 belongs to consumer "a", but no consumer lists it`},
		{"stream length", jsonHeader + `{"db":0,"key":"s","type":"stream","value":{"entries":[["1-0",["f","v"]]],"length":5,"last_id":"1-0","first_id":"1-0","max_deleted_id":"0-0","entries_added":1,"groups":[]}}` + "\n", "line 2: key \"s\": stream length 5, but 1 entries"},
	}
	for _, c := range cases {
		_, err := jsonToRDB(t, c.input, true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		// Refused by the JSON reader (a ParseError) or, with the line
		// named, by the RDB writer (a WriteError): invalid input either way.
		var pe *rdb.ParseError
		var we *rdb.WriteError
		if err != nil && !(asParseError(err, &pe) && pe.Err == rdb.ErrCorrupt) && !(errors.As(err, &we) && errors.Is(err, errclass.ErrInvalid)) {
			t.Errorf("%s: %T is not invalid input", c.name, err)
		}
	}
}

func asParseError(err error, pe **rdb.ParseError) bool {
	p, ok := err.(*rdb.ParseError)
	*pe = p
	return ok
}

func TestJSONToRDBAccepts(t *testing.T) {
	input := jsonHeader +
		`{"function":"#!lua name=x\nredis.register_function('f', function() return 1 end)"}` + "\n" +
		`{"db":0,"key":"a","type":"string","value":"v"}` + "\n" +
		`{"db":1,"key":"a","type":"string","value":"\ud83d\ude00"}` + "\n" +
		`{"db":20,"key":"a","type":"string","value":"v"}` + "\n" +
		`{"slot_info":{"slot":866,"size":1,"expires_size":0}}` + "\n"
	warnings, err := jsonToRDB(t, input, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warnings, "'databases 21'") {
		t.Errorf("warnings %q", warnings)
	}
	// Standard input: a duplicate is still found (by hash).
	if _, err := jsonToRDB(t, jsonHeader+`{"db":0,"key":"a","type":"string","value":"v"}`+"\n"+`{"db":0,"key":"a","type":"string","value":"w"}`+"\n", false); err == nil || !strings.Contains(err.Error(), "line 3: probably the key of line 2") {
		t.Errorf("stdin duplicate: %v", err)
	}
}

// TestJSONToRDBRefusesRawChunks: module values and key metadata from JSON are
// checked as the Reader reads them before the Writer copies them (an LZF
// string that does not decompress to its length, 65 metadata classes), so
// the RDB written is never one verify refuses.
func TestJSONToRDBRefusesRawChunks(t *testing.T) {
	id := uint64(12345 << 10)
	module := func(raw string) string {
		return `{"db":0,"key":"m","type":"module","value":{"name":"` + rdb.ModuleName(id) + `","id":` + strconv.FormatUint(id, 10) +
			`,"encver":0,"when":0,"raw":{"base64":"` + raw + `"}}}` + "\n"
	}
	header := `{"magic":"REDIS","rdb_version":13}` + "\n"
	cases := []struct{ name, input, want string }{
		{"module LZF string", header + module(base64.StdEncoding.EncodeToString([]byte{5, 0xC3, 2, 5, 0, 'a', 0})), `line 2: rdb writer (key "m"): module value: invalid value: module string: LZF`},
		{"key metadata classes", header + `{"db":0,"key":"k","key_meta":{"base64":"` + base64.StdEncoding.EncodeToString([]byte{0x40, 65}) + `"},"type":"string","value":"v"}` + "\n",
			`line 2: rdb writer (key "k"): key metadata: invalid value: key metadata has 65 classes`},
	}
	for _, c := range cases {
		o := JSONToRDBOptions{WriterOptions: func(rdb.Header) (rdb.WriterOptions, error) { return rdb.WriterOptions{Version: 13}, nil }}
		_, err := JSONToRDB(strings.NewReader(c.input), io.Discard, o)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errclass.ErrInvalid) {
			t.Errorf("%s: %v, want invalid input with %q", c.name, err, c.want)
		}
	}
}
