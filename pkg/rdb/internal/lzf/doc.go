// Package lzf implements the LZF compression format that Redis applies to
// strings longer than 20 bytes in RDB files (RDB_ENC_LZF, §5.4 of
// FORMAT-NOTES).
//
// # Format
//
// A stream is a sequence of instructions, each starting with a control byte:
//
//	000LLLLL                 literal run: copy the next L+1 input bytes (1..32)
//	LLLooooo oooooooo        back-reference, L = 1..6: copy L+2 bytes (3..8)
//	111ooooo LLLLLLLL oooooooo
//	                         long back-reference: copy 7+L+2 bytes (9..264)
//
// The 13-bit o field is the distance minus one: copying starts o+1 bytes
// before the current end of the output. Source and destination may overlap,
// in which case bytes are copied one at a time in increasing order, so a
// distance of 1 repeats the last byte. The stream carries no length of its
// own: the RDB string header announces the decompressed length, and a stream
// that produces more or fewer bytes is corrupt.
//
// # Limits
//
// A three-byte long back-reference expands to at most 264 bytes, so no input
// can produce more than MaxExpansion(len(src)) bytes. Decompress refuses an
// announced length above that before allocating anything, which keeps a
// hostile length header from turning into a huge allocation.
//
// # Checking without decompressing
//
// Whether a stream is valid depends only on its instructions (lengths,
// distances, the announced total), never on the bytes they copy. Check walks
// the instructions and returns exactly the error Decompress would, without
// writing any memory: that is how a string nobody reads is verified. The
// tests hold both to the decoder of commit b3235d6, on every input they try.
//
// # Slices and concurrency
//
// Decompress and Compress write into the capacity of dst when it is large
// enough and return the result; the caller owns it. Decompress may also
// overwrite capacity past the result, where it copies 16 bytes at a time.
// All three functions are safe for concurrent use. Compress draws its match
// table from a sync.Pool, so it does not allocate in the steady state, and
// its output depends only on its input.
package lzf
