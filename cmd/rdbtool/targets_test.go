package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/pkg/aof"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// hfeSample is a small RDB 12 file with a hash whose fields have TTLs, a
// plain hash, a stream and a function library, written with the given AUX
// version field.
func hfeSample(t *testing.T, opts rdb.WriterOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	w := rdb.NewWriter(&out, opts)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteEntry(&rdb.Entry{Kind: rdb.EntryFunction, Function: []byte("#!lua name=lib\nredis.register_function('f', function() return 1 end)")}))
	must(w.WriteKey(&rdb.Entry{Key: []byte("plain")}, &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{{Field: []byte("a"), Value: []byte("1")}}}))
	must(w.WriteKey(&rdb.Entry{Key: []byte("with-ttls")}, &rdb.Value{Kind: rdb.KindHash, Hash: []rdb.HashField{
		{Field: []byte("a"), Value: []byte("1"), ExpireAtMs: 4102444800000},
		{Field: []byte("b"), Value: []byte("2")},
		{Field: []byte("c"), Value: []byte("3"), ExpireAtMs: 4102444800001},
	}}))
	id := rdb.StreamID{Ms: 1700000000000, Seq: 1}
	must(w.WriteKey(&rdb.Entry{Key: []byte("stream")}, &rdb.Value{Kind: rdb.KindStream, Stream: &rdb.Stream{
		Entries:    []rdb.StreamEntry{{ID: id, Fields: [][]byte{[]byte("f"), []byte("v")}}},
		StreamMeta: rdb.StreamMeta{Length: 1, LastID: id, FirstID: id, EntriesAdded: 1},
	}}))
	must(w.Close())
	return out.Bytes()
}

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// aofCommands reads the commands of a RESP AOF.
func aofCommands(t *testing.T, path string) [][][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := aof.NewReader(f, aof.ReaderOptions{})
	var cmds [][][]byte
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return cmds
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind == aof.KindCommand {
			a, err := r.ReadCommand(0)
			if err != nil {
				t.Fatal(err)
			}
			var args [][]byte
			for _, x := range a {
				args = append(args, bytes.Clone(x))
			}
			cmds = append(cmds, args)
		}
	}
}

// TestConvertToAOFTarget checks that convert --to aof honours --target as the
// RDB path does: refusal (exit 4) naming the first key and the flag, the flag
// leaving field TTLs out, and RESTORE payloads encoded for the target.
func TestConvertToAOFTarget(t *testing.T) {
	dir := t.TempDir()
	opts, _ := rdb.TargetVersion("redis:7.4")
	in := writeTemp(t, dir, "in.rdb", hfeSample(t, opts))
	for _, restore := range []bool{false, true} {
		extra := []string{}
		if restore {
			extra = []string{"--restore"}
		}
		out := filepath.Join(dir, "out.aof")
		os.Remove(out)
		args := append([]string{"convert", "--no-progress", "--to", "aof", "--target", "valkey:8.0"}, extra...)
		code, _, errOut := runCLI(t, nil, append(args, in, out)...)
		if code != 4 || !strings.Contains(errOut, `key "with-ttls"`) || !strings.Contains(errOut, "--drop-field-ttls") || strings.Contains(errOut, "Drop") {
			t.Fatalf("restore=%v without --drop-field-ttls: exit %d: %s", restore, code, errOut)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatal("a refused conversion left its output")
		}
		code, _, errOut = runCLI(t, nil, append(append(args, "--drop-field-ttls"), in, out)...)
		if code != 0 || !strings.Contains(errOut, "dropped 2 × field-ttls") {
			t.Fatalf("restore=%v with --drop-field-ttls: exit %d: %s", restore, code, errOut)
		}
		restores := 0
		for _, c := range aofCommands(t, out) {
			name := strings.ToUpper(string(c[0]))
			if name == "HPEXPIREAT" {
				t.Errorf("restore=%v: %q written for Valkey 8", restore, c)
			}
			if name == "RESTORE" {
				restores++
				if v, ok := rdb.PayloadVersion(c[3]); v != 11 || !ok {
					t.Errorf("RESTORE %s: payload version %d (checksum ok %v), want 11", c[1], v, ok)
				}
			}
		}
		if restore && restores != 3 {
			t.Errorf("%d RESTORE commands, want 3", restores)
		}
	}

	// Functions below 10, streams below 9: each refused with its own flag.
	for _, tc := range []struct {
		target string
		flags  []string
		want   string
	}{
		{"redis:6.2", []string{"--drop-field-ttls"}, "--drop-functions"},
		{"redis:4.0", []string{"--drop-field-ttls", "--drop-functions"}, "--drop-streams"},
	} {
		args := append([]string{"convert", "--no-progress", "--to", "aof", "--target", tc.target}, tc.flags...)
		code, _, errOut := runCLI(t, nil, append(args, in, filepath.Join(dir, tc.target+".aof"))...)
		if code != 4 || !strings.Contains(errOut, tc.want) {
			t.Errorf("--target %s: exit %d: %s", tc.target, code, errOut)
		}
	}
}

