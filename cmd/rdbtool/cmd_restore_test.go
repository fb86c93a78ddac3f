package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// TestRestoreStandalone restores every fixture and every generated corpus
// dataset a Redis 7.0 server holds (RDB files as DUMP payloads, AOF folders,
// a single-file AOF, a JSON dump, a compressed file, standard input) into a
// 7.0 server that wants a password, and one that wants an ACL user; after
// each, the server's dataset must be the source's.
func TestRestoreStandalone(t *testing.T) {
	bin := redistest.Require(t)
	root := moduleRoot(t)
	fixtures, _ := filepath.Glob(filepath.Join(root, "fixtures", "*.rdb"))
	if len(fixtures) == 0 {
		t.Fatal("no fixtures")
	}

	t.Run("password", func(t *testing.T) {
		s := startLive(t, bin, "password")
		for _, f := range fixtures {
			s.flush(t)
			j := restoreRun(t, 0, f, s.url())
			if j.AsCommands != 0 || j.RDBVersion != 10 {
				t.Errorf("%s: %+v", f, j)
			}
			sameDataset(t, filepath.Base(f), expectedOf(t, f, false), s.snapshot(t))
		}
		// The same file as JSON Lines, gzip-compressed, and on standard input.
		types := filepath.Join(root, "fixtures", "types-7.0.rdb")
		want := expectedOf(t, types, false)
		jsonl := filepath.Join(t.TempDir(), "types.jsonl")
		if code, _, errOut := runCLI(t, nil, "dump", "-o", jsonl, types); code != 0 {
			t.Fatal(errOut)
		}
		s.flush(t)
		restoreRun(t, 0, jsonl, s.url())
		sameDataset(t, "types as JSON", want, s.snapshot(t))

		raw, _ := os.ReadFile(types)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		gzPath := filepath.Join(t.TempDir(), "types.rdb.gz")
		os.WriteFile(gzPath, gz.Bytes(), 0o644)
		s.flush(t)
		restoreRun(t, 0, gzPath, s.url())
		sameDataset(t, "types gzip", want, s.snapshot(t))

		s.flush(t)
		code, _, errOut := runCLI(t, bytes.NewReader(gz.Bytes()), "restore", "--no-progress", "-", s.url())
		if code != 0 || !strings.Contains(errOut, "restored 84 keys") {
			t.Fatalf("stdin: %d %s", code, errOut)
		}
		sameDataset(t, "types from stdin", want, s.snapshot(t))

		// A wrong password is an error before anything is read.
		code, _, errOut = runCLI(t, nil, "restore", "--no-progress", types, strings.Replace(s.url(), s.pass, "wrong", 1))
		if code != 1 || !strings.Contains(errOut, "WRONGPASS") {
			t.Errorf("wrong password: %d %s", code, errOut)
		}
		// The password from REDISCLI_AUTH.
		t.Setenv("REDISCLI_AUTH", s.pass)
		s.flush(t)
		restoreRun(t, 0, types, "redis://"+s.Addr())
	})

	t.Run("acl", func(t *testing.T) {
		corpus := corpusDir(t)
		s := startLive(t, bin, "acl")
		sets, _ := filepath.Glob(filepath.Join(corpus, "generated", "redis-7.0.15", "*"))
		for _, ds := range sets {
			name := "redis-7.0.15/" + filepath.Base(ds)
			s.flush(t)
			j := restoreRun(t, 0, filepath.Join(ds, "dump.rdb"), s.url())
			if j.AsCommands != 0 || j.Functions != 1 {
				t.Errorf("%s: %+v", name, j)
			}
			sameDataset(t, name+" rdb", expectedFile(t, filepath.Join(ds, "expected.jsonl"), false), s.snapshot(t))

			s.flush(t)
			restoreRun(t, 0, filepath.Join(ds, "appendonlydir"), s.url())
			aofWant := expectedFile(t, filepath.Join(ds, "aof-expected.jsonl"), false)
			sameDataset(t, name+" appendonlydir", aofWant, s.snapshot(t))
			if filepath.Base(ds) == "small" {
				s.flush(t)
				restoreRun(t, 0, filepath.Join(ds, "legacy.aof"), s.url())
				sameDataset(t, name+" legacy.aof", aofWant, s.snapshot(t))
			}
		}
	})
}

// TestRestoreNewerSources restores the RDB 11 and 12 datasets of the newer
// servers into Redis 7.0 (their payloads are too new for it: the keys go as
// commands, field TTLs dropped) and into the newer servers themselves.
func TestRestoreNewerSources(t *testing.T) {
	corpus := corpusDir(t)
	gen := func(server, ds string) string { return filepath.Join(corpus, "generated", server, ds) }
	type source struct {
		dir           string
		dropFieldTTLs bool
		asCommands    bool
	}
	check := func(t *testing.T, s liveServer, srcs []source) {
		for _, src := range srcs {
			name := filepath.Base(filepath.Dir(src.dir)) + "/" + filepath.Base(src.dir)
			s.flush(t)
			args := []string{filepath.Join(src.dir, "dump.rdb"), s.url()}
			if src.dropFieldTTLs {
				args = append([]string{"--drop-field-ttls"}, args...)
			}
			j := restoreRun(t, 0, args...)
			if (j.AsCommands > 0) != src.asCommands {
				t.Errorf("%s: %d keys as commands, want commands: %v", name, j.AsCommands, src.asCommands)
			}
			want, got := expectedFile(t, filepath.Join(src.dir, "expected.jsonl"), src.dropFieldTTLs), s.snapshot(t)
			if src.asCommands {
				want, got = withoutDanglingPEL(t, want), withoutDanglingPEL(t, got)
			}
			sameDataset(t, name, want, got)
		}
	}
	t.Run("redis-7.0", func(t *testing.T) {
		s := startLive(t, redistest.Require(t), "password")
		var srcs []source
		for _, ds := range []string{"small", "medium"} {
			srcs = append(srcs, source{gen(redistest.Valkey8, ds), false, true}, source{gen(redistest.Redis74, ds), true, true})
		}
		check(t, s, srcs)
		// Without --drop-field-ttls the hash-field TTLs are an error that
		// says what to do, found by the check before anything is written.
		s.flush(t)
		code, _, errOut := runCLI(t, nil, "restore", "--no-progress", filepath.Join(gen(redistest.Redis74, "small"), "dump.rdb"), s.url())
		if code != 4 || !strings.Contains(errOut, "hash-field TTLs") || !strings.Contains(errOut, "--drop-field-ttls") {
			t.Errorf("field TTLs into 7.0: exit %d\n%s", code, errOut)
		}
	})
	t.Run(redistest.Redis74, func(t *testing.T) {
		s := startLive(t, redistest.RequireNewer(t, redistest.Redis74), "acl")
		check(t, s, []source{
			{gen("redis-7.0.15", "small"), false, false},
			{gen(redistest.Valkey8, "small"), false, false},
			{gen(redistest.Redis74, "small"), false, false},
			{gen(redistest.Redis74, "medium"), false, false},
		})
	})
	t.Run(redistest.Valkey8, func(t *testing.T) {
		s := startLive(t, redistest.RequireNewer(t, redistest.Valkey8), "password")
		check(t, s, []source{
			{gen("redis-7.0.15", "small"), false, false},
			{gen(redistest.Valkey8, "medium"), false, false},
			{gen(redistest.Redis74, "small"), true, true},
		})
	})
}
