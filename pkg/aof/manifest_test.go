package aof

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// manifestSeeds are manifests Redis accepts or refuses, also the FuzzManifest seeds.
var manifestSeeds = []string{
	"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
	"file appendonly.aof.1.incr.aof seq 1 type i startoffset 0 endoffset 289926\n",
	"# comment\nfile \"a b\" seq 2 type h\nfile 'c\\'d' seq 3 type i\n",
	"FILE x SEQ 1 TYPE base\n",
	"file \"\\x00x\" seq 1 type b\n",
	"file x seq 1 type b\n\nfile y seq 1 type i\n",
	"file a/b seq 1 type b\n",
	"file x seq 1 type b extra\n",
	"file x seq 0 type b\n",
	"file x seq 1 type z\n",
	"# only a comment\n",
	"",
	"file \"it's\" seq 1 type b\n",
}

func parseManifestString(t *testing.T, s string) *Manifest {
	t.Helper()
	m, err := ParseManifest(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ParseManifest(%q): %v", s, err)
	}
	return m
}

func TestParseManifest(t *testing.T) {
	m := parseManifestString(t, "file appendonly.aof.2.base.rdb seq 2 type b\n"+
		"# a comment line\n"+
		"file appendonly.aof.1.base.rdb seq 1 type h\n"+
		"file appendonly.aof.2.incr.aof seq 2 type i\n"+
		"file appendonly.aof.3.incr.aof seq 3 type i\n")
	want := &Manifest{
		Base:    &ManifestFile{Name: "appendonly.aof.2.base.rdb", Seq: 2, Type: TypeBase, Line: 1},
		History: []ManifestFile{{Name: "appendonly.aof.1.base.rdb", Seq: 1, Type: TypeHistory, Line: 3}},
		Incr: []ManifestFile{
			{Name: "appendonly.aof.2.incr.aof", Seq: 2, Type: TypeIncr, Line: 4},
			{Name: "appendonly.aof.3.incr.aof", Seq: 3, Type: TypeIncr, Line: 5},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	order := m.LoadOrder()
	if len(order) != 3 || order[0].Name != "appendonly.aof.2.base.rdb" || order[2].Name != "appendonly.aof.3.incr.aof" {
		t.Fatalf("LoadOrder: %+v", order)
	}
}

// TestManifestLenientForms covers what Redis's parser accepts beyond what it
// writes: key case, key order, long type values, blanks, CR, comments.
func TestManifestLenientForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ManifestFile
	}{
		{"FILE x SEQ 7 TYPE base\n", ManifestFile{Name: "x", Seq: 7, Type: TypeBase}},
		{"type i seq 7 file x\n", ManifestFile{Name: "x", Seq: 7, Type: TypeIncr}},
		{"  \tfile x seq 7 type i \t\r\n", ManifestFile{Name: "x", Seq: 7, Type: TypeIncr}},
		// atoll: leading blanks inside quotes, a sign, trailing junk ignored.
		{"file x seq \" +12abc\" type i\n", ManifestFile{Name: "x", Seq: 12, Type: TypeIncr}},
		{"file x seq -3 type b\n", ManifestFile{Name: "x", Seq: -3, Type: TypeBase}},
		// The last of a repeated key wins.
		{"file x seq 1 type i file y seq 2\n", ManifestFile{Name: "y", Seq: 2, Type: TypeIncr}},
		// Keys are compared as C strings: "file\0junk" is "file".
		{"\"file\\x00junk\" x seq 1 type i\n", ManifestFile{Name: "x", Seq: 1, Type: TypeIncr}},
		// Vertical tab and form feed are blanks between tokens only.
		{"file a\vb seq 1 type i\n", ManifestFile{Name: "a\vb", Seq: 1, Type: TypeIncr}},
		// An unquoted token may switch to quotes midway.
		{"file ab\"c d\" seq 1 type i\n", ManifestFile{Name: "abc d", Seq: 1, Type: TypeIncr}},
	} {
		m, err := ParseManifest(strings.NewReader(tc.in))
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		f := m.LoadOrder()[0]
		f.Line = 0
		if !reflect.DeepEqual(f, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, f, tc.want)
		}
	}
}

