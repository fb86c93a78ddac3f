package engine_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// getString returns the string value of key in db 0, nil when absent.
func getString(t *testing.T, e *engine.Engine, key string) []byte {
	t.Helper()
	var out []byte
	err := e.Each(func(db int, k []byte, _ *rdb.Entry, v *rdb.Value) error {
		if db == 0 && string(k) == key {
			out = append([]byte{}, v.String...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func apply(t *testing.T, e *engine.Engine, args ...string) {
	t.Helper()
	if err := e.Apply(bs(args...)); err != nil {
		t.Fatalf("%q: %v", args, err)
	}
}

// TestHLLBytes checks values taken from redis-server 7.0.15.
func TestHLLBytes(t *testing.T) {
	e := engine.New(engine.Options{})
	apply(t, e, "PFADD", "h1", "a", "b", "c")
	if got := hex.EncodeToString(getString(t, e, "h1")); got != "48594c4c01000000000000000000008060f38050b1844bfb80425a" {
		t.Fatalf("sparse PFADD: %s", got)
	}
	apply(t, e, "PFCOUNT", "h1")
	if got := hex.EncodeToString(getString(t, e, "h1")); got != "48594c4c01000000030000000000000060f38050b1844bfb80425a" {
		t.Fatalf("PFCOUNT cache: %s", got)
	}
	add := []string{"PFADD", "h2"}
	for i := 1; i <= 2000; i++ {
		add = append(add, fmt.Sprintf("x%d", i))
	}
	apply(t, e, add...)
	sum := func(k string) string {
		s := sha256.Sum256(getString(t, e, k))
		return hex.EncodeToString(s[:])
	}
	if got := sum("h2"); got != "dbbaf47f79534e691f74231d2c452075248c496afd177956402c38a456351694" {
		t.Fatalf("h2 after 2000 PFADD: %s", got)
	}
	apply(t, e, "PFMERGE", "h3", "h1", "h2")
	apply(t, e, "PFCOUNT", "h3", "h2") // several keys: nothing cached
	apply(t, e, "PFCOUNT", "h3")
	if got := sum("h3"); got != "3ff0c57c0d7b049bedf50c71d8e2fbde620326df4bb2dc444c7170b1ceaabddb" {
		t.Fatalf("h3 after PFMERGE, PFCOUNT: %s", got)
	}
	apply(t, e, "PFCOUNT", "h2")
	if got := sum("h2"); got != "8103557398d18ef2ee649f7262ecfe54d3128f14ffc804448f304088e7145680" {
		t.Fatalf("h2 after PFCOUNT: %s", got)
	}
	apply(t, e, "SET", "s", "HYLX")
	if err := e.Apply(bs("PFADD", "s", "a")); err == nil || err.Error() != "WRONGTYPE Key is not a valid HyperLogLog string value." {
		t.Fatalf("PFADD on a non-HLL string: %v", err)
	}
}
