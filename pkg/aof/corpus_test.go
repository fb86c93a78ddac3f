package aof

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
)

// The corpus lives in the shared folder beside the repository; the fixtures
// are the repository's own.
var (
	corpusDir   = testenv.CorpusOrEmpty()
	fixturesDir = filepath.Join("..", "..", "fixtures")
)

func corpusPath(rel string) string { return filepath.Join(corpusDir, filepath.FromSlash(rel)) }

// corpusRoot returns the corpus folder, skipping the test when it is absent.
func corpusRoot(t testing.TB) string {
	t.Helper()
	return testenv.Corpus(t)
}

// manifestAOFRow is what MANIFEST.md says about one RESP AOF.
type manifestAOFRow struct {
	path       string
	commands   int64
	byName     map[string]int64 // the most frequent command names, upper-case
	timestamps int64            // -1 when not stated
}

var (
	rowRE   = regexp.MustCompile("^\\| `([^`]+\\.aof)` \\|")
	cmdsRE  = regexp.MustCompile(`RESP AOF: (\d+) cmds \(([^)]*)\)`)
	nameRE  = regexp.MustCompile(`([A-Za-z]+)×(\d+)`)
	tsRE    = regexp.MustCompile(`(\d+) #TS annotations`)
	emptyRE = regexp.MustCompile(`EMPTY file \(0 bytes\)`)
)

