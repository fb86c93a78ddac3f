package memory_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/memory"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// analyze runs Analyze over data and returns the report and the keys in the
// order OnKey saw them.
func analyze(data []byte, workers int, match func(*rdb.Entry) bool) (*memory.Report, []string, error) {
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var keys []string
	rep, err := memory.Analyze(r, memory.ReportOptions{Workers: workers, Match: match, NowMs: 1767225600000,
		OnKey: func(k *memory.KeyRecord) error {
			keys = append(keys, fmt.Sprintf("%d %q %+v %d %v %q", k.DB, k.Key, k.Usage, k.ExpireAtMs, k.HasExpire, k.LargestElement))
			return nil
		}})
	return rep, keys, err
}

// TestParallelIsSequential: with workers, the report, the per-key records and
// their order, and the first error of a damaged file are those of a
// sequential run.
func TestParallelIsSequential(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.ModuleRoot(), "fixtures", "*.rdb"))
	if dir := testenv.OptionalCorpus(t); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "generated", "*", "*", "dump.rdb"))
		files = append(files, more...)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(path, filepath.Dir(filepath.Dir(filepath.Dir(path))))
		match := func(e *rdb.Entry) bool { return e.DB != 1 }
		for _, cut := range []int{len(data), len(data) * 2 / 3} {
			seqRep, seqKeys, seqErr := analyze(data[:cut], 0, match)
			for _, workers := range []int{1, 3} {
				parRep, parKeys, parErr := analyze(data[:cut], workers, match)
				if fmt.Sprint(seqErr) != fmt.Sprint(parErr) {
					t.Errorf("%s[:%d] workers %d: error %v, sequential %v", name, cut, workers, parErr, seqErr)
				}
				if !reflect.DeepEqual(seqKeys, parKeys) {
					t.Errorf("%s[:%d] workers %d: %d keys, sequential %d (or another order)", name, cut, workers, len(parKeys), len(seqKeys))
				}
				if seqErr == nil && !reflect.DeepEqual(seqRep, parRep) {
					t.Errorf("%s workers %d: the report differs", name, workers)
				}
			}
		}
	}
}

// TestAnalyzeEveryCorpusFile runs the model over every fixture and corpus RDB
// file, those of newer servers included (RDB 11-13, VALKEY080), which Redis
// 7.0 cannot load: wherever the reader reads a file to its end, so must the
// model, and every key gets a size and an encoding.
func TestAnalyzeEveryCorpusFile(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.ModuleRoot(), "fixtures", "*.rdb"))
	if dir := testenv.OptionalCorpus(t); dir != "" {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".rdb") {
				files = append(files, p)
			}
			return nil
		})
	}
	read, keys := 0, 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		_, readErr := r.SkipValue()
		for readErr == nil {
			var e *rdb.Entry
			if e, readErr = r.Next(); readErr == nil && e.Kind == rdb.EntryKey {
				_, readErr = r.SkipValue()
			}
		}
		r.Close()
		rep, _, err := analyze(data, 2, nil)
		if readErr.Error() != "EOF" {
			continue // the reader refuses it (damaged or unsupported): nothing to measure
		}
		if err != nil {
			t.Errorf("%s: the reader reads it, the model fails: %v", path, err)
			continue
		}
		read++
		keys += int(rep.Total.Keys)
		for _, ty := range rep.Types {
			if ty.Encoding == "" || ty.Bytes <= 0 {
				t.Errorf("%s: %s keys with encoding %q, %d bytes", path, ty.Type, ty.Encoding, ty.Bytes)
			}
		}
	}
	t.Logf("%d files read, %d keys measured", read, keys)
}
