package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Mutation fuzzing of the write paths (issue 9, "What it must show"): the
// readers were fuzzed with 120,000 mutated inputs, but the commands that
// write can hand over files Redis refuses. Each writing command gets mutated
// inputs; every output written with exit 0 must pass "rdbtool verify" and
// load in a real Redis 7.0. Anything else is a failure, and so is a panic or
// a hang.
//
// The CI run takes a small share (writeMutationsCI inputs per command, a few
// seconds); RDBTOOL_WRITE_MUTATIONS=N runs N per command:
//
//	RDBTOOL_WRITE_MUTATIONS=3000 go test -run TestMutatedWritePaths -timeout 2h ./cmd/rdbtool
//
// The inputs are a pure function of (command, index): a failure names its
// index, and RDBTOOL_WRITE_MUTATION_START=I reruns from it.

const writeMutationsCI = 40

type mutationCommand struct {
	name   string
	input  func(t *testing.T) []byte            // the seed input
	mutate func(r *rand.Rand, in []byte) []byte // one mutated input
	inName string                               // file name of the input
	args   func(in, out string, i int) []string
	kind   string // what OUT is for Redis: "rdb", "aof" or "aof-dir"
}

func TestMutatedWritePaths(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis servers; skipped with -short")
	}
	n := writeMutationsCI
	if v := os.Getenv("RDBTOOL_WRITE_MUTATIONS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("RDBTOOL_WRITE_MUTATIONS=%q: want a count", v)
		}
	}
	start, _ := strconv.Atoi(os.Getenv("RDBTOOL_WRITE_MUTATION_START"))
	srv := newReloadServer(t)
	defer srv.stop()
	for ci, c := range mutationCommands() {
		t.Run(c.name, func(t *testing.T) {
			seed := c.input(t)
			dir := t.TempDir()
			codes := map[int]int{}
			// What became of the inputs: an output written with exit 0, of
			// which loaded by Redis; refused with a classified exit code;
			// failing (reported by t.Errorf).
			var written, loaded, refused, failing int
			began := time.Now()
			for i := start; i < start+n; i++ {
				r := rand.New(rand.NewPCG(uint64(ci), uint64(i)))
				data := c.mutate(r, seed)
				in := filepath.Join(dir, c.inName)
				out := filepath.Join(dir, "out-"+strconv.Itoa(i))
				if err := os.WriteFile(in, data, 0o644); err != nil {
					t.Fatal(err)
				}
				code, o, e := runCLI(t, nil, c.args(in, out, i)...)
				codes[code]++
				if code != 0 {
					os.RemoveAll(out)
					noTemps(t, dir)
					// Exit 1 is a failure of the machine, never of the input,
					// with one exception: growth the input asks for beyond
					// the memory budget (a SETRANGE at a huge offset).
					budget := code == exitFailure && strings.Contains(e, "memory budget exceeded")
					if code != exitInvalid && code != exitUnsupported && code != exitUsage && !budget {
						keep := keepFailure(t, c, i, data)
						t.Errorf("input %d (%s): exit %d (not a classified refusal):\n%s%s", i, keep, code, o, e)
						failing++
						continue
					}
					refused++
					continue
				}
				if _, err := os.Stat(out); err != nil {
					continue // nothing written (repair: nothing to cut)
				}
				written++
				if vc, vo, _ := runCLI(t, nil, "verify", "--no-progress", out); vc != 0 {
					keep := keepFailure(t, c, i, data)
					t.Errorf("input %d (%s): exit 0, but its output does not verify:\n%s", i, keep, vo)
					failing++
					continue
				}
				if err := srv.load(t, out, c.kind); err != nil {
					keep := keepFailure(t, c, i, data)
					t.Errorf("input %d (%s): exit 0, but Redis 7.0 refuses its output: %v", i, keep, err)
					failing++
					continue
				}
				loaded++
				os.RemoveAll(out)
			}
			keys := make([]int, 0, len(codes))
			for k := range codes {
				keys = append(keys, k)
			}
			sort.Ints(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, fmt.Sprintf("exit %d: %d", k, codes[k]))
			}
			t.Logf("%d mutated inputs in %v: %s", n, time.Since(began).Round(time.Millisecond), strings.Join(parts, ", "))
			t.Logf("TABLE %s: exit-0 outputs %d, verified and loaded by Redis 7.0 %d, refused %d, failing %d",
				c.name, written, loaded, refused, failing)
		})
	}
}

