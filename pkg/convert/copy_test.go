package convert_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// TestCopyRDB: a copy holds the source's dataset, or the part a filter
// selects, at the writer's version; a done Context stops it.
func TestCopyRDB(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(moduleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	lines := func(data []byte) []string {
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{Strict: true})
		defer r.Close()
		l, err := canon.FromRDB(r, true)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	copyAt := func(target string, o convert.CopyOptions) ([]byte, error) {
		wo, err := rdb.TargetVersion(target)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := rdb.NewReaderBytes(src, rdb.ReaderOptions{})
		defer r.Close()
		err = convert.CopyRDB(r, rdb.NewWriter(&out, wo), o)
		return out.Bytes(), err
	}
	want := lines(src)
	for _, target := range []string{"10", "11", "12"} {
		out, err := copyAt(target, convert.CopyOptions{})
		if err != nil {
			t.Fatalf("RDB %s: %v", target, err)
		}
		if d := canon.Diff(want, lines(out)); d != "" {
			t.Errorf("RDB %s: the copy holds another dataset:\n%s", target, d)
		}
	}
	kinds, err := convert.ParseKind("hash")
	if err != nil {
		t.Fatal(err)
	}
	out, err := copyAt("10", convert.CopyOptions{Filter: convert.Filter{Kinds: []rdb.Kind{kinds}}})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, l := range want {
		if strings.Contains(l, `"type":"hash"`) || strings.HasPrefix(l, `{"functions"`) {
			hashes = append(hashes, l)
		}
	}
	if d := canon.Diff(hashes, lines(out)); d != "" || len(hashes) < 2 {
		t.Errorf("--type hash: %d hashes; the copy holds another dataset:\n%s", len(hashes), d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := copyAt("10", convert.CopyOptions{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Errorf("a done Context: %v", err)
	}
}
