package engine

// HyperLogLog commands (hyperloglog.c). Redis 7 logs PFADD, PFMERGE and
// PFCOUNT (which rewrites its cached cardinality) as themselves, so a replay
// must reproduce the sparse/dense registers byte for byte. The engine does
// not implement that yet: the commands fail with an *UnsupportedError naming
// them, so a replay stops loudly instead of diverging.

func registerHLL() {
	for _, name := range []string{"pfadd", "pfmerge", "pfcount"} {
		register(name, -2, func(e *Engine, a [][]byte) error {
			return &UnsupportedError{What: "HyperLogLog command " + name + " (byte-exact HLL registers are not implemented)"}
		})
	}
}
