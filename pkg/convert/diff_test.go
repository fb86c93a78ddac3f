package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

type diffKey struct {
	e rdb.Entry
	v *rdb.Value
}

// readDiffKeys reads every key of an RDB file whole.
func readDiffKeys(t *testing.T, data []byte) []diffKey {
	t.Helper()
	r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
	defer r.Close()
	var keys []diffKey
	for {
		e, err := r.Next()
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind != rdb.EntryKey {
			continue
		}
		v, err := r.ReadValue(1 << 30)
		if err != nil {
			t.Fatal(err)
		}
		c := *e
		c.Key = slices.Clone(e.Key)
		keys = append(keys, diffKey{c, v})
	}
}

// writeKeys writes keys as a Redis 7.0 RDB file.
func writeKeys(t *testing.T, keys []diffKey) []byte {
	t.Helper()
	opts, err := rdb.TargetVersion("redis:7.0")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := rdb.NewWriter(&buf, opts)
	for i := range keys {
		if err := w.WriteKey(&keys[i].e, keys[i].v); err != nil {
			t.Fatalf("key %q: %v", keys[i].e.Key, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bytesOpener(data []byte) OpenRDB {
	return func() (*rdb.Reader, func(), error) {
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		return r, func() { r.Close() }, nil
	}
}

// changeValue returns a copy of v with one element changed.
func changeValue(v *rdb.Value) *rdb.Value {
	c := *v
	switch v.Kind {
	case rdb.KindString:
		c.String = append(slices.Clone(v.String), 'x')
	case rdb.KindList:
		c.List = append(slices.Clone(v.List), []byte("one more"))
	case rdb.KindSet:
		c.Set = append(slices.Clone(v.Set), []byte("one more member"))
	case rdb.KindZSet:
		c.ZSet = slices.Clone(v.ZSet)
		c.ZSet[0].Score += 0.5
	case rdb.KindHash:
		c.Hash = slices.Clone(v.Hash)
		c.Hash[0].Value = append(slices.Clone(c.Hash[0].Value), 'x')
	case rdb.KindStream:
		s := *v.Stream
		s.Entries = slices.Clone(s.Entries)
		last := s.Entries[len(s.Entries)-1]
		s.Entries[len(s.Entries)-1] = rdb.StreamEntry{ID: last.ID, Fields: append(slices.Clone(last.Fields), []byte("f"), []byte("v"))}
		c.Stream = &s
	}
	return &c
}

// reorder returns v with its set members and hash fields in another order:
// the same data.
func reorder(v *rdb.Value) *rdb.Value {
	c := *v
	switch v.Kind {
	case rdb.KindSet:
		c.Set = slices.Clone(v.Set)
		slices.Reverse(c.Set)
	case rdb.KindHash:
		c.Hash = slices.Clone(v.Hash)
		slices.Reverse(c.Hash)
	}
	return &c
}

func runDiff(t *testing.T, a, b []byte, o DiffOptions) (DiffStats, string) {
	t.Helper()
	var out bytes.Buffer
	st, err := Diff(context.Background(), bytesOpener(a), bytesOpener(b), &out, o)
	if err != nil {
		t.Fatal(err)
	}
	return st, out.String()
}

// TestDiffEveryType diffs the types fixture against itself and against
// copies with one key removed, added, changed and re-timed, for every type,
// with the key table in memory and partitioned into files.
func TestDiffEveryType(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	keys := readDiffKeys(t, data)
	base := writeKeys(t, keys)
	var same []diffKey
	for _, k := range keys {
		same = append(same, diffKey{k.e, reorder(k.v)})
	}
	slices.Reverse(same)
	reordered := writeKeys(t, same)

	for _, mode := range []struct {
		name string
		o    DiffOptions
	}{{"memory", DiffOptions{}}, {"partitioned", DiffOptions{Partitions: 3, TempDir: t.TempDir()}}} {
		t.Run(mode.name, func(t *testing.T) {
			if st, out := runDiff(t, base, base, mode.o); st.Differ() || out != "" {
				t.Fatalf("a file against itself: %+v %q", st, out)
			}
			if st, out := runDiff(t, base, reordered, mode.o); st.Differ() || st.Same != int64(len(keys)) {
				t.Fatalf("the same data in another order: %+v %q", st, out)
			}
			for _, kind := range []rdb.Kind{rdb.KindString, rdb.KindList, rdb.KindSet, rdb.KindZSet, rdb.KindHash, rdb.KindStream} {
				i := slices.IndexFunc(keys, func(k diffKey) bool { return k.v.Kind == kind })
				if i < 0 {
					t.Fatalf("no %s in the fixture", kind)
				}
				name := string(keys[i].e.Key)
				variant := func(edit func(ks []diffKey) []diffKey) []byte {
					ks := slices.Clone(keys)
					return writeKeys(t, edit(ks))
				}
				cases := []struct {
					change string
					b      []byte
					want   DiffStats
					lines  []string
				}{
					{"removed", variant(func(ks []diffKey) []diffKey { return slices.Delete(ks, i, i+1) }),
						DiffStats{OnlyA: 1}, []string{"- {\"db\":0,\"key\":\"" + name + "\""}},
					{"added", variant(func(ks []diffKey) []diffKey {
						e := ks[i].e
						e.Key = []byte(name + ":new")
						return append(ks, diffKey{e, ks[i].v})
					}), DiffStats{OnlyB: 1}, []string{"+ {\"db\":0,\"key\":\"" + name + ":new\""}},
					{"changed", variant(func(ks []diffKey) []diffKey {
						ks[i].v = changeValue(ks[i].v)
						return ks
					}), DiffStats{Changed: 1}, []string{"- {\"db\":0,\"key\":\"" + name + "\"", "+ {\"db\":0,\"key\":\"" + name + "\""}},
					{"retimed", variant(func(ks []diffKey) []diffKey {
						ks[i].e.HasExpire = true
						ks[i].e.ExpireAtMs = ks[i].e.ExpireAtMs + 4102444800000
						return ks
					}), DiffStats{TTLChanged: 1}, []string{"- {\"db\":0,\"key\":\"" + name + "\"", "+ {\"db\":0,\"key\":\"" + name + "\""}},
				}
				for _, tc := range cases {
					t.Run(fmt.Sprintf("%s/%s", kind, tc.change), func(t *testing.T) {
						st, out := runDiff(t, base, tc.b, mode.o)
						st.Same, st.Partitions = 0, 0
						if st != tc.want {
							t.Errorf("stats %+v, want %+v", st, tc.want)
						}
						lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
						if len(lines) != len(tc.lines) {
							t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tc.lines), out)
						}
						for j, prefix := range tc.lines {
							if !strings.HasPrefix(lines[j], prefix) {
								t.Errorf("line %d: %.100s, want %s...", j, lines[j], prefix)
							}
						}
					})
				}
			}
		})
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "rdbtool-diff-*")); len(left) > 0 {
		t.Logf("note: %d rdbtool-diff folders in the system temp dir (possibly other runs')", len(left))
	}
}

// TestDiffJSONLAndCleanup checks the JSONL form and that partition files are
// gone after a run, also a failing one.
func TestDiffJSONLAndCleanup(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	keys := readDiffKeys(t, data)
	a := writeKeys(t, keys)
	b := writeKeys(t, keys[1:])
	dir := t.TempDir()
	st, out := runDiff(t, a, b, DiffOptions{JSONL: true, Partitions: 2, TempDir: dir})
	if st.OnlyA != 1 || !strings.HasPrefix(out, `{"change":"removed","line":{"db":0,"key":`) {
		t.Fatalf("%+v %q", st, out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	_, err = Diff(context.Background(), bytesOpener(a), bytesOpener(b[:len(b)/2]), io.Discard, DiffOptions{Partitions: 2, TempDir: dir})
	var ie *DiffInputError
	if err == nil || !errors.As(err, &ie) || ie.Side != 1 {
		t.Fatalf("truncated B: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left after a failure: %v", left)
	}

	// Interrupted (Ctrl-C cancels the context) while B is read: the error
	// says so and the partition files are gone.
	ctx, cancel := context.WithCancel(context.Background())
	opens := 0
	interrupting := func() (*rdb.Reader, func(), error) {
		opens++
		cancel()
		return bytesOpener(b)()
	}
	_, err = Diff(ctx, bytesOpener(a), interrupting, io.Discard, DiffOptions{Partitions: 2, TempDir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left after an interruption: %v", left)
	}
}
