package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// inspectJSON is the part of the JSON document the tests look at.
type inspectJSON struct {
	Path        string `json:"path"`
	Compression string `json:"compression"`
	Header      string `json:"header"`
	Magic       string `json:"magic"`
	RDBVersion  int    `json:"rdb_version"`
	Bytes       int64  `json:"bytes"`
	Checksum    string `json:"checksum"`
	Trailing    int64  `json:"trailing_bytes"`
	Aux         []struct {
		Name  string            `json:"name"`
		Value map[string]string `json:"value"`
		Note  string            `json:"note"`
	} `json:"aux"`
	Databases []struct {
		DB             int              `json:"db"`
		Keys           int64            `json:"keys"`
		Expires        int64            `json:"expires"`
		ExpiredAtCtime *int64           `json:"expired_at_ctime"`
		KeyBytes       int64            `json:"key_bytes"`
		ByType         map[string]int64 `json:"by_type"`
		ByEncoding     map[string]int64 `json:"by_encoding"`
		Resize         *struct {
			Keys    uint64 `json:"keys"`
			Expires uint64 `json:"expires"`
		} `json:"resizedb"`
	} `json:"databases"`
	Totals struct {
		Keys      int64 `json:"keys"`
		Databases int   `json:"databases"`
		KeyBytes  int64 `json:"key_bytes"`
	} `json:"totals"`
	Functions []struct {
		Name   string `json:"name"`
		Engine string `json:"engine"`
		Bytes  int    `json:"bytes"`
	} `json:"functions"`
	Modules []struct {
		Name string `json:"name"`
		Keys int64  `json:"keys"`
	} `json:"modules"`
	Top struct {
		N       int `json:"n"`
		ByBytes []struct {
			DB       int               `json:"db"`
			Key      map[string]string `json:"key"`
			Bytes    int64             `json:"bytes"`
			Elements uint64            `json:"elements"`
		} `json:"by_bytes"`
		ByElements []struct {
			Key      map[string]string `json:"key"`
			Elements uint64            `json:"elements"`
		} `json:"by_elements"`
	} `json:"top"`
}

func inspectAsJSON(t *testing.T, args ...string) (inspectJSON, string) {
	t.Helper()
	code, out, errOut := runCLI(t, nil, append([]string{"inspect", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errOut)
	}
	var rep inspectJSON
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("more than one JSON document")
	}
	return rep, out
}

func TestInspectJSON(t *testing.T) {
	path := corpusFile(t, "dragonfly/redis6_small.rdb")
	rep, out := inspectAsJSON(t, "--top", "3", path)
	if rep.Header != "REDIS0009" || rep.Magic != "REDIS" || rep.RDBVersion != 9 || rep.Bytes != 1104 || rep.Checksum != "ok" {
		t.Errorf("file fields: %+v", rep)
	}
	if rep.Totals.Keys != 20 || rep.Totals.Databases != 2 || len(rep.Databases) != 2 {
		t.Errorf("totals %+v, %d databases", rep.Totals, len(rep.Databases))
	}
	var keys, keyBytes int64
	for _, d := range rep.Databases {
		keys += d.Keys
		keyBytes += d.KeyBytes
		var byType, byEnc int64
		for _, n := range d.ByType {
			byType += n
		}
		for _, n := range d.ByEncoding {
			byEnc += n
		}
		if byType != d.Keys || byEnc != d.Keys {
			t.Errorf("db %d: %d keys, by type %d, by encoding %d", d.DB, d.Keys, byType, byEnc)
		}
		if d.ExpiredAtCtime == nil {
			t.Errorf("db %d: expired_at_ctime missing though the file has a ctime", d.DB)
		}
		if d.Resize == nil {
			t.Errorf("db %d: RESIZEDB hint missing", d.DB)
		}
	}
	if keys != rep.Totals.Keys || keyBytes != rep.Totals.KeyBytes {
		t.Errorf("per-db sums %d keys / %d bytes, totals %+v", keys, keyBytes, rep.Totals)
	}
	if rep.Totals.KeyBytes <= 0 || rep.Totals.KeyBytes >= rep.Bytes {
		t.Errorf("key bytes %d out of range (file %d)", rep.Totals.KeyBytes, rep.Bytes)
	}
	notes := map[string]string{}
	for _, a := range rep.Aux {
		notes[a.Name] = a.Note
	}
	if notes["ctime"] != "2022-04-29T08:25:07Z" || notes["used-mem"] == "" {
		t.Errorf("aux notes %v", notes)
	}
	if rep.Top.N != 3 || len(rep.Top.ByBytes) != 3 || len(rep.Top.ByElements) != 3 {
		t.Fatalf("top: %+v", rep.Top)
	}
	if k := rep.Top.ByBytes[0]; k.Key["utf8"] != "list2" || k.Bytes != 182 || k.Elements != 9 {
		t.Errorf("biggest key %+v", k)
	}
	for i := 1; i < 3; i++ {
		if rep.Top.ByBytes[i].Bytes > rep.Top.ByBytes[i-1].Bytes || rep.Top.ByElements[i].Elements > rep.Top.ByElements[i-1].Elements {
			t.Errorf("top lists not sorted: %+v", rep.Top)
		}
	}

	// Output is a pure function of the input.
	_, again := inspectAsJSON(t, "--top", "3", path)
	if again != out {
		t.Errorf("two runs gave different JSON")
	}
}

