package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Binaries are the Redis programs tests run.
type Binaries struct {
	Server   string // redis-server; env REDIS_SERVER overrides the PATH lookup
	CLI      string // redis-cli; env REDIS_CLI
	CheckRDB string // redis-check-rdb; env REDIS_CHECK_RDB
	CheckAOF string // redis-check-aof; env REDIS_CHECK_AOF

	// Version is the server's version, "7.0.15" (the v= of redis-server --version).
	Version string
	// VersionLine is the whole first line redis-server --version printed.
	VersionLine string

	// Family is "redis" or "valkey".
	Family string
	// RDBVersion is the RDB version the server writes: 10 for Debian's 7.0,
	// 12 for the Redis 7.4-era build, 11 for the Valkey 8-era build. Newer
	// unstable builds all report v=255.255.255, so tests tell them apart by it.
	RDBVersion int
	// Name says which server this is in messages: "redis 7.0.15",
	// "redis-unstable-20241018".
	Name string
}

// Lookup finds the binaries on PATH or in the environment overrides and asks
// the server for its version.
func Lookup() (Binaries, error) {
	var b Binaries
	var errs []error
	for _, p := range []struct {
		dst       *string
		env, name string
	}{
		{&b.Server, "REDIS_SERVER", "redis-server"},
		{&b.CLI, "REDIS_CLI", "redis-cli"},
		{&b.CheckRDB, "REDIS_CHECK_RDB", "redis-check-rdb"},
		{&b.CheckAOF, "REDIS_CHECK_AOF", "redis-check-aof"},
	} {
		name := p.name
		if v := os.Getenv(p.env); v != "" {
			name = v
		}
		path, err := exec.LookPath(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (set %s): %w", p.name, p.env, err))
			continue
		}
		*p.dst = path
	}
	if err := errors.Join(errs...); err != nil {
		return Binaries{}, err
	}
	out, err := exec.Command(b.Server, "--version").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("%s --version: %w", b.Server, err)
	}
	b.VersionLine, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	m := versionRE.FindStringSubmatch(b.VersionLine)
	if m == nil {
		return Binaries{}, fmt.Errorf("%s --version printed %q, no v=X.Y.Z in it", b.Server, b.VersionLine)
	}
	b.Version = m[1]
	b.Family = "redis"
	if strings.HasPrefix(b.VersionLine, "Valkey") {
		b.Family = "valkey"
	}
	b.Name = b.Family + " " + b.Version
	b.RDBVersion = 10
	switch {
	case !b.AtLeast(7, 0):
		b.RDBVersion = 9
	case b.AtLeast(7, 4):
		b.RDBVersion = 12
	}
	return b, nil
}

var versionRE = regexp.MustCompile(`\bv=(\d+\.\d+\.\d+)`)

// AtLeast reports whether the server's version is major.minor or later.
func (b Binaries) AtLeast(major, minor int) bool {
	parts := strings.SplitN(b.Version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// Require returns the binaries, or ends the test when they are missing: a skip
// with the reason locally, a failure when the environment has CI=true.
func Require(t testing.TB) Binaries {
	t.Helper()
	b, err := Lookup()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis binaries are required under CI: %v", err)
		}
		t.Skipf("redis binaries not available (install redis-server and redis-tools, or set REDIS_SERVER etc.): %v", err)
	}
	return b
}
