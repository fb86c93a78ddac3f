package membudget

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	cases := map[string]int64{"1024": 1024, "4GiB": 4 << 30, "512M": 512 << 20, "2g": 2 << 30, "1.5KB": 1536, "3T": 3 << 40}
	for s, want := range cases {
		if got, err := Parse(s); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "x", "-1", "150%", "4 parsecs"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if Default() <= 0 {
		t.Error("no default budget on Linux")
	}
}

func TestCheck(t *testing.T) {
	defer SetLimit(0)
	SetLimit(HeapInUse() + 256<<20)
	if err := Check(1<<20, "small"); err != nil {
		t.Errorf("1 MiB: %v", err)
	}
	err := Check(1<<30, "SETRANGE at offset 1 of x.aof")
	var be *Error
	if !errors.As(err, &be) || be.Need != 1<<30 {
		t.Errorf("1 GiB: %v", err)
	}
	SetLimit(0)
	if err := Check(1<<40, "anything"); err != nil {
		t.Errorf("no budget: %v", err)
	}
}