// keepFailure saves a failing input beside the test's temporary files and
// returns where (the temporary folders go; the message keeps the index).
func keepFailure(t *testing.T, c mutationCommand, i int, data []byte) string {
	dir := os.Getenv("RDBTOOL_WRITE_MUTATION_KEEP")
	if dir == "" {
		return "index " + strconv.Itoa(i)
	}
	p := filepath.Join(dir, c.name+"-"+strconv.Itoa(i)+"-"+c.inName)
	os.WriteFile(p, data, 0o644)
	return p
}

func mutationCommands() []mutationCommand {
	rdbSeed := func(t *testing.T) []byte { return readFile(t, fixture(t, "types-7.0.rdb")) }
	aofSeed := func(t *testing.T) []byte {
		src := fixture(t, "aof-nopreamble-7.0/appendonlydir")
		base, incr := aofFolderFiles(t, src)
		return append(readFile(t, filepath.Join(src, base)), readFile(t, filepath.Join(src, incr))...)
	}
	jsonSeed := func(t *testing.T) []byte {
		_, out, _ := runCLI(t, nil, "dump", fixture(t, "types-7.0.rdb"))
		return []byte(out)
	}
	return []mutationCommand{
		{name: "convert-rdb-rdb", input: rdbSeed, mutate: mutateRDB, inName: "in.rdb", kind: "rdb",
			args: func(in, out string, i int) []string {
				return []string{"convert", "--to", "rdb", "--rdb-version", []string{"10", "9"}[i%2], "--drop-functions", in, out}
			}},
		{name: "convert-rdb-aof", input: rdbSeed, mutate: mutateRDB, inName: "in.rdb", kind: "aof",
			args: func(in, out string, i int) []string {
				if i%2 == 1 {
					return []string{"convert", "--to", "aof", "--restore", in, out}
				}
				return []string{"convert", "--to", "aof", in, out}
			}},
		{name: "convert-json-rdb", input: jsonSeed, mutate: mutateJSON, inName: "in.jsonl", kind: "rdb",
			args: func(in, out string, _ int) []string { return []string{"convert", "--to", "rdb", in, out} }},
		{name: "rewrite", input: aofSeed, mutate: mutateAOF, inName: "in.aof", kind: "aof-dir",
			args: func(in, out string, i int) []string {
				if i%2 == 1 {
					return []string{"rewrite", "--base", "aof", in, out}
				}
				return []string{"rewrite", in, out}
			}},
		{name: "repair", input: aofSeed, mutate: mutateAOF, inName: "in.aof", kind: "aof",
			args: func(in, out string, i int) []string {
				if i%2 == 1 {
					return []string{"repair", "--cut-damage", in, out}
				}
				return []string{"repair", in, out}
			}},
	}
}

// mutateBytes applies one to three byte-level mutations.
func mutateBytes(r *rand.Rand, in []byte) []byte {
	b := bytes.Clone(in)
	for range 1 + r.IntN(3) {
		if len(b) < 2 {
			break
		}
		at := r.IntN(len(b))
		switch r.IntN(6) {
		case 0, 1: // change a byte
			b[at] = byte(r.IntN(256))
		case 2: // flip a bit
			b[at] ^= 1 << r.IntN(8)
		case 3: // delete a run
			end := min(len(b), at+1+r.IntN(16))
			b = append(b[:at], b[end:]...)
		case 4: // duplicate a run
			end := min(len(b), at+1+r.IntN(32))
			b = append(b[:end], append(bytes.Clone(b[at:end]), b[end:]...)...)
		case 5: // cut the tail
			b = b[:at]
		}
	}
	return b
}

// mutateRDB mutates an RDB file and, most of the time, makes its checksum
// right again, so that the mutation reaches the parser and the writer
// rather than stopping at the checksum.
func mutateRDB(r *rand.Rand, in []byte) []byte {
	b := mutateBytes(r, in)
	if len(b) > 9+8 && r.IntN(4) != 0 {
		binary.LittleEndian.PutUint64(b[len(b)-8:], rdb.CRC64(b[:len(b)-8]))
	}
	return b
}

