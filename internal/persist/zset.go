package persist

import "bytes"

// CompareZ is Redis's sorted-set order: by score, then by the members' bytes
// as sdscmp compares them (memcmp, then the shorter first). 0 and -0
// compare equal, as they do in Redis. It returns -1, 0 or +1 as (s1, m1)
// sorts before, with or after (s2, m2).
func CompareZ(s1 float64, m1 []byte, s2 float64, m2 []byte) int {
	switch {
	case s1 < s2:
		return -1
	case s1 > s2:
		return 1
	}
	return bytes.Compare(m1, m2)
}
