// Package glob matches keys against Redis glob patterns (KEYS, SCAN MATCH,
// rdbtool's --key) with the exact semantics of Redis's stringmatchlen
// (util.c): '*' any run of bytes, '?' one byte, "[abc]", "[^abc]", "[a-z]"
// classes (ranges may be written backwards), '\' quoting the next byte, and
// the odd cases Redis has, which this package keeps on purpose: an
// unterminated class ends the pattern, "[a-]" is the range from 'a' to ']',
// and a pattern other than "*" never matches the empty key.
//
// Matching takes O(len(pattern) × len(key)) steps, like Redis since the fix
// of CVE-2022-36021, and never more than maxNesting levels of recursion
// (Redis 7.2.5 and later give up the same way: no match).
//
// Match is safe for concurrent use; it allocates nothing.
package glob