// mutateJSON mutates rdbtool JSON at the level of its lines and members:
// swap, repeat or drop lines, change numbers, types and strings.
func mutateJSON(r *rand.Rand, in []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(in, []byte("\n")), []byte("\n"))
	for range 1 + r.IntN(3) {
		i, j := r.IntN(len(lines)), r.IntN(len(lines))
		switch r.IntN(7) {
		case 0:
			lines[i], lines[j] = lines[j], lines[i]
		case 1:
			lines = append(lines[:i+1], append([][]byte{bytes.Clone(lines[j])}, lines[i+1:]...)...)
		case 2:
			if len(lines) > 1 {
				lines = append(lines[:i], lines[i+1:]...)
			}
		case 3: // a number changes
			lines[i] = replaceNth(r, lines[i], "0123456789", func() string { return strconv.Itoa(r.IntN(20) - 2) })
		case 4: // a type or encoding changes
			for _, ty := range []string{`"string"`, `"list"`, `"set"`, `"zset"`, `"hash"`, `"stream"`} {
				if bytes.Contains(lines[i], []byte(ty)) {
					lines[i] = bytes.Replace(lines[i], []byte(ty), []byte([]string{`"string"`, `"list"`, `"set"`, `"zset"`, `"hash"`, `"stream"`}[r.IntN(6)]), 1)
					break
				}
			}
		case 5: // a string's text changes
			lines[i] = replaceNth(r, lines[i], "abcdefghijklmnopqrstuvwxyz", func() string { return string(rune('a' + r.IntN(26))) })
		case 6:
			lines[i] = mutateBytes(r, lines[i])
		}
	}
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// replaceNth replaces one random character of set in b.
func replaceNth(r *rand.Rand, b []byte, set string, with func() string) []byte {
	var at []int
	for i, c := range b {
		if strings.IndexByte(set, c) >= 0 {
			at = append(at, i)
		}
	}
	if len(at) == 0 {
		return b
	}
	i := at[r.IntN(len(at))]
	return append(b[:i:i], append([]byte(with()), b[i+1:]...)...)
}

// mutateAOF mutates an AOF at the level of its commands (repeat, drop, swap,
// cut), of the bytes inside an argument (the file stays well-formed: what
// the replay and the writers make of odd values), or of its bytes.
func mutateAOF(r *rand.Rand, in []byte) []byte {
	cmds := bytes.SplitAfter(in, []byte("\r\n*"))
	for range 1 + r.IntN(2) {
		i, j := r.IntN(len(cmds)), r.IntN(len(cmds))
		switch r.IntN(8) {
		case 5, 6, 7:
			cmds[i] = mutatePayload(r, cmds[i])
		case 0:
			cmds = append(cmds[:i+1], append([][]byte{bytes.Clone(cmds[j])}, cmds[i+1:]...)...)
		case 1:
			if len(cmds) > 1 {
				cmds = append(cmds[:i], cmds[i+1:]...)
			}
		case 2:
			cmds[i], cmds[j] = cmds[j], cmds[i]
		default:
			cmds[i] = mutateBytes(r, cmds[i])
		}
	}
	return bytes.Join(cmds, nil)
}

// mutatePayload changes bytes inside one argument of a command, keeping
// its length: the command stays well-formed.
func mutatePayload(r *rand.Rand, cmd []byte) []byte {
	b := bytes.Clone(cmd)
	var args [][2]int // payload start and end
	for i := 0; i < len(b); {
		j := bytes.Index(b[i:], []byte("\r\n$"))
		if j < 0 {
			break
		}
		start := i + j + 3
		eol := bytes.Index(b[start:], []byte("\r\n"))
		if eol < 0 {
			break
		}
		n, err := strconv.Atoi(string(b[start : start+eol]))
		p := start + eol + 2
		if err != nil || n < 0 || p+n > len(b) {
			break
		}
		if n > 0 {
			args = append(args, [2]int{p, p + n})
		}
		i = p + n
	}
	if len(args) == 0 {
		return b
	}
	a := args[r.IntN(len(args))]
	for range 1 + r.IntN(3) {
		at := a[0] + r.IntN(a[1]-a[0])
		switch r.IntN(3) {
		case 0:
			b[at] = byte(r.IntN(256))
		case 1:
			b[at] = "0123456789-+.e:*"[r.IntN(16)]
		case 2:
			b[at] ^= 0x20
		}
	}
	return b
}

// reloadServer is one Redis 7.0 kept for the run, which loads each RDB
// output with DEBUG RELOAD NOSAVE (a fresh server would cost a start per
// file); an AOF output gets a server of its own. A server that dies on a
// file is started again.
type reloadServer struct {
	bin redistest.Binaries
	dir string
	s   *redistest.Server
	c   *redistest.Client
}

func newReloadServer(t *testing.T) *reloadServer {
	rs := &reloadServer{bin: redistest.Require(t), dir: t.TempDir()}
	if err := rs.start(); err != nil {
		t.Fatal(err)
	}
	return rs
}

func (rs *reloadServer) start() error {
	rs.stop()
	s, err := redistest.Launch(rs.bin, redistest.Options{Dir: rs.dir, Args: []string{"--enable-debug-command", "yes", "--databases", "1000"}})
	if err != nil {
		return err
	}
	c, err := s.Dial()
	if err != nil {
		s.Stop()
		return err
	}
	rs.s, rs.c = s, c
	return nil
}