// TestManifestQuoting: names that need it are written as Redis's sdscatrepr
// writes them, and sdssplitargs (ParseManifest) reads them back.
func TestManifestQuoting(t *testing.T) {
	for _, tc := range []struct {
		name, written string
	}{
		{"appendonly.aof.1.base.rdb", `appendonly.aof.1.base.rdb`},
		{"with space", `"with space"`},
		{"tab\there", `"tab\there"`},
		{"quote\"d", `"quote\"d"`},
		{"nl\ncr\rbell\abs\b", `"nl\ncr\rbell\abs\b"`},
		{"caf\xc3\xa9", `"caf\xc3\xa9"`},
		{"ctl\x01\x7f\xff", `"ctl\x01\x7f\xff"`},
		{"vt\vff\f", `"vt\x0bff\x0c"`},
		{"it's", `"it's"`}, // Redis would write it bare and could not read it back
		{"'", `"'"`},
		{"#hash", `#hash`},
		{"..", `..`},
	} {
		m := &Manifest{Base: &ManifestFile{Name: tc.name, Seq: 1, Type: TypeBase}}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Errorf("%q: %v", tc.name, err)
			continue
		}
		want := "file " + tc.written + " seq 1 type b\n"
		if b.String() != want {
			t.Errorf("%q: wrote %q, want %q", tc.name, b.String(), want)
		}
		back, err := ParseManifest(&b)
		if err != nil {
			t.Errorf("%q: reading back: %v", tc.name, err)
			continue
		}
		if back.Base == nil || back.Base.Name != tc.name {
			t.Errorf("%q: read back as %+v", tc.name, back.Base)
		}
	}
	// Single quotes: only \' is an escape inside them.
	m := parseManifestString(t, `file 'a\'b"c d' seq 1 type i`+"\n")
	if got := m.Incr[0].Name; got != `a'b"c d` {
		t.Errorf("single-quoted name: %q", got)
	}
	// Double quotes: \xHH needs two hex digits; otherwise \x is x.
	m = parseManifestString(t, `file "\x41\x4\q" seq 1 type i`+"\n")
	if got := m.Incr[0].Name; got != `Ax4q` {
		t.Errorf("escapes: %q", got)
	}
}

// TestManifestUnknownKeys: the keys of newer servers survive a round trip.
func TestManifestUnknownKeys(t *testing.T) {
	const line = "file appendonly.aof.1.incr.aof seq 1 type i startoffset 0 endoffset 289926\n"
	m := parseManifestString(t, line)
	want := []KeyValue{{"startoffset", "0"}, {"endoffset", "289926"}}
	if len(m.Incr) != 1 || !reflect.DeepEqual(m.Incr[0].Extra, want) {
		t.Fatalf("got %+v", m)
	}
	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil || n != int64(len(line)) || b.String() != line {
		t.Fatalf("WriteTo: %d %v %q", n, err, b.String())
	}
	// Extra tokens are quoted like names.
	m.Incr[0].Extra = append(m.Incr[0].Extra, KeyValue{"note", "two words"}, KeyValue{"", ""})
	b.Reset()
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), ` note "two words" "" ""`+"\n") {
		t.Fatalf("wrote %q", b.String())
	}
	back := parseManifestString(t, b.String())
	if !reflect.DeepEqual(back.Incr[0].Extra, m.Incr[0].Extra) {
		t.Fatalf("read back %+v", back.Incr[0].Extra)
	}
}

