//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only. Verifying a mapped file copies
// nothing: the parser and the checksum goroutine read the page cache directly,
// which is what lets verify run several times faster than reading the file
// through read(2) and a buffer would.
func mapFile(f *os.File, size int64) (*mapping, bool) {
	if size <= 0 || size != int64(int(size)) {
		return nil, false
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return &mapping{data: data}, true
}

// mapping is a read-only file mapping.
type mapping struct {
	data     []byte
	released int
}

// release drops the pages before upto from this process's resident set. The
// page cache keeps them, so a late reader (the checksum goroutine trails the
// parser) just faults them back in; what it buys is a resident set that stays
// small however big the file, instead of growing to the file's size.
func (m *mapping) release(upto int64) {
	const page = 1 << 16
	end := int(min(upto, int64(len(m.data)))) &^ (page - 1)
	if end <= m.released {
		return
	}
	_ = unix.Madvise(m.data[m.released:end], unix.MADV_DONTNEED)
	m.released = end
}

func (m *mapping) unmap() error { return unix.Munmap(m.data) }
