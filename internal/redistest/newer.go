package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/testenv"
)

// Newer servers: the builds under shared/servers (their README), judges for
// what Debian's 7.0 cannot read. Both report v=255.255.255.
const (
	// Redis74 is a Redis unstable build of 2024-10-18: RDB 12, hash-field TTLs.
	Redis74 = "redis-unstable-20241018"
	// Valkey8 is a Valkey unstable build of 2024-10-25: RDB 11, Valkey 8.0's format.
	Valkey8 = "valkey-unstable-20241025"
)

// newerServers says what each newer build is.
var newerServers = map[string]struct {
	family     string
	rdbVersion int
}{
	Redis74: {"redis", 12},
	Valkey8: {"valkey", 11},
}

// RequireNewer returns the binaries of a newer server build (Redis74 or
// Valkey8), or ends the test as testenv.Missing says: a skip with the reason on
// a lone clone, a failure under CI. The check-rdb and check-aof programs are
// the server binary started under those names; the shared folder keeps them as
// broken links, so they are linked again in a temporary folder.
func RequireNewer(t testing.TB, name string) Binaries {
	t.Helper()
	info, ok := newerServers[name]
	if !ok {
		t.Fatalf("redistest: unknown newer server %q", name)
	}
	dir := testenv.ServerDir(name)
	if dir == "" {
		testenv.Missing(t, "the server build shared/servers/"+name)
	}
	b, err := newerBinaries(dir, info.family, t.TempDir())
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("server build %s: %v", name, err)
		}
		t.Skipf("skipped: server build %s unusable: %v", name, err)
	}
	b.RDBVersion = info.rdbVersion
	b.Name = name
	return b
}

// newerBinaries fills Binaries for a server folder, linking the check programs
// into linkDir.
func newerBinaries(dir, family, linkDir string) (Binaries, error) {
	b := Binaries{
		Server: filepath.Join(dir, family+"-server"),
		CLI:    filepath.Join(dir, family+"-cli"),
		Family: family,
	}
	for _, p := range []struct {
		dst  *string
		name string
	}{{&b.CheckRDB, family + "-check-rdb"}, {&b.CheckAOF, family + "-check-aof"}} {
		link := filepath.Join(linkDir, p.name)
		if err := os.Symlink(b.Server, link); err != nil {
			return b, err
		}
		*p.dst = link
	}
	out, err := exec.Command(b.Server, "--version").Output()
	if err != nil {
		return b, fmt.Errorf("%s --version: %w", b.Server, err)
	}
	b.VersionLine, _, _ = strings.Cut(strings.TrimSpace(string(out)), "\n")
	m := versionRE.FindStringSubmatch(b.VersionLine)
	if m == nil {
		return b, fmt.Errorf("%s --version printed %q, no v=X.Y.Z in it", b.Server, b.VersionLine)
	}
	b.Version = m[1]
	return b, nil
}
