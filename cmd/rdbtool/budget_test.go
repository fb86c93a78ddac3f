package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/membudget"
)

// TestMemoryBudget is issue 9 item 10: eight SETRANGEs far into strings made
// replay die with Go's "fatal error: out of memory" (exit 2), and a huge JSON
// line needed six times its size. Growth the input asks for is checked
// against --max-memory first: exit 1, naming what needed the memory.
func TestMemoryBudget(t *testing.T) {
	defer membudget.SetLimit(0)
	dir := t.TempDir()
	aofPath := filepath.Join(dir, "setrange.aof")
	var cmds [][]string
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		cmds = append(cmds, []string{"SETRANGE", k, "50000000", "x"}) // 50 MB each
	}
	os.WriteFile(aofPath, respCommands(cmds...), 0o644)
	for _, args := range [][]string{
		{"--max-memory", "130M", "convert", "--no-progress", aofPath, filepath.Join(dir, "out.rdb")},
		{"convert", "--max-memory", "130M", "--no-progress", aofPath, filepath.Join(dir, "out.rdb")},
		{"replay", "--max-memory", "130M", aofPath},
	} {
		code, _, errOut := runCLI(t, nil, args...)
		if code != exitFailure || !strings.Contains(errOut, "memory budget exceeded: SETRANGE to offset 50000000") || !strings.Contains(errOut, "--max-memory") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if fileExists(filepath.Join(dir, "out.rdb")) {
		t.Error("OUT written")
	}

	// A JSON line longer than the budget can decode.
	jsonPath := filepath.Join(dir, "big.jsonl")
	os.WriteFile(jsonPath, []byte(`{"magic":"REDIS","rdb_version":10}`+"\n"+`{"db":0,"key":"k","type":"string","value":"`+strings.Repeat("x", 12<<20)+`"}`+"\n"), 0o644)
	code, _, errOut := runCLI(t, nil, "convert", "--max-memory", "60M", "--no-progress", jsonPath, filepath.Join(dir, "j.rdb"))
	if code != exitFailure || !strings.Contains(errOut, "memory budget exceeded: JSON line 2") {
		t.Errorf("JSON: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "convert", "--max-memory", "lots", jsonPath, filepath.Join(dir, "j.rdb")); code != exitUsage {
		t.Errorf("a bad size: exit %d: %s", code, errOut)
	}
}
