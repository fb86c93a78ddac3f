package convert

import "testing"

func TestSniffInput(t *testing.T) {
	const rdb = "REDIS0011\xfa"
	for _, tc := range []struct {
		head, name string
		want       InputFormat
	}{
		{rdb, "dump.rdb", InputRDB},
		{rdb, "", InputRDB},
		{"VALKEY080", "x", InputRDB},
		{rdb, "appendonly.aof", InputAOF}, // an RDB preamble
		{rdb, "/backups/APPENDONLY.AOF.gz", InputAOF},
		{rdb, "legacy.aof.zst", InputAOF},
		{rdb, "dump.aof.rdb", InputRDB},
		{"*2\r\n$6\r\nSELECT", "", InputAOF},
		{"#TS:1700", "x.rdb", InputAOF},
		{`{"magic"`, "", InputJSON},
		{" \n[{", "keys.json", InputJSON},
		{"", "appendonly.aof", InputAOF}, // Redis loads it as an empty AOF
		{"", "dump.rdb", InputEmpty},
		{"", "", InputEmpty},
		{"GET k\r\n", "x.aof", InputUnknown}, // inline commands: Redis refuses them
		{"REDI", "dump.rdb", InputUnknown},
	} {
		if got := SniffInput([]byte(tc.head), tc.name); got != tc.want {
			t.Errorf("SniffInput(%q, %q) = %s, want %s", tc.head, tc.name, got, tc.want)
		}
	}
	if InputFormat(9).String() != "InputFormat(9)" {
		t.Error(InputFormat(9).String())
	}
}
