package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// compressedInputs are the inputs of the compressed suite, plain: an RDB
// file, a RESP AOF, an AOF with an RDB preamble and rdbtool JSON.
func compressedInputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	plain := map[string][]byte{}
	plain["dump.rdb"] = readFile(t, fixture(t, "types-7.0.rdb"))
	for name, src := range map[string]string{"appendonly.aof": "aof-nopreamble-7.0", "preamble.aof": "aof-7.0"} {
		base, incr := aofFolderFiles(t, fixture(t, src+"/appendonlydir"))
		plain[name] = append(readFile(t, fixture(t, src+"/appendonlydir/"+base)), readFile(t, fixture(t, src+"/appendonlydir/"+incr))...)
	}
	_, keys, _ := runCLI(t, nil, "dump", fixture(t, "types-7.0.rdb"))
	plain["keys.jsonl"] = []byte(keys)
	paths := map[string]string{}
	for name, data := range plain {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	return paths
}

// TestEveryCommandReadsCompressed: issue 9 item 5. verify read gzip and zstd
// but repair read the gzip bytes as RESP, replay/convert/rewrite called a
// valid .aof.gz INVALID and replay a valid .rdb.zst. Every command that takes
// a PATH must give, from a compressed input, what it gives from the plain
// one; every file it writes loads in Redis 7.0.
func TestEveryCommandReadsCompressed(t *testing.T) {
	dir := t.TempDir()
	in := compressedInputs(t, dir)
	// Each command line, run on the plain input and on its compressed forms;
	// OUT (if any) is compared byte for byte and loaded into Redis as kind.
	type job struct {
		input string
		args  []string // "IN" and "OUT" are replaced
		kind  string   // what OUT is for Redis: "", "rdb", "aof", "aof-dir" ("" for JSON)
	}
	jobs := []job{
		{"dump.rdb", []string{"verify", "--no-progress", "IN"}, ""},
		{"appendonly.aof", []string{"verify", "--no-progress", "IN"}, ""},
		{"preamble.aof", []string{"verify", "--no-progress", "IN"}, ""},
		{"dump.rdb", []string{"inspect", "--format", "json", "IN"}, ""},
		{"dump.rdb", []string{"dump", "IN"}, ""},
		{"dump.rdb", []string{"dump", "--format", "csv", "IN"}, ""},
		{"dump.rdb", []string{"replay", "--now", "1", "IN"}, ""},
		{"appendonly.aof", []string{"replay", "--now", "1", "IN"}, ""},
		{"preamble.aof", []string{"replay", "--now", "1", "IN"}, ""},
		{"dump.rdb", []string{"convert", "--to", "rdb", "--rdb-version", "9", "--drop-functions", "IN", "OUT"}, "rdb"},
		{"dump.rdb", []string{"convert", "--to", "jsonl", "IN", "OUT"}, ""},
		{"dump.rdb", []string{"convert", "--to", "aof", "IN", "OUT"}, "aof"},
		{"dump.rdb", []string{"convert", "--to", "aof", "--aof-dir", "IN", "OUT"}, "aof-dir"},
		{"keys.jsonl", []string{"convert", "--to", "rdb", "IN", "OUT"}, "rdb"},
		{"appendonly.aof", []string{"convert", "--to", "rdb", "IN", "OUT"}, "rdb"},
		{"preamble.aof", []string{"convert", "--to", "rdb", "IN", "OUT"}, "rdb"},
		{"appendonly.aof", []string{"rewrite", "IN", "OUT"}, "aof-dir"},
		{"preamble.aof", []string{"rewrite", "--single-file", "IN", "OUT"}, "aof"},
		{"appendonly.aof", []string{"repair", "IN", "OUT"}, ""},
	}
	loaded := map[string]bool{}
	for i, j := range jobs {
		var want string
		var wantOut map[string]string
		for _, format := range []string{"", "gzip", "zstd"} {
			src := in[j.input]
			if format != "" {
				src = in[j.input] + map[string]string{"gzip": ".gz", "zstd": ".zst"}[format]
				if _, err := os.Stat(src); err != nil {
					os.WriteFile(src, compress(t, readFile(t, in[j.input]), format), 0o644)
				}
			}
			out := filepath.Join(dir, "out", strings.Join([]string{j.args[0], j.input, format, string(rune('a' + i))}, "-"))
			os.MkdirAll(filepath.Dir(out), 0o755)
			args := make([]string, len(j.args))
			for k, a := range j.args {
				args[k] = strings.NewReplacer("IN", src, "OUT", out).Replace(a)
			}
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 {
				t.Errorf("%v: exit %d: %s%s", args, code, stdout, stderr)
				continue
			}
			got := normalizeReport(t, args[0], stdout, src)
			var gotOut map[string]string
			if _, err := os.Stat(out); err == nil {
				gotOut = comparableOutput(t, out)
			}
			if format == "" {
				want, wantOut = got, gotOut
				if j.kind != "" && !loaded[out] {
					loaded[out] = true
					loadsInRedis(t, out, j.kind)
				}
				continue
			}
			if got != want {
				t.Errorf("%v: the report differs from the plain input's:\n%s\nwant:\n%s", args, got, want)
			}
			if len(wantOut) != len(gotOut) {
				t.Errorf("%v: OUT holds %d files, the plain input's %d", args, len(gotOut), len(wantOut))
			}
			for k, v := range wantOut {
				if gotOut[k] != v {
					t.Errorf("%v: OUT's %q differs from the plain input's", args, k)
				}
			}
		}
	}
}

