package rdb

import "github.com/rdbtool/rdbtool/pkg/rdb/internal/crc64"

// Redis uses CRC-64/Jones: reflected polynomial 0xAD93D23594C935A9, init 0,
// xorout 0 (FORMAT-NOTES §5). The checksum of a multi-gigabyte file is on the
// critical path of verify; internal/crc64 folds with carry-less multiplication
// where the CPU has it (over 10 GB/s) and falls back to slicing-by-16.

// CRC64 returns Redis's CRC-64 of data.
func CRC64(data []byte) uint64 { return crc64.Checksum(data) }

// UpdateCRC64 continues a Redis CRC-64 computation: the result for a chunk is the
// starting value for the next.
func UpdateCRC64(crc uint64, p []byte) uint64 { return crc64.Update(crc, p) }
