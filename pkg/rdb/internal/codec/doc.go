// Package codec holds what the inner blob decoders (listpack, ziplist, intset,
// zipmap, lzf) share: the error they report for malformed bytes and the
// integer text rules Redis applies when it decides whether a string "is" an
// integer.
//
// # Canonical integers
//
// Redis stores a string as an integer whenever util.c string2ll accepts it,
// and renders integer entries back as decimal text. The two must be exact
// inverses, or a round trip through an integer encoding would change the
// value: "007", "+7", " 7" and "-0" are therefore not integers, and neither is
// anything longer than 20 bytes or outside int64.
//
//	ParseCanonicalInt("123")  -> 123, true
//	ParseCanonicalInt("-0")   -> 0, false
//	ParseCanonicalInt("0012") -> 0, false
//
// # Errors
//
// Decoders report malformed input as *FormatError carrying the byte offset
// within the blob (not within the file: the caller knows where the blob
// started and adds its own context).
//
// Everything here is safe for concurrent use and allocates only when an
// error is built.
package codec
