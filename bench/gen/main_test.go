package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// readCommand reads one RESP array of bulk strings, as redis-cli --pipe sends
// it; io.EOF at a command boundary.
func readCommand(r *bufio.Reader) ([][]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == io.EOF && len(line) == 0 {
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 4 || line[0] != '*' || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad array header %q", line)
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("bad array length %q", line)
	}
	args := make([][]byte, n)
	for i := range args {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		if len(line) < 4 || line[0] != '$' || line[len(line)-2] != '\r' {
			return nil, fmt.Errorf("bad bulk header %q", line)
		}
		l, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || l < 0 {
			return nil, fmt.Errorf("bad bulk length %q", line)
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if b[l] != '\r' || b[l+1] != '\n' {
			return nil, fmt.Errorf("bulk of %d bytes not followed by CRLF", l)
		}
		args[i] = b[:l]
	}
	return args, nil
}

// parsed is what a stream of commands does, as far as the test follows it.
type parsed struct {
	commands int64
	byName   map[string]int64
	keys     map[int]map[string]bool // database -> keys written
	elems    int64                   // RPUSH elements + HSET fields
}

func parse(t *testing.T, out []byte) parsed {
	t.Helper()
	p := parsed{byName: map[string]int64{}, keys: map[int]map[string]bool{}}
	r := bufio.NewReader(bytes.NewReader(out))
	db := 0
	for {
		args, err := readCommand(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("command %d: %v", p.commands+1, err)
		}
		p.commands++
		name := string(bytes.ToUpper(args[0]))
		p.byName[name]++
		switch name {
		case "SELECT":
			db, err = strconv.Atoi(string(args[1]))
			if err != nil {
				t.Fatalf("SELECT %q", args[1])
			}
		case "SET", "RPUSH", "HSET", "SADD", "ZADD", "XADD":
			if p.keys[db] == nil {
				p.keys[db] = map[string]bool{}
			}
			p.keys[db][string(args[1])] = true
			switch name {
			case "RPUSH", "SADD":
				p.elems += int64(len(args) - 2)
			case "HSET", "ZADD":
				if len(args)%2 != 0 {
					t.Fatalf("%s with %d arguments", name, len(args))
				}
				p.elems += int64(len(args)-2) / 2
			}
		}
	}
	return p
}

func run(t *testing.T, cfg config) ([]byte, *stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := generate(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

func checkCounts(t *testing.T, p parsed, st *stats) {
	t.Helper()
	if p.commands != st.Commands {
		t.Errorf("parsed %d commands, generator counted %d", p.commands, st.Commands)
	}
	var keys int64
	for db, m := range p.keys {
		keys += int64(len(m))
		if int64(len(m)) != st.KeysByDB[db] {
			t.Errorf("db %d: parsed %d keys, generator counted %d", db, len(m), st.KeysByDB[db])
		}
	}
	if keys != st.Keys {
		t.Errorf("parsed %d keys, generator counted %d", keys, st.Keys)
	}
}

func TestStringsDataset(t *testing.T) {
	cfg := config{Dataset: "strings", TargetMB: 1, Seed: 7}
	out, st := run(t, cfg)
	p := parse(t, out)
	checkCounts(t, p, st)
	if st.Payload < mib || st.Payload > mib+300 {
		t.Errorf("payload %d bytes, want just over %d", st.Payload, mib)
	}
	if p.byName["SET"] != st.Keys || p.byName["PEXPIREAT"] == 0 {
		t.Errorf("commands %v for %d keys: want one SET per key and some PEXPIREAT", p.byName, st.Keys)
	}
	again, _ := run(t, cfg)
	if !bytes.Equal(out, again) {
		t.Error("same seed, different output")
	}
	cfg.Seed++
	if other, _ := run(t, cfg); bytes.Equal(out, other) {
		t.Error("different seeds, same output")
	}
}

func TestMixedDataset(t *testing.T) {
	out, st := run(t, config{Dataset: "mixed", TargetMB: 8, Seed: 1, PlainThreshold: 16384})
	p := parse(t, out)
	checkCounts(t, p, st)
	for _, name := range []string{"DEBUG", "FUNCTION", "SELECT", "SET", "HSET", "RPUSH", "SADD", "ZADD",
		"XADD", "XGROUP", "XREADGROUP", "XACK", "PEXPIREAT"} {
		if p.byName[name] == 0 {
			t.Errorf("no %s command in %v", name, p.byName)
		}
	}
	if len(p.keys) != len(mixedDBs) {
		t.Errorf("keys in %d databases, want %d", len(p.keys), len(mixedDBs))
	}
	for _, f := range families {
		if b := st.ByFamily[f]; b < st.Payload/10 {
			t.Errorf("family %s has %d of %d payload bytes", f, b, st.Payload)
		}
	}
}

func TestBigDatasets(t *testing.T) {
	for _, ds := range []string{"biglist", "bighash"} {
		t.Run(ds, func(t *testing.T) {
			out, st := run(t, config{Dataset: ds, Elems: 2500, Seed: 1})
			p := parse(t, out)
			checkCounts(t, p, st)
			if st.Keys != 1 || p.elems != 2500 {
				t.Errorf("%d keys and %d elements, want 1 and 2500", st.Keys, p.elems)
			}
			if ds == "bighash" {
				// Every field distinct: HSET overwrites would shrink the hash.
				fields := map[string]bool{}
				r := bufio.NewReader(bytes.NewReader(out))
				for {
					args, err := readCommand(r)
					if err != nil {
						break
					}
					for i := 2; i < len(args); i += 2 {
						fields[string(args[i])] = true
					}
				}
				if len(fields) != 2500 {
					t.Errorf("%d distinct fields, want 2500", len(fields))
				}
			}
		})
	}
}

func TestUnknownDataset(t *testing.T) {
	if _, err := generate(io.Discard, config{Dataset: "nope"}); err == nil {
		t.Error("no error for an unknown dataset")
	}
}

func TestPagesDataset(t *testing.T) {
	cfg := config{Dataset: "pages", Keys: 3000, Seed: 3}
	out, st := run(t, cfg)
	p := parse(t, out)
	checkCounts(t, p, st)
	if st.Keys != 3000 || p.byName["SET"] != 3000 {
		t.Errorf("%d keys and %d SETs, want 3000", st.Keys, p.byName["SET"])
	}
	if n := p.byName["PEXPIREAT"]; n < 200 || n > 400 {
		t.Errorf("%d keys with a TTL, want about 10%% of 3000", n)
	}
	// Values between 100 B and 2.4 KB, most of them markup or JSON.
	r := bufio.NewReader(bytes.NewReader(out))
	var text int
	for {
		args, err := readCommand(r)
		if err != nil {
			break
		}
		if string(args[0]) != "SET" {
			continue
		}
		v := args[2]
		if len(v) < 100 || len(v) > 2400 {
			t.Fatalf("value of %d bytes", len(v))
		}
		if v[0] == '<' || v[0] == '{' {
			text++
		}
	}
	if text < 2500 {
		t.Errorf("%d of 3000 values are page text, want about 90%%", text)
	}
	if again, _ := run(t, cfg); !bytes.Equal(out, again) {
		t.Error("same seed, different output")
	}
}
