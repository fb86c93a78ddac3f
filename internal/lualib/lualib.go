package lualib

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rdbtool/rdbtool/internal/membudget"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Library is a library Redis would accept.
type Library struct {
	Engine    string   // as the metadata line spells it ("lua", "LUA")
	Name      string   // the name= of the metadata line
	Functions []string // the registered functions, in registration order
	Code      []byte   // the whole payload, metadata line included
}

// Error is why Redis refuses a library, in the words of its error reply
// without the leading "ERR " (FUNCTION LOAD replies "ERR " + Msg).
type Error struct {
	Library string // the library's name, when the metadata line gave one
	Msg     string
}

func (e *Error) Error() string {
	if e.Library != "" {
		return "function library " + e.Library + ": " + e.Msg
	}
	return "function library: " + e.Msg
}

// Options bound the run of a library's body.
type Options struct {
	// Timeout is how long the body may run; default 500ms, FUNCTION LOAD's.
	Timeout time.Duration
	// MaxStringBytes bounds what string.rep may build; default 64 MiB.
	MaxStringBytes int
	// RedisVersion is what redis.REDIS_VERSION says; default "7.0.15".
	RedisVersion string
	// MaxMemoryBytes bounds how much the heap may grow while the body runs
	// (string concatenation, tables); default 256 MiB. It is sampled every
	// few milliseconds, so a body may overshoot it by what it allocates in
	// that time before it is stopped.
	MaxMemoryBytes int64
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 500 * time.Millisecond
	}
	if o.MaxStringBytes <= 0 {
		o.MaxStringBytes = 64 << 20
	}
	if o.RedisVersion == "" {
		o.RedisVersion = "7.0.15"
	}
	if o.MaxMemoryBytes <= 0 {
		o.MaxMemoryBytes = 256 << 20
	}
}

// maxCallDepth bounds how deep calls nest; deeper is a "stack overflow".
// Lua 5.1 allows 20,000 (LUAI_MAXCALLS), but gopher-lua builds its error's
// traceback in time quadratic in the depth (2.5 s at 20,000, 0.15 s at
// 5,000), so a hostile library could stall every check: rdbtool refuses a
// load-time recursion deeper than this, which no real library has.
const maxCallDepth = 5000

// maxRegisters bounds the Lua value stack (16 bytes a value): enough for
// maxCallDepth calls of a couple of dozen registers each, 8 MiB at most.
const maxRegisters = 1 << 19

// Metadata is functionExtractLibMetaData: the engine and library name of the
// "#!<engine> name=<name>" first line, and the body after it (which starts
// with the line's '\n', so that Lua's line numbers count from the payload's
// first line).
func Metadata(code []byte) (engine, name string, body []byte, err error) {
	if !bytes.HasPrefix(code, []byte("#!")) {
		return "", "", nil, &Error{Msg: "Missing library metadata"}
	}
	end := bytes.IndexByte(code, '\n')
	if end < 0 {
		return "", "", nil, &Error{Msg: "Invalid library metadata"}
	}
	parts := strings.Fields(string(code[:end]))
	if len(parts) == 0 {
		return "", "", nil, &Error{Msg: "Invalid library metadata"}
	}
	engine = parts[0][2:]
	seen := false
	for _, p := range parts[1:] {
		if len(p) < 5 || !strings.EqualFold(p[:5], "name=") {
			return "", "", nil, &Error{Msg: "Invalid metadata value given: " + p}
		}
		if seen {
			return "", "", nil, &Error{Msg: "Invalid metadata value, name argument was given multiple times"}
		}
		name, seen = p[5:], true
	}
	if !seen {
		return "", "", nil, &Error{Msg: "Library name was not given"}
	}
	return engine, name, code[end:], nil
}

// ValidName is functionsVerifyName: letters, digits and '_', at least one.
func ValidName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

const errBadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// Load checks one library as FUNCTION LOAD does on an empty server: its
// metadata, its engine (Lua only) and its body, which must compile and run
// to completion registering at least one function. The error is an *Error.
func Load(code []byte, o Options) (*Library, error) {
	o.defaults()
	engine, name, body, err := Metadata(code)
	if err != nil {
		return nil, err
	}
	fail := func(msg string) (*Library, error) { return nil, &Error{Library: name, Msg: msg} }
	if !ValidName(name) {
		return fail(errBadName)
	}
	if !strings.EqualFold(engine, "lua") {
		return fail(fmt.Sprintf("Engine '%s' not found", engine))
	}
	funcs, msg := run(body, o)
	if msg != "" {
		return fail(msg)
	}
	if len(funcs) == 0 {
		return fail("No functions registered")
	}
	return &Library{Engine: engine, Name: name, Functions: funcs, Code: code}, nil
}

