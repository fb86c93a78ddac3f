package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/canon/canonjson"
)

// aofForms are the shapes an AOF input takes, each with the dataset (under a
// server's folder of the generated corpus) whose aof-expected.jsonl it gives.
var aofForms = []struct{ name, dataset, path string }{
	{"multi-part folder", "small", "appendonlydir"},
	{"manifest", "small", "appendonlydir/appendonly.aof.manifest"},
	{"RDB-preamble file", "small", "legacy.aof"},
	{"RESP file", "small-nopreamble", "legacy.aof"},
	{"RESP-base folder", "small-nopreamble", "appendonlydir"},
	{"data folder", "medium", ""},
}

// serverArgs are the flags that replay an AOF of the generated corpus as its
// server did: a RESP-only AOF does not say which server wrote it, and Redis
// 7.0 replays XCLAIM unlike the newest Redis.
func serverArgs(server string) []string {
	if strings.HasPrefix(server, "redis-7.0") {
		return []string{"--server-version", "7.0"}
	}
	return nil
}

// TestDumpAOF: dump takes every form of AOF, replays it and writes the
// dataset a real server reached by loading the same AOF (aof-expected.jsonl),
// in each JSON format; convert to JSON writes the same lines.
func TestDumpAOF(t *testing.T) {
	root := filepath.Join(corpusDir(t), "generated")
	servers, _ := filepath.Glob(filepath.Join(root, "*", "small"))
	if len(servers) == 0 {
		t.Fatalf("no */small under %s", root)
	}
	for _, s := range servers {
		server := filepath.Base(filepath.Dir(s))
		for _, f := range aofForms {
			t.Run(server+"/"+f.name, func(t *testing.T) {
				ds := filepath.Join(root, server, f.dataset)
				in := filepath.Join(ds, f.path)
				want, err := canon.ReadFile(filepath.Join(ds, "aof-expected.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				// --now: the seen time of a consumer an XCLAIM creates is the
				// replay's clock, as it is a server's loading the AOF.
				args := append([]string{"dump", "--no-progress", "--now", "1800000000000"}, serverArgs(server)...)
				code, out, errOut := runCLI(t, nil, append(args, in)...)
				if code != 0 {
					t.Fatalf("dump: exit %d: %s", code, errOut)
				}
				if !strings.Contains(errOut, "rdbtool: replayed ") {
					t.Errorf("dump: no replay summary on stderr: %q", errOut)
				}
				got, err := canonjson.FromDump(strings.NewReader(out), false)
				if err != nil {
					t.Fatal(err)
				}
				if d := canon.Diff(want, got); d != "" {
					t.Fatalf("dump of the %s differs from what the server loaded:\n%s", f.name, d)
				}
				t.Logf("%s: %d lines as the server loaded them; %s", f.name, len(got), strings.TrimSpace(errOut))
				code, arr, errOut := runCLI(t, nil, append(args, "--format", "json", in)...)
				var objs []json.RawMessage
				if code != 0 || json.Unmarshal([]byte(arr), &objs) != nil || len(objs) != strings.Count(out, "\n") {
					t.Errorf("dump --format json: exit %d, %d objects for %d lines: %s", code, len(objs), strings.Count(out, "\n"), errOut)
				}
				if f.name != "multi-part folder" {
					return
				}
				jsonl := filepath.Join(t.TempDir(), "out.jsonl")
				cargs := append([]string{"convert", "--no-progress", "--now", "1800000000000"}, serverArgs(server)...)
				if code, _, errOut := runCLI(t, nil, append(cargs, in, jsonl)...); code != 0 {
					t.Fatalf("convert to jsonl: exit %d: %s", code, errOut)
				}
				if b := readFile(t, jsonl); !bytes.Equal(b, []byte(out)) {
					t.Errorf("convert AOF -> jsonl wrote %d bytes unlike dump's %d", len(b), len(out))
				}
			})
		}
	}
}

// TestInspectAOF: inspect takes every form of AOF and reports the keys the
// server loaded from it, per database, with what the replay applied.
func TestInspectAOF(t *testing.T) {
	root := filepath.Join(corpusDir(t), "generated")
	server := "redis-unstable-20241018"
	for _, f := range aofForms {
		t.Run(f.name, func(t *testing.T) {
			ds := filepath.Join(root, server, f.dataset)
			want, err := canon.ReadFile(filepath.Join(ds, "aof-expected.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			perDB := map[int]int64{}
			for _, l := range want {
				var k struct {
					DB  *int `json:"db"`
					Key any  `json:"key"`
				}
				if err := json.Unmarshal([]byte(l), &k); err != nil {
					t.Fatal(err)
				}
				if k.Key != nil {
					perDB[*k.DB]++
				}
			}
			code, out, errOut := runCLI(t, nil, "inspect", "--no-progress", "--format", "json", filepath.Join(ds, f.path))
			if code != 0 {
				t.Fatalf("inspect: exit %d: %s", code, errOut)
			}
			var rep struct {
				RDBVersion int `json:"rdb_version"`
				Replay     *replayed
				Databases  []struct{ DB, Keys int64 }
				Functions  []any
				Totals     struct{ Keys, Databases int64 }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Replay == nil || rep.Replay.Files == 0 || rep.Replay.Commands == 0 {
				t.Errorf("inspect: replay %+v, want the files and commands applied", rep.Replay)
			}
			got := map[int]int64{}
			for _, d := range rep.Databases {
				got[int(d.DB)] = d.Keys
			}
			if len(got) != len(perDB) {
				t.Errorf("inspect: keys per database %v, the server loaded %v", got, perDB)
			}
			for db, n := range perDB {
				if got[db] != n {
					t.Errorf("inspect: db %d has %d keys, the server loaded %d", db, got[db], n)
				}
			}
			if rep.RDBVersion != 12 || len(rep.Functions) != 1 {
				t.Errorf("inspect: RDB version %d (want 12: field TTLs), %d function libraries (want 1)", rep.RDBVersion, len(rep.Functions))
			}
			t.Logf("%s: %d keys in %d databases, RDB %d; replay %+v", f.name, rep.Totals.Keys, rep.Totals.Databases, rep.RDBVersion, *rep.Replay)
			code, text, _ := runCLI(t, nil, "inspect", "--no-progress", "--format", "text", filepath.Join(ds, f.path))
			if code != 0 || !strings.Contains(text, "the RDB a server would save after loading the AOF") || !strings.Contains(text, "replayed") {
				t.Errorf("inspect --format text: exit %d, no replay line:\n%.600s", code, text)
			}
		})
	}
}

// TestDumpAOFOptions: the key filters and the point-in-time options apply to
// an AOF input; an AOF on standard input is refused with a reason.
func TestDumpAOFOptions(t *testing.T) {
	dir := t.TempDir()
	aofPath := filepath.Join(dir, "appendonly.aof")
	writeFile(t, aofPath, string(respCommands([]string{"SET", "user:1", "ada"}, []string{"HSET", "user:2", "name", "bob"},
		[]string{"SELECT", "3"}, []string{"SET", "other", "x"}, []string{"FLUSHALL"}, []string{"SET", "late", "y"})))
	for _, tc := range []struct {
		args []string
		keys []string
	}{
		{nil, []string{"3/late"}}, // FLUSHALL keeps the selected database
		{[]string{"--until-command", "FLUSHALL"}, []string{"0/user:1", "0/user:2", "3/other"}},
		{[]string{"--until-command", "FLUSHALL", "--key", "user:*", "--type", "string"}, []string{"0/user:1"}},
		{[]string{"--until-command", "FLUSHALL", "--db", "3"}, []string{"3/other"}},
	} {
		code, out, errOut := runCLI(t, nil, append(append([]string{"dump"}, tc.args...), aofPath)...)
		if code != 0 {
			t.Fatalf("dump %v: exit %d: %s", tc.args, code, errOut)
		}
		var keys []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var k struct {
				DB  int    `json:"db"`
				Key string `json:"key"`
			}
			if json.Unmarshal([]byte(line), &k) == nil && k.Key != "" {
				keys = append(keys, fmt.Sprintf("%d/%s", k.DB, k.Key))
			}
		}
		if strings.Join(keys, " ") != strings.Join(tc.keys, " ") {
			t.Errorf("dump %v: keys %v, want %v", tc.args, keys, tc.keys)
		}
	}
	code, _, errOut := runCLI(t, bytes.NewReader(respCommands([]string{"SET", "a", "b"})), "dump", "-")
	if code != exitUsage || !strings.Contains(errOut, "give its PATH") {
		t.Errorf("dump - < AOF: exit %d: %s", code, errOut)
	}
	// An AOF does not convert to an AOF: rewrite does that.
	if code, _, errOut := runCLI(t, nil, "convert", "--to", "aof", aofPath, filepath.Join(dir, "out.aof")); code != exitUsage || !strings.Contains(errOut, "rdbtool rewrite") {
		t.Errorf("convert AOF --to aof: exit %d: %s", code, errOut)
	}
	// An empty file named as an AOF is an empty AOF; under another name it
	// is a failed snapshot, never an empty dataset.
	empty := filepath.Join(dir, "empty.aof")
	writeFile(t, empty, "")
	if code, out, errOut := runCLI(t, nil, "dump", empty); code != 0 || strings.Count(out, `"key"`) != 0 {
		t.Errorf("dump empty.aof: exit %d: %s%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(dir, "dump.rdb"), "")
	if code, _, errOut := runCLI(t, nil, "dump", filepath.Join(dir, "dump.rdb")); code != exitInvalid {
		t.Errorf("dump of an empty dump.rdb: exit %d, want %d: %s", code, exitInvalid, errOut)
	}
}
