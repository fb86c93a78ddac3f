package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/rdbtool/rdbtool/internal/redistest"
)

// The helpers of the safety suite (issue 9): real data folders made from the
// fixtures, snapshots of a folder to prove that nothing changed, and loading
// what rdbtool wrote into a real Redis 7.0.

// fixture is the path of a file under fixtures/.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(moduleRoot(t), "fixtures", rel)
}

// makeDataFolder builds a Redis data folder as a server leaves it: dump.rdb,
// redis.conf and an appendonlydir (RDB base and incr file, or RESP base with
// resp), in a new temporary folder. It returns the data folder.
func makeDataFolder(t *testing.T, resp bool) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	src := "aof-7.0"
	if resp {
		src = "aof-nopreamble-7.0"
	}
	copyTree(t, fixture(t, src+"/appendonlydir"), filepath.Join(data, "appendonlydir"))
	fileCopy(t, fixture(t, "types-7.0.rdb"), filepath.Join(data, "dump.rdb"))
	writeFile(t, filepath.Join(data, "redis.conf"), "# Redis configuration\nbind 127.0.0.1\nport 6379\nappendonly yes\ndir /var/lib/redis\n")
	return data
}

// aofFolderFiles returns the base and incr file names of an AOF folder
// written by Redis (one of each).
func aofFolderFiles(t *testing.T, dir string) (base, incr string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch {
		case strings.Contains(e.Name(), ".base."):
			base = e.Name()
		case strings.Contains(e.Name(), ".incr."):
			incr = e.Name()
		}
	}
	if base == "" || incr == "" {
		t.Fatalf("%s: no base or incr file", dir)
	}
	return base, incr
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

func fileCopy(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// treeState describes every entry under root (links not followed): its kind
// and, for a regular file, its content hash and mode; a link, its target.
func treeState(t *testing.T, root string) map[string]string {
	t.Helper()
	state := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			state[rel] = "link " + target
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			state[rel] = "file " + info.Mode().String() + " " + hex.EncodeToString(sum[:8])
		default:
			state[rel] = info.Mode().Type().String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state
}

// sameState reports the differences between two treeStates.
func sameState(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range before {
		if after[k] != v {
			diffs = append(diffs, k+": "+v+" -> "+after[k])
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, k+": new ("+v+")")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s changed:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

// noTemps fails when a temporary file or folder of rdbtool is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") && (strings.Contains(e.Name(), ".tmp-") || strings.Contains(e.Name(), ".old-")) {
			t.Errorf("temporary %s left in %s", e.Name(), dir)
		}
	}
}

// compress returns data compressed with format ("gzip" or "zstd").
func compress(t *testing.T, data []byte, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch format {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("compress: %q", format)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decompress undoes compress.
func decompress(t *testing.T, data []byte, format string) []byte {
	t.Helper()
	var r io.Reader
	switch format {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadsInRedis starts a real Redis 7.0 on what rdbtool wrote and returns its
// dataset; the test fails when the server refuses it. kind is "rdb" (an RDB
// file), "aof" (a single-file AOF, loaded as Redis 6.2 left it) or
// "aof-dir" (a multi-part AOF folder).
func loadsInRedis(t *testing.T, path, kind string) []string {
	t.Helper()
	return startsOnRedis(t, path, kind).Snapshot(t, redistest.SnapshotOptions{})
}

// startsOnRedis is loadsInRedis without reading the dataset back (which
// takes a command per key): the server loaded the file and answers.
func startsOnRedis(t *testing.T, path, kind string) *redistest.Server {
	t.Helper()
	var o redistest.Options
	switch kind {
	case "rdb":
		o = redistest.Options{RDB: path}
	case "aof-dir":
		o = redistest.Options{AOFDir: path}
	case "aof":
		dir := t.TempDir()
		fileCopy(t, path, filepath.Join(dir, "appendonly.aof"))
		o = redistest.Options{Dir: dir, Args: []string{"--appendonly", "yes"}}
	default:
		t.Fatalf("loadsInRedis: kind %q", kind)
	}
	s, err := redistest.StartErr(t, o)
	if err != nil {
		t.Fatalf("Redis 7.0 refuses %s (%s), which rdbtool wrote with exit 0: %v", path, kind, err)
	}
	return s
}

// buildRdbtool builds the binary once for the package's tests (TestMain
// removes it).
func buildRdbtool(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "rdbtool-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		bin := filepath.Join(dir, "rdbtool")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
