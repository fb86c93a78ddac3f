package memory

import "math"

// dictTables follows the table sizes of a Redis 7.0 dict through expansions
// and incremental rehashing, for MEMORY USAGE counts the bucket arrays of both
// tables while a rehash is in progress. The one thing a model cannot know is
// which buckets the keys hash to (SipHash with a random seed): a rehash is
// taken to need as many steps as ht[0] has non-empty buckets on average.
type dictTables struct {
	size0, size1 int64 // bucket counts; size1 > 0 while rehashing
	used         int64 // entries in both tables
	stepsLeft    int64 // buckets ht[0] still has to move
}

const dictInitialSize = 4

// nextPow2 is _dictNextExp as a size: the smallest power of two >= n, at least 4.
func nextPow2(n int64) int64 {
	s := int64(dictInitialSize)
	for s < n && s < 1<<62 {
		s <<= 1
	}
	return s
}

// expand is _dictExpand (dictExpand and dictTryExpand).
func (d *dictTables) expand(n int64) {
	if d.size1 > 0 || d.used > n {
		return
	}
	s := nextPow2(n)
	if s == d.size0 {
		return
	}
	if d.size0 == 0 {
		d.size0 = s
		return
	}
	d.size1 = s
	d.stepsLeft = expectedNonEmpty(d.size0, d.used)
}

// add is dictAdd of a new key: one rehash step, then growth when full.
func (d *dictTables) add() {
	if d.size1 > 0 {
		d.step()
	}
	if d.size1 == 0 {
		if d.size0 == 0 {
			d.expand(dictInitialSize)
		} else if d.used >= d.size0 {
			d.expand(d.used + 1)
		}
	}
	d.used++
}

func (d *dictTables) step() {
	if d.stepsLeft > 0 {
		d.stepsLeft--
	}
	if d.stepsLeft == 0 {
		d.size0, d.size1 = d.size1, 0
	}
}

// slots is dictSlots: the buckets of both tables.
func (d *dictTables) slots() int64 { return d.size0 + d.size1 }

// expectedNonEmpty is the expected number of non-empty buckets when n keys
// hash uniformly into s buckets.
func expectedNonEmpty(s, n int64) int64 {
	if n == 0 {
		return 0
	}
	e := float64(s) * (1 - math.Pow(1-1/float64(s), float64(n)))
	return max(1, int64(math.Round(e)))
}
