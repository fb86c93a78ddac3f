package convert

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestPartialLinesChangeNothing dumps with every line flushed piece by piece
// (as huge keys are) and requires the same bytes as a normal dump: code that
// looked at the line buffer to decide on a separator once broke there.
func TestPartialLinesChangeNothing(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "*.rdb"))
	more, _ := filepath.Glob(filepath.Join(testenv.CorpusOrEmpty(), "generated", "*", "*", "dump.rdb"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	run := func(data []byte) []byte {
		var out bytes.Buffer
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		defer r.Close()
		if _, err := DumpJSON(r, &out, DumpOptions{}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := run(data)
		partialLineFlush = 1
		got := run(data)
		partialLineFlush = 64 << 10
		if !bytes.Equal(got, want) {
			t.Errorf("%s: output differs when lines are flushed in pieces", f)
		}
	}
}
