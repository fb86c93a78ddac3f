//go:build unix

package main

import (
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of the file it replaces, as far as
// the process may (root may; others keep their own): a repaired AOF must stay
// writable by the server that owns it.
func keepOwner(f *os.File, replaced os.FileInfo) {
	st, ok := replaced.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	mine, err := f.Stat()
	if err != nil {
		return
	}
	if cur, ok := mine.Sys().(*syscall.Stat_t); ok && cur.Uid == st.Uid && cur.Gid == st.Gid {
		return
	}
	_ = f.Chown(int(st.Uid), int(st.Gid))
}
