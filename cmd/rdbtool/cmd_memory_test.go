package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

const fixedNow = "1767225600000" // 2026-01-01T00:00:00Z

func TestMemoryFormats(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")

	code, out, errOut := runCLI(t, nil, "memory", "--no-progress", "--now", fixedNow, fixture)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"MEMORY", "redis-7.0-jemalloc", "DATABASES", "TYPES", "TOP KEYS", "str:1mib", "PREFIXES", "str:*", "EXPIRY", "ELEMENTS PER KEY", "ELEMENT SIZES", "LARGEST ELEMENTS"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q", want)
		}
	}
	// Deterministic: the same input and options give the same bytes.
	if _, again, _ := runCLI(t, nil, "memory", "--no-progress", "--now", fixedNow, fixture); again != out {
		t.Error("two runs differ")
	}

	code, out, errOut = runCLI(t, nil, "memory", "--no-progress", "--now", fixedNow, "--format", "json", fixture)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var rep struct {
		Model string `json:"model"`
		Total struct {
			Keys        int64 `json:"keys"`
			MemoryBytes int64 `json:"memory_bytes"`
		} `json:"total"`
		TopKeys  []map[string]any `json:"top_keys"`
		Prefixes struct {
			Items []map[string]any `json:"items"`
		} `json:"prefixes"`
		Expiry []map[string]any `json:"expiry"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v", err)
	}
	if rep.Model != "redis-7.0-jemalloc" || rep.Total.Keys != 84 || rep.Total.MemoryBytes == 0 || len(rep.TopKeys) != 20 || len(rep.Prefixes.Items) == 0 || len(rep.Expiry) != 8 {
		t.Errorf("json report: %+v", rep)
	}

	code, out, _ = runCLI(t, nil, "memory", "--no-progress", "--format", "jsonl", fixture)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 84 {
		t.Fatalf("jsonl: exit %d, %d lines", code, len(lines))
	}
	var sum int64
	for _, l := range lines {
		var k struct {
			DB          *int   `json:"db"`
			Type        string `json:"type"`
			Encoding    string `json:"encoding"`
			MemoryBytes int64  `json:"memory_bytes"`
			Elements    *int64 `json:"elements"`
			Largest     *int64 `json:"largest_element_bytes"`
		}
		if err := json.Unmarshal([]byte(l), &k); err != nil || k.DB == nil || k.Elements == nil || k.Largest == nil || k.Encoding == "" {
			t.Fatalf("jsonl line %s: %v", l, err)
		}
		sum += k.MemoryBytes
	}
	if sum != rep.Total.MemoryBytes {
		t.Errorf("jsonl lines sum to %d, the report says %d", sum, rep.Total.MemoryBytes)
	}

	// CSV from a gzip-compressed standard input, filtered.
	data, _ := os.ReadFile(fixture)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	stdin := filepath.Join(t.TempDir(), "in.rdb.gz")
	os.WriteFile(stdin, gz.Bytes(), 0o644)
	f, _ := os.Open(stdin)
	defer f.Close()
	code, out, errOut = runCLI(t, f, "memory", "--no-progress", "--format", "csv", "--type", "hash", "-")
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	for _, r := range rows[1:] {
		if r[1] != "hash" {
			t.Errorf("filter let a %s through", r[1])
		}
	}

	// Few prefixes allowed: the report says it is approximate.
	code, out, _ = runCLI(t, nil, "memory", "--no-progress", "--max-prefixes", "3", "--depth", "3", fixture)
	if code != 0 || !strings.Contains(out, "APPROXIMATE") || !strings.Contains(out, "approximate: more than 3 distinct prefixes") {
		t.Errorf("pruned prefixes: exit %d, no APPROXIMATE note", code)
	}

	if code, _, errOut := runCLI(t, nil, "memory", "--format", "xml", fixture); code != 2 {
		t.Errorf("bad format: exit %d %s", code, errOut)
	}
}

func TestDiffCLI(t *testing.T) {
	root := moduleRoot(t)
	a := filepath.Join(root, "fixtures", "types-7.0.rdb")
	b := filepath.Join(root, "fixtures", "lru-7.0.rdb")
	if code, out, errOut := runCLI(t, nil, "diff", a, a); code != 0 || out != "" || !strings.Contains(errOut, "84 same") {
		t.Fatalf("same: exit %d, %q %q", code, out, errOut)
	}
	code, out, errOut := runCLI(t, nil, "diff", a, b)
	if code != 5 || !strings.HasPrefix(out, "- {\"db\":") || !strings.Contains(out, "\n+ {\"db\":") || !strings.Contains(errOut, "only in") {
		t.Fatalf("different: exit %d, %.200q %q", code, out, errOut)
	}
	if code, _, _ := runCLI(t, nil, "diff", a, "-"); code != 2 {
		t.Errorf("stdin: exit %d, want 2", code)
	}
	data, _ := os.ReadFile(a)
	bad := filepath.Join(t.TempDir(), "bad.rdb")
	os.WriteFile(bad, data[:len(data)/2], 0o644)
	if code, _, errOut := runCLI(t, nil, "diff", a, bad); code != 3 || !strings.Contains(errOut, "bad.rdb") {
		t.Errorf("truncated B: exit %d %q", code, errOut)
	}
}

// TestMemoryAndDiffInterrupted: a cancelled context (Ctrl-C) stops both
// commands with exit 130, leaving no output file and no temporary files.
func TestMemoryAndDiffInterrupted(t *testing.T) {
	fixture := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{
		{"rdbtool", "memory", "--no-progress", "--format", "jsonl", "-o", filepath.Join(dir, "out.jsonl"), fixture},
		{"rdbtool", "diff", "--tmp-dir", dir, "-o", filepath.Join(dir, "out.diff"), fixture, filepath.Join(moduleRoot(t), "fixtures", "lru-7.0.rdb")},
	} {
		if code := run(ctx, args, strings.NewReader(""), &stdout, &stderr); code != exitInterrupted {
			t.Errorf("%s interrupted: exit %d, want %d; %s", args[1], code, exitInterrupted, stderr.String())
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
