// Package listpack reads and writes Redis listpacks, the blob behind small
// hashes, sets, sorted sets and lists since Redis 7.0 and behind every stream
// node since 5.0 (FORMAT-NOTES §4.2).
//
// # Format
//
//	u32le total_bytes    size of the whole blob, header and terminator included
//	u16le num_elements   65535 means "too many to count here, walk the entries"
//	entry*
//	u8    0xFF           terminator, always the last byte
//
//	entry := encoding [data] backlen
//
//	0xxxxxxx                    7-bit unsigned integer
//	10llllll data               string of 0..63 bytes
//	110vvvvv vvvvvvvv           13-bit signed integer (two's complement)
//	1110llll llllllll data      string of 0..4095 bytes (length high bits first)
//	11110000 u32le data         string with a 32-bit length
//	0xF1 int16le | 0xF2 int24le | 0xF3 int32le | 0xF4 int64le
//	0xF5..0xFE                  invalid
//
// backlen is the size of encoding+data in 1..5 bytes, written so it can be
// read backwards: the byte at the highest address holds the low 7 bits and
// every byte but the first has bit 7 set. Its width follows fixed cut-offs
// (≤127 → 1, <16383 → 2, <2097151 → 3, <268435455 → 4, else 5) that a
// forward walker must use as well.
//
// # Validation
//
// The Iterator validates as it walks, with the same rules as Redis's
// lpValidateIntegrity, because checking is far cheaper than the I/O that
// produced the blob: the header must match the blob length, every entry and
// its backlen must lie before the terminator, each backlen must decode to its
// entry's size, the terminator must be the last byte and the number of
// entries must equal the header count unless that is 65535. Non-minimal
// encodings (a short string with a 32-bit length, a small integer stored as
// int64) are valid, as they are for Redis.
//
// # Slices, allocation, concurrency
//
// Str returns sub-slices of the blob passed to NewIterator, capped so that an
// append cannot overwrite the blob; they are valid as long as that blob is.
// Iterating does not allocate. Builder.Bytes returns the builder's own buffer,
// valid until the next Append or Reset. Neither type is safe for concurrent
// use; separate values are independent.
package listpack
