// Package zipmap reads Redis zipmaps, the blob behind small hashes in RDB
// files written by Redis 2.4 and older (RDB type 9, FORMAT-NOTES §4.4).
// Redis has not written zipmaps since 2.6, so there is no writer: rdbtool
// converts them to listpacks or plain hashes.
//
// # Format
//
//	u8 zmlen                      pair count if < 254; 254 or 255 means "walk to count"
//	{ len klen, key, len vlen, u8 free, value, free × padding }*
//	u8 0xFF                       end marker, the last byte
//
//	len := u8 (0..253) | 0xFE u32le
//
// A 0xFF where a key length is expected is the end marker. The free bytes
// after a value are slack left by in-place updates and are skipped. The 5-byte
// length form is accepted for any length, including short ones, because real
// files contain it.
//
// # Validation
//
// The Iterator follows Redis's zipmapValidateIntegrity and goes slightly
// further: every key, value and padding run must end before the end marker,
// the end marker must be the last byte (Redis tolerates bytes after it), a
// value length may not be 0xFF (Redis would read it as a 5-byte length; no
// writer ever produced one), and the number of pairs must equal zmlen when
// zmlen is below 254. A zmlen of 255 is accepted with any count, as Redis 2.x
// (zipmapLen) read it; Redis 3.0+ validation would want exactly 255 pairs. Unlike Redis, an empty zipmap is not an error here: the caller
// decides what an empty hash means.
//
// # Slices, allocation, concurrency
//
// Key and Value return sub-slices of the blob passed to NewIterator, capped
// so that an append cannot overwrite the blob. Iterating does not allocate.
// An Iterator is not safe for concurrent use.
package zipmap
