// Package crc64 implements the CRC-64 that Redis appends to RDB files:
// CRC-64/Jones as Redis uses it, i.e. reflected, polynomial 0xAD93D23594C935A9,
// initial value 0, no final xor. Checksum("123456789") == 0xE9C6D914C4B8D9CA.
//
// On amd64 with PCLMULQDQ, inputs of at least minFoldLen bytes are folded with
// carry-less multiplication (crc64_amd64.s); everything else, including the
// tail shorter than 16 bytes, goes through a slicing-by-16 table. The build
// tag purego disables the assembly.
package crc64

import (
	"encoding/binary"
	"hash/crc64"
)

// reversedPoly is 0xAD93D23594C935A9 with its bits reversed: the form that
// hash/crc64 and a right-shifting (reflected) register use.
const reversedPoly = 0x95AC9329AC4BC9B5

// Checksum returns Redis's CRC-64 of p.
func Checksum(p []byte) uint64 { return update(0, p) }

// Update continues a CRC-64 computation: the result for one chunk is the
// starting value for the next, so Update(Update(0, a), b) == Checksum(a||b).
func Update(crc uint64, p []byte) uint64 { return update(crc, p) }

// tables[k][b] is the register contribution of byte b followed by k zero
// bytes, so 16 input bytes are consumed with 16 independent lookups.
var tables = func() *[16][256]uint64 {
	var t [16][256]uint64
	t[0] = *crc64.MakeTable(reversedPoly)
	for b := range 256 {
		crc := t[0][b]
		for k := 1; k < 16; k++ {
			crc = t[0][crc&0xff] ^ crc>>8
			t[k][b] = crc
		}
	}
	return &t
}()

// updateTable is the portable slicing-by-16 implementation.
func updateTable(crc uint64, p []byte) uint64 {
	t := tables
	for len(p) >= 16 {
		a := crc ^ binary.LittleEndian.Uint64(p)
		b := binary.LittleEndian.Uint64(p[8:])
		crc = t[15][a&0xff] ^ t[14][(a>>8)&0xff] ^ t[13][(a>>16)&0xff] ^ t[12][(a>>24)&0xff] ^
			t[11][(a>>32)&0xff] ^ t[10][(a>>40)&0xff] ^ t[9][(a>>48)&0xff] ^ t[8][a>>56] ^
			t[7][b&0xff] ^ t[6][(b>>8)&0xff] ^ t[5][(b>>16)&0xff] ^ t[4][(b>>24)&0xff] ^
			t[3][(b>>32)&0xff] ^ t[2][(b>>40)&0xff] ^ t[1][(b>>48)&0xff] ^ t[0][b>>56]
		p = p[16:]
	}
	// A byte at a time costs a dependent lookup per byte, so take up to 12
	// tail bytes 8 and 4 at a time with the same tables.
	if len(p) >= 8 {
		a := crc ^ binary.LittleEndian.Uint64(p)
		crc = t[7][a&0xff] ^ t[6][(a>>8)&0xff] ^ t[5][(a>>16)&0xff] ^ t[4][(a>>24)&0xff] ^
			t[3][(a>>32)&0xff] ^ t[2][(a>>40)&0xff] ^ t[1][(a>>48)&0xff] ^ t[0][a>>56]
		p = p[8:]
	}
	if len(p) >= 4 {
		a := crc ^ uint64(binary.LittleEndian.Uint32(p))
		crc = crc>>32 ^ t[3][a&0xff] ^ t[2][(a>>8)&0xff] ^ t[1][(a>>16)&0xff] ^ t[0][(a>>24)&0xff]
		p = p[4:]
	}
	for _, v := range p {
		crc = t[0][byte(crc)^v] ^ crc>>8
	}
	return crc
}
