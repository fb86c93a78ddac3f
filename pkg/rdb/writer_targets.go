package rdb

import (
	"fmt"
	"strconv"
	"strings"
)

// Target is a server line the Writer can produce files for.
type Target struct {
	Name          string // "redis:7.0", "valkey:9.0"
	Version       int    // RDB version it writes
	Valkey        bool   // Valkey dialect (valkey-ver; VALKEY080 when Version is 80)
	ServerVersion string // default redis-ver / valkey-ver value
	// PlainThreshold is the list PLAIN-node threshold of that release (see
	// Encoding.ListPackedThreshold): 1 GiB for Redis 7.0/7.2 and Valkey 7.2,
	// 0 (by node size) for Redis 7.4+ and Valkey 8+; unused before 7.0.
	PlainThreshold int64
}

// targets is the table of docs/versions.md (FORMAT-NOTES §8), writable part.
var targets = []Target{
	{"redis:3.2", 7, false, "3.2.0", 0},
	{"redis:4.0", 8, false, "4.0.0", 0},
	{"redis:5.0", 9, false, "5.0.0", 0},
	{"redis:6.0", 9, false, "6.0.0", 0},
	{"redis:6.2", 9, false, "6.2.0", 0},
	{"redis:7.0", 10, false, "7.0.0", 1 << 30},
	{"redis:7.2", 11, false, "7.2.0", 1 << 30},
	{"redis:7.4", 12, false, "7.4.0", 0},
	{"redis:8.0", 12, false, "8.0.0", 0},
	{"redis:8.2", 12, false, "8.2.0", 0},
	{"redis:8.4", 12, false, "8.4.0", 0},
	{"redis:8.6", 13, false, "8.6.0", 0},
	{"valkey:7.2", 11, true, "7.2.4", 1 << 30},
	{"valkey:8.0", 11, true, "8.0.0", 0},
	{"valkey:8.1", 11, true, "8.1.0", 0},
	{"valkey:9.0", 80, true, "9.0.0", 0},
}

// readOnly are servers whose files the Reader reads but the Writer does not
// produce (no AUX records before RDB 7), with their versions for messages.
var readOnly = map[string]int{
	"redis:1.0": 1, "redis:1.2": 1, "redis:2.0": 1, "redis:2.2": 1, "redis:2.4": 2,
	"redis:2.6": 6, "redis:2.8": 6, "redis:3.0": 6,
}

// Targets lists the server lines TargetVersion accepts, oldest first.
func Targets() []Target { return append([]Target(nil), targets...) }

// TargetVersion returns the writer options for a named target: "redis:7.0",
// "valkey:9.0" (a patch level such as "redis:7.0.15" is accepted and used as
// the redis-ver value), an RDB version number "10", or a header "REDIS0010",
// "VALKEY080". Thresholds are the defaults of that server; change the
// returned Encoding to match a server's own configuration.
func TargetVersion(name string) (WriterOptions, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return WriterOptions{}, fmt.Errorf("rdb: empty target name")
	}
	var t Target
	found := false
	patch := ""
	if server, ver, ok := strings.Cut(n, ":"); ok {
		parts := strings.Split(ver, ".")
		if len(parts) == 3 {
			patch = ver
			ver = parts[0] + "." + parts[1]
		}
		key := server + ":" + ver
		for _, c := range targets {
			if c.Name == key {
				t, found = c, true
				break
			}
		}
		if !found {
			if v, ok := readOnly[key]; ok {
				return WriterOptions{}, fmt.Errorf("rdb: target %s writes RDB version %d, which the writer does not produce (oldest: redis:3.2, RDB 7)", name, v)
			}
			return WriterOptions{}, fmt.Errorf("rdb: unknown target %q (known: %s)", name, targetNames())
		}
	} else {
		v, valkey, ok := parseVersionName(n)
		if !ok {
			return WriterOptions{}, fmt.Errorf("rdb: unknown target %q (known: %s, or an RDB version 7..13, or VALKEY080)", name, targetNames())
		}
		// The newest server line writing that version.
		for _, c := range targets {
			if c.Version == v && c.Valkey == valkey {
				t, found = c, true
			}
		}
		if !found {
			return WriterOptions{}, fmt.Errorf("rdb: RDB version %s is not a write target (7..13, or VALKEY080)", name)
		}
	}
	enc := DefaultEncoding(t.Version, t.Valkey)
	enc.ListPackedThreshold = t.PlainThreshold
	o := WriterOptions{Version: t.Version, Valkey: t.Valkey, Encoding: &enc, ServerVersion: t.ServerVersion}
	if patch != "" {
		o.ServerVersion = patch
	}
	return o, nil
}

// parseVersionName parses "10", "REDIS0010" or "VALKEY080" (lower-cased).
func parseVersionName(n string) (int, bool, bool) {
	valkey := false
	switch {
	case strings.HasPrefix(n, "redis"):
		n = n[len("redis"):]
	case strings.HasPrefix(n, "valkey"):
		n, valkey = n[len("valkey"):], true
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 0 {
		return 0, false, false
	}
	if v == 80 {
		valkey = true
	}
	return v, valkey, true
}

func targetNames() string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}
