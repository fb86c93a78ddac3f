package engine

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestStreamLogModel checks the packed entry blocks against a slice of IDs
// under random appends, deletions and head trims, with seeks, counts,
// lookups (exists, which starts from where the last one ended) and walks in
// both directions.
func TestStreamLogModel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var l slog
	var model []rdb.StreamID
	fieldsOf := map[rdb.StreamID]string{}
	next := rdb.StreamID{Ms: 1}
	for i := 0; i < 20000; i++ {
		switch op := r.IntN(10); {
		case op < 6:
			next.Seq += uint64(1 + r.IntN(3))
			if r.IntN(4) == 0 {
				next = rdb.StreamID{Ms: next.Ms + 1}
			}
			f := [][]byte{[]byte("f"), []byte(strconv.Itoa(i)), []byte("g"), make([]byte, r.IntN(100))}
			if r.IntN(4) == 0 {
				f = append(f, []byte("extra"), []byte("x"))
			}
			if r.IntN(8) == 0 {
				f[0] = []byte("other")
			}
			l.add(next, f)
			fieldsOf[next] = string(bytes.Join(f, []byte{0}))
			model = append(model, next)
		case op < 8 && len(model) > 0:
			j := r.IntN(len(model))
			l.exists(model[min(j+3, len(model)-1)]) // a hint past what goes
			if !l.remove(model[j]) {
				t.Fatalf("op %d: remove %v failed", i, model[j])
			}
			gone := model[j]
			model = slices.Delete(model, j, j+1)
			for k := j; k < min(j+5, len(model)); k++ {
				if !l.exists(model[k]) {
					t.Fatalf("op %d: %v is lost after the removal of the entry before it", i, model[k])
				}
			}
			if l.exists(gone) {
				t.Fatalf("op %d: %v exists after its removal", i, gone)
			}
		case op == 8 && len(model) > 0 && r.IntN(5) == 0:
			k := r.IntN(len(model) + 1)
			if len(model) > 0 {
				l.exists(model[len(model)-1]) // a hint past what goes
			}
			l.trimHead(k)
			model = model[k:]
			for k := 0; k < min(5, len(model)); k++ {
				if !l.exists(model[k]) {
					t.Fatalf("op %d: %v is lost after a trim", i, model[k])
				}
			}
		default:
			probe := rdb.StreamID{Ms: 1 + uint64(r.IntN(int(next.Ms))), Seq: uint64(r.IntN(10))}
			want, found := slices.BinarySearchFunc(model, probe, cmpID)
			if l.exists(probe) != found {
				t.Fatalf("op %d: exists(%v) = %v", i, probe, !found)
			}
			// A run of exists in ascending order, as XCLAIMs come, which
			// start from where the one before ended (seekHinted): of
			// entries, and of the IDs right after them.
			for k := want; k < min(want+8, len(model)); k++ {
				after := rdb.StreamID{Ms: model[k].Ms, Seq: model[k].Seq + 1}
				_, afterFound := slices.BinarySearchFunc(model, after, cmpID)
				if !l.exists(model[k]) || l.exists(after) != afterFound {
					t.Fatalf("op %d: exists(%v) or exists(%v) wrong", i, model[k], after)
				}
			}
			if got := l.countBefore(probe); got != want {
				t.Fatalf("op %d: countBefore(%v) = %d, want %d", i, probe, got, want)
			}
			var fwd, rev []rdb.StreamID
			l.each(probe, func(e sentry, b *sblock) bool {
				if got := string(bytes.Join(b.appendFields(nil, e), []byte{0})); got != fieldsOf[e.id] {
					t.Fatalf("op %d: fields of %v are %q, want %q", i, e.id, got, fieldsOf[e.id])
				}
				fwd = append(fwd, e.id)
				return len(fwd) < 5
			})
			l.eachRev(probe, func(e sentry, _ *sblock) bool { rev = append(rev, e.id); return len(rev) < 5 })
			for k, id := range fwd {
				if id != model[want+k] {
					t.Fatalf("op %d: forward walk from %v", i, probe)
				}
			}
			hi, _ := slices.BinarySearchFunc(model, probe, cmpID)
			if hi < len(model) && model[hi] == probe {
				hi++
			}
			for k, id := range rev {
				if id != model[hi-1-k] {
					t.Fatalf("op %d: backward walk from %v", i, probe)
				}
			}
		}
		if l.len() != len(model) {
			t.Fatalf("op %d: len %d, want %d", i, l.len(), len(model))
		}
		if len(model) > 0 && (l.firstID() != model[0] || l.lastEntryID() != model[len(model)-1]) {
			t.Fatalf("op %d: first/last ID", i)
		}
	}
}