func (rs *reloadServer) stop() {
	if rs.c != nil {
		rs.c.Close()
	}
	if rs.s != nil {
		rs.s.Stop()
	}
	rs.s, rs.c = nil, nil
}

// load has Redis load out; the error says why it refused.
func (rs *reloadServer) load(t *testing.T, out, kind string) error {
	if kind != "rdb" {
		// A database above 15 needs a server configured with more (a
		// mutated JSON line may name one; rdbtool warns about it).
		o := redistest.Options{Dir: t.TempDir(), StartTimeout: 30 * time.Second, Args: []string{"--databases", "1000"}}
		switch kind {
		case "aof-dir":
			o.AOFDir = out
		case "aof":
			fileCopy(t, out, filepath.Join(o.Dir, "appendonly.aof"))
			o.Args = append(o.Args, "--appendonly", "yes")
		}
		s, err := redistest.Launch(rs.bin, o)
		if err != nil {
			if s != nil {
				return fmt.Errorf("%v\n%s", err, warnings(s.Log()))
			}
			return err
		}
		return s.Stop()
	}
	fileCopy(t, out, filepath.Join(rs.dir, "dump.rdb"))
	reply, err := rs.c.Do("DEBUG", "RELOAD", "NOSAVE")
	if err == nil {
		if e, ok := reply.(redistest.Error); ok {
			err = e
		}
	}
	if err != nil {
		log := warnings(rs.s.Log())
		os.Remove(filepath.Join(rs.dir, "dump.rdb")) // or the new server loads it again
		if serr := rs.start(); serr != nil {
			t.Fatalf("restarting Redis: %v", serr)
		}
		return fmt.Errorf("%v\n%s", err, log)
	}
	return nil
}

// warnings keeps the last lines of a Redis log that say why it stopped: its
// warnings ("#") and the checker's ("[offset"), without the crash report.
func warnings(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if (strings.Contains(l, " # ") || strings.HasPrefix(l, "[offset")) && !strings.Contains(l, "overcommit") &&
			!strings.Contains(l, "Redis is starting") && !strings.Contains(l, "Redis version=") && !strings.Contains(l, "Configuration loaded") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 8 {
		keep = keep[len(keep)-8:] // the server's log holds every earlier reload too
	}
	return strings.Join(keep, "\n")
}

// TestRestoreReadsStrictly: convert --restore copied the values of an RDB
// whose stream PELs contradict each other into DUMP payloads that RESTORE
// refuses, and Redis 7.0 then refused the whole AOF; exit 0. The mutation
// suite found these inputs (convert-rdb-aof, indexes 245, 699, 1261, 1437,
// 1647); they are refused now, as verify refuses them.
func TestRestoreReadsStrictly(t *testing.T) {
	seed := readFile(t, fixture(t, "types-7.0.rdb"))
	dir := t.TempDir()
	for _, i := range []uint64{245, 699, 1261, 1437, 1647} {
		in := filepath.Join(dir, "in.rdb")
		os.WriteFile(in, mutateRDB(rand.New(rand.NewPCG(1, i)), seed), 0o644)
		if code, o, _ := runCLI(t, nil, "verify", in); code != exitInvalid {
			t.Fatalf("input %d: verify exit %d, want %d (the mutations changed?): %s", i, code, exitInvalid, o)
		}
		out := filepath.Join(dir, "out.aof")
		if code, o, e := runCLI(t, nil, "convert", "--to", "aof", "--restore", in, out); code != exitInvalid {
			t.Errorf("input %d: convert --restore exit %d, want %d:\n%s%s", i, code, exitInvalid, o, e)
		}
		noTemps(t, dir)
	}
}

// TestModuleValueToCommandsIsUnsupported: a module value cannot be rebuilt
// by commands; convert --to aof said so with exit 1, as if the disk had
// failed. The mutation suite found it (convert-rdb-aof, index 992, whose
// mutated type byte makes a module value); it is exit 4 now.
func TestModuleValueToCommandsIsUnsupported(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.rdb")
	os.WriteFile(in, mutateRDB(rand.New(rand.NewPCG(1, 992)), readFile(t, fixture(t, "types-7.0.rdb"))), 0o644)
	code, o, e := runCLI(t, nil, "convert", "--to", "aof", in, in+".aof")
	if code != exitUnsupported || !strings.Contains(e, "module") {
		t.Errorf("exit %d, want %d naming the module value:\n%s%s", code, exitUnsupported, o, e)
	}
}
