package convert_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/canon/canonjson"
	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// datasets pairs RDB files written by real servers with the dataset each held.
func datasets(t *testing.T) [][2]string {
	var pairs [][2]string
	fixtures, _ := filepath.Glob(filepath.Join(moduleRoot(), "fixtures", "*.rdb"))
	for _, f := range fixtures {
		pairs = append(pairs, [2]string{f, strings.TrimSuffix(f, ".rdb") + ".expected.jsonl"})
	}
	var dumps []string
	if corpus := testenv.OptionalCorpus(t); corpus != "" {
		dumps, _ = filepath.Glob(filepath.Join(corpus, "generated", "*", "*", "dump.rdb"))
	}
	for _, d := range dumps {
		pairs = append(pairs, [2]string{d, filepath.Join(filepath.Dir(d), "expected-strict.jsonl")})
	}
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}
	return pairs
}

func dump(t *testing.T, data []byte, o convert.DumpOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	if _, err := convert.DumpJSON(r, &out, o); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestDumpIsLossless dumps files written by real servers, reads the JSON back
// with a real JSON parser (encoding/json) and compares the result, key by key,
// value by value, with what the server held.
func TestDumpIsLossless(t *testing.T) {
	for _, p := range datasets(t) {
		name, _ := filepath.Rel(moduleRoot(), p[0])
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p[0])
			if err != nil {
				t.Fatal(err)
			}
			out := dump(t, data, convert.DumpOptions{SpoolBudget: 4096}) // small budget: exercise spilling
			if again := dump(t, data, convert.DumpOptions{}); !bytes.Equal(out, again) {
				t.Fatal("two dumps of the same file differ")
			}
			got, err := canonjson.FromDump(bytes.NewReader(out), true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := canon.ReadFile(p[1])
			if err != nil {
				t.Fatal(err)
			}
			if d := canon.Diff(want, got); d != "" {
				t.Errorf("JSON dump differs from the server's dataset:\n%s", d)
			}
			// The array form holds the same objects.
			arr := dump(t, data, convert.DumpOptions{Array: true})
			var objs []json.RawMessage
			if err := json.Unmarshal(arr, &objs); err != nil {
				t.Fatalf("--format json output is not a JSON array: %v", err)
			}
			if n := bytes.Count(out, []byte("\n")); n != len(objs) {
				t.Fatalf("array has %d objects, JSON Lines has %d lines", len(objs), n)
			}
		})
	}
}

// TestDumpCorpusIsJSON: every RDB file of the corpus dumps to valid JSON lines
// (or fails with a reader error for the deliberately broken ones).
func TestDumpCorpusIsJSON(t *testing.T) {
	root := testenv.Corpus(t)
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rdb") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		_, derr := convert.DumpJSON(r, &out, convert.DumpOptions{})
		r.Close()
		for i, line := range bytes.Split(bytes.TrimSuffix(out.Bytes(), []byte("\n")), []byte("\n")) {
			if len(line) > 0 && !json.Valid(line) {
				t.Errorf("%s line %d is not JSON: %.200s", p, i+1, line)
			}
		}
		if derr == nil {
			n++
		}
		return nil
	})
	if n < 150 {
		t.Errorf("only %d corpus files dumped", n)
	}
}

// TestJSONBackToRDB: rdb -> jsonl -> rdb gives the dataset the server held, and
// the RDB written from the JSON equals the one written from the source.
func TestJSONBackToRDB(t *testing.T) {
	for _, p := range datasets(t) {
		name, _ := filepath.Rel(moduleRoot(), p[0])
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(p[0])
			if err != nil {
				t.Fatal(err)
			}
			h, _ := rdb.NewReaderBytes(data, rdb.ReaderOptions{}).Header()
			opts, err := rdb.TargetVersion(h.String())
			if err != nil {
				t.Fatal(err)
			}
			jsonl := dump(t, data, convert.DumpOptions{})
			var out bytes.Buffer
			w := rdb.NewWriter(&out, opts)
			jr := convert.NewJSONReader(bytes.NewReader(jsonl), 1<<30)
			for {
				rec, err := jr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case rec.Header != nil:
				case rec.Value == nil:
					err = w.WriteEntry(rec.Entry)
				default:
					err = w.WriteKey(rec.Entry, rec.Value)
				}
				if err != nil {
					t.Fatalf("line %d: %v", rec.Line, err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r := rdb.NewReaderBytes(out.Bytes(), rdb.ReaderOptions{Strict: true})
			defer r.Close()
			got, err := canon.FromRDB(r, true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := canon.ReadFile(p[1])
			if err != nil {
				t.Fatal(err)
			}
			if d := canon.Diff(want, got); d != "" {
				t.Errorf("rdb -> json -> rdb changed the dataset:\n%s", d)
			}
		})
	}
}
