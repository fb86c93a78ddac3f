package engine_test

import (
	"errors"
	"testing"

	"github.com/rdbtool/rdbtool/internal/membudget"
	"github.com/rdbtool/rdbtool/pkg/engine"
)

// TestGrowthChecksTheBudget: every command that grows a string to a length
// its arguments choose asks the memory budget first (issue 9 item 10).
func TestGrowthChecksTheBudget(t *testing.T) {
	defer membudget.SetLimit(0)
	membudget.SetLimit(membudget.HeapInUse() + 16<<20)
	e := engine.New(engine.Options{})
	for _, cmd := range [][]string{
		{"SETRANGE", "s", "100000000", "x"},
		{"SETBIT", "b", "800000000", "1"},
		{"BITFIELD", "f", "SET", "u8", "#100000000", "1"},
	} {
		args := make([][]byte, len(cmd))
		for i, a := range cmd {
			args[i] = []byte(a)
		}
		var be *membudget.Error
		if err := e.Apply(args); !errors.As(err, &be) {
			t.Errorf("%v: %v, want a *membudget.Error", cmd, err)
		}
	}
	if err := e.Apply([][]byte{[]byte("SETRANGE"), []byte("s"), []byte("1000"), []byte("x")}); err != nil {
		t.Errorf("small growth: %v", err)
	}
}
