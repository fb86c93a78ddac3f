package cluster

import (
	"strconv"
	"sync"
)

// NumSlots is the number of hash slots of a Redis Cluster.
const NumSlots = 16384

// crcTable is CRC16-XMODEM (polynomial 0x1021, initial 0), the CRC Redis
// Cluster hashes keys with (src/crc16.c).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC16 is CRC16-XMODEM of b.
func CRC16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ crcTable[byte(c>>8)^x]
	}
	return c
}

// Slot is the hash slot of key, hash tags included, as keyHashSlot in
// Redis's cluster.c computes it.
func Slot(key []byte) int {
	for i, c := range key {
		if c != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					break // "{}": no tag, the whole key is hashed
				}
				return int(CRC16(key[i+1:j]) & (NumSlots - 1))
			}
		}
		break
	}
	return int(CRC16(key) & (NumSlots - 1))
}

var (
	tagsOnce sync.Once
	tags     [NumSlots]string
)

// Tag returns a short string whose slot is slot, so that a key written
// "{"+Tag(slot)+"}..." lands in that slot (helper keys that must live beside
// a given key; probing a node for the slots it owns).
func Tag(slot int) string {
	tagsOnce.Do(func() {
		left := NumSlots
		for i := 0; left > 0; i++ {
			s := strconv.FormatInt(int64(i), 36)
			k := CRC16([]byte(s)) & (NumSlots - 1)
			if tags[k] == "" {
				tags[k] = s
				left--
			}
		}
	})
	return tags[slot&(NumSlots-1)]
}
