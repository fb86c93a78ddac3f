package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDumpConvertSlotInfo is issue 9 item 13: dump -> convert failed on the
// SLOT_INFO records of Redis 7.4-era files ("unknown field expires_size").
func TestDumpConvertSlotInfo(t *testing.T) {
	for _, rel := range []string{"catcherwong/redis74_cluster_slotinfo.rdb", "librdb/cluster_slot_info.rdb", "replicator/dump-slot.rdb"} {
		src := corpusFile(t, rel)
		dir := t.TempDir()
		jsonl, out := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "back.rdb")
		if code, _, errOut := runCLI(t, nil, "dump", "-o", jsonl, src); code != exitOK {
			t.Fatalf("%s: dump exit %d: %s", rel, code, errOut)
		}
		if code, _, errOut := runCLI(t, nil, "convert", "--no-progress", jsonl, out); code != exitOK {
			t.Errorf("%s: convert exit %d: %s", rel, code, errOut)
			continue
		}
		if code, o, _ := runCLI(t, nil, "verify", out); code != exitOK {
			t.Errorf("%s: verify exit %d: %s", rel, code, o)
		}
		again := filepath.Join(dir, "again.jsonl")
		runCLI(t, nil, "dump", "-o", again, out)
		a, b := records(t, jsonl), records(t, again)
		if !strings.Contains(b, `"slot_info"`) || a != b {
			t.Errorf("%s: the dump of the converted file differs:\n%s\nwant\n%s", rel, b, a)
		}
	}
}

// TestConvertJSONDuplicateKey is issue 9 item 6 through the command line:
// exit 3, naming both lines, and no OUT.
func TestConvertJSONDuplicateKey(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.rdb")
	writeFile(t, in, `{"magic":"REDIS","rdb_version":10}
{"db":0,"key":"k","type":"string","value":"a"}
{"db":0,"key":"k","type":"string","value":"b"}
`)
	code, _, errOut := runCLI(t, nil, "convert", "--no-progress", in, out)
	if code != exitInvalid || !strings.Contains(errOut, `line 3: key "k" of database 0 is also on line 2`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if fileExists(out) {
		t.Error("OUT was written")
	}
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// records is a dump's lines without its aux fields (the writer puts its own).
func records(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, `{"aux"`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestConvertRefusesBadLibrary is issue 9 item 6: RDB -> RDB and RDB -> AOF
// copied a library Redis refuses; now exit 3 naming it.
func TestConvertRefusesBadLibrary(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.rdb")
	writeTestRDB(t, in, []string{"#!lua name=broken\nredis.register_function('f', function() return 1 end"}, []testKey{{0, "k", "v"}})
	for _, args := range [][]string{{"convert", "--no-progress", in, filepath.Join(dir, "out.rdb")}, {"convert", "--no-progress", "--to", "aof", in, filepath.Join(dir, "out.aof")}} {
		code, _, errOut := runCLI(t, nil, args...)
		if code != exitInvalid || !strings.Contains(errOut, "function library broken") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
}
