package engine

import "bytes"

// zskiplist is Redis's sorted-set skiplist (t_zset.c): nodes ordered by
// (score, member bytes), each level link carrying its span so that ranks are
// O(log n). The level of a node only affects speed, never order, so the
// random source is a fixed-seed xorshift: runs are reproducible.

const zslMaxLevel = 32

type zslLevel struct {
	forward *zslNode
	span    int
}

type zslNode struct {
	member   []byte
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zskiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	level  int
	rnd    uint64
}

func newSkiplist() *zskiplist {
	return &zskiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1, rnd: 0x9e3779b97f4a7c15}
}

func (z *zskiplist) randomLevel() int {
	lvl := 1
	for lvl < zslMaxLevel {
		z.rnd ^= z.rnd << 13
		z.rnd ^= z.rnd >> 7
		z.rnd ^= z.rnd << 17
		if z.rnd&3 != 0 { // p = 1/4
			break
		}
		lvl++
	}
	return lvl
}

// zless reports whether (s1, m1) sorts before (s2, m2).
func zless(s1 float64, m1 []byte, s2 float64, m2 []byte) bool {
	return s1 < s2 || s1 == s2 && bytes.Compare(m1, m2) < 0
}

func (z *zskiplist) insert(score float64, member []byte) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		if i != z.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zless(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := z.randomLevel()
	if lvl > z.level {
		for i := z.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = z.header
			update[i].level[i].span = z.length
		}
		z.level = lvl
	}
	n := &zslNode{member: member, score: score, level: make([]zslLevel, lvl)}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < z.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != z.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		z.tail = n
	}
	z.length++
	return n
}

func (z *zskiplist) deleteNode(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < z.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		z.tail = x.backward
	}
	for z.level > 1 && z.header.level[z.level-1].forward == nil {
		z.level--
	}
	z.length--
}

// delete removes the node (score, member) and reports whether it was there.
func (z *zskiplist) delete(score float64, member []byte) bool {
	var update [zslMaxLevel]*zslNode
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && zless(f.score, f.member, score, member); f = x.level[i].forward {
			x = f
		}
		update[i] = x
	}
	x = x.level[0].forward
	if x != nil && x.score == score && bytes.Equal(x.member, member) {
		z.deleteNode(x, &update)
		return true
	}
	return false
}

// byRank returns the node of 1-based rank r, nil when out of range.
func (z *zskiplist) byRank(r int) *zslNode {
	if r < 1 || r > z.length {
		return nil
	}
	traversed := 0
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

// firstWhere returns the first node for which before(node) is false, given
// that before is true for a prefix of the list and false after it.
func (z *zskiplist) firstWhere(before func(n *zslNode) bool) *zslNode {
	x := z.header
	for i := z.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f); f = x.level[i].forward {
			x = f
		}
	}
	return x.level[0].forward
}

// first is the lowest node, nil when empty.
func (z *zskiplist) first() *zslNode { return z.header.level[0].forward }
