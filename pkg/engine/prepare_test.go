package engine_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/engine"
)

// TestApplyPreparedIsApply applies random commands (ZADD with every option,
// repeated members, -0, scores that do not parse, members too long for a
// listpack; SADD of integers and other members; all of them inside MULTI
// too, DISCARD, nested MULTI, unknown commands, wrong arities) to one engine
// with Apply and to another with what a Preparer worked out ahead
// (ApplyPrepared): the replies, the datasets and the encodings must be the
// same, for each server family.
func TestApplyPreparedIsApply(t *testing.T) {
	for _, o := range []engine.Options{{Version: 700}, {Version: 702}, {}, {Valkey: true}} {
		t.Run(fmt.Sprintf("v%d-valkey%v", o.Version, o.Valkey), func(t *testing.T) {
			for seed := range uint64(40) {
				o.Clock = func() int64 { return now }
				plain, prepared := engine.New(o), engine.New(o)
				var pr engine.Preparer
				rng := rand.New(rand.NewPCG(seed, 7))
				for range 400 {
					args := randomZCommand(rng)
					err1 := plain.Apply(args)
					// The prepared engine's arguments are scribbled over once
					// applied, as a replay's batch buffers are reused: neither
					// the Preparer nor the engine may keep them.
					mine := make([][]byte, len(args))
					for j, a := range args {
						mine[j] = slices.Clone(a)
					}
					p := pr.Prepare(mine)
					err2 := prepared.ApplyPrepared(mine, &p)
					for _, a := range mine {
						for j := range a {
							a[j] = '!'
						}
					}
					if fmt.Sprint(err1) != fmt.Sprint(err2) {
						t.Fatalf("seed %d: %q: Apply: %v, ApplyPrepared: %v", seed, args, err1, err2)
					}
				}
				if a, b := dump(t, plain), dump(t, prepared); a != b {
					t.Fatalf("seed %d: datasets differ:\nApply:\n%s\nApplyPrepared:\n%s", seed, a, b)
				}
				for k := range 12 {
					key := []byte(fmt.Sprintf("%c%d", "zs"[k%2], k/2))
					if a, b := engine.ObjectEncoding(plain, 0, key), engine.ObjectEncoding(prepared, 0, key); a != b {
						t.Fatalf("seed %d: %s: encoding %s after Apply, %s after ApplyPrepared", seed, key, a, b)
					}
				}
			}
		})
	}
}

func randomZCommand(rng *rand.Rand) [][]byte {
	key := fmt.Sprintf("z%d", rng.IntN(6))
	switch rng.IntN(16) {
	case 0:
		return bs("DEL", key)
	case 1:
		return bs("ZREM", key, randomMember(rng), randomMember(rng))
	case 2:
		return bs("MULTI")
	case 3:
		return bs("EXEC")
	case 4:
		return bs("ZINCRBY", key, randomScore(rng), randomMember(rng))
	case 5:
		return bs("DISCARD")
	case 6:
		return bs("NOSUCHCOMMAND", key)
	case 7:
		return bs("ZADD", key)
	case 8, 9:
		return randomSAdd(rng)
	}
	args := []string{"zadd", key}
	for _, opt := range []string{"NX", "XX", "CH", "GT", "LT", "INCR"} {
		if rng.IntN(12) == 0 {
			args = append(args, opt)
		}
	}
	n := 1 + rng.IntN(4)
	if rng.IntN(3) == 0 {
		n = 1 + rng.IntN(300)
	}
	if rng.IntN(2) == 0 {
		// No member repeats: the prepared order stands for a sort.
		for _, k := range rng.Perm(2000)[:n] {
			args = append(args, randomScore(rng), fmt.Sprintf("u%d", k))
		}
	} else {
		for range n {
			args = append(args, randomScore(rng), randomMember(rng))
		}
	}
	if rng.IntN(40) == 0 {
		args = args[:len(args)-1] // a score without its member
	}
	return bs(args...)
}

// randomSAdd is SADD of integers (in order or not, repeated, past
// set-max-intset-entries at times) with now and then one that is not.
func randomSAdd(rng *rand.Rand) [][]byte {
	args := []string{"sadd", fmt.Sprintf("s%d", rng.IntN(6))}
	n := 1 + rng.IntN(8)
	if rng.IntN(4) == 0 {
		n = 1 + rng.IntN(700)
	}
	for range n {
		switch rng.IntN(30) {
		case 0:
			args = append(args, []string{"x", "007", "-0", "1.5", "9223372036854775808", ""}[rng.IntN(6)])
		case 1:
			args = append(args, fmt.Sprint(rng.Int64()))
		default:
			args = append(args, fmt.Sprint(rng.IntN(1000)-100))
		}
	}
	return bs(args...)
}

func randomScore(rng *rand.Rand) string {
	switch rng.IntN(20) {
	case 0:
		return "-0"
	case 1:
		return []string{"inf", "-inf", "+inf", "nan", "abc", "", "0x10", "1e400", " 1", "1_0"}[rng.IntN(10)]
	case 2:
		return "0"
	}
	if rng.IntN(2) == 0 {
		return fmt.Sprint(rng.IntN(20) - 10)
	}
	return fmt.Sprint(rng.Float64()*2000 - 1000)
}

func randomMember(rng *rand.Rand) string {
	if rng.IntN(100) == 0 {
		return strings.Repeat("long", 17+rng.IntN(3)) // past zset-max-listpack-value
	}
	return fmt.Sprintf("m%d", rng.IntN(200))
}
