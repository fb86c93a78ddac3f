package restore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rdbtool/rdbtool/pkg/rdb"
	"github.com/rdbtool/rdbtool/pkg/resp"
)

// Server is what Probe learns about a server.
type Server struct {
	Family  string // "redis" or "valkey"
	Version string // "7.0.15"; "255.255.255" for unstable builds
	// RDBVersion is the version of the DUMP payloads it writes and the
	// newest it takes: from FUNCTION DUMP's footer when the server has the
	// command (exact, whatever INFO says), else from Version.
	RDBVersion int
	Cluster    bool  // cluster_enabled:1
	MaxBulk    int64 // proto-max-bulk-len (512 MiB when CONFIG GET is refused)
	Functions  bool  // FUNCTION RESTORE exists (7.0+)
}

// Name is "redis 7.0.15".
func (s Server) Name() string { return s.Family + " " + s.Version }

const defaultMaxBulk = 512 << 20

// Probe asks a server what Run needs to know, by INFO, FUNCTION DUMP and
// CONFIG GET proto-max-bulk-len (each may be refused by ACLs; Probe falls
// back to what INFO says, and to the defaults).
func Probe(c *resp.Conn) (Server, error) {
	s := Server{Family: "redis", MaxBulk: defaultMaxBulk}
	info, err := c.Info("server")
	if err != nil {
		return s, fmt.Errorf("INFO server on %s: %w", c.Addr(), err)
	}
	s.Version = info["redis_version"]
	if v := info["valkey_version"]; v != "" || info["server_name"] == "valkey" {
		s.Family = "valkey"
		if v != "" {
			s.Version = v
		}
	}
	if ci, err := c.Info("cluster"); err == nil {
		s.Cluster = ci["cluster_enabled"] == "1"
	}
	if r, err := c.Do("FUNCTION", "DUMP"); err == nil && r.Kind == resp.KindBulk && len(r.Str) >= 10 {
		s.Functions = true
		s.RDBVersion = int(binary.LittleEndian.Uint16(r.Str[len(r.Str)-10:]))
	} else {
		var re *resp.Error
		if errors.As(err, &re) && !strings.Contains(strings.ToLower(re.Msg), "unknown") {
			s.Functions = true // refused by an ACL, but it is there
		}
		s.RDBVersion = RDBVersionOf(s.Family, s.Version)
	}
	if r, err := c.Do("CONFIG", "GET", "proto-max-bulk-len"); err == nil && len(r.Elems) == 2 {
		if n, err := strconv.ParseInt(r.Elems[1].Text(), 10, 64); err == nil && n > 0 {
			s.MaxBulk = n
		}
	}
	return s, nil
}

// RDBVersionOf is the RDB version a server release writes, from the table of
// docs/versions.md (rdb.Targets): the newest line not newer than version.
// It is 0 when unknown (unstable builds report 255.255.255).
func RDBVersionOf(family, version string) int {
	major, minor, ok := parseVersion(version)
	if !ok || major >= 100 {
		return 0
	}
	best, bestAt := 0, -1
	for _, t := range rdb.Targets() {
		if t.Valkey != (family == "valkey") {
			continue
		}
		tm, tn, _ := parseVersion(strings.TrimPrefix(strings.TrimPrefix(t.Name, "redis:"), "valkey:"))
		at := tm*100 + tn
		if at <= major*100+minor && at > bestAt {
			best, bestAt = t.Version, at
		}
	}
	if best == 0 && family == "redis" {
		switch {
		case major*100+minor >= 206:
			return 6 // 2.6 to 3.0
		case major*100+minor >= 204:
			return 2
		}
	}
	return best
}

func parseVersion(v string) (int, int, bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(parts[1])
	return a, b, err1 == nil && err2 == nil
}

// AcceptsPayload reports whether a server writing RDB version target loads
// a DUMP payload of version src. Servers take their own version and older
// ones, except that Valkey 9 (80) refuses Redis's 12 and later, and only
// Valkey 9 takes 80.
func AcceptsPayload(src, target int) bool {
	switch {
	case src == 80:
		return target == 80
	case target == 80:
		return src <= 11
	}
	return src <= target
}
