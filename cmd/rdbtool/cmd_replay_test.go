package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
)

func TestReplayCommand(t *testing.T) {
	root := moduleRoot(t)
	run := func(path string, execs ...string) string {
		args := []string{"replay", "--now", "1700000000000"}
		for _, e := range execs {
			args = append(args, "--exec", e)
		}
		code, out, errOut := runCLI(t, nil, append(args, path)...)
		if code != 0 {
			t.Fatalf("replay %s: exit %d: %s", path, code, errOut)
		}
		return out
	}
	out := run(filepath.Join(root, "fixtures", "types-7.0.rdb"),
		"GET str:int:0", "LRANGE list:small 0 2", "TYPE nope", "DBSIZE", "OBJECT ENCODING list:small",
		`XRANGE "stream:basic" - + COUNT 1`, "ZRANGE zset:small 0 0 WITHSCORES", "FOO", "SELECT 15", "TYPE nope", "SET a b")
	for _, want := range []string{
		"replayed 1 file: 84 keys from RDB parts, 0 commands\n",
		"db0: 75 keys (hash 5, list 5, set 8, stream 8, string 44, zset 5), 8 with a TTL\n",
		"0> GET str:int:0\n\"0\"\n", "0> LRANGE list:small 0 2\n1) \"a\"\n2) \"b\"\n3) \"c\"\n",
		"0> TYPE nope\nnone\n", "0> DBSIZE\n(integer) 75\n", "0> OBJECT ENCODING list:small\n\"quicklist\"\n",
		"0> FOO\n(error) ERR unknown command 'FOO'", "15> TYPE nope\nnone\n",
		"15> SET a b\n(error) ERR 'set' changes the dataset: only read-only commands are answered\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// The AOF folder the same server wrote: its incr file then set the counter to 1.
	out = run(filepath.Join(root, "fixtures", "aof-7.0", "appendonlydir"), "GET str:int:0")
	if !strings.Contains(out, "replayed 2 files: 84 keys from RDB parts") || !strings.Contains(out, "0> GET str:int:0\n\"1\"\n") {
		t.Errorf("AOF replay:\n%s", out)
	}
}

// TestReplayProgressCountsStoredBytes: the progress bar's total is the size
// of the files as stored, so what it counts must be the bytes read of them as
// stored: of a gzip file, the compressed bytes (counting the decompressed
// ones ran the bar past its end); of a folder, every file in turn.
func TestReplayProgressCountsStoredBytes(t *testing.T) {
	root := moduleRoot(t)
	dir := filepath.Join(root, "fixtures", "aof-nopreamble-7.0", "appendonlydir")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var plain []byte // the folder's base file, gzipped below
	var folderSize int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(e.Name(), ".aof") {
			folderSize += info.Size()
		}
		if strings.HasSuffix(e.Name(), ".base.aof") {
			if plain, err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	gz := filepath.Join(t.TempDir(), "appendonly.aof.gz")
	writeCompressed(t, gz, plain, "gzip")
	st, err := os.Stat(gz)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size()*2 > int64(len(plain)) {
		t.Fatalf("the test needs a file that compresses well: %d -> %d bytes", len(plain), st.Size())
	}
	for _, c := range []struct {
		path string
		want int64
	}{{gz, st.Size()}, {dir, folderSize}} {
		files, _, err := aofInput("convert", c.path)
		if err != nil {
			t.Fatal(err)
		}
		var read storedRead
		open := read.counting(replayOpener(context.Background(), c.path))
		if _, err := convert.ReplayAOF(files, engine.New(engine.Options{}), convert.ReplayOptions{Open: open}); err != nil {
			t.Fatal(err)
		}
		if got := read.done(); got != c.want {
			t.Errorf("%s: counted %d bytes, the files hold %d", c.path, got, c.want)
		}
	}
}
