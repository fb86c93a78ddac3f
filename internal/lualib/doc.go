// Package lualib decides whether Redis would accept a function library, by
// doing what Redis 7's FUNCTION LOAD does (functions.c, function_lua.c): it
// reads the "#!lua name=..." metadata line, compiles the body with a real
// Lua 5.1 implementation (github.com/yuin/gopher-lua), and runs it once in a
// sandbox that holds what Redis exposes while a library loads and nothing
// else: the table redis with register_function, log, the LOG_* levels and
// REDIS_VERSION(_NUM). Every other global name raises Redis's "Script
// attempted to access nonexistent global variable" error, and writing a
// global or a field of redis raises "Attempt to modify a readonly table". As
// in Redis, string methods ("x"):rep(3) work through the string metatable.
//
// The body must register at least one function, with a valid name, unique in
// the library; a Set also keeps function names unique across libraries and
// library names unique, as a server does.
//
// Limits: a body runs for at most Options.Timeout (Redis's FUNCTION LOAD
// gives 500 ms; loading an RDB gives no limit, so a server would hang where
// rdbtool refuses), calls nest at most 5,000 deep (Lua 5.1 allows 20,000:
// see maxCallDepth for why rdbtool does not), string.rep results are
// bounded by Options.MaxStringBytes, and the heap's growth while the body
// runs by Options.MaxMemoryBytes. Nothing does I/O: no library that could is
// reachable.
//
// Where gopher-lua is not Lua 5.1: it also parses goto and labels (Lua 5.2),
// which Load refuses as Lua 5.1 does; and "goto" is a keyword to it, so a
// library using goto as a variable name, valid in Lua 5.1, is refused too.
//
// Load and Set are safe for concurrent use by separate goroutines only on
// separate Sets.
package lualib
