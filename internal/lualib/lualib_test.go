package lualib

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// libraryCases are library bodies (after "#!lua name=lib\n") and what Redis
// 7.0.15's FUNCTION LOAD answered for each: "" when it accepted the library,
// else a part of its error reply. TestLoadAgainstRedis asks a real server
// again.
var libraryCases = []struct {
	body, refusal string
}{
	{"redis.register_function('f', function() return 1 end)", ""},
	{"redis.register_function('f', function() return 1 end", "Error compiling function"},
	{"local x = 1", "No functions registered"},
	{"return", "No functions registered"},
	{"local s = string.len('a') redis.register_function('f', function() return 1 end)", "nonexistent global variable 'string'"},
	{"local s = ('a'):rep(3) redis.register_function('f', function() return s end)", ""},
	{"x = 1 redis.register_function('f', function() return 1 end)", "Attempt to modify a readonly table"},
	{"redis.math = 1 redis.register_function('f', function() return 1 end)", "Attempt to modify a readonly table"},
	{"redis.log = nil redis.register_function('f', function() return 1 end)", "Attempt to modify a readonly table"},
	{"redis.call('set','a','b') redis.register_function('f', function() return 1 end)", "nonexistent global variable 'call'"},
	{"redis.setresp(3) redis.register_function('f', function() return 1 end)", "nonexistent global variable 'setresp'"},
	{"redis.register_function{function_name='f', callback=function() return 1 end, flags={'no-writes'}}", ""},
	{"redis.register_function{function_name='f', callback=function() return 1 end, flags={'NO-WRITES','allow-oom','allow-stale','no-cluster','allow-cross-slot-keys'}}", ""},
	{"redis.register_function{function_name='f', callback=function() return 1 end, flags={'bogus'}}", "unknown flag given"},
	{"redis.register_function{function_name='f', callback=function() return 1 end, flags='no-writes'}", "must be a table representing function flags"},
	{"redis.register_function{function_name='f', callback=function() return 1 end, description='d', bogus=1}", "unknown argument given"},
	{"redis.register_function{function_name='f', callback=function() return 1 end, [1]=2}", "unknown argument given"},
	{"redis.register_function{function_name='f'}", "must get a callback argument"},
	{"redis.register_function{callback=function() return 1 end}", "must get a function name argument"},
	{"redis.register_function('f-1', function() return 1 end)", "Library names can only contain"},
	{"redis.register_function('', function() return 1 end)", "Library names can only contain"},
	{"redis.register_function(1, function() return 1 end)", ""},
	{"redis.register_function('f', function() return 1 end) redis.register_function('f', function() return 1 end)", "Function already exists in the library"},
	{"local function f() return 1 end redis.register_function('f', f) redis.register_function('g', f)", ""},
	{"redis.register_function('f', function() return 1 end, 3)", "wrong number of arguments"},
	{"redis.register_function('f', 'x')", "second argument to redis.register_function must be a function"},
	{"error('boom')", "nonexistent global variable 'error'"},
	{"pcall(function() end) redis.register_function('f', function() return 1 end)", "nonexistent global variable 'pcall'"},
	{"local ok = type(1) redis.register_function('f', function() return 1 end)", "nonexistent global variable 'type'"},
	{"local a = setmetatable({}, {}) redis.register_function('f', function() return a end)", "nonexistent global variable 'setmetatable'"},
	{"local m = getmetatable('') redis.register_function('f', function() return 1 end)", "nonexistent global variable 'getmetatable'"},
	{"while true do end", "FUNCTION LOAD timeout"},
	{"goto x ::x:: redis.register_function('f', function() return 1 end)", "Error compiling function"},
	{"redis.log(redis.LOG_NOTICE, 'hi') redis.register_function('f', function() return 1 end)", ""},
	{"redis.log(redis.LOG_NOTICE) redis.register_function('f', function() return 1 end)", "redis.log() requires two arguments or more."},
	{"local v = redis.REDIS_VERSION redis.register_function('f', function() return v end)", ""},
	{"local t = {} t.x = 1 redis.register_function('f', function() return 1 end)", ""},
	{"for i = 1, 3 do end redis.register_function('f', function() return 1 end)", ""},
	{"local r = redis redis.register_function('f', function() return 1 end) return 5", ""},
	{"local function r(n) if n == 0 then return 0 end return 1 + r(n-1) end local v = r(4000) redis.register_function('f', function() return v end)", ""},
	{"local function r(n) if n == 0 then return 0 end return 1 + r(n-1) end local v = r(300000) redis.register_function('f', function() return v end)", "stack overflow"},
	{`local a = "\x41" redis.register_function('f', function() return a end)`, ""},
	{"local a = 7 // 2 redis.register_function('f', function() return a end)", "Error compiling function"},
	{"local x <const> = 1 redis.register_function('f', function() return x end)", "Error compiling function"},
	{"local s = [[long\nstring]] redis.register_function('f', function() return s end)", ""},
	{"local s = #'abc' ~= 5 % 3 ^ 2 redis.register_function('f', function() return s end)", ""},
	{"local big = ('x'):rep(1000000) redis.register_function('f', function() return #big end)", ""},
	{"local t = {} t[nil] = 1 redis.register_function('f', function() return 1 end)", "table index is nil"},
	{"local x = nil .. 'a' redis.register_function('f', function() return 1 end)", "attempt to concatenate"},
	{"local x = 1 + {} redis.register_function('f', function() return 1 end)", "attempt to perform arithmetic"},
	{"local x = ('a'):bad() redis.register_function('f', function() return 1 end)", "bad"},
	{"redis.register_function('f', function() return 1 end) redis.register_function('_G', function() return 1 end)", ""},
	{"local s = ('x'):len() redis.register_function('F1_a', function() return s end)", ""},
}

