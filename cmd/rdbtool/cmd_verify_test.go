package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// corpusInvalid are the files MANIFEST.md describes as intentionally broken,
// with the exit code verify must give.
var corpusInvalid = map[string]int{
	"redis/corrupt_ziplist.rdb":    exitInvalid,
	"redis/corrupt_empty_keys.rdb": exitInvalid,
	"keydb/corrupt_empty_keys.rdb": exitInvalid,
	"librdb/invalid_chksum_v8.rdb": exitInvalid,
	"librdb/future_v19.rdb":        exitInvalid,
	"replicator/module.rdb":        exitUnsupported, // Redis 4.0-RC type-6 module value
	// Hand-made test files holding a key twice in database 0: Redis 7.0
	// refuses them ("Duplicated key found in RDB file").
	"rdb-cli/rdt/12.rdb":     exitInvalid,
	"rdb-cli/rdt/89.rdb":     exitInvalid,
	"rdb-cli/rdt/34.rdb":     exitInvalid,
	"rdb-cli/rdt/dump.rdb":   exitInvalid,
	"rdb-cli/rdt/filter.rdb": exitInvalid,
	"rdb-cli/rct/all.rdb":    exitInvalid,
}

var offsetRE = regexp.MustCompile(`at offset [0-9]+`)

func TestVerifyCorpus(t *testing.T) {
	dir := corpusDir(t)
	files := manifestRDBFiles(t)
	for name := range corpusInvalid {
		if _, ok := files[name]; !ok {
			t.Errorf("%s: listed as invalid here but not in MANIFEST.md", name)
		}
	}
	// generated/ holds files written by real servers (see its README.md); they
	// are all valid though the MANIFEST table does not list them.
	_ = filepath.WalkDir(filepath.Join(dir, "generated"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".rdb") {
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = "generated"
		}
		return nil
	})
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tally := map[int]int{}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if _, err := os.Stat(path); err != nil {
				t.Skipf("listed in MANIFEST.md but absent: %v", err)
			}
			want, broken := corpusInvalid[name]
			code, out, errOut := runCLI(t, nil, "verify", "--no-progress", path)
			tally[code]++
			if code != want {
				t.Fatalf("exit %d, want %d (MANIFEST CRC column %q)\nstdout: %s\nstderr: %s", code, want, files[name], out, errOut)
			}
			if broken {
				if !offsetRE.MatchString(out) {
					t.Errorf("no offset in the message: %q", out)
				}
				return
			}
			if !strings.Contains(out, ": OK (") {
				t.Errorf("stdout %q lacks OK", out)
			}
		})
	}
	t.Logf("exit codes over %d corpus RDB files: %v", len(names), tally)
}

