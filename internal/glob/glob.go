package glob

// maxNesting is how many '*' a match may be nested under before it gives up
// with no match: stringmatchlen's "protection against abusive patterns" of
// Redis 7.2.5 and later (Redis 7.0 has no limit and may overflow its stack).
const maxNesting = 1000

// Pattern is what a pattern may be held in: a command's argument or a flag.
type Pattern interface{ ~string | ~[]byte }

// Match reports whether key matches pattern as Redis's stringmatchlen
// (case-sensitive) decides.
func Match[P Pattern](pattern P, key []byte) bool {
	skip := false
	return match(pattern, key, &skip, 0)
}

// MatchKey is Match as KEYS and SCAN MATCH use it: the pattern "*" matches
// every key, the empty key included (Redis skips matching for it).
func MatchKey[P Pattern](pattern P, key []byte) bool {
	if len(pattern) == 1 && pattern[0] == '*' {
		return true
	}
	return Match(pattern, key)
}

// at is the pattern byte at i, or 0 past its end: stringmatchlen reads the
// terminating NUL of its pattern in a few places, and this keeps those reads.
func at[P Pattern](p P, i int) byte {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// match is stringmatchlen_impl. skipLonger is shared by the whole match: once
// the rest of a pattern after a '*' failed at every position of the rest of
// the key, no earlier '*' can do better by matching more, so every level
// gives up. That keeps the work to O(pattern × key).
func match[P Pattern](p P, s []byte, skipLonger *bool, nesting int) bool {
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
			for len(s) > 0 {
				if match(p[1:], s, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s = s[1:]
			}
			*skipLonger = true
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

// matchClass matches c against the class that starts after a '[' and returns
// the pattern positioned on the class's last byte (its ']', or the pattern's
// last byte when the class is unterminated), as stringmatchlen leaves it.
func matchClass[P Pattern](p P, c byte) (P, bool) {
	not := at(p, 0) == '^'
	if not {
		p = p[1:]
	}
	matched := false
	for {
		switch {
		case at(p, 0) == '\\' && len(p) >= 2:
			p = p[1:]
			if p[0] == c {
				matched = true
			}
		case at(p, 0) == ']':
			return p, matched != not
		case len(p) == 0:
			// An unterminated class: Redis steps back onto the last byte,
			// which the caller then steps over, ending the pattern.
			return P(" "), matched != not
		case len(p) >= 3 && p[1] == '-':
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				matched = true
			}
			p = p[2:]
		default:
			if p[0] == c {
				matched = true
			}
		}
		p = p[1:]
	}
}
