package convert

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/rdbtool/rdbtool/internal/glob"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// ExpiredMode says what to do with keys whose TTL is already past.
type ExpiredMode uint8

const (
	ExpiredInclude ExpiredMode = iota // keep them, as the file holds them
	ExpiredExclude                    // drop them, as a loading Redis master would
	ExpiredOnly                       // keep only them
)

// ParseExpiredMode parses "include", "exclude" or "only".
func ParseExpiredMode(s string) (ExpiredMode, error) {
	switch s {
	case "", "include":
		return ExpiredInclude, nil
	case "exclude":
		return ExpiredExclude, nil
	case "only":
		return ExpiredOnly, nil
	}
	return 0, fmt.Errorf("--expired must be include, exclude or only, not %q", s)
}

// Filter selects keys. The zero Filter selects every key.
type Filter struct {
	DBs      []int  // databases to keep; empty keeps all
	KeyGlob  string // Redis glob (KEYS/SCAN MATCH syntax); empty keeps all
	KeyRegex *regexp.Regexp
	Kinds    []rdb.Kind // logical types to keep; empty keeps all
	Expired  ExpiredMode
	NowMs    int64 // the time "expired" is judged against
}

// ParseKind parses a type name as TYPE prints it (string, list, set, zset,
// hash, stream) or "module".
func ParseKind(s string) (rdb.Kind, error) {
	for k := rdb.KindString; k <= rdb.KindModule; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want string, list, set, zset, hash, stream or module)", s)
}

// Match reports whether a key entry passes the filter.
func (f *Filter) Match(e *rdb.Entry) bool {
	if len(f.DBs) > 0 && !slices.Contains(f.DBs, e.DB) {
		return false
	}
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, e.Type.Kind()) {
		return false
	}
	if f.Expired != ExpiredInclude {
		expired := e.HasExpire && e.ExpireAtMs <= f.NowMs
		if expired != (f.Expired == ExpiredOnly) {
			return false
		}
	}
	if f.KeyGlob != "" && !GlobMatch(f.KeyGlob, e.Key) {
		return false
	}
	if f.KeyRegex != nil && !f.KeyRegex.Match(e.Key) {
		return false
	}
	return true
}

// IsZero reports whether the filter keeps everything.
func (f *Filter) IsZero() bool {
	return len(f.DBs) == 0 && len(f.Kinds) == 0 && f.Expired == ExpiredInclude && f.KeyGlob == "" && f.KeyRegex == nil
}

// GlobMatch matches s against a Redis glob pattern as KEYS and SCAN MATCH do
// (see internal/glob: Redis's stringmatchlen, in O(pattern × key)).
func GlobMatch(pattern string, s []byte) bool {
	return glob.MatchKey(pattern, s)
}
