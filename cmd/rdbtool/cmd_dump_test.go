package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDumpCommand(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")

	code, out, errOut := runCLI(t, nil, "dump", "--no-progress", fixture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	keys := 0
	for i, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		if _, ok := obj["key"]; ok {
			keys++
		}
	}
	if keys != 84 {
		t.Errorf("%d key lines, want 84", keys)
	}

	// Filters: hashes of db 0 whose name starts with "hash:".
	code, out, _ = runCLI(t, nil, "dump", "--no-progress", "--db", "0", "--type", "hash", "--key", "hash:*", fixture)
	if code != 0 {
		t.Fatalf("filtered dump: exit %d", code)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[1:] {
		if !strings.HasPrefix(l, `{"aux"`) && !strings.HasPrefix(l, `{"function"`) &&
			!strings.HasPrefix(l, `{"db":0,"key":"hash:`) {
			t.Errorf("filter let through: %.80s", l)
		}
	}

	// -o writes a file; an existing one needs --force.
	dst := filepath.Join(t.TempDir(), "out.csv")
	if code, _, errOut := runCLI(t, nil, "dump", "--no-progress", "--format", "csv", "-o", dst, fixture); code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errOut)
	}
	f, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 85 || rows[0][0] != "database" {
		t.Fatalf("csv: %d rows, err %v", len(rows), err)
	}
	if code, _, errOut := runCLI(t, nil, "dump", "--no-progress", "-o", dst, fixture); code != 2 || !strings.Contains(errOut, "--force") {
		t.Fatalf("overwrite without --force: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCLI(t, nil, "dump", "--no-progress", "--force", "-o", dst, fixture); code != 0 {
		t.Fatalf("overwrite with --force: exit %d", code)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".out.csv.tmp-*")); len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}

	// A damaged file: exit 3, and -o leaves nothing behind.
	data, _ := os.ReadFile(fixture)
	bad := filepath.Join(t.TempDir(), "bad.rdb")
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	out2 := filepath.Join(filepath.Dir(bad), "bad.jsonl")
	if code, _, _ := runCLI(t, nil, "dump", "--no-progress", "-o", out2, bad); code != 3 {
		t.Fatalf("truncated input: exit %d, want 3", code)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Errorf("partial output left at %s", out2)
	}

	for _, args := range [][]string{
		{"dump", "--type", "nope", fixture},
		{"dump", "--expired", "maybe", fixture},
		{"dump", "--key-regex", "(", fixture},
		{"dump", "--format", "xml", fixture},
		{"dump"},
	} {
		if code, _, _ := runCLI(t, nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestVerifyDamagedFiles runs the whole command on damaged copies of a real
// file: exit 3 and an offset every time (pkg/rdb's TestCorruption covers 2,750
// cases at the library level; this checks the mapping to exit codes).
func TestVerifyDamagedFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := 0; i < 60; i++ {
		b := append([]byte(nil), data...)
		name := filepath.Join(dir, "damaged.rdb")
		if i%2 == 0 {
			b[i*len(b)/60] ^= 0x5a
		} else {
			b = b[:i*len(b)/60]
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := runCLI(t, nil, "verify", "--no-progress", name)
		if code != 3 || !strings.Contains(out+errOut, "INVALID at offset") {
			t.Fatalf("case %d: exit %d, %q %q", i, code, out, errOut)
		}
	}
}
