package engine

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestDictModel checks the dict against a map under random sets (values of
// varying length, so in place and appended), deletions (backward shifts,
// compaction), expiries, resets and copies.
func TestDictModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	d := newDict(0)
	type val struct {
		v   string
		ttl int64
	}
	model := map[string]val{}
	for i := 0; i < 100000; i++ {
		k := "k" + strconv.Itoa(r.IntN(5000))
		switch op := r.IntN(10); {
		case op < 5:
			v := string(make([]byte, r.IntN(12)))
			ttl := int64(0)
			if r.IntN(5) == 0 {
				ttl = int64(1 + r.IntN(1000))
			}
			_, had := model[k]
			if isNew := d.set([]byte(k), []byte(v), ttl); isNew == had {
				t.Fatalf("op %d: set %q reported new=%v", i, k, isNew)
			}
			model[k] = val{v, ttl}
		case op < 8:
			_, had := model[k]
			if d.del([]byte(k)) != had {
				t.Fatalf("op %d: del %q", i, k)
			}
			delete(model, k)
		case op == 8:
			if m, ok := model[k]; ok {
				ttl := int64(r.IntN(3))
				d.setTTL([]byte(k), ttl)
				model[k] = val{m.v, ttl}
			}
		default:
			if r.IntN(500) == 0 {
				d = d.dup()
			}
		}
		if d.len() != len(model) {
			t.Fatalf("op %d: len %d, want %d", i, d.len(), len(model))
		}
		if i%1000 == 0 {
			seen := 0
			d.each(func(k, v []byte, ttl int64) bool {
				m, ok := model[string(k)]
				if !ok || m.v != string(v) || m.ttl != ttl {
					t.Fatalf("op %d: entry %q = %q/%d, want %q/%d (present %v)", i, k, v, ttl, m.v, m.ttl, ok)
				}
				seen++
				return true
			})
			for k, m := range model {
				v, ttl, ok := d.get([]byte(k))
				if !ok || string(v) != m.v || ttl != m.ttl {
					t.Fatalf("op %d: get %q", i, k)
				}
			}
			if seen != len(model) {
				t.Fatalf("op %d: each saw %d of %d", i, seen, len(model))
			}
		}
	}
}