// normalizeReport removes from a command's report what names the input or
// its compression, so that reports of plain and compressed inputs compare.
func normalizeReport(t *testing.T, cmd, report, path string) string {
	t.Helper()
	if cmd == "inspect" {
		var m map[string]any
		if err := json.Unmarshal([]byte(report), &m); err != nil {
			t.Fatalf("inspect --format json: %v", err)
		}
		delete(m, "path")
		delete(m, "compression")
		delete(m, "compressed_bytes")
		b, _ := json.Marshal(m)
		return string(b)
	}
	report = strings.ReplaceAll(report, path, "IN")
	if cmd == "verify" {
		// "... 1.2 MiB from 400 KiB gzip in 0.01s)": sizes and times vary.
		if i := strings.Index(report, " from "); i >= 0 {
			report = report[:i]
		}
		if i := strings.Index(report, " in 0."); i >= 0 {
			report = report[:i]
		}
	}
	return report
}

// TestTruncatedCompressedIsInvalid: a .zst or .gz cut short is INVALID (exit
// 3) with an offset for every command, not "ERROR: unexpected EOF" (exit 1).
func TestTruncatedCompressedIsInvalid(t *testing.T) {
	dir := t.TempDir()
	in := compressedInputs(t, dir)
	for _, name := range []string{"dump.rdb", "appendonly.aof", "keys.jsonl"} {
		for _, format := range []string{"gzip", "zstd"} {
			whole := compress(t, readFile(t, in[name]), format)
			cut := filepath.Join(dir, name+"."+format+"-cut")
			os.WriteFile(cut, whole[:len(whole)*2/3], 0o644)
			var cmds [][]string
			switch name {
			case "dump.rdb":
				cmds = [][]string{{"verify", cut}, {"inspect", cut}, {"dump", cut}, {"replay", cut},
					{"convert", "--to", "rdb", cut, filepath.Join(dir, "o.rdb")}}
			case "appendonly.aof":
				cmds = [][]string{{"verify", cut}, {"replay", cut}, {"convert", "--to", "rdb", cut, filepath.Join(dir, "o.rdb")},
					{"rewrite", cut, filepath.Join(dir, "o")}}
			case "keys.jsonl":
				cmds = [][]string{{"convert", "--to", "rdb", cut, filepath.Join(dir, "o.rdb")}}
			}
			for _, args := range cmds {
				code, o, e := runCLI(t, nil, args...)
				if code != exitInvalid || !strings.Contains(o+e, "offset") {
					t.Errorf("%s %s: %v: exit %d, want %d with an offset:\n%s%s", name, format, args, code, exitInvalid, o, e)
				}
			}
			for _, args := range [][]string{{"repair", cut}, {"repair", "--in-place", cut}} {
				if code, o, e := runCLI(t, nil, args...); name == "appendonly.aof" && code != exitInvalid {
					t.Errorf("%s %s: %v: exit %d, want %d:\n%s%s", name, format, args, code, exitInvalid, o, e)
				}
			}
		}
	}
	for _, e := range []string{"o.rdb", "o", "appendonly.aof.gzip-cut.repaired", "appendonly.aof.gzip-cut.bak"} {
		if _, err := os.Stat(filepath.Join(dir, e)); err == nil {
			t.Errorf("%s was written from a truncated input", e)
		}
	}
	noTemps(t, dir)
}

// timesOfReplay are the fields a replay sets to the time it ran, as Redis
// does when it loads an AOF: a stream consumer's seen and active times.
var timesOfReplay = regexp.MustCompile(`"(seen|active)_time_ms":[0-9]+`)

// comparableOutput describes what a command wrote, file by file: the bytes,
// except that an RDB (or an RDB-preamble AOF, or an RDB base) is dumped with
// the replay's clock fields blanked.
func comparableOutput(t *testing.T, out string) map[string]string {
	t.Helper()
	state := treeState(t, out)
	for rel := range state {
		p := filepath.Join(out, rel)
		if rel == "." && !strings.HasPrefix(state[rel], "file") {
			continue
		}
		head := make([]byte, 5)
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		f.Read(head)
		f.Close()
		if string(head) != "REDIS" {
			continue
		}
		code, dump, e := runCLI(t, nil, "dump", p)
		if code != 0 {
			t.Fatalf("dump %s: exit %d: %s", p, code, e)
		}
		state[rel] = timesOfReplay.ReplaceAllString(dump, `"${1}_time_ms":0`)
	}
	return state
}
