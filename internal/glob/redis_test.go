package glob

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestMatchAgainstRedisKEYS asks a real Redis 7.0 KEYS for many random
// patterns over a keyspace of short keys made of the pattern syntax's own
// bytes, and compares its answers with MatchKey's.
func TestMatchAgainstRedisKEYS(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := srv.Client(t)
	rng := rand.New(rand.NewPCG(9, 12))
	const alphabet = `ab-]^[\*?`
	randString := func(max int) string {
		b := make([]byte, rng.IntN(max+1))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	keys := map[string]bool{"": true}
	for len(keys) < 400 {
		keys[randString(5)] = true
	}
	args := []any{"MSET"}
	for k := range keys {
		args = append(args, k, "v")
	}
	if _, err := c.Do(args...); err != nil {
		t.Fatal(err)
	}
	patterns := []string{"*", "**", "", `\`, "[", "[]", "[a-]", "[^", `[\`, "*[", "a*?"}
	for range 1500 {
		patterns = append(patterns, randString(7))
	}
	for _, p := range patterns {
		got, err := redistest.ToBytesList(c.Do("KEYS", p))
		if err != nil {
			t.Fatalf("KEYS %q: %v", p, err)
		}
		var redis, ours []string
		for _, k := range got {
			redis = append(redis, string(k))
		}
		for k := range keys {
			if MatchKey(p, []byte(k)) {
				ours = append(ours, k)
			}
		}
		slices.Sort(redis)
		slices.Sort(ours)
		if !slices.Equal(redis, ours) {
			t.Errorf("KEYS %q: Redis %q, MatchKey %q", p, redis, ours)
		}
	}
}