// TestManifestFatal: every manifest Redis refuses, with Redis's message.
func TestManifestFatal(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		detail   string
	}{
		{"empty", "", 0, "Found an empty AOF manifest"},
		{"blank line", "file a seq 1 type b\n\nfile b seq 1 type i\n", 2, "Invalid AOF manifest file format"},
		{"blank line of spaces", "file a seq 1 type b\n \t \r\n", 2, "Invalid AOF manifest file format"},
		{"odd token count", "file a seq 1 type b extra\n", 1, "Invalid AOF manifest file format"},
		{"too few tokens", "file a seq 1\n", 1, "Invalid AOF manifest file format"},
		{"missing file key", "name a seq 1 type b\n", 1, "Invalid AOF manifest file format"},
		{"slash in name", "file dir/a seq 1 type b\n", 1, "File can't be a path, just a filename"},
		{"backslash in name", `file "dir\\a" seq 1 type b` + "\n", 1, "File can't be a path, just a filename"},
		{"absolute path", "file /tmp/a seq 1 type b\n", 1, "File can't be a path, just a filename"},
		{"seq 0", "file a seq 0 type b\n", 1, "Invalid AOF manifest file format"},
		{"seq not a number", "file a seq x type b\n", 1, "Invalid AOF manifest file format"},
		{"empty type", `file a seq 1 type ""` + "\n", 1, "Invalid AOF manifest file format"},
		{"unknown type", "file a seq 1 type x\n", 1, "Unknown AOF file type"},
		{"upper-case type", "file a seq 1 type B\n", 1, "Unknown AOF file type"},
		{"two bases", "file a seq 1 type b\nfile b seq 2 type b\n", 2, "Found duplicate base file information"},
		{"equal incr seqs", "file a seq 2 type i\nfile b seq 2 type i\n", 2, "Found a non-monotonic sequence number"},
		{"decreasing incr seqs", "file a seq 3 type i\nfile b seq 2 type i\n", 2, "Found a non-monotonic sequence number"},
		{"negative incr seq", "file a seq -1 type i\n", 1, "Found a non-monotonic sequence number"},
		{"no final newline", "file a seq 1 type b", 1, "The AOF manifest file contains too long line"},
		{"line too long", "file " + strings.Repeat("a", 1024) + " seq 1 type b\n", 1, "The AOF manifest file contains too long line"},
		{"NUL before newline", "file a seq 1 type b\x00\n", 1, "The AOF manifest file contains too long line"},
		{"unterminated quote", "file \"a seq 1 type b\n", 1, "Invalid AOF manifest file format"},
		{"junk after quote", "file \"a\"b seq 1 type b\n", 1, "Invalid AOF manifest file format"},
	} {
		_, err := ParseManifest(strings.NewReader(tc.in))
		var me *ManifestError
		if !errors.As(err, &me) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want a *ManifestError wrapping ErrCorrupt", tc.name, err)
			continue
		}
		if me.Line != tc.line || me.Detail != tc.detail {
			t.Errorf("%s: got line %d %q, want line %d %q", tc.name, me.Line, me.Detail, tc.line, tc.detail)
		}
	}
	// Only comments: valid and empty, as for Redis.
	m := parseManifestString(t, "# nothing\n#else")
	if m.Base != nil || len(m.Incr)+len(m.History) != 0 {
		t.Fatalf("comment-only manifest: %+v", m)
	}
	// A 1024-byte line is the longest that fits; a longer comment line is
	// read in 1024-byte pieces, the rest as a line of its own.
	long := "file " + strings.Repeat("a", 1024-len("file  seq 1 type b\n")) + " seq 1 type b\n"
	if len(long) != 1024 {
		t.Fatal(len(long))
	}
	parseManifestString(t, long)
	_, err := ParseManifest(strings.NewReader("#" + strings.Repeat("x", 1023) + "tail\n"))
	if me := (*ManifestError)(nil); !errors.As(err, &me) || me.Line != 2 {
		t.Fatalf("long comment: %v", err)
	}
}