// TestReplayDefaultVersion checks that convert and rewrite of an AOF write the
// version its data needs when no target is given: its RDB base's, 12 for
// RESP commands that set hash field TTLs, 10 for other RESP-only input.
func TestReplayDefaultVersion(t *testing.T) {
	dir := t.TempDir()
	opts12, _ := rdb.TargetVersion("redis:7.4")
	opts9, _ := rdb.TargetVersion("redis:6.2")
	var v9 bytes.Buffer
	w := rdb.NewWriter(&v9, opts9)
	if err := w.WriteKey(&rdb.Entry{Key: []byte("k")}, &rdb.Value{Kind: rdb.KindString, String: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	resp := func(cmds ...[]string) []byte {
		var b bytes.Buffer
		aw := aof.NewWriter(&b)
		for _, c := range cmds {
			var args [][]byte
			for _, a := range c {
				args = append(args, []byte(a))
			}
			if err := aw.WriteCommand(args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := aw.Flush(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	hfe := resp([]string{"HSET", "h", "f", "v"}, []string{"HPEXPIREAT", "h", "4102444800000", "FIELDS", "1", "f"})
	plain := resp([]string{"SET", "k", "v"})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"rdb12-preamble", append(hfeSample(t, opts12), plain...), "REDIS0012"},
		{"rdb9-preamble", append(v9.Bytes(), plain...), "REDIS0009"},
		{"resp-hpexpireat", hfe, "REDIS0012"},
		{"resp-plain", plain, "REDIS0010"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := writeTemp(t, t.TempDir(), "appendonly.aof", tc.data)
			out := filepath.Join(dir, tc.name+".rdb")
			if code, _, errOut := runCLI(t, nil, "convert", "--no-progress", in, out); code != 0 {
				t.Fatalf("convert: exit %d: %s", code, errOut)
			}
			if b, _ := os.ReadFile(out); len(b) < 9 || string(b[:9]) != tc.want {
				t.Errorf("convert wrote %.9q, want %s", b, tc.want)
			}
			folder := filepath.Join(dir, tc.name+"-rewrite")
			if code, _, errOut := runCLI(t, nil, "rewrite", in, folder); code != 0 {
				t.Fatalf("rewrite: exit %d: %s", code, errOut)
			}
			if b, _ := os.ReadFile(filepath.Join(folder, "appendonly.aof.1.base.rdb")); len(b) < 9 || string(b[:9]) != tc.want {
				t.Errorf("rewrite wrote a base %.9q, want %s", b, tc.want)
			}
		})
	}
	for _, cmd := range []string{"convert", "rewrite"} {
		_, out, _ := runCLI(t, nil, cmd, "--help")
		if strings.Contains(out, "default 10") || !strings.Contains(out, "12 when") {
			t.Errorf("%s --help does not say what the default is:\n%s", cmd, out)
		}
	}
}

// TestJSONRoundTripKeepsServerVersion checks that rdb -> json -> rdb keeps the
// redis-ver / valkey-ver AUX fields exactly, and that a --target writes its
// own.
func TestJSONRoundTripKeepsServerVersion(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		target, server string
		field          string
	}{{"valkey:8.0", "8.0.1", "valkey-ver"}, {"redis:7.4", "255.255.255", "redis-ver"}} {
		opts, _ := rdb.TargetVersion(tc.target)
		opts.ServerVersion = tc.server
		opts.DropFieldTTLs = true
		in := writeTemp(t, dir, tc.field+".rdb", hfeSample(t, opts))
		js := filepath.Join(dir, tc.field+".jsonl")
		back := filepath.Join(dir, tc.field+"-back.rdb")
		retarget := filepath.Join(dir, tc.field+"-7.0.rdb")
		for _, args := range [][]string{{in, js}, {js, back}, {"--target", "redis:7.0", "--drop-field-ttls", js, retarget}} {
			if code, _, errOut := runCLI(t, nil, append([]string{"convert", "--no-progress"}, args...)...); code != 0 {
				t.Fatalf("convert %v: exit %d: %s", args, code, errOut)
			}
		}
		versions := func(path string) string {
			data, _ := os.ReadFile(path)
			r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
			defer r.Close()
			var s []string
			for {
				e, err := r.Next()
				if err == io.EOF {
					return strings.Join(s, " ")
				}
				if err != nil {
					t.Fatal(err)
				}
				if e.Kind == rdb.EntryAux && strings.HasSuffix(string(e.AuxName), "-ver") {
					s = append(s, string(e.AuxName)+"="+string(e.AuxValue))
				}
			}
		}
		if got, want := versions(back), tc.field+"="+tc.server; got != want {
			t.Errorf("rdb -> json -> rdb: %s, want %s", got, want)
		}
		if got := versions(retarget); got != "redis-ver=7.0.0" {
			t.Errorf("json -> rdb --target redis:7.0: %s", got)
		}
	}
}
