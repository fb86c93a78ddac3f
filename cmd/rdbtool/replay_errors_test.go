package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestReplaySkipsErrorReplies is issue 9 item 7: an AOF Redis loads although
// some commands return an error reply (RENAME of a missing key, INCR of a
// non-integer, a bad RESTORE, a huge SELECT, a FUNCTION LOAD whose Lua does
// not compile) stopped convert, replay and rewrite with exit 1. Redis skips
// them; so does rdbtool, counting them, and --strict makes them fatal. The
// converted dataset equals what Redis 7.0 loads from the AOF.
func TestReplaySkipsErrorReplies(t *testing.T) {
	dir := t.TempDir()
	aofDir := filepath.Join(dir, "appendonlydir")
	os.Mkdir(aofDir, 0o755)
	os.WriteFile(filepath.Join(aofDir, "appendonly.aof.1.incr.aof"), respCommands(
		[]string{"SET", "a", "1"},
		[]string{"RENAME", "missing", "x"},
		[]string{"SET", "b", "notint"},
		[]string{"INCR", "b"},
		[]string{"RESTORE", "r", "0", "garbage"},
		[]string{"SELECT", "99999"},
		[]string{"FUNCTION", "LOAD", "#!lua name=broken\nredis.register_function('f', function() return 1 end"},
		[]string{"SET", "after", "ok"},
	), 0o644)
	os.WriteFile(filepath.Join(aofDir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)

	out := filepath.Join(dir, "out.rdb")
	code, _, errOut := runCLI(t, nil, "convert", "--no-progress", aofDir, out)
	if code != exitOK || !strings.Contains(errOut, "5 commands returned an error reply") || !strings.Contains(errOut, "RENAME") {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	code, _, errOut = runCLI(t, nil, "convert", "--no-progress", "--strict", aofDir, filepath.Join(dir, "strict.rdb"))
	if code != exitInvalid || !strings.Contains(errOut, "RENAME") || !strings.Contains(errOut, "--strict") {
		t.Errorf("convert --strict: exit %d: %s", code, errOut)
	}
	if code, o, _ := runCLI(t, nil, "replay", "--exec", "GET after", aofDir); code != exitOK || !strings.Contains(o, "ok") {
		t.Errorf("replay: exit %d: %s", code, o)
	}
	rewritten := filepath.Join(dir, "rewritten")
	if code, _, errOut := runCLI(t, nil, "rewrite", aofDir, rewritten); code != exitOK {
		t.Errorf("rewrite: exit %d: %s", code, errOut)
	}

	fromAOF := redistest.Start(t, redistest.Options{AOFDir: aofDir}).Snapshot(t, redistest.SnapshotOptions{})
	fromRDB := redistest.Start(t, redistest.Options{RDB: out}).Snapshot(t, redistest.SnapshotOptions{})
	// The rewrite left the broken library out: Redis starts on it.
	fromRewrite := redistest.Start(t, redistest.Options{AOFDir: rewritten}).Snapshot(t, redistest.SnapshotOptions{})
	if strings.Join(fromAOF, "\n") != strings.Join(fromRewrite, "\n") {
		t.Errorf("Redis loaded from the AOF:\n%s\nfrom the rewrite:\n%s", strings.Join(fromAOF, "\n"), strings.Join(fromRewrite, "\n"))
	}
	if strings.Join(fromAOF, "\n") != strings.Join(fromRDB, "\n") {
		t.Errorf("Redis loaded from the AOF:\n%s\nfrom the converted RDB:\n%s", strings.Join(fromAOF, "\n"), strings.Join(fromRDB, "\n"))
	}
}