// TestManifestWriteRefuses: WriteTo does not write what Redis would not load.
func TestManifestWriteRefuses(t *testing.T) {
	for name, m := range map[string]*Manifest{
		"empty":           {},
		"empty name":      {Base: &ManifestFile{Seq: 1, Type: TypeBase}},
		"path":            {Base: &ManifestFile{Name: "a/b", Seq: 1, Type: TypeBase}},
		"NUL in name":     {Base: &ManifestFile{Name: "a\x00b", Seq: 1, Type: TypeBase}},
		"seq 0":           {Base: &ManifestFile{Name: "a", Type: TypeBase}},
		"wrong type":      {Base: &ManifestFile{Name: "a", Seq: 1, Type: TypeIncr}},
		"history type":    {History: []ManifestFile{{Name: "a", Seq: 1, Type: TypeBase}}},
		"incr order":      {Incr: []ManifestFile{{Name: "a", Seq: 2, Type: TypeIncr}, {Name: "b", Seq: 2, Type: TypeIncr}}},
		"incr seq <= 0":   {Incr: []ManifestFile{{Name: "a", Seq: -1, Type: TypeIncr}}},
		"known extra key": {Base: &ManifestFile{Name: "a", Seq: 1, Type: TypeBase, Extra: []KeyValue{{"SEQ", "2"}}}},
		"line too long":   {Base: &ManifestFile{Name: strings.Repeat("\xff", 300), Seq: 1, Type: TypeBase}},
	} {
		var b bytes.Buffer
		_, err := m.WriteTo(&b)
		if !errors.Is(err, ErrCorrupt) || b.Len() != 0 {
			t.Errorf("%s: WriteTo wrote %q, %v", name, b.String(), err)
		}
	}
}

func TestManifestSeedsRoundTrip(t *testing.T) {
	for _, s := range manifestSeeds {
		m, err := ParseManifest(strings.NewReader(s))
		if err != nil {
			continue
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			if !writeRefusalExpected(m) {
				t.Errorf("%q: %v", s, err)
			}
			continue
		}
		back := parseManifestString(t, b.String())
		if !reflect.DeepEqual(stripLines(m), stripLines(back)) {
			t.Errorf("%q: round trip gives %+v", s, back)
		}
	}
}

