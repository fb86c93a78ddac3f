package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/engine"
)

// TestFunctionLoadRefusesWhatRedisRefuses is issue 9 item 6: a library
// whose Lua does not compile, or that registers a function another library
// has, is an error reply (Redis's), so it never reaches a rewrite.
func TestFunctionLoadRefusesWhatRedisRefuses(t *testing.T) {
	e := engine.New(engine.Options{})
	load := func(code string) error {
		return e.Apply([][]byte{[]byte("FUNCTION"), []byte("LOAD"), []byte(code)})
	}
	cases := []struct{ code, reply string }{
		{"#!lua name=bad\nredis.register_function('f', function() return 1 end", "ERR Error compiling function"},
		{"#!lua name=none\nlocal x = 1", "ERR No functions registered"},
		{"#!lua name=glob\nlocal s = string.len('x') redis.register_function('g', function() return 1 end)", "nonexistent global variable 'string'"},
	}
	for _, c := range cases {
		err := load(c.code)
		var re *engine.Error
		if !errors.As(err, &re) || !strings.Contains(re.Msg, c.reply) {
			t.Errorf("%q: %v, want an error reply with %q", c.code, err, c.reply)
		}
	}
	if err := load("#!lua name=a\nredis.register_function('f', function() return 1 end)"); err != nil {
		t.Fatal(err)
	}
	if err := load("#!lua name=b\nredis.register_function('f', function() return 1 end)"); err == nil || !strings.Contains(err.Error(), "Function f already exists") {
		t.Errorf("a second library with function f: %v", err)
	}
	if got := e.Functions(); len(got) != 1 {
		t.Errorf("kept %d libraries, want only a", len(got))
	}
}
