package glob

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, key string
		want         bool
	}{
		{"*", "anything", true},
		{"*", "", false}, // stringmatchlen itself; KEYS special-cases "*"
		{"**", "", false},
		{"", "", true},
		{"", "a", false},
		{"user:*", "user:1", true},
		{"user:*", "users:1", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[b-a]llo", "hbllo", true}, // a backwards range is swapped
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hallo", false},
		{`\`, `\`, true}, // a lone trailing backslash is itself
		{`ab\`, `ab\`, true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"a*", "a", true},
		{"a*?", "a", false},
		{"a**", "a", true},
		{"[", "a", false},
		{"[a", "a", true}, // an unterminated class ends the pattern
		{"[a", "ab", false},
		{"[ab", "b", true},
		{"[^", "x", true},
		{"k[\\]]", "k]", true},
		{"[a-]", "]", true},  // "a-]" is the range 'a'..']' (and the class has no end)
		{"[a-]", "-", false}, // '-' (0x2d) is not in 'a'..']'
		{"[a-]", "b", false}, // the range is swapped to ']' (0x5d) .. 'a' (0x61)
		{"[a-]", "^", true},  // '^' (0x5e) is in it
		{"[]]", "]", false},  // "[]" is an empty class, then a literal ']'
		{"[]]", "]]", false},
		{"[]a]", "a", false},
		{"[\\", "\\", true},
		{"a[b-d]e", "ace", true},
		{"a[b-d]e", "aee", false},
		{"*[", "x", false},
		{"?", "", false},
		{"x*", "x", true},
		{"*x", "x", true},
		{"*x*", "", false},
	}
	for _, c := range cases {
		if got := Match(c.pattern, []byte(c.key)); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
		if got := naive(c.pattern, []byte(c.key), 0); got != c.want {
			t.Errorf("naive(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
	if !MatchKey("*", nil) || MatchKey("**", nil) {
		t.Error("MatchKey: only the pattern \"*\" matches the empty key")
	}
}

// TestMatchLinear runs the patterns of issue 9 that took seconds to minutes
// with the backtracking matcher: with the O(pattern × key) one they are
// instant (the test would hang, not fail, if that regressed).
func TestMatchLinear(t *testing.T) {
	key := []byte(strings.Repeat("a", 3000))
	for _, p := range []string{"*a*a*b", "*a*a*a*b", strings.Repeat("*a", 50) + "*b", strings.Repeat("*?", 200) + "b"} {
		if Match(p, key) {
			t.Errorf("%q matched %d a's", p, len(key))
		}
	}
	// Deep nesting gives up as Redis 7.2.5+ does.
	if Match(strings.Repeat("a*", 1200)+"a", []byte(strings.Repeat("a", 1300))) {
		t.Error("more than 1000 nested stars matched")
	}
}

// naive is stringmatchlen without the skip-longer-matches shortcut:
// exponential, but obviously the original's meaning, for comparing on small
// inputs.
func naive(p string, s []byte, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && at(p, 1) == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for ; len(s) > 0; s = s[1:] {
				if naive(p[1:], s, nesting+1) {
					return true
				}
			}
			return false
		case '?':
			s = s[1:]
		case '[':
			var ok bool
			p, ok = matchClass(p[1:], s[0])
			if !ok {
				return false
			}
			s = s[1:]
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for at(p, 0) == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"*a*b", "xaxb"}, {"[^a-c]?", "dz"}, {`\[x*`, "[xyz"}, {"[a-]", "^"}, {"*[", "ab"}} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, pattern string, key []byte) {
		if len(pattern) > 24 || len(key) > 24 {
			return // naive is exponential
		}
		if got, want := Match(pattern, key), naive(pattern, key, 0); got != want {
			t.Fatalf("Match(%q, %q) = %v, stringmatchlen says %v", pattern, key, got, want)
		}
	})
}

func BenchmarkMatchAdversarial(b *testing.B) {
	key := []byte(strings.Repeat("a", 3000))
	for b.Loop() {
		Match("*a*a*a*b", key)
	}
}
