// Package ziplist reads and writes Redis ziplists, the blob behind small
// lists, hashes and sorted sets in RDB files written by Redis 2.4 to 6.2
// (types 10, 12, 13 and the nodes of quicklist type 14; FORMAT-NOTES §4.1).
//
// # Format
//
//	u32le zlbytes   size of the whole blob
//	u32le zltail    offset of the last entry (10, the header size, when empty)
//	u16le zllen     entry count; 65535 means "walk to count"
//	entry*
//	u8    0xFF      terminator, always the last byte
//
//	entry   := prevlen encoding [data]
//	prevlen := u8 (0..253) | 0xFE u32le     size of the previous entry
//
//	00llllll                      string, 0..63 bytes
//	01llllll llllllll             string, 14-bit big-endian length
//	10______ u32be                string, 32-bit big-endian length
//	0xC0 int16le | 0xD0 int32le | 0xE0 int64le | 0xF0 int24le | 0xFE int8
//	0xF1..0xFD                    immediate 0..12 (low nibble minus one)
//
// # Validation
//
// The Iterator applies the checks of Redis's ziplistValidateIntegrity while
// it walks: the header must match the blob, every prevlen must equal the size
// of the entry before it (0 for the first), every entry must end before the
// terminator, 0xFF may appear only as the last byte, the count must equal
// zllen unless that is 65535, and zltail must be the offset of the last entry.
// Like Redis it also accepts what Redis's own writers produced at some point:
// a 5-byte prevlen holding a small value (left behind by cascade updates) and
// a 32-bit string header whose low six bits are not zero (Redis masks them).
// Unlike Redis it also requires zltail to be 10 in an empty ziplist, which is
// the only value Redis writes there.
//
// # Slices, allocation, concurrency
//
// Str returns sub-slices of the blob passed to NewIterator, capped so that an
// append cannot overwrite the blob. Iterating does not allocate.
// Builder.Bytes returns the builder's own buffer, valid until the next Append
// or Reset. Neither type is safe for concurrent use.
package ziplist
