package engine

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestZSetModel drives the packed and blocked sorted set with random
// operations (enough members to split and merge blocks) and checks it against
// a sorted slice after each: order, ranks, scores, range removal and the
// conversions both ways.
func TestZSetModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	z := newZSetValue()
	model := map[string]float64{}
	sorted := func() []zel {
		out := make([]zel, 0, len(model))
		for m, s := range model {
			out = append(out, zel{s, []byte(m)})
		}
		slices.SortFunc(out, cmpZel)
		return out
	}
	for i := 0; i < 20000; i++ {
		m := "m" + strconv.Itoa(r.IntN(3000))
		if r.IntN(50) == 0 {
			m += string(make([]byte, 70))
		}
		switch op := r.IntN(10); {
		case op < 6:
			s := float64(r.IntN(200)) / 4
			z.set([]byte(m), s)
			model[m] = s
		case op < 8:
			z.remove([]byte(m))
			delete(model, m)
		case op == 8 && z.len() > 0:
			from := r.IntN(z.len())
			to := min(z.len(), from+r.IntN(40))
			want := sorted()
			z.removeRange(from, to)
			for _, el := range want[from:to] {
				delete(model, string(el.member))
			}
		default:
			if z.skiplist() && z.fitsListpack() {
				z.toListpack()
			} else if !z.skiplist() {
				z.toSkiplist()
			}
		}
		want := sorted()
		if z.len() != len(want) {
			t.Fatalf("op %d: len %d, want %d", i, z.len(), len(want))
		}
		if i%97 != 0 {
			continue
		}
		got := z.elems(false)
		for j := range want {
			if got[j].score != want[j].score || string(got[j].member) != string(want[j].member) {
				t.Fatalf("op %d: element %d is %v %q, want %v %q", i, j, got[j].score, got[j].member, want[j].score, want[j].member)
			}
			if s, ok := z.score(want[j].member); !ok || s != want[j].score {
				t.Fatalf("op %d: score of %q", i, want[j].member)
			}
			if j%13 == 0 {
				if rk := z.o.rankOf(want[j].score, want[j].member); rk != j {
					t.Fatalf("op %d: rank of %q is %d, want %d", i, want[j].member, rk, j)
				}
				if el := z.o.at(j); string(el.member) != string(want[j].member) {
					t.Fatalf("op %d: at(%d) is %q", i, j, el.member)
				}
			}
		}
	}
}
