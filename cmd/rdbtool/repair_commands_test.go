package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// respCommand renders one command as RESP.
func respCommand(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// TestRepairJudgesCommandsAsVerify: repair cut a torn tail and kept a
// command no server knows from earlier in the file, exit 0; verify calls
// such a file INVALID and Redis 7.0 refuses it ("Unknown command"). The
// mutation suite found 8 such outputs. Repair now applies verify's command
// check: the command is a problem of the file like a damaged byte, refused
// (exit 3, saying which command and why) unless --cut-damage cuts before
// it; a file whose first command is refused is never cut to nothing.
func TestRepairJudgesCommandsAsVerify(t *testing.T) {
	dir := t.TempDir()
	setA, setB := respCommand("SET", "a", "1"), respCommand("SET", "b", "2")
	unknown := respCommand("FOOBAR", "x")
	torn := respCommand("SET", "c", "3")
	torn = torn[:len(torn)-4]

	in := filepath.Join(dir, "torn.aof")
	writeFile(t, in, setA+unknown+setB+torn)
	before := readFile(t, in)
	if code, _, _ := runCLI(t, nil, "verify", in); code != exitInvalid {
		t.Fatalf("verify: exit %d, want %d", code, exitInvalid)
	}
	code, o, e := runCLI(t, nil, "repair", in)
	if code != exitInvalid || !strings.Contains(e, `unknown command "FOOBAR"`) || !strings.Contains(e, "--cut-damage") {
		t.Errorf("repair of an AOF with an unknown command: exit %d, want %d naming it:\n%s%s", code, exitInvalid, o, e)
	}
	if _, err := os.Stat(in + ".repaired"); err == nil {
		t.Error("a refused repair wrote its output")
	}
	if code, o, e := runCLI(t, nil, "repair", "--in-place", in); code != exitInvalid {
		t.Errorf("repair --in-place: exit %d, want %d:\n%s%s", code, exitInvalid, o, e)
	}
	if !bytes.Equal(readFile(t, in), before) {
		t.Fatal("a refused in-place repair changed the file")
	}
	noTemps(t, dir)

	// --cut-damage cuts before the refused command: what is left loads.
	out := filepath.Join(dir, "cut.aof")
	if code, o, e := runCLI(t, nil, "repair", "--cut-damage", in, out); code != 0 {
		t.Fatalf("repair --cut-damage: exit %d:\n%s%s", code, o, e)
	}
	if got := string(readFile(t, out)); got != setA {
		t.Errorf("repair --cut-damage kept %q, want the command before the refused one", got)
	}
	if code, o, _ := runCLI(t, nil, "verify", out); code != 0 {
		t.Errorf("the cut copy does not verify: %s", o)
	}
	startsOnRedis(t, out, "aof").Stop()

	// The first command refused: cutting would leave nothing.
	first := filepath.Join(dir, "first.aof")
	writeFile(t, first, unknown+setA)
	for _, args := range [][]string{{"repair", first}, {"repair", "--cut-damage", first}} {
		code, o, e := runCLI(t, nil, args...)
		if code != exitInvalid || !strings.Contains(e, "first command") {
			t.Errorf("%v: exit %d, want %d saying the first command is refused:\n%s%s", args, code, exitInvalid, o, e)
		}
	}

	// A command some servers load and others do not is kept, with verify's
	// warning; a module's command too (the server has the module).
	module := filepath.Join(dir, "module.aof")
	writeFile(t, module, setA+respCommand("json.set", "k", "$", "1")+torn)
	code, o, e = runCLI(t, nil, "repair", module, module+".out")
	if code != 0 || !strings.Contains(e, "warning") || !strings.Contains(e, "module command") {
		t.Errorf("repair of an AOF with a module command: exit %d, want 0 with verify's warning:\n%s%s", code, o, e)
	}
}
