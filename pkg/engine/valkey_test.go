package engine_test

import (
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/engine"
)

// TestZAddSizingByServer: Redis sizes a new sorted set by the first member of
// ZADD, Valkey by the longest of the command, so that in
// ZADD z -0 a 1 <72-byte member> Valkey's skiplist keeps a's -0 and Redis's
// listpack stores 0 before converting. Each engine family is checked against
// its real server: the score, the encoding, and an existing listpack sorted
// set, which Valkey also converts before adding.
func TestZAddSizingByServer(t *testing.T) {
	long := strings.Repeat("L", 72)
	cmds := [][]string{
		{"ZADD", "z", "-0", "a", "1", long},
		{"ZADD", "y", "5", "a"},
		{"ZADD", "y", "-0", "a", "1", long},
	}
	for _, c := range []struct {
		name string
		bin  func(t *testing.T) redistest.Binaries
		opts engine.Options
	}{
		{"redis 7.0", func(t *testing.T) redistest.Binaries { return redistest.Binaries{} }, engine.Options{Version: 700}},
		{"valkey 8", func(t *testing.T) redistest.Binaries { return redistest.RequireNewer(t, redistest.Valkey8) }, engine.Options{Valkey: true, Version: 800}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{Binaries: c.bin(t)})
			cl := srv.Client(t)
			e := engine.New(c.opts)
			for _, cmd := range cmds {
				args := make([]any, len(cmd))
				for i, a := range cmd {
					args[i] = a
				}
				if _, err := cl.Do(args...); err != nil {
					t.Fatal(err)
				}
				if err := e.Apply(bs(cmd...)); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range [][]string{{"ZSCORE", "z", "a"}, {"ZSCORE", "y", "a"}, {"OBJECT", "ENCODING", "z"}, {"ZRANGE", "y", "0", "-1", "WITHSCORES"}} {
				args := make([]any, len(q))
				for i, a := range q {
					args[i] = a
				}
				r, err := cl.Do(args...)
				if err != nil {
					t.Fatal(err)
				}
				if want, got := canonRedis(r), canonEngine(e.Exec(bs(q...))); want != got {
					t.Errorf("%v: server %s, engine %s", q, want, got)
				}
			}
		})
	}
}
