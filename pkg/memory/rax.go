package memory

// raxCounter counts the nodes Redis's rax (radix tree) allocates for keys
// inserted in ascending order, as stream node IDs and PEL IDs are when a
// server loads them: it follows raxGenericInsert's splits and compressions
// but keeps only the rightmost path, the only part a larger key can touch, so
// its memory does not grow with the number of keys. A key that is not larger
// than the one before is counted as if it were (only hand-made files do that).
type raxCounter struct {
	nodes, elements int64
	path            []raxPathNode // from the head down to the last key
}

type raxPathNode struct {
	compressed bool
	data       []byte // compressed: its bytes; otherwise only the last child's byte
	size       int    // children (not compressed) or bytes (compressed)
	key        bool
}

func newRaxCounter() raxCounter {
	return raxCounter{nodes: 1, path: []raxPathNode{{}}}
}

func (c *raxCounter) insert(s []byte) {
	// Walk down the rightmost path (raxLowWalk).
	depth, i, j := 0, 0, 0
	for {
		h := &c.path[depth]
		if h.size == 0 || i >= len(s) {
			break
		}
		if h.compressed {
			for j = 0; j < h.size && i < len(s) && h.data[j] == s[i]; j++ {
				i++
			}
			if j != h.size {
				break
			}
		} else {
			if h.data[0] != s[i] {
				j = h.size
				break
			}
			i++
		}
		j = 0
		if depth+1 >= len(c.path) {
			break // a shorter key than the ones before: count what we can
		}
		depth++
	}
	h := &c.path[depth]
	if i == len(s) && (!h.compressed || j == 0) {
		if !h.key {
			h.key = true
			c.elements++
		}
		return
	}
	if h.compressed && i == len(s) {
		// ALGO 2: the key ends inside a compressed node (a prefix of a
		// longer key): a postfix node is added.
		c.nodes++
		c.elements++
		c.path = c.path[:depth+1]
		return
	}
	if h.compressed {
		// ALGO 1: split the compressed node at j.
		old := *h
		c.path = c.path[:depth]
		if j > 0 {
			trimmed := raxPathNode{compressed: j > 1, size: j, key: old.key}
			if j > 1 {
				trimmed.data = append([]byte(nil), old.data[:j]...)
			} else {
				trimmed.data = []byte{old.data[0]}
			}
			c.path = append(c.path, trimmed)
			c.nodes++
		}
		if old.size-j-1 > 0 {
			c.nodes++ // the postfix, now off the rightmost path
		}
		c.path = append(c.path, raxPathNode{size: 1, data: []byte{old.data[j]}, key: j == 0 && old.key})
		depth = len(c.path) - 1
	} else {
		c.path = c.path[:depth+1]
	}
	// Add the rest of the key below c.path[depth].
	for i < len(s) {
		h := &c.path[depth]
		if h.size == 0 && len(s)-i > 1 {
			h.compressed = true
			h.data = append(h.data[:0], s[i:]...)
			h.size = len(s) - i
			i = len(s)
		} else {
			h.data = append(h.data[:0], s[i])
			h.size++
			i++
		}
		c.nodes++
		c.path = append(c.path, raxPathNode{})
		depth++
	}
	c.path[depth].key = true
	c.elements++
}

// memoryUsage is streamRadixTreeMemoryUsage.
func (c *raxCounter) memoryUsage() int64 {
	return c.elements*streamIDSize + c.nodes*raxNodeCost
}
