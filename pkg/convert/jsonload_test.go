package convert

import (
	"bytes"
	"io"
	"strings"
	"testing"

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
		{"stream length", jsonHeader + `{"db":0,"key":"s","type":"stream","value":{"entries":[["1-0",["f","v"]]],"length":5,"last_id":"1-0","first_id":"1-0","max_deleted_id":"0-0","entries_added":1,"groups":[]}}` + "\n", "line 2: key \"s\": stream length 5, but 1 entries"},
	}
	for _, c := range cases {
		_, err := jsonToRDB(t, c.input, true)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		var pe *rdb.ParseError
		if err != nil && !(asParseError(err, &pe) && pe.Err == rdb.ErrCorrupt) {
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
