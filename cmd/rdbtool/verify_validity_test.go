package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// testKey is one string key of a hand-made RDB.
type testKey struct {
	db       int
	key, val string
}

// writeTestRDB writes an RDB 10 file holding the libraries then the keys, as
// given (duplicates included: the writer does not judge).
func writeTestRDB(t *testing.T, path string, libs []string, keys []testKey) {
	t.Helper()
	var b bytes.Buffer
	w := rdb.NewWriter(&b, rdb.WriterOptions{Version: 10})
	for _, l := range libs {
		if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryFunction, Function: []byte(l)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		e := &rdb.Entry{Kind: rdb.EntryKey, DB: k.db, Key: []byte(k.key), Type: rdb.TypeString}
		if err := w.WriteKey(e, &rdb.Value{Kind: rdb.KindString, String: []byte(k.val)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyDuplicateKey is issue 9 item 6: an RDB holding one key twice in a
// database was OK; Redis refuses to load it.
func TestVerifyDuplicateKey(t *testing.T) {
	dir := t.TempDir()
	dup := filepath.Join(dir, "dup.rdb")
	var keys []testKey
	for i := 0; i < 1000; i++ {
		keys = append(keys, testKey{0, "k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260)), "v"})
	}
	keys = append(keys, testKey{1, "k", "db1"}, testKey{0, "k", "a"}, testKey{0, "k", "b"})
	writeTestRDB(t, dup, nil, keys)
	code, out, _ := runCLI(t, nil, "verify", dup)
	if code != exitInvalid || !strings.Contains(out, `duplicate key`) || !strings.Contains(out, `(key "k")`) || !strings.Contains(out, "also at offset") {
		t.Errorf("exit %d: %s", code, out)
	}
	// The same name in two databases is fine.
	ok := filepath.Join(dir, "ok.rdb")
	writeTestRDB(t, ok, nil, []testKey{{0, "k", "a"}, {1, "k", "b"}, {2, "k", "c"}})
	if code, out, _ := runCLI(t, nil, "verify", ok); code != exitOK {
		t.Errorf("exit %d: %s", code, out)
	}
	// Standard input cannot be read twice: the candidate is still reported.
	data, _ := os.ReadFile(dup)
	if code, out, _ := runCLI(t, bytes.NewReader(data), "verify", "-"); code != exitInvalid || !strings.Contains(out, "duplicate") {
		t.Errorf("stdin: exit %d: %s", code, out)
	}
	// Redis agrees.
	if _, err := redistest.StartErr(t, redistest.Options{RDB: dup}); err == nil {
		t.Error("Redis 7.0 loaded the file with a duplicated key")
	}
}

// TestVerifyFunctionLibraries is issue 9 item 6: a library Redis refuses (its
// Lua does not compile, or its name or a function name is taken twice) makes
// the RDB one Redis refuses to load.
func TestVerifyFunctionLibraries(t *testing.T) {
	good := "#!lua name=a\nredis.register_function('f', function() return 1 end)"
	cases := []struct {
		name string
		libs []string
		want string // "" for OK
	}{
		{"good", []string{good}, ""},
		{"syntax", []string{"#!lua name=b\nredis.register_function('f', function() return 1 end"}, "Error compiling function"},
		{"twice", []string{good, good}, "Library 'a' already exists"},
		{"function twice", []string{good, "#!lua name=b\nredis.register_function('f', function() return 2 end)"}, "Function f already exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f.rdb")
			writeTestRDB(t, p, c.libs, []testKey{{0, "k", "v"}})
			code, out, _ := runCLI(t, nil, "verify", p)
			if c.want == "" && code != exitOK || c.want != "" && (code != exitInvalid || !strings.Contains(out, c.want)) {
				t.Errorf("exit %d: %s", code, out)
			}
			_, err := redistest.StartErr(t, redistest.Options{RDB: p})
			if (err == nil) != (c.want == "") {
				t.Errorf("Redis 7.0 start: %v, verify: %s", err, out)
			}
		})
	}
}

// TestVerifyDatabasesWarning: a database beyond 15 needs a server configured
// with more, which verify says, naming the setting.
func TestVerifyDatabasesWarning(t *testing.T) {
	p := filepath.Join(t.TempDir(), "db20.rdb")
	writeTestRDB(t, p, nil, []testKey{{20, "k", "v"}})
	code, out, _ := runCLI(t, nil, "verify", p)
	if code != exitOK || !strings.Contains(out, "'databases 21'") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// respCommands encodes commands as an AOF.
func respCommands(cmds ...[]string) []byte {
	var b bytes.Buffer
	for _, c := range cmds {
		fmt.Fprintf(&b, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	return b.Bytes()
}

// TestVerifyAOFRefusedCommands is issue 9 item 7: verify passed an AOF with a
// command Redis refuses at load. Redis 7.0 refuses an unknown command or
// subcommand and crashes on a container without one; it runs a command with
// the wrong number of arguments without checking (undefined behaviour).
func TestVerifyAOFRefusedCommands(t *testing.T) {
	cases := []struct {
		cmd        []string
		want       string // "" for OK
		redisStops int    // Redis 7.0 does not start on it: 1 yes, 0 no, -1 either (undefined behaviour)
	}{
		{[]string{"SET", "k", "v"}, "", 0},
		{[]string{"NOSUCH", "x"}, `unknown command "NOSUCH"`, 1},
		{[]string{"XGROUP", "NOSUCH", "s"}, `unknown subcommand "XGROUP NOSUCH"`, 1},
		{[]string{"XGROUP"}, "XGROUP without a subcommand", 1},
		{[]string{"SET", "k"}, "wrong number of arguments", -1},
		{[]string{"hellotype.insert", "k", "1"}, "", 1}, // a module's: a note
	}
	for _, c := range cases {
		dir := t.TempDir()
		aofDir := filepath.Join(dir, "appendonlydir")
		os.Mkdir(aofDir, 0o755)
		os.WriteFile(filepath.Join(aofDir, "appendonly.aof.1.incr.aof"), respCommands([]string{"SET", "a", "1"}, c.cmd, []string{"SET", "b", "2"}), 0o644)
		os.WriteFile(filepath.Join(aofDir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)
		code, out, _ := runCLI(t, nil, "verify", aofDir)
		if c.want == "" && code != exitOK || c.want != "" && (code != exitInvalid || !strings.Contains(out, c.want)) {
			t.Errorf("%q: exit %d: %s", c.cmd, code, out)
		}
		if strings.Contains(out, "rdbtool repair") {
			t.Errorf("%q: a cut does not repair a refused command: %s", c.cmd, out)
		}
		if c.redisStops < 0 {
			continue
		}
		if _, err := redistest.StartErr(t, redistest.Options{AOFDir: aofDir}); (err != nil) != (c.redisStops == 1) {
			t.Errorf("%q: Redis 7.0 start: %v", c.cmd, err)
		}
	}
}

// TestVerifyInterruptedSaysWhatWasNotChecked is issue 9 item 9: an
// interrupted "verify a b c d" printed "4 files: 4 ok" and exited 0 with two
// files unchecked.
func TestVerifyInterruptedSaysWhatWasNotChecked(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, n := range []string{"a", "b", "c", "d"} {
		p := filepath.Join(dir, n+".rdb")
		writeTestRDB(t, p, nil, []testKey{{0, "k", "v"}})
		paths = append(paths, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Interrupt once the second file has been reported.
	out := &cancelAfter{lines: 2, cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, append([]string{"rdbtool", "verify"}, paths...), strings.NewReader(""), out, &errOut)
	if code == exitOK {
		t.Errorf("exit 0 after an interruption")
	}
	if !strings.Contains(errOut.String(), "2 of 4 files not checked") || !strings.Contains(errOut.String(), paths[2]) || !strings.Contains(errOut.String(), "2 not checked (interrupted)") {
		t.Errorf("stderr %q", errOut.String())
	}
}

// cancelAfter cancels a context once it has been written that many lines.
type cancelAfter struct {
	bytes.Buffer
	lines  int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	n, err := c.Buffer.Write(p)
	if strings.Count(c.String(), "\n") >= c.lines {
		c.cancel()
	}
	return n, err
}

// TestVerifyDataFolderChecksEveryFile is issue 9 item 8: with an
// appendonlydir present, a corrupted dump.rdb beside it gave OK, yet with
// Redis's default appendonly no the server loads that RDB (and refuses it).
func TestVerifyDataFolderChecksEveryFile(t *testing.T) {
	dir := t.TempDir()
	aofDir := filepath.Join(dir, "appendonlydir")
	os.Mkdir(aofDir, 0o755)
	os.WriteFile(filepath.Join(aofDir, "appendonly.aof.1.incr.aof"), respCommands([]string{"SET", "a", "1"}), 0o644)
	os.WriteFile(filepath.Join(aofDir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)
	good := filepath.Join(dir, "good.rdb")
	writeTestRDB(t, good, nil, []testKey{{0, "k", "v"}})
	data, _ := os.ReadFile(good)
	os.Remove(good)
	os.WriteFile(filepath.Join(dir, "dump.rdb"), data[:len(data)-12], 0o644) // torn

	code, out, _ := runCLI(t, nil, "verify", dir)
	if code != exitInvalid || !strings.Contains(out, "appendonly no: dump.rdb") {
		t.Errorf("exit %d: %s", code, out)
	}
	// Redis agrees: with appendonly no it refuses the folder.
	if _, err := redistest.StartErr(t, redistest.Options{Dir: dir}); err == nil {
		t.Error("Redis 7.0 started on the torn dump.rdb")
	}

	// Whole again, the folder is OK, and the line says what each setting loads.
	os.WriteFile(filepath.Join(dir, "dump.rdb"), data, 0o644)
	code, out, _ = runCLI(t, nil, "verify", dir)
	if code != exitOK || !strings.Contains(out, "appendonly no loads dump.rdb, appendonly yes loads the multi-part AOF (1 file)") {
		t.Errorf("exit %d: %s", code, out)
	}

	// redis.conf names other files and the setting; verify follows it.
	os.Rename(filepath.Join(dir, "dump.rdb"), filepath.Join(dir, "other.rdb"))
	conf := filepath.Join(t.TempDir(), "redis.conf")
	os.WriteFile(conf, []byte("dir "+dir+"\ndbfilename other.rdb\nappendonly yes\n"), 0o644)
	code, out, _ = runCLI(t, nil, "verify", "--config", conf)
	if code != exitOK || !strings.Contains(out, "appendonly no loads other.rdb, appendonly yes loads the multi-part AOF (1 file) [redis.conf]") {
		t.Errorf("--config: exit %d: %s", code, out)
	}
}

// TestVerifyDuplicateKeySpilled: past its memory the key check spills to a
// temporary folder, still finds the duplicate, and leaves nothing behind.
func TestVerifyDuplicateKeySpilled(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := filepath.Join(t.TempDir(), "dup.rdb")
	var keys []testKey
	for i := 0; i < 700000; i++ { // past the smallest spill (262,144 records)
		keys = append(keys, testKey{0, fmt.Sprintf("key:%d", i), "v"})
	}
	keys = append(keys, testKey{0, "key:123", "again"})
	writeTestRDB(t, p, nil, keys)
	code, out, _ := runCLI(t, nil, "verify", "--max-memory", "16M", p)
	if code != exitInvalid || !strings.Contains(out, `(key "key:123"): duplicate key`) {
		t.Errorf("exit %d: %s", code, out)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in the temporary folder: %v", left)
	}
}
