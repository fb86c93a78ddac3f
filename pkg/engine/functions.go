package engine

import (
	"bytes"
	"slices"
	"strings"
)

// Function libraries (functions.c): FUNCTION LOAD [REPLACE], FUNCTION DELETE
// and FUNCTION FLUSH. The engine keeps each library's code under the name its
// "#!<engine> name=<name>" shebang gives; it does not run Lua, so a library
// that Redis would reject for its code (a syntax error, no registered
// function) is accepted here.

func registerFunctions() {
	registerSub("function", "load", -3, cmdFunctionLoad)
	registerSub("function", "delete", 3, func(e *Engine, a [][]byte) error {
		if _, ok := e.libs[string(a[2])]; !ok {
			return &Error{"ERR Library not found"}
		}
		delete(e.libs, string(a[2]))
		return nil
	})
	registerSub("function", "flush", -2, func(e *Engine, a [][]byte) error {
		if len(a) > 3 || len(a) == 3 && !is(a[2], "ASYNC") && !is(a[2], "SYNC") {
			return &Error{"ERR FUNCTION FLUSH only supports SYNC|ASYNC option"}
		}
		clear(e.libs)
		return nil
	})
}

// libraryName is functionExtractLibMetaData: the engine and name= of the
// shebang line.
func libraryName(code []byte) (engine, name string, err error) {
	if !bytes.HasPrefix(code, []byte("#!")) {
		return "", "", &Error{"ERR Missing library metadata"}
	}
	end := bytes.IndexByte(code, '\n')
	if end < 0 {
		return "", "", &Error{"ERR Invalid library metadata"}
	}
	parts := strings.Fields(string(code[:end]))
	if len(parts) == 0 {
		return "", "", &Error{"ERR Invalid library metadata"}
	}
	engine = parts[0][2:]
	for _, p := range parts[1:] {
		if len(p) < 5 || !strings.EqualFold(p[:5], "name=") || name != "" {
			return "", "", &Error{"ERR Invalid metadata value given: " + p}
		}
		name = p[5:]
	}
	if name == "" {
		return "", "", &Error{"ERR Library name was not given"}
	}
	return engine, name, nil
}

func validLibraryName(n string) bool {
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

func cmdFunctionLoad(e *Engine, a [][]byte) error {
	replace := false
	i := 2
	for ; i < len(a)-1; i++ {
		if !is(a[i], "REPLACE") {
			return errorf("ERR Unknown option given: %s", a[i])
		}
		replace = true
	}
	if i != len(a)-1 {
		return &Error{"ERR Function code is missing"}
	}
	return e.loadLibrary(a[i], replace)
}

// loadLibrary stores a library, refusing an existing name unless replace.
func (e *Engine) loadLibrary(code []byte, replace bool) error {
	eng, name, err := libraryName(code)
	if err != nil {
		return err
	}
	if !strings.EqualFold(eng, "lua") {
		return errorf("ERR Engine '%s' not found", eng)
	}
	if !validLibraryName(name) {
		return &Error{"ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"}
	}
	if _, ok := e.libs[name]; ok && !replace {
		return errorf("ERR Library '%s' already exists", name)
	}
	e.libs[name] = clone(code)
	return nil
}

// Functions returns the code of every loaded library, sorted by library
// name. The slices are copies.
func (e *Engine) Functions() [][]byte {
	names := make([]string, 0, len(e.libs))
	for n := range e.libs {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = clone(e.libs[n])
	}
	return out
}