func TestVerifyFormats(t *testing.T) {
	valid := corpusFile(t, "dragonfly/redis6_small.rdb")
	data, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gz := filepath.Join(dir, "dump.rdb.gz")
	zs := filepath.Join(dir, "dump.rdb.zst")
	writeCompressed(t, gz, data, "gzip")
	writeCompressed(t, zs, data, "zstd")

	t.Run("gzip", func(t *testing.T) {
		code, out, _ := runCLI(t, nil, "verify", gz)
		if code != 0 || !strings.Contains(out, "OK (REDIS0009, 20 keys in 2 dbs, checksum ok") || !strings.Contains(out, "gzip") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("zstd", func(t *testing.T) {
		code, out, _ := runCLI(t, nil, "verify", zs)
		if code != 0 || !strings.Contains(out, "zstd") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		code, out, _ := runCLI(t, bytes.NewReader(data), "verify", "-")
		if code != 0 || !strings.HasPrefix(out, "<stdin>: OK (") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("stdin zstd", func(t *testing.T) {
		raw, _ := os.ReadFile(zs)
		code, out, _ := runCLI(t, bytes.NewReader(raw), "verify", "-")
		if code != 0 || !strings.Contains(out, "zstd") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		raw, _ := os.ReadFile(gz)
		code, out, _ := runCLI(t, bytes.NewReader(raw[:len(raw)*2/3]), "verify", "-")
		if code != exitInvalid || !strings.Contains(out, "of the decompressed gzip stream") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("truncated plain", func(t *testing.T) {
		code, out, _ := runCLI(t, bytes.NewReader(data[:len(data)-20]), "verify", "-")
		if code != exitInvalid || !strings.Contains(out, "unexpected end of input") || strings.Contains(out, "decompressed") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("resp is an aof", func(t *testing.T) {
		code, out, _ := runCLI(t, strings.NewReader("*1\r\n$4\r\nPING\r\n"), "verify", "-")
		if code != 0 || !strings.Contains(out, "OK (AOF; 1 command") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("not rdb", func(t *testing.T) {
		code, out, _ := runCLI(t, strings.NewReader("GET k\r\n"), "verify", "-")
		if code != exitInvalid || !strings.Contains(out, "INVALID at offset 0") || !strings.Contains(out, "not an RDB file") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("empty", func(t *testing.T) {
		code, out, _ := runCLI(t, strings.NewReader(""), "verify", "-")
		if code != exitInvalid || !strings.Contains(out, "not an RDB file") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("xz", func(t *testing.T) {
		code, out, _ := runCLI(t, bytes.NewReader([]byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 0}), "verify", "-")
		if code != exitUnsupported || !strings.Contains(out, "xz") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, out, _ := runCLI(t, nil, "verify", filepath.Join(dir, "nope.rdb"))
		if code != exitFailure || !strings.Contains(out, "ERROR") {
			t.Errorf("exit %d, %q", code, out)
		}
	})
}

func TestVerifyTrailing(t *testing.T) {
	data, err := os.ReadFile(corpusFile(t, "dragonfly/redis6_small.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	// RESP commands after the checksum: an AOF with an RDB preamble, checked whole.
	withTail := append(append([]byte{}, data...), "*1\r\n$4\r\nPING\r\n"...)
	code, out, _ := runCLI(t, bytes.NewReader(withTail), "verify", "-")
	if code != 0 || !strings.Contains(out, "AOF with an RDB preamble") || !strings.Contains(out, "1 command") {
		t.Errorf("RESP tail: exit %d, %q", code, out)
	}
	torn := withTail[:len(withTail)-3]
	if code, out, _ = runCLI(t, bytes.NewReader(torn), "verify", "-"); code != exitInvalid || !strings.Contains(out, "torn tail") {
		t.Errorf("torn RESP tail: exit %d, %q", code, out)
	}
	// Anything else is a warning, or an error with --strict-trailing.
	withJunk := append(append([]byte{}, data...), "garbage bytes!"...)
	code, out, _ = runCLI(t, bytes.NewReader(withJunk), "verify", "-")
	if code != 0 || !strings.Contains(out, "warning: 14 trailing bytes") {
		t.Errorf("trailing junk: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, bytes.NewReader(withJunk), "verify", "--strict-trailing", "-")
	if code != exitInvalid || !strings.Contains(out, "INVALID at offset 1104") {
		t.Errorf("--strict-trailing: exit %d, %q", code, out)
	}

	// A diskless transfer captured with its 40-hex-character EOF mark.
	mark := corpusFile(t, "rdbtools/redis_40_with_module.rdb")
	code, out, _ = runCLI(t, nil, "verify", mark)
	if code != 0 || !strings.Contains(out, "diskless replication") || !strings.Contains(out, "checksum disabled") {
		t.Errorf("EOF mark: exit %d, %q", code, out)
	}
	code, _, _ = runCLI(t, nil, "verify", "--strict-trailing", mark)
	if code != exitInvalid {
		t.Errorf("EOF mark with --strict-trailing: exit %d, want %d", code, exitInvalid)
	}
}

func TestVerifyJSON(t *testing.T) {
	valid := corpusFile(t, "dragonfly/redis6_small.rdb")
	corrupt := corpusFile(t, "redis/corrupt_empty_keys.rdb")
	module := corpusFile(t, "replicator/module.rdb")
	missing := filepath.Join(t.TempDir(), "missing.rdb")
	code, out, errOut := runCLI(t, nil, "verify", "--format", "json", valid, corrupt, module, missing)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d (invalid outranks unsupported and I/O errors)", code, exitInvalid)
	}
	if errOut != "" {
		t.Errorf("stderr %q, want nothing in JSON mode", errOut)
	}
	type result struct {
		Path       string            `json:"path"`
		Status     string            `json:"status"`
		Header     string            `json:"header"`
		RDBVersion int               `json:"rdb_version"`
		Keys       int64             `json:"keys"`
		DBs        int               `json:"dbs"`
		Checksum   string            `json:"checksum"`
		Bytes      int64             `json:"bytes"`
		Seconds    *float64          `json:"seconds"`
		Offset     *int64            `json:"offset"`
		Key        map[string]string `json:"key"`
		Error      string            `json:"error"`
		Warnings   []string          `json:"warnings"`
	}
	var got []result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	if len(got) != 4 {
		t.Fatalf("%d JSON lines, want 4:\n%s", len(got), out)
	}
	if r := got[0]; r.Status != "ok" || r.Header != "REDIS0009" || r.RDBVersion != 9 || r.Keys != 20 || r.DBs != 2 ||
		r.Checksum != "ok" || r.Bytes != 1104 || r.Offset != nil || r.Seconds == nil || r.Warnings == nil {
		t.Errorf("valid file: %+v", r)
	}
	if r := got[1]; r.Status != "invalid" || r.Offset == nil || r.Key["utf8"] != "set" || !strings.Contains(r.Error, "empty set") {
		t.Errorf("corrupt file: %+v", r)
	}
	if r := got[2]; r.Status != "unsupported" || r.Offset == nil || *r.Offset != 1257 {
		t.Errorf("module file: %+v", r)
	}
	if r := got[3]; r.Status != "error" || r.Offset != nil || !strings.Contains(r.Error, "missing.rdb") {
		t.Errorf("missing file: %+v", r)
	}

	// Exit code priority without an invalid file: unsupported beats I/O errors.
	if code, _, _ := runCLI(t, nil, "verify", "--format", "json", missing, module, valid); code != exitUnsupported {
		t.Errorf("unsupported + error: exit %d, want %d", code, exitUnsupported)
	}
	if code, _, _ := runCLI(t, nil, "verify", valid, missing); code != exitFailure {
		t.Errorf("ok + error: exit %d, want %d", code, exitFailure)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"--no-such-flag"},
		{"verify"},
		{"verify", "--no-such-flag", "x.rdb"},
		{"verify", "--format", "yaml", "x.rdb"},
		{"verify", "--", "--format", "json"},
		{"verify", "-", "-"},
		{"inspect"},
		{"inspect", "a.rdb", "b.rdb"},
		{"inspect", "--top", "-1", "a.rdb"},
		{"inspect", "--top", "many", "a.rdb"},
		{"inspect", "--format", "xml", "a.rdb"},
		{"help", "no-such-command"},
	}
	for _, args := range cases {
		code, out, errOut := runCLI(t, nil, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, exitUsage, out, errOut)
		}
		if errOut == "" {
			t.Errorf("%q: nothing on stderr", args)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "rdbtool verify dump.rdb") || !strings.Contains(out, "inspect") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, cmd := range []string{"verify", "inspect"} {
		code, out, _ := runCLI(t, nil, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--no-progress") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
	code, out, _ = runCLI(t, nil, "--version")
	if code != 0 || !strings.Contains(out, "rdbtool version "+version) {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func writeCompressed(t *testing.T, path string, data []byte, format string) {
	t.Helper()
	var buf bytes.Buffer
	switch format {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case "zstd":
		w, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyInterrupted(t *testing.T) {
	path := corpusFile(t, "dragonfly/redis6_small.rdb")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"rdbtool", "verify", path, path}, strings.NewReader(""), &out, &errOut)
	if code != exitInterrupted || !strings.Contains(out.String(), "ERROR") || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("exit %d, stdout %q", code, out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Errorf("%d lines after the interruption, want 1 (stop after the current file)", n)
	}
}
