package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConvertCommand(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	ok := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, nil, append([]string{"convert", "--no-progress"}, args...)...)
		if code != 0 {
			t.Fatalf("convert %v: exit %d: %s%s", args, code, out, errOut)
		}
		return errOut
	}
	verifyOK := func(path string) {
		t.Helper()
		if code, out, _ := runCLI(t, nil, "verify", "--no-progress", path); code != 0 {
			t.Fatalf("verify %s: exit %d: %s", path, code, out)
		}
	}

	// rdb -> jsonl -> rdb: the same JSON both times.
	ok(fixture, p("a.jsonl"))
	ok(p("a.jsonl"), p("b.rdb"))
	verifyOK(p("b.rdb"))
	ok(p("b.rdb"), p("c.jsonl"))
	a, _ := os.ReadFile(p("a.jsonl"))
	c, _ := os.ReadFile(p("c.jsonl"))
	strip := func(b []byte) string { // ctime/used-mem aux lines may differ
		var keep []string
		for _, l := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(l, `{"aux"`) {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(a) != strip(c) {
		t.Error("rdb -> json -> rdb -> json changed the keys")
	}

	// Down to version 9: functions need a flag.
	if code, _, errOut := runCLI(t, nil, "convert", "--rdb-version", "9", fixture, p("v9.rdb")); code != 4 || !strings.Contains(errOut, "function") {
		t.Fatalf("v9 without --drop-functions: exit %d: %s", code, errOut)
	}
	if errOut := ok("--rdb-version", "9", "--drop-functions", fixture, p("v9.rdb")); !strings.Contains(errOut, "dropped 2") {
		t.Errorf("dropped functions not reported: %q", errOut)
	}
	verifyOK(p("v9.rdb"))

	// rdb -> aof folder, which verify accepts and which replays back.
	ok("--to", "aof", "--aof-dir", fixture, p("aofdir"))
	verifyOK(p("aofdir"))
	ok("--to", "aof", fixture, p("single.aof"))
	verifyOK(p("single.aof"))

	// Existing output without --force; broken JSON input.
	if code, _, _ := runCLI(t, nil, "convert", fixture, p("b.rdb")); code != 2 {
		t.Errorf("overwrite without --force: exit %d, want 2", code)
	}
	os.WriteFile(p("bad.jsonl"), []byte("{\"magic\":\"REDIS\",\"rdb_version\":10}\n{\"db\":0,\"key\":1}\n"), 0o644)
	if code, _, _ := runCLI(t, nil, "convert", p("bad.jsonl"), p("bad.rdb")); code != 3 {
		t.Errorf("bad JSON: exit %d, want 3", code)
	}
	if _, err := os.Stat(p("bad.rdb")); !os.IsNotExist(err) {
		t.Error("a failed conversion left its output behind")
	}
}
