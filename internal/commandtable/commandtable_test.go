package commandtable

import (
	"strings"
	"testing"
)

func args(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func TestCheck(t *testing.T) {
	cases := []struct {
		server Server
		cmd    string
		reason string // "" for accepted
	}{
		{Redis70, "SET k v", ""},
		{Redis70, "set k v EX 10", ""},
		{Redis70, "SET k", "wrong number of arguments"},
		{Redis70, "GET k extra", "wrong number of arguments"},
		{Redis70, "NOSUCHCMD a", "unknown command"},
		{Redis70, "XGROUP CREATE s g $", ""},
		{Redis70, "xgroup nosuch s", "unknown subcommand"},
		{Redis70, "XGROUP", "no subcommand"},
		{Redis70, "FUNCTION LOAD code", ""},
		{Redis70, "HSETEX h FIELDS 1 f v", "unknown command"}, // Redis 8.0
		{Redis74, "HPEXPIREAT h 100 FIELDS 1 f", ""},          // Redis 7.4
		{Redis70, "HPEXPIREAT h 100 FIELDS 1 f", "unknown command"},
		{Valkey80, "HPEXPIREAT h 100 FIELDS 1 f", "unknown command"},
	}
	for _, c := range cases {
		err := Check(c.server, args(c.cmd))
		if c.reason == "" && err != nil || c.reason != "" && (err == nil || err.(*Refusal).Reason != c.reason) {
			t.Errorf("%s %q: %v, want %q", c.server, c.cmd, err, c.reason)
		}
	}
	if !Known(Redis70, args("SET k")) || Known(Redis70, args("NOPE")) {
		t.Error("Known")
	}
}
