package engine

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestQlistModel checks the blocked list against a slice under random pushes,
// pops, drops, inserts, replacements and rebuilds, with elements small and
// larger than a block, and its listpack size against a recount.
func TestQlistModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	l := newQlist()
	var model [][]byte
	elem := func() []byte {
		switch r.IntN(20) {
		case 0:
			return bytes.Repeat([]byte{'x'}, 5000+r.IntN(5000))
		case 1, 2, 3:
			return []byte(strconv.Itoa(r.IntN(1 << 20)))
		}
		return []byte("e" + strconv.Itoa(r.IntN(1000)))
	}
	for i := 0; i < 30000; i++ {
		switch op := r.IntN(12); {
		case op < 3:
			v := elem()
			l.pushBack(v)
			model = append(model, v)
		case op < 5:
			v := elem()
			l.pushFront(v)
			model = append([][]byte{v}, model...)
		case op == 5 && len(model) > 0:
			head := r.IntN(2) == 0
			v := l.pop(head)
			want := model[0]
			if head {
				model = model[1:]
			} else {
				want = model[len(model)-1]
				model = model[:len(model)-1]
			}
			if !bytes.Equal(v, want) {
				t.Fatalf("op %d: pop %q, want %q", i, v, want)
			}
		case op == 6 && len(model) > 0:
			k := r.IntN(len(model) + 1)
			head := r.IntN(2) == 0
			l.drop(head, k)
			if head {
				model = model[k:]
			} else {
				model = model[:len(model)-k]
			}
		case op == 7:
			at := r.IntN(len(model) + 1)
			v := elem()
			l.insert(at, v)
			model = slices.Insert(model, at, v)
		case op == 8 && len(model) > 0:
			at := r.IntN(len(model))
			v := elem()
			l.set(at, v)
			model[at] = v
		case op == 9 && r.IntN(10) == 0:
			l.keep(func(i int, _ []byte) bool { return i%3 != 0 })
			var kept [][]byte
			for j, v := range model {
				if j%3 != 0 {
					kept = append(kept, v)
				}
			}
			model = kept
		case op == 10 && len(model) > 0:
			at := r.IntN(len(model))
			if !bytes.Equal(l.at(at), model[at]) {
				t.Fatalf("op %d: at(%d)", i, at)
			}
		}
		if l.len() != len(model) {
			t.Fatalf("op %d: len %d, want %d", i, l.len(), len(model))
		}
		if i%101 == 0 {
			got := l.slice()
			lp := lpHeaderBytes
			for j := range model {
				if !bytes.Equal(got[j], model[j]) {
					t.Fatalf("op %d: element %d is %q, want %q", i, j, got[j], model[j])
				}
				lp += lpEntrySize(model[j])
			}
			if l.lpBytes != lp {
				t.Fatalf("op %d: lpBytes %d, want %d", i, l.lpBytes, lp)
			}
		}
	}
}
