package main

import (
	"os"
	"syscall"
)

const writebackSupported = true

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writing the dirty pages
// of the range, do not wait for them.
const syncFileRangeWrite = 2

// startWriteback starts the disk writes of f's bytes [off, off+n). It is
// advice: an error changes nothing (the final sync reports real ones).
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}
