package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteback: an output written through withWriteback, which starts the
// disk writes of every few bytes, holds exactly what was written; other
// writers are left as they are.
func TestWriteback(t *testing.T) {
	defer func(n int64) { writebackBytes = n }(writebackBytes)
	writebackBytes = 4096
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, done := withWriteback(&dirFile{f: f, ctx: context.Background()})
	if _, ok := w.(*writeback); !ok && writebackSupported {
		t.Fatalf("a file output is not written back: %T", w)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var want []byte
	for len(want) < 1<<20 {
		p := make([]byte, rng.IntN(20000))
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p...)
	}
	done()
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, %d were written, or others", len(got), len(want))
	}
	var buf bytes.Buffer
	if w, _ := withWriteback(&buf); w != &buf {
		t.Errorf("a buffer is wrapped: %T", w)
	}
}