// readManifestRows reads the RESP AOF rows of the corpus's MANIFEST.md.
func readManifestRows(t *testing.T) []manifestAOFRow {
	f, err := os.Open(filepath.Join(corpusRoot(t), "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestAOFRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		row := manifestAOFRow{path: m[1], timestamps: -1, byName: map[string]int64{}}
		switch c := cmdsRE.FindStringSubmatch(line); {
		case c != nil:
			row.commands, _ = strconv.ParseInt(c[1], 10, 64)
			for _, n := range nameRE.FindAllStringSubmatch(c[2], -1) {
				row.byName[strings.ToUpper(n[1])], _ = strconv.ParseInt(n[2], 10, 64)
			}
		case emptyRE.MatchString(line):
		default:
			continue // not a RESP AOF with stated contents (preamble, broken)
		}
		if ts := tsRE.FindStringSubmatch(line); ts != nil {
			row.timestamps, _ = strconv.ParseInt(ts[1], 10, 64)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// tally reads a valid RESP stream and counts commands by upper-cased name.
func tally(t *testing.T, data []byte, base int64) (commands, timestamps int64, byName map[string]int64) {
	t.Helper()
	byName = map[string]int64{}
	r := NewReaderBytes(data, ReaderOptions{Strict: true, BaseOffset: base})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if rec.Kind == KindAnnotation {
			if rec.HasTimestamp {
				timestamps++
			}
			continue
		}
		name, err := r.NextArg()
		if err != nil {
			t.Fatalf("reading a command name: %v", err)
		}
		commands++
		byName[strings.ToUpper(string(name))]++
	}
}

// TestCorpus reads every AOF in the corpus and compares it with what
// MANIFEST.md says about it.
func TestCorpus(t *testing.T) {
	rows := readManifestRows(t)
	if len(rows) < 13 {
		t.Fatalf("only %d RESP AOF rows in MANIFEST.md", len(rows))
	}
	seen := map[string]bool{}
	for _, row := range rows {
		seen[row.path] = true
		t.Run(row.path, func(t *testing.T) {
			data, err := os.ReadFile(corpusPath(row.path))
			if err != nil {
				t.Fatal(err)
			}
			for _, lenient := range []bool{false, true} {
				res, err := CheckBytes(data, CheckOptions{Lenient: lenient})
				if err != nil || !res.OK || res.Commands != row.commands || res.End != int64(len(data)) {
					t.Fatalf("lenient=%v: %v: %s", lenient, err, res)
				}
				if row.timestamps >= 0 && res.Timestamps != row.timestamps {
					t.Errorf("%d #TS annotations, MANIFEST.md says %d", res.Timestamps, row.timestamps)
				}
			}
			n, ts, byName := tally(t, data, 0)
			if n != row.commands {
				t.Errorf("%d commands, MANIFEST.md says %d", n, row.commands)
			}
			if row.timestamps >= 0 && ts != row.timestamps {
				t.Errorf("%d #TS annotations, MANIFEST.md says %d", ts, row.timestamps)
			}
			for name, want := range row.byName {
				if byName[name] != want {
					t.Errorf("%s×%d, MANIFEST.md says %d", name, byName[name], want)
				}
			}
		})
	}
	for _, p := range []string{"replicator/appendonly-with-ts.aof", "replicator/appendonly2.aof", "hdt3213/valkey_cluster_slot_import.aof"} {
		if !seen[p] {
			t.Errorf("MANIFEST.md has no usable row for %s", p)
		}
	}
}

// TestCorpusTimestamps pins the #TS facts of appendonly-with-ts.aof.
func TestCorpusTimestamps(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusRoot(t), "replicator", "appendonly-with-ts.aof"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := CheckBytes(data, CheckOptions{})
	if err != nil || res.Timestamps != 54 || res.Commands != 65 || res.FirstTimestamp == 0 || res.LastTimestamp < res.FirstTimestamp {
		t.Fatalf("%v: %+v", err, res)
	}
	// Cutting after the first annotation keeps what precedes the second one.
	cut, err := CheckBytes(data, CheckOptions{ToTimestamp: res.FirstTimestamp})
	if err != nil || cut.TimestampCut == nil || cut.TimestampCut.Timestamp <= res.FirstTimestamp {
		t.Fatalf("%v: %+v", err, cut)
	}
	c := cut.TimestampCut
	kept, err := CheckBytes(data[:c.Offset], CheckOptions{})
	if err != nil || kept.Commands != c.CommandsBefore || c.LostBytes != int64(len(data))-c.Offset {
		t.Fatalf("kept %v %+v, cut %+v", err, kept, c)
	}
}

// TestCorpusBroken: the files MANIFEST.md calls broken are.
func TestCorpusBroken(t *testing.T) {
	corpus := corpusRoot(t)
	// redisshake's incr file lost its CRs.
	data, err := os.ReadFile(filepath.Join(corpus, "redisshake", "appendonlydir", "appendonly.aof.2.incr.aof"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := CheckBytes(data, CheckOptions{})
	if !errors.Is(err, ErrCorrupt) || res.OK || res.RepairOffset != 0 || res.Problem.TornTail {
		t.Fatalf("strict: %v %s", err, res)
	}
	// redis-server takes "*2\n" and "$6\n", but then eats "\n$" as the line
	// ending of SELECT and finds "1\n" where a length should be.
	res, err = CheckBytes(data, CheckOptions{Lenient: true})
	if !errors.Is(err, ErrCorrupt) || res.OK || res.Commands != 0 || res.Problem.Offset != 14 || res.RepairOffset != 0 {
		t.Fatalf("lenient: %v %s", err, res)
	}
}

// rdbTailOffset finds where the RESP tail of an RDB-preamble file starts,
// without an RDB reader (this package must not use pkg/rdb): after the EOF
// opcode 0xFF and the 8-byte checksum, where a valid RESP stream begins.
func rdbTailOffset(t *testing.T, data []byte) int64 {
	t.Helper()
	for p := len(data) - 1; p >= 9; p-- {
		if data[p-9] == 0xff && data[p] == '*' {
			if _, err := CheckBytes(data[p:], CheckOptions{}); err == nil {
				return int64(p)
			}
		}
	}
	t.Fatal("no RESP tail found")
	return 0
}

// TestCorpusPreamble: an RDB-preamble AOF is reported as such, and its tail
// reads with BaseOffset.
func TestCorpusPreamble(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusRoot(t), "redis", "rdb-preamble.aof"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bufio.NewReader(bytes.NewReader(data)), ReaderOptions{})
	_, err = r.Next()
	var pe *ParseError
	if !errors.Is(err, ErrRDBPreamble) || !errors.As(err, &pe) || pe.Offset != 0 {
		t.Fatalf("Next: %v", err)
	}
	rest, _ := io.ReadAll(r.Rest())
	if !bytes.Equal(rest, data) {
		t.Fatalf("Rest is %d bytes, not the whole file", len(rest))
	}
	if res, err := CheckBytes(data, CheckOptions{}); !errors.Is(err, ErrRDBPreamble) || res.OK {
		t.Fatalf("Check: %v %+v", err, res)
	}
	tail := rdbTailOffset(t, data)
	n, _, byName := tally(t, data[tail:], tail)
	if n != 2 || byName["SET"] != 1 || byName["SELECT"] != 1 {
		t.Fatalf("tail at %d: %d commands %v", tail, n, byName)
	}
	res, err := Check(bytes.NewReader(data[tail:]), CheckOptions{BaseOffset: tail})
	if err != nil || res.Start != tail || res.End != int64(len(data)) {
		t.Fatalf("%v %+v", err, res)
	}
}

// TestCorpusGenerated: every file of the generated folders is valid, and each
// legacy.aof is the base followed by the incr file.
func TestCorpusGenerated(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(corpusRoot(t), "generated", "*", "*"))
	if len(dirs) != 9 {
		t.Fatalf("expected 9 generated datasets, found %d", len(dirs))
	}
	for _, dir := range dirs {
		d, err := OpenDir(filepath.Join(dir, "appendonlydir"))
		if err != nil {
			t.Fatal(err)
		}
		var joined []byte
		var respCommands int64
		for _, f := range d.LoadOrder() {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			joined = append(joined, data...)
			if f.Format == FormatRDB {
				// A base written by BGREWRITEAOF holds no RESP tail.
				if tail := len(data); tail > 0 && data[tail-1] == '\n' {
					t.Errorf("%s: an RDB base that ends like RESP", f.Path)
				}
				continue
			}
			for _, lenient := range []bool{false, true} {
				res, err := CheckBytes(data, CheckOptions{Lenient: lenient})
				if err != nil || !res.OK || res.Commands == 0 || !res.MultiBalanced {
					t.Errorf("%s: %v %s", f.Path, err, res)
				}
			}
			n, _, _ := tally(t, data, 0)
			respCommands += n
		}
		legacy, err := os.ReadFile(filepath.Join(dir, "legacy.aof"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(legacy, joined) {
			t.Errorf("%s: legacy.aof is not base+incr", dir)
			continue
		}
		base := d.LoadOrder()[0]
		if base.Format == FormatRDB {
			if _, err := CheckBytes(legacy, CheckOptions{}); !errors.Is(err, ErrRDBPreamble) {
				t.Errorf("%s: legacy.aof: %v", dir, err)
			}
			res, err := CheckBytes(legacy[base.Size:], CheckOptions{BaseOffset: base.Size})
			if err != nil || res.Commands != respCommands || res.End != int64(len(legacy)) {
				t.Errorf("%s: legacy tail: %v %s", dir, err, res)
			}
		} else if res, err := CheckBytes(legacy, CheckOptions{}); err != nil || res.Commands != respCommands {
			t.Errorf("%s: legacy.aof: %v %s", dir, err, res)
		}
	}
}

// fixtureIncrCounts parses the fixture README's "incr.aof: APPEND 1, COPY 1, ..." line.
func fixtureIncrCounts(t *testing.T, name string) map[string]int64 {
	readme, err := os.ReadFile(filepath.Join(fixturesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := "- `" + name + "/appendonlydir/appendonly.aof.2.incr.aof`: "
	for _, line := range strings.Split(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			counts := map[string]int64{}
			for _, m := range regexp.MustCompile(`([A-Z]+) (\d+)`).FindAllStringSubmatch(rest, -1) {
				counts[m[1]], _ = strconv.ParseInt(m[2], 10, 64)
			}
			return counts
		}
	}
	return nil
}

// TestFixtures: the repository's AOF fixtures read as their README says.
func TestFixtures(t *testing.T) {
	for _, name := range []string{"aof-7.0", "aof-nopreamble-7.0"} {
		d, err := OpenDir(filepath.Join(fixturesDir, name, "appendonlydir"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range d.LoadOrder() {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if f.Format == FormatRDB {
				continue
			}
			res, err := CheckBytes(data, CheckOptions{})
			if err != nil || !res.OK {
				t.Fatalf("%s: %v %s", f.Path, err, res)
			}
			if f.Type != TypeIncr {
				continue
			}
			want := fixtureIncrCounts(t, name)
			if want == nil {
				want = fixtureIncrCounts(t, "aof-7.0") // "As aof-7.0": the same commands
			}
			_, _, got := tally(t, data, 0)
			if len(want) == 0 || len(got) != len(want) {
				t.Fatalf("%s: %v, README says %v", f.Path, got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %s×%d, README says %d", f.Path, k, got[k], v)
				}
			}
		}
	}
}
