package convert

import (
	"fmt"
	"regexp"
	"slices"

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

// GlobMatch matches s against a Redis glob pattern, with the semantics of
// Redis's stringmatchlen: '*' any run, '?' one byte, "[abc]", "[^a]", "[a-z]"
// classes, and '\' to quote the next byte. Matching is on bytes.
func GlobMatch(pattern string, s []byte) bool {
	return globMatch(pattern, s, 0)
}

func globMatch(p string, s []byte, depth int) bool {
	if depth > 1000 { // pathological patterns: Redis bounds recursion too
		return false
	}
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(p[1:], s[i:], depth+1) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
			p = p[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			ok, rest := matchClass(p[1:], s[0])
			if !ok {
				return false
			}
			p = rest
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
			s = s[1:]
			p = p[1:]
		}
	}
	return len(s) == 0
}

// matchClass matches c against a class whose '[' was already consumed; it
// returns the pattern after the closing ']'.
func matchClass(p string, c byte) (bool, string) {
	not := len(p) > 0 && p[0] == '^'
	if not {
		p = p[1:]
	}
	match := false
	for len(p) > 0 && p[0] != ']' {
		switch {
		case p[0] == '\\' && len(p) >= 2:
			if p[1] == c {
				match = true
			}
			p = p[2:]
		case len(p) >= 3 && p[1] == '-' && p[2] != ']':
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				match = true
			}
			p = p[3:]
		default:
			if p[0] == c {
				match = true
			}
			p = p[1:]
		}
	}
	if len(p) > 0 { // skip ']'; an unterminated class ends the pattern, as in Redis
		p = p[1:]
	}
	return match != not, p
}