// run compiles and runs a library body, returning the functions it
// registered or Redis's error text.
func run(body []byte, o Options) ([]string, string) {
	chunk, err := parse.Parse(bytes.NewReader(body), "user_function")
	if err != nil {
		return nil, "Error compiling function: " + compileMessage(err)
	}
	if hasGoto(chunk) {
		return nil, "Error compiling function: user_function: goto and labels are not Lua 5.1"
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: maxCallDepth,
		RegistrySize: 1 << 12, RegistryMaxSize: maxRegisters, RegistryGrowStep: 1 << 14})
	defer L.Close()
	// The string library only for its metatable: ("x"):upper() works in
	// Redis, string.upper does not (no global "string" at load time).
	L.Push(L.NewFunction(lua.OpenString))
	L.Call(0, 0)
	boundRep(L, o.MaxStringBytes)

	fn, err := L.Load(bytes.NewReader(body), "user_function")
	if err != nil {
		return nil, "Error compiling function: " + compileMessage(err)
	}
	reg := &registry{}
	fn.Env = sandbox(L, reg, o)
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	overMemory := watchMemory(ctx, cancel, o.MaxMemoryBytes)
	L.SetContext(ctx)
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		if overMemory.Load() {
			return nil, fmt.Sprintf("Error registering functions: rdbtool stopped the library's body after it used over %d MiB while loading; it cannot check it", o.MaxMemoryBytes>>20)
		}
		if ctx.Err() != nil {
			return nil, "Error registering functions: FUNCTION LOAD timeout"
		}
		msg := runtimeMessage(err)
		if strings.Contains(msg, "stack overflow") {
			msg += fmt.Sprintf(" (rdbtool allows %d nested calls while a library loads, Lua 5.1 %d)", maxCallDepth, 20000)
		}
		return nil, "Error registering functions: " + msg
	}
	return reg.names, ""
}

// watchMemory samples the heap until ctx ends and cancels it when the heap
// has grown by more than max since the start; the flag says it did.
func watchMemory(ctx context.Context, cancel context.CancelFunc, max int64) *atomic.Bool {
	var over atomic.Bool
	start := membudget.HeapInUse()
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if membudget.HeapInUse()-start > max {
					over.Store(true)
					cancel()
					return
				}
			}
		}
	}()
	return &over
}

// compileMessage shortens gopher-lua's syntax errors to their first line.
func compileMessage(err error) string {
	var ae *lua.ApiError
	msg := err.Error()
	if errors.As(err, &ae) && ae.Object != nil {
		msg = ae.Object.String()
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return msg
}

func runtimeMessage(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		if s, ok := ae.Object.(lua.LString); ok {
			return string(s)
		}
		return ae.Object.String()
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}

// hasGoto reports whether a parsed chunk holds a goto or a label anywhere,
// nested functions included.
func hasGoto(chunk []ast.Stmt) bool {
	found := false
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if found || !v.IsValid() {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			switch v.Interface().(type) {
			case *ast.GotoStmt, *ast.LabelStmt:
				found = true
				return
			}
			walk(v.Elem())
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(chunk))
	return found
}

// registry collects what redis.register_function registers.
type registry struct{ names []string }

// readonlyProxy returns an empty table whose reads come from fields (an
// unknown name raises Redis's error) and whose writes all fail: an empty
// proxy sends every write to __newindex, like Redis's read-only tables.
func readonlyProxy(L *lua.LState, fields *lua.LTable) *lua.LTable {
	proxy := L.NewTable()
	meta := L.NewTable()
	meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		if v := fields.RawGet(k); v != lua.LNil {
			L.Push(v)
			return 1
		}
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(k))
		return 0
	}))
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	meta.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(proxy, meta)
	return proxy
}

// sandbox builds the globals a library body sees while it loads.
func sandbox(L *lua.LState, reg *registry, o Options) *lua.LTable {
	redis := L.NewTable()
	redis.RawSetString("register_function", L.NewFunction(reg.register))
	redis.RawSetString("log", L.NewFunction(logFunction))
	for i, level := range []string{"LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING"} {
		redis.RawSetString(level, lua.LNumber(i))
	}
	redis.RawSetString("REDIS_VERSION", lua.LString(o.RedisVersion))
	redis.RawSetString("REDIS_VERSION_NUM", lua.LNumber(versionNum(o.RedisVersion)))
	globals := L.NewTable()
	globals.RawSetString("redis", readonlyProxy(L, redis))
	return readonlyProxy(L, globals)
}

