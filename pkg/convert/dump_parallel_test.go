package convert

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// dumpVerdict dumps data and renders everything a caller sees: the output,
// the error and the counts.
func dumpVerdict(data []byte, o DumpOptions) string {
	var out bytes.Buffer
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	st, err := DumpJSON(r, &out, o)
	return fmt.Sprintf("err=%v stats=%+v\n%s", err, st, out.Bytes())
}

// TestParallelDumpMatchesSequential: with workers rendering values, a dump
// writes the same bytes and fails with the same error as without them — on
// the fixtures, every RDB file of the corpus and thousands of damaged files;
// with default limits and with tiny ones (one value per batch, values over 64
// bytes cut into parts of one quicklist node), in both output forms and with a
// filter.
func TestParallelDumpMatchesSequential(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	add := func(name string) {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{name, b})
	}
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	for _, f := range fixtures {
		add(f)
	}
	if corpus := testenv.OptionalCorpus(t); corpus != "" {
		filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if head := readHead(p); bytes.HasPrefix(head, []byte("REDIS")) || bytes.HasPrefix(head, []byte("VALKEY")) {
					add(p)
				}
			}
			return nil
		})
	}
	// Damaged copies: byte flips and cuts of two fixtures with every encoding.
	rng := rand.New(rand.NewPCG(7, 8))
	for _, f := range []string{"types-7.0.rdb", "compressed-lists-7.0.rdb"} {
		orig, err := os.ReadFile(filepath.Join("..", "..", "fixtures", f))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 600; i++ {
			b := bytes.Clone(orig)
			pos := rng.IntN(len(b))
			b[pos] ^= byte(1 + rng.IntN(255))
			inputs = append(inputs, input{fmt.Sprintf("%s flip@%d", f, pos), b})
		}
		for i := 0; i < 100; i++ {
			cut := rng.IntN(len(orig))
			inputs = append(inputs, input{fmt.Sprintf("%s cut@%d", f, cut), orig[:cut]})
		}
	}
	options := []DumpOptions{{}, {Array: true}, {Filter: Filter{KeyGlob: "*a*"}}}
	check := func(label string) {
		for _, in := range inputs {
			for _, o := range options {
				want := dumpVerdict(in.data, o)
				for _, w := range []int{1, 3} {
					o.Workers = w
					if got := dumpVerdict(in.data, o); got != want {
						t.Fatalf("%s, %s, %+v: with workers\n%.2000s\nwithout\n%.2000s", in.name, label, o, got, want)
					}
				}
				o.Workers = 0
			}
		}
	}
	check("default limits")
	saved := [4]int{bigValue, batchBytes, batchJobs, partBytes}
	bigValue, batchBytes, batchJobs, partBytes = 64, 1, 1, 1
	defer func() { bigValue, batchBytes, batchJobs, partBytes = saved[0], saved[1], saved[2], saved[3] }()
	check("tiny limits")
	partialLineFlush = 100 // lines of big lists written in many pieces
	defer func() { partialLineFlush = 64 << 10 }()
	check("tiny limits, lines written in pieces")
	t.Logf("%d inputs dump alike with and without workers", len(inputs))
}

func readHead(p string) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, 9)
	n, _ := f.Read(b)
	return b[:n]
}

// FuzzParallelDump: for any input, a dump with workers (tiny limits, so that
// values are split, batched one by one and big-list parts are single nodes)
// writes the same bytes and fails the same way as one without.
func FuzzParallelDump(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	for _, p := range fixtures {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	saved := [5]int{bigValue, batchBytes, batchJobs, partBytes, partialLineFlush}
	bigValue, batchBytes, batchJobs, partBytes, partialLineFlush = 64, 1, 1, 1, 100
	defer func() {
		bigValue, batchBytes, batchJobs, partBytes, partialLineFlush = saved[0], saved[1], saved[2], saved[3], saved[4]
	}()
	f.Fuzz(func(t *testing.T, data []byte) {
		want := dumpVerdict(data, DumpOptions{})
		if got := dumpVerdict(data, DumpOptions{Workers: 2}); got != want {
			t.Fatalf("with workers\n%.3000s\nwithout\n%.3000s", got, want)
		}
	})
}
