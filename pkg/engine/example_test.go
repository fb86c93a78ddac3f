package engine_test

import (
	"fmt"
	"log"

	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Applying write commands as a server loading an AOF does, then walking the
// dataset. The clock is fixed, so relative TTLs (EXPIRE, SET EX) and the
// output are the same on every run; Each hands out keys in a documented
// order (databases ascending, then order of last writing) with values in
// the form rdb.Writer.WriteKey takes.
func Example() {
	const now = 1_700_000_000_000 // Unix ms
	e := engine.New(engine.Options{Clock: func() int64 { return now }})
	for _, cmd := range [][]string{
		{"SET", "greeting", "hello"},
		{"APPEND", "greeting", ", world"},
		{"RPUSH", "queue", "a", "b", "c"},
		{"LPOP", "queue"},
		{"HSET", "user:1", "name", "Ada", "lang", "en"},
		{"EXPIRE", "user:1", "60"},
		{"SELECT", "1"},
		{"ZADD", "scores", "2.5", "bob", "1", "ann"},
	} {
		args := make([][]byte, len(cmd))
		for i, a := range cmd {
			args[i] = []byte(a)
		}
		if err := e.Apply(args); err != nil {
			log.Fatal(err) // an error reply (wrong type...) or an unknown command
		}
	}
	err := e.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		fmt.Printf("db%d %s %s", db, key, v.Kind)
		switch v.Kind {
		case rdb.KindString:
			fmt.Printf(" %q", v.String)
		case rdb.KindList:
			fmt.Printf(" %q", v.List)
		case rdb.KindHash:
			for _, f := range v.Hash {
				fmt.Printf(" %s=%s", f.Field, f.Value)
			}
		case rdb.KindZSet:
			for _, m := range v.ZSet {
				fmt.Printf(" %s:%g", m.Member, m.Score)
			}
		}
		if ent.HasExpire {
			fmt.Printf(" (expires in %d s)", (ent.ExpireAtMs-now)/1000)
		}
		fmt.Println()
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// db0 greeting string "hello, world"
	// db0 queue list ["b" "c"]
	// db0 user:1 hash name=Ada lang=en (expires in 60 s)
	// db1 scores zset ann:1 bob:2.5
}