func versionNum(v string) int {
	var a, b, c int
	fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c)
	return a<<16 | b<<8 | c
}

// logFunction is redis.log: it checks its arguments as Redis does and logs
// nothing.
func logFunction(L *lua.LState) int {
	if L.GetTop() < 2 {
		L.RaiseError("redis.log() requires two arguments or more.")
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok {
		L.RaiseError("First argument must be a number (log level).")
	}
	if n < 0 || n > 3 {
		L.RaiseError("Invalid debug level.")
	}
	return 0
}

// scriptFlags are the flags a function may declare (script.c
// scripts_flags_def), compared ignoring case.
var scriptFlags = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

// register is redis.register_function: positional (name, callback) or one
// table of named arguments.
func (r *registry) register(L *lua.LState) int {
	var name string
	switch L.GetTop() {
	case 1:
		name = registerNamed(L)
	case 2:
		s, ok := luaString(L.Get(1))
		if !ok {
			L.RaiseError("first argument to redis.register_function must be a string")
		}
		if _, ok := L.Get(2).(*lua.LFunction); !ok {
			L.RaiseError("second argument to redis.register_function must be a function")
		}
		name = s
	default:
		L.RaiseError("wrong number of arguments to redis.register_function")
	}
	if !ValidName(name) {
		L.RaiseError(errBadName)
	}
	if slices.Contains(r.names, name) {
		L.RaiseError("Function already exists in the library")
	}
	r.names = append(r.names, name)
	return 0
}

func registerNamed(L *lua.LState) string {
	t, ok := L.Get(1).(*lua.LTable)
	if !ok {
		L.RaiseError("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
	}
	var name string
	hasName, hasCallback := false, false
	var failure string
	t.ForEach(func(k, v lua.LValue) {
		if failure != "" {
			return
		}
		key, ok := luaString(k)
		if !ok {
			failure = "named argument key given to redis.register_function is not a string"
			return
		}
		switch strings.ToLower(key) {
		case "function_name":
			if name, ok = luaString(v); !ok {
				failure = "function_name argument given to redis.register_function must be a string"
			}
			hasName = true
		case "description":
			if _, ok := luaString(v); !ok {
				failure = "description argument given to redis.register_function must be a string"
			}
		case "callback":
			if _, ok := v.(*lua.LFunction); !ok {
				failure = "callback argument given to redis.register_function must be a function"
			}
			hasCallback = true
		case "flags":
			flags, ok := v.(*lua.LTable)
			if !ok {
				failure = "flags argument to redis.register_function must be a table representing function flags"
				return
			}
			for i := 1; ; i++ {
				f := flags.RawGetInt(i)
				if f == lua.LNil {
					break
				}
				s, ok := luaString(f)
				if !ok || !slices.ContainsFunc(scriptFlags, func(x string) bool { return strings.EqualFold(x, s) }) {
					failure = "unknown flag given"
					return
				}
			}
		default:
			failure = "unknown argument given to redis.register_function"
		}
	})
	switch {
	case failure != "":
		L.RaiseError("%s", failure)
	case !hasName:
		L.RaiseError("redis.register_function must get a function name argument")
	case !hasCallback:
		L.RaiseError("redis.register_function must get a callback argument")
	}
	return name
}

// luaString is lua_isstring + lua_tostring: strings, and numbers as text.
func luaString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return x.String(), true
	}
	return "", false
}

// boundRep replaces string.rep with one that refuses results over max bytes:
// rdbtool must not allocate what a hostile library asks for to decide on it.
func boundRep(L *lua.LState, max int) {
	strlib, ok := L.GetGlobal("string").(*lua.LTable)
	if !ok {
		return
	}
	orig, ok := strlib.RawGetString("rep").(*lua.LFunction)
	if !ok {
		return
	}
	strlib.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		n := L.CheckInt(2)
		if n > 0 && len(s) > 0 && n > max/len(s) {
			L.RaiseError("rdbtool: string.rep of %d × %d bytes is over the checker's %d-byte limit", n, len(s), max)
		}
		L.Push(orig)
		L.Push(lua.LString(s))
		L.Push(lua.LNumber(n))
		L.Call(2, 1)
		return 1
	}))
}