func TestLoad(t *testing.T) {
	for _, c := range libraryCases {
		lib, err := Load([]byte("#!lua name=lib\n"+c.body), Options{Timeout: 200 * time.Millisecond})
		switch {
		case c.refusal == "" && err != nil:
			t.Errorf("%s\nrefused (%v); Redis 7.0 accepts it", c.body, err)
		case c.refusal != "" && err == nil:
			t.Errorf("%s\naccepted (functions %q); Redis 7.0 refuses it: %s", c.body, lib.Functions, c.refusal)
		case c.refusal != "" && !strings.Contains(err.Error(), c.refusal):
			t.Logf("%s\nrefused, as Redis does, but with %q (Redis: %q)", c.body, err, c.refusal)
		}
	}
}

// TestLoadMemoryBound: a body that doubles a string forty times is stopped
// by the memory bound, not by the machine running out of memory.
func TestLoadMemoryBound(t *testing.T) {
	body := "local s = 'x' for i = 1, 40 do s = s .. s end redis.register_function('f', function() return #s end)"
	_, err := Load([]byte("#!lua name=lib\n"+body), Options{Timeout: 10 * time.Second, MaxMemoryBytes: 64 << 20})
	if err == nil || !strings.Contains(err.Error(), "cannot check it") {
		t.Errorf("%v", err)
	}
}

func TestMetadata(t *testing.T) {
	cases := []struct{ code, refusal string }{
		{"redis.register_function('f', function() return 1 end)", "Missing library metadata"},
		{"#!lua name=x", "Invalid library metadata"},
		{"#!lua\nx", "Library name was not given"},
		{"#!lua name=a name=b\nx", "name argument was given multiple times"},
		{"#!lua nam=a\nx", "Invalid metadata value given: nam=a"},
		{"#!js name=a\nredis.register_function('f', function() return 1 end)", "Engine 'js' not found"},
		{"#!lua name=a-b\nredis.register_function('f', function() return 1 end)", "Library names can only contain"},
		{"#!LUA NAME=ok\nredis.register_function('f', function() return 1 end)", ""},
	}
	for _, c := range cases {
		_, err := Load([]byte(c.code), Options{})
		if (err == nil) != (c.refusal == "") || err != nil && !strings.Contains(err.Error(), c.refusal) {
			t.Errorf("%q: got %v, want %q", c.code, err, c.refusal)
		}
		var le *Error
		if err != nil && !errors.As(err, &le) {
			t.Errorf("%q: %T is not an *Error", c.code, err)
		}
	}
}

func TestSet(t *testing.T) {
	lib := func(name, fn string) []byte {
		return []byte("#!lua name=" + name + "\nredis.register_function('" + fn + "', function() return 1 end)")
	}
	var s Set
	if _, err := s.Add(lib("a", "f"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(lib("a", "g"), false); err == nil || !strings.Contains(err.Error(), "Library 'a' already exists") {
		t.Errorf("the same library twice: %v", err)
	}
	if _, err := s.Add(lib("b", "f"), false); err == nil || !strings.Contains(err.Error(), "Function f already exists") {
		t.Errorf("a function of another library: %v", err)
	}
	if _, err := s.Add(lib("a", "f"), true); err != nil {
		t.Errorf("REPLACE with the same function: %v", err)
	}
	if _, err := s.Add(lib("b", "g"), false); err != nil {
		t.Fatal(err)
	}
	if got := s.Libraries(); len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("Libraries = %v", got)
	}
	if !s.Delete("a") || s.Delete("a") {
		t.Error("Delete")
	}
	if _, err := s.Add(lib("c", "f"), false); err != nil {
		t.Errorf("f is free once a is deleted: %v", err)
	}
}
