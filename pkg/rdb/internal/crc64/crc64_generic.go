//go:build !amd64 || purego

package crc64

// Without the assembly (other architectures, or -tags purego) every input
// goes through the table.
func update(crc uint64, p []byte) uint64 { return updateTable(crc, p) }
