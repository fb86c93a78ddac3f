package engine

import (
	"errors"

	"github.com/rdbtool/rdbtool/internal/lualib"
)

// Function libraries (functions.c): FUNCTION LOAD [REPLACE], FUNCTION DELETE
// and FUNCTION FLUSH. A library is kept only if Redis would keep it:
// internal/lualib reads its metadata and runs its Lua body as FUNCTION LOAD
// does, so a library that does not compile, registers no function or
// registers one another library has is an error reply, as on the server (and
// an AOF replay ignores it, as Redis's does, instead of carrying it into a
// rewrite the server would then refuse).

func registerFunctions() {
	registerSub("function", "load", -3, cmdFunctionLoad)
	registerSub("function", "delete", 3, func(e *Engine, a [][]byte) error {
		if !e.libs.Delete(string(a[2])) {
			return &Error{"ERR Library not found"}
		}
		return nil
	})
	registerSub("function", "flush", -2, func(e *Engine, a [][]byte) error {
		if len(a) > 3 || len(a) == 3 && !is(a[2], "ASYNC") && !is(a[2], "SYNC") {
			return &Error{"ERR FUNCTION FLUSH only supports SYNC|ASYNC option"}
		}
		e.libs.Flush()
		return nil
	})
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

// loadLibrary stores a library, refusing an existing name unless replace, as
// FUNCTION LOAD would: the error is the server's reply.
func (e *Engine) loadLibrary(code []byte, replace bool) error {
	_, err := e.libs.Add(clone(code), replace)
	var le *lualib.Error
	if errors.As(err, &le) {
		return &Error{"ERR " + le.Msg}
	}
	return err
}

// Functions returns the code of every loaded library, sorted by library
// name. The slices are copies.
func (e *Engine) Functions() [][]byte {
	libs := e.libs.Libraries()
	out := make([][]byte, len(libs))
	for i, l := range libs {
		out[i] = clone(l.Code)
	}
	return out
}