func TestInspectCorpusSamples(t *testing.T) {
	cases := []struct {
		file  string
		check func(t *testing.T, rep inspectJSON)
	}{
		{"catcherwong/redis_70_with_function.rdb", func(t *testing.T, rep inspectJSON) {
			if len(rep.Functions) != 2 || rep.Functions[0].Name == "" || rep.Functions[0].Engine != "lua" || rep.Functions[0].Bytes == 0 {
				t.Errorf("functions %+v", rep.Functions)
			}
		}},
		{"replicator/function.rdb", func(t *testing.T, rep inspectJSON) { // 7.0 RC records
			if len(rep.Functions) != 2 || rep.Functions[0].Name == "" {
				t.Errorf("functions %+v", rep.Functions)
			}
		}},
		{"dragonfly/redis_json.rdb", func(t *testing.T, rep inspectJSON) {
			if len(rep.Modules) != 1 || rep.Modules[0].Name != "ReJSON-RL" || rep.Modules[0].Keys != 3 {
				t.Errorf("modules %+v", rep.Modules)
			}
		}},
		{"rdbtools/redis_40_with_module.rdb", func(t *testing.T, rep inspectJSON) {
			if rep.Checksum != "disabled" || rep.Trailing != 40 {
				t.Errorf("checksum %q, trailing %d", rep.Checksum, rep.Trailing)
			}
		}},
		{"replicator/dumpV8.rdb", func(t *testing.T, rep inspectJSON) {
			if rep.Totals.Keys != 92499 || len(rep.Top.ByBytes) != 10 {
				t.Errorf("totals %+v, top %d", rep.Totals, len(rep.Top.ByBytes))
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			rep, _ := inspectAsJSON(t, corpusFile(t, c.file))
			c.check(t, rep)
		})
	}
}

func TestInspectTableAndText(t *testing.T) {
	path := corpusFile(t, "dragonfly/redis6_small.rdb")
	for _, format := range []string{"table", "text"} {
		code, out, errOut := runCLI(t, nil, "inspect", "--format", format, path)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		for _, want := range []string{"REDIS0009", "2022-04-29T08:25:07Z", "list_quicklist", "list2", "keys by encoding"} {
			if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
				t.Errorf("%s output lacks %q:\n%s", format, want, out)
			}
		}
		if format == "text" && strings.ContainsAny(out, "│┌") {
			t.Errorf("text output has table borders")
		}
	}
	// The default is a table.
	_, out, _ := runCLI(t, nil, "inspect", path)
	if !strings.Contains(out, "│") {
		t.Errorf("default output is not a table:\n%s", out)
	}
}

func TestInspectErrors(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "inspect", corpusFile(t, "redis/corrupt_ziplist.rdb"))
	if code != exitInvalid || out != "" || !strings.Contains(errOut, "INVALID at offset") {
		t.Errorf("corrupt: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, nil, "inspect", corpusFile(t, "replicator/module.rdb"))
	if code != exitUnsupported || !strings.Contains(errOut, "UNSUPPORTED") {
		t.Errorf("module: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, nil, "inspect", filepath.Join(t.TempDir(), "none.rdb"))
	if code != exitFailure || !strings.Contains(errOut, "none.rdb") {
		t.Errorf("missing: exit %d, stderr %q", code, errOut)
	}
}

func TestInspectStdinGzip(t *testing.T) {
	data, err := os.ReadFile(corpusFile(t, "dragonfly/redis6_small.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "x.gz")
	writeCompressed(t, gz, data, "gzip")
	raw, _ := os.ReadFile(gz)
	code, out, errOut := runCLI(t, bytes.NewReader(raw), "inspect", "--format", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep inspectJSON
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Compression != "gzip" || rep.Bytes != int64(len(data)) || rep.Totals.Keys != 20 {
		t.Errorf("%+v", rep)
	}
}

// TestTopKeys checks the bounded heap against a full sort.
func TestTopKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 10, 200} {
		top := newTopKeys(n, func(k *keyInfo) uint64 { return uint64(k.Bytes) })
		var all []keyInfo
		for i := 1; i <= 1000; i++ {
			k := keyInfo{Key: []byte(fmt.Sprintf("k%d", i)), Bytes: int64(rng.IntN(50)), seq: int64(i)}
			all = append(all, k)
			top.offer(&k)
			k.Key[0] = 'X' // the caller reuses its buffer: the heap must hold copies
		}
		if len(top.items) > n {
			t.Fatalf("n=%d: kept %d", n, len(top.items))
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].Bytes > all[j].Bytes })
		got := top.sorted()
		if len(got) != min(n, len(all)) {
			t.Fatalf("n=%d: %d results", n, len(got))
		}
		for i, k := range got {
			want := all[i]
			if k.Bytes != want.Bytes || k.seq != want.seq || string(k.Key) != fmt.Sprintf("k%d", want.seq) {
				t.Fatalf("n=%d #%d: got %s/%d/%d, want seq %d bytes %d", n, i, k.Key, k.Bytes, k.seq, want.seq, want.Bytes)
			}
		}
	}
}
