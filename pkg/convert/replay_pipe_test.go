package convert_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/pkg/convert"
	"github.com/rdbtool/rdbtool/pkg/engine"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// respAOF builds a RESP AOF and the offset of each command in it.
type respAOF struct {
	buf  bytes.Buffer
	offs []int64
}

func (a *respAOF) cmd(args ...string) {
	a.offs = append(a.offs, int64(a.buf.Len()))
	fmt.Fprintf(&a.buf, "*%d\r\n", len(args))
	for _, x := range args {
		fmt.Fprintf(&a.buf, "$%d\r\n%s\r\n", len(x), x)
	}
}

func (a *respAOF) write(t *testing.T, data []byte) []convert.AOFFile {
	t.Helper()
	p := filepath.Join(t.TempDir(), "appendonly.aof")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := convert.AOFFiles(os.DirFS(filepath.Dir(p)), filepath.Base(p))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func keysOf(t *testing.T, e *engine.Engine) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := e.Each(func(_ int, key []byte, _ *rdb.Entry, v *rdb.Value) error {
		m[string(key)] = string(v.String)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReplayLimits runs the replay, whose commands are read on another
// goroutine in batches, across many batch boundaries and with each way a
// replay can end: the end of the input, --until-command, --until-offset,
// --until, a torn tail, a command that fails.
func TestReplayLimits(t *testing.T) {
	const n = 20000
	var a respAOF
	big := strings.Repeat("b", 3<<20) // more than a batch on its own
	for i := 0; i < n; i++ {
		switch {
		case i == 7000:
			a.buf.WriteString("#TS:1700000100\r\n")
		case i == 9000:
			a.cmd("SET", "big", big)
			continue
		}
		if i == 15000 {
			a.cmd("FLUSHALL")
			continue
		}
		a.cmd("SET", fmt.Sprintf("k%d", i%12000), fmt.Sprintf("v%d", i))
	}
	data := a.buf.Bytes()
	replay := func(files []convert.AOFFile, o convert.ReplayOptions) (*engine.Engine, convert.ReplayStats, error) {
		e := engine.New(engine.Options{})
		st, err := convert.ReplayAOF(files, e, o)
		return e, st, err
	}
	files := a.write(t, data)

	e, st, err := replay(files, convert.ReplayOptions{})
	if err != nil || st.Commands != n || st.Stopped != "" || st.TornTail {
		t.Fatalf("whole file: %+v, %v", st, err)
	}
	if m := keysOf(t, e); len(m) != n-15001 || m["k0"] != "" || m["k3001"] != "v15001" {
		t.Fatalf("whole file: %d keys", len(m))
	}

	e, st, err = replay(files, convert.ReplayOptions{UntilCommand: "flushall"})
	if err != nil || st.Commands != 15000 || st.Stopped != fmt.Sprintf("before FLUSHALL at offset %d", a.offs[15000]) {
		t.Fatalf("until-command: %+v, %v", st, err)
	}
	if m := keysOf(t, e); len(m) != 12000 || m["k2999"] != "v14999" || len(m["big"]) != len(big) {
		t.Fatalf("until-command: %d keys", len(m))
	}

	_, st, err = replay(files, convert.ReplayOptions{UntilOffset: a.offs[12345]})
	if err != nil || st.Commands != 12345 || st.Stopped != fmt.Sprintf("at offset %d", a.offs[12345]) {
		t.Fatalf("until-offset: %+v, %v", st, err)
	}

	_, st, err = replay(files, convert.ReplayOptions{UntilTimestamp: 1700000000})
	if err != nil || st.Commands != 7000 || !strings.HasPrefix(st.Stopped, "at #TS:1700000100 ") {
		t.Fatalf("until: %+v, %v", st, err)
	}

	torn := a.write(t, data[:len(data)-3])
	_, st, err = replay(torn, convert.ReplayOptions{})
	if err != nil || st.Commands != n-1 || !st.TornTail || st.TornOffset != a.offs[n-1] {
		t.Fatalf("torn tail: %+v, %v", st, err)
	}

	var bad respAOF
	bad.buf.Write(data[:a.offs[13000]])
	bad.cmd("NOSUCHCOMMAND", "x")
	bad.buf.Write(data[a.offs[13000]:])
	_, st, err = replay(a.write(t, bad.buf.Bytes()), convert.ReplayOptions{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("offset %d: NOSUCHCOMMAND: ", a.offs[13000])) || st.Commands != 13000 {
		t.Fatalf("failing command: %+v, %v", st, err)
	}
}

// TestReplayRDBPart replays an AOF with an RDB preamble of many keys of every
// kind (more than a batch, read on another goroutine) and a RESP tail: the
// engine must hold what it held when it wrote the preamble, plus the tail.
func TestReplayRDBPart(t *testing.T) {
	src := engine.New(engine.Options{})
	apply := func(e *engine.Engine, args ...string) {
		t.Helper()
		b := make([][]byte, len(args))
		for i, a := range args {
			b[i] = []byte(a)
		}
		if err := e.Apply(b); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
	}
	apply(src, "FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)")
	for i := 0; i < 12000; i++ {
		k := fmt.Sprintf("k%d", i)
		switch i % 6 {
		case 0:
			apply(src, "RPUSH", k, "a", "b")
		case 1:
			apply(src, "SADD", k, "x", "y")
		case 2:
			apply(src, "HSET", k, "f", strings.Repeat("v", i%300))
		default:
			apply(src, "SET", k, strings.Repeat("s", i%700))
		}
		if i%7 == 0 {
			apply(src, "PEXPIREAT", k, "4102444800000")
		}
		if i%1000 == 0 {
			apply(src, "SELECT", fmt.Sprint(i/1000))
		}
	}
	apply(src, "SET", "big", strings.Repeat("B", 2<<20))
	opts, _ := rdb.TargetVersion("redis:7.0")
	var pre bytes.Buffer
	if err := convert.WriteEngine(src, rdb.NewWriter(&pre, opts), convert.Filter{}); err != nil {
		t.Fatal(err)
	}
	var tail respAOF
	tail.cmd("SELECT", "0")
	tail.cmd("SET", "tail", "1")
	apply(src, "SELECT", "0")
	apply(src, "SET", "tail", "1")

	var a respAOF
	files := a.write(t, append(pre.Bytes(), tail.buf.Bytes()...))
	e := engine.New(engine.Options{})
	st, err := convert.ReplayAOF(files, e, convert.ReplayOptions{})
	if err != nil || st.RDBKeys != 12001 || st.Commands != 2 {
		t.Fatalf("%+v, %v", st, err)
	}
	if got, want := canonLines(t, e), canonLines(t, src); got != want {
		t.Fatalf("replayed dataset differs from the source")
	}

	// A damaged RDB part fails, after what came before it was loaded.
	files = a.write(t, pre.Bytes()[:pre.Len()/2])
	if _, err := convert.ReplayAOF(files, engine.New(engine.Options{}), convert.ReplayOptions{}); err == nil {
		t.Fatal("truncated preamble: no error")
	}
}

// canonLines renders an engine's dataset in canonical order.
func canonLines(t *testing.T, e *engine.Engine) string {
	t.Helper()
	var lines []string
	err := e.Each(func(db int, key []byte, ent *rdb.Entry, v *rdb.Value) error {
		exp := int64(0)
		if ent.HasExpire {
			exp = ent.ExpireAtMs
		}
		l, err := canon.KeyLine(db, key, exp, v, false)
		if err != nil {
			return err
		}
		lines = append(lines, canon.Marshal(l))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range e.Functions() {
		lines = append(lines, string(f))
	}
	canon.Sort(lines)
	return strings.Join(lines, "\n")
}