// TestOpenDirCorpus opens the corpus's multi-part directories.
func TestOpenDirCorpus(t *testing.T) {
	corpus := corpusRoot(t)
	dirs, _ := filepath.Glob(filepath.Join(corpus, "generated", "*", "*", "appendonlydir"))
	if len(dirs) != 9 {
		t.Fatalf("expected 9 generated appendonlydir folders, found %d", len(dirs))
	}
	for _, dir := range dirs {
		d, err := OpenDir(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
		order := d.LoadOrder()
		if len(order) != 2 || order[0].Type != TypeBase || order[1].Type != TypeIncr {
			t.Errorf("%s: load order %+v", dir, order)
			continue
		}
		wantBase := FormatRDB
		if strings.Contains(dir, "nopreamble") {
			wantBase = FormatRESP
		}
		if order[0].Format != wantBase || order[1].Format != FormatRESP || order[0].Path != filepath.Join(dir, order[0].Name) {
			t.Errorf("%s: formats %v %v, path %s", dir, order[0].Format, order[1].Format, order[0].Path)
		}
		if fi, err := os.Stat(order[1].Path); err != nil || fi.Size() != order[1].Size {
			t.Errorf("%s: size %d vs %v", dir, order[1].Size, err)
		}
	}

	// fred-rs: a base only, seq 4.
	d, err := OpenDir(filepath.Join(corpus, "fred-rs", "appendonlydir"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Manifest.Base == nil || d.Manifest.Base.Seq != 4 || len(d.Manifest.Incr) != 0 || d.Files[0].Format != FormatRDB || d.Validate() != nil {
		t.Errorf("fred-rs: %+v", d)
	}

	// redisearch: the manifest names a base that is not there.
	d, err = OpenDir(filepath.Join(corpus, "redisearch", "appendonlydir"))
	if err != nil {
		t.Fatal(err)
	}
	if miss := d.Missing(); len(miss) != 1 || miss[0].Name != "appendonly.aof.26.base.rdb" || miss[0].Size != -1 {
		t.Errorf("redisearch: missing %+v", miss)
	}
	if err := d.Validate(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "appendonly.aof.26.base.rdb") {
		t.Errorf("redisearch: Validate: %v", err)
	}

	// redisshake: both files there; the incr file is the corrupt one (see TestCorpus).
	d, err = OpenDir(filepath.Join(corpus, "redisshake", "appendonlydir"))
	if err != nil || d.Validate() != nil || len(d.LoadOrder()) != 2 || d.Files[1].Format != FormatRESP {
		t.Errorf("redisshake: %+v %v", d, err)
	}

	// The fixtures.
	for _, name := range []string{"aof-7.0", "aof-nopreamble-7.0"} {
		d, err := OpenDir(filepath.Join(fixturesDir, name, "appendonlydir"))
		if err != nil || d.Validate() != nil || len(d.LoadOrder()) != 2 {
			t.Errorf("%s: %+v %v", name, d, err)
		}
	}
}

func TestOpenDirFS(t *testing.T) {
	fsys := fstest.MapFS{
		"appendonly.aof.manifest":   {Data: []byte("file appendonly.aof.3.base.aof seq 3 type b\nfile appendonly.aof.2.base.rdb seq 2 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n")},
		"appendonly.aof.3.base.aof": {Data: []byte("*1\r\n$4\r\nPING\r\n")},
		"appendonly.aof.3.incr.aof": {Data: []byte{}},
		"temp-x.manifest":           {Data: []byte("junk")},
	}
	d, err := OpenDirFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range d.Files {
		got = append(got, f.Name+":"+f.Format.String()+":"+f.Type.String())
	}
	want := []string{
		"appendonly.aof.3.base.aof:resp:base",
		"appendonly.aof.3.incr.aof:empty:incr",
		"appendonly.aof.4.incr.aof:missing:incr",
		"appendonly.aof.2.base.rdb:missing:history",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if len(d.LoadOrder()) != 3 || len(d.Missing()) != 2 {
		t.Fatalf("load order %d, missing %d", len(d.LoadOrder()), len(d.Missing()))
	}
	var me *ManifestError
	if err := d.Validate(); !errors.As(err, &me) || me.Line != 4 || !strings.Contains(me.Detail, "appendonly.aof.4.incr.aof") {
		t.Fatalf("Validate: %v", err)
	}

	// Another manifest name is found when it is the only one.
	d, err = OpenDirFS(fstest.MapFS{"my.aof.manifest": {Data: []byte("file my.aof.1.incr.aof seq 1 type i\n")}})
	if err != nil || d.ManifestName != "my.aof.manifest" {
		t.Fatalf("%+v %v", d, err)
	}
	// Two candidates are ambiguous; none is an error of its own kind.
	_, err = OpenDirFS(fstest.MapFS{"a.manifest": {Data: []byte("x")}, "b.manifest": {Data: []byte("y")}})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("two manifests: %v", err)
	}
	_, err = OpenDirFS(fstest.MapFS{"x": {Data: []byte("x")}})
	if !errors.As(err, &me) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("no manifest: %v", err)
	}
	// An invalid manifest is the parse error.
	_, err = OpenDirFS(fstest.MapFS{"appendonly.aof.manifest": {Data: []byte("\n")}})
	if !errors.As(err, &me) || me.Line != 1 {
		t.Fatalf("blank manifest: %v", err)
	}
	// Names Redis accepts but no file system holds are missing, not errors.
	d, err = OpenDirFS(fstest.MapFS{"appendonly.aof.manifest": {Data: []byte("file .. seq 1 type b\nfile \"\" seq 1 type i\n")}})
	if err != nil || len(d.Missing()) != 2 {
		t.Fatalf("odd names: %+v %v", d, err)
	}
}

func TestSniffFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"":          FormatEmpty,
		"REDIS0011": FormatRDB,
		"REDIS":     FormatRDB,
		"VALKEY":    FormatRDB,
		"REDI":      FormatRESP,
		"*1\r\n":    FormatRESP,
		"#TS:1\r\n": FormatRESP,
	} {
		if got := SniffFormat([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

// writeTree makes files under dir: name -> content.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const (
	tinyRESP = "*1\r\n$4\r\nPING\r\n"
	tinyRDB  = "REDIS0010\xff\x00\x00\x00\x00\x00\x00\x00\x00"
)

func TestInspectDataDir(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		opts   DataDirOptions
		source Source
		load   []string            // relative to the data directory
		fact   func(*DataDir) bool // what else it must say, if anything
	}{
		{
			name:   "multi-part",
			files:  map[string]string{"appendonlydir/appendonly.aof.manifest": "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", "appendonlydir/appendonly.aof.1.base.rdb": tinyRDB, "appendonlydir/appendonly.aof.1.incr.aof": tinyRESP, "dump.rdb": tinyRDB},
			source: SourceMultiPart,
			load:   []string{"appendonlydir/appendonly.aof.1.base.rdb", "appendonlydir/appendonly.aof.1.incr.aof"},
			fact:   func(d *DataDir) bool { return d.RDB == "dump.rdb" && d.AppendOnlyNo == SourceRDB && d.Invalid == nil },
		},
		{
			name:   "missing listed file",
			files:  map[string]string{"appendonlydir/appendonly.aof.manifest": "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n", "appendonlydir/appendonly.aof.1.incr.aof": tinyRESP},
			source: SourceMultiPart,
			load:   []string{"appendonlydir/appendonly.aof.1.base.rdb", "appendonlydir/appendonly.aof.1.incr.aof"},
			fact:   func(d *DataDir) bool { return d.Invalid != nil },
		},
		{
			name:   "legacy aof, no appendonlydir",
			files:  map[string]string{"appendonly.aof": tinyRESP, "dump.rdb": tinyRDB},
			source: SourceLegacyAOF,
			load:   []string{"appendonly.aof"},
			fact:   func(d *DataDir) bool { return d.LegacyAOF == "appendonly.aof" && !d.NoManifest },
		},
		{
			name:   "legacy aof, appendonlydir without manifest",
			files:  map[string]string{"appendonly.aof": tinyRESP, "appendonlydir/stray": ""},
			source: SourceLegacyAOF,
			load:   []string{"appendonly.aof"},
			fact:   func(d *DataDir) bool { return d.NoManifest },
		},
		{
			name:   "legacy aof, manifest naming only it as base",
			files:  map[string]string{"appendonly.aof": tinyRESP, "appendonlydir/appendonly.aof.manifest": "file appendonly.aof seq 1 type b\n"},
			source: SourceLegacyAOF,
			load:   []string{"appendonly.aof"},
		},
		{
			name:   "legacy aof ignored beside a real manifest",
			files:  map[string]string{"appendonly.aof": tinyRESP, "appendonlydir/appendonly.aof.manifest": "file appendonly.aof.1.incr.aof seq 1 type i\n", "appendonlydir/appendonly.aof.1.incr.aof": tinyRESP},
			source: SourceMultiPart,
			load:   []string{"appendonlydir/appendonly.aof.1.incr.aof"},
			fact:   func(d *DataDir) bool { return d.LegacyIgnored },
		},
		{
			name:   "only dump.rdb",
			files:  map[string]string{"dump.rdb": tinyRDB},
			source: SourceRDB,
			load:   []string{"dump.rdb"},
		},
		{
			name:   "manifest listing only history, and an RDB",
			files:  map[string]string{"appendonlydir/appendonly.aof.manifest": "file appendonly.aof.1.base.rdb seq 1 type h\n", "dump.rdb": tinyRDB},
			source: SourceRDB,
			load:   []string{"dump.rdb"},
			fact:   func(d *DataDir) bool { return d.AOFDir != nil && d.AppendOnlyYes == SourceNone },
		},
		{
			name:   "nothing",
			files:  map[string]string{"other.txt": "x"},
			source: SourceNone,
			fact:   func(d *DataDir) bool { return d.AOFDirErr == nil && d.AppendOnlyNo == SourceNone },
		},
		{
			name:   "custom names",
			files:  map[string]string{"my.aof": tinyRESP, "snap.rdb": tinyRDB},
			opts:   DataDirOptions{AppendFilename: "my.aof", AppendDirname: "aofs", DBFilename: "snap.rdb"},
			source: SourceLegacyAOF,
			load:   []string{"my.aof"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			dd, err := InspectDataDir(os.DirFS(dir), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if dd.Source != tc.source || !reflect.DeepEqual(dd.Files, tc.load) {
				t.Fatalf("got %s %q, want %s %q\n%+v", dd.Source, dd.Files, tc.source, tc.load, dd)
			}
			if tc.fact != nil && !tc.fact(dd) {
				t.Fatalf("the fact of the case is missing:\n%+v", dd)
			}
		})
	}

	// An invalid manifest is reported, not returned as an error.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"appendonlydir/appendonly.aof.manifest": "file x seq 0 type b\n", "appendonly.aof": tinyRESP})
	dd, err := InspectDataDir(os.DirFS(dir), DataDirOptions{})
	if err != nil || dd.AOFDirErr == nil || !dd.ManifestErr || dd.Source != SourceNone {
		t.Fatalf("invalid manifest: %v\n%+v", err, dd)
	}
	// Not a directory.
	if _, err := InspectDataDir(os.DirFS(filepath.Join(dir, "appendonly.aof")), DataDirOptions{}); err == nil {
		t.Fatal("a file is not a data directory")
	}
}

func TestInspectDataDirCorpus(t *testing.T) {
	corpus := corpusRoot(t)
	for _, tc := range []struct {
		dir    string
		source Source
		files  int
		valid  bool // a server starts on it
	}{
		{"generated/redis-7.0.15/small", SourceMultiPart, 2, true},
		{"generated/valkey-unstable-20241025/small-nopreamble", SourceMultiPart, 2, true},
		{"fred-rs", SourceMultiPart, 1, true},
		{"redisshake", SourceMultiPart, 2, true},
		{"redisearch", SourceMultiPart, 1, false},
	} {
		dd, err := InspectDataDir(os.DirFS(filepath.Join(corpus, filepath.FromSlash(tc.dir))), DataDirOptions{})
		if err != nil {
			t.Errorf("%s: %v", tc.dir, err)
			continue
		}
		if dd.Source != tc.source || len(dd.Files) != tc.files || (dd.Invalid == nil) != tc.valid {
			t.Errorf("%s: %+v", tc.dir, dd)
		}
		// legacy.aof is not appendonly.aof: a server never looks at it.
		for _, f := range dd.Files {
			if strings.HasSuffix(f, "legacy.aof") {
				t.Errorf("%s: loads %s", tc.dir, f)
			}
		}
	}
	// With appendfilename legacy.aof the generated folders have a single-file
	// AOF and no manifest of that name: Redis would upgrade legacy.aof.
	dd, err := InspectDataDir(os.DirFS(filepath.Join(corpus, "generated", "redis-7.0.15", "small")), DataDirOptions{AppendFilename: "legacy.aof"})
	if err != nil || dd.Source != SourceLegacyAOF {
		t.Fatalf("%v\n%+v", err, dd)
	}
}
