package convert

import (
	"bytes"
	"path"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/aof"
)

// InputFormat is what an input of a conversion holds.
type InputFormat uint8

const (
	InputUnknown InputFormat = iota // none of the others: not an input rdbtool reads
	InputRDB                        // an RDB file: "REDIS" or "VALKEY" magic
	InputAOF                        // an AOF file: RESP commands, or an RDB preamble followed by them
	InputJSON                       // rdbtool's JSON (DumpJSON): '{' or '[' after white space
	InputEmpty                      // no bytes, and a name that does not say AOF
)

func (f InputFormat) String() string {
	switch f {
	case InputUnknown:
		return "unknown"
	case InputRDB:
		return "rdb"
	case InputAOF:
		return "aof"
	case InputJSON:
		return "json"
	case InputEmpty:
		return "empty"
	}
	return "InputFormat(" + strconv.Itoa(int(f)) + ")"
}

// SniffInput tells the inputs rdbtool reads apart, by the first bytes of the
// (decompressed) stream, at least 9 of them when there are that many, and by
// name, the file's name or path ("" for a stream such as standard input).
//
// The bytes decide but in two cases, where they cannot and the name does as a
// server's configuration would: an AOF whose RDB preamble (aof-use-rdb-preamble)
// starts exactly like an RDB file, and an empty file, which Redis loads as an
// empty AOF but which is no RDB file. Both are AOFs when the name ends in
// ".aof" (before a ".gz", ".zst" or ".zstd"); another empty input is
// InputEmpty, for the caller to judge (a zero-byte snapshot is a failed one).
// Anything else that starts with neither a RESP array ('*') nor an annotation
// ('#') is not an AOF: Redis refuses it (see aof.SniffFormat for the rule
// inside an AOF folder, where every file is an AOF part).
func SniffInput(head []byte, name string) InputFormat {
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(head) == 0:
		if namedAOF(name) {
			return InputAOF
		}
		return InputEmpty
	case aof.SniffFormat(head) == aof.FormatRDB:
		if namedAOF(name) {
			return InputAOF
		}
		return InputRDB
	case head[0] == '*' || head[0] == '#':
		return InputAOF
	case len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		return InputJSON
	}
	return InputUnknown
}

// namedAOF reports whether a file's name says it is an AOF (appendonly.aof,
// appendonly.aof.gz).
func namedAOF(name string) bool {
	name = strings.ToLower(path.Base(strings.ReplaceAll(name, `\`, "/")))
	for _, z := range []string{".gz", ".zst", ".zstd"} {
		name = strings.TrimSuffix(name, z)
	}
	return strings.HasSuffix(name, ".aof")
}
