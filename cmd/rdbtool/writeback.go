package main

import (
	"io"
	"os"
)

// Writing a big output back to the disk while it is written. Commit syncs a
// file before renaming it over OUT (what rdbtool says it wrote survives a
// crash); with the page cache holding the whole file, that sync would wait,
// at the very end, for all of it to reach the disk: about a second per half
// gigabyte. Redis syncs its RDB every 32 MB while saving
// (rdb-save-incremental-fsync); rdbtool starts the disk writes of every
// writebackBytes written (Linux's sync_file_range, on a goroutine, without
// waiting for them), so that the final sync finds little left to do. The
// bytes and the final sync are the same. A variable, so that tests can make
// it small.
var writebackBytes int64 = 32 << 20

// writeback passes writes to w and starts writing them back to f's disk.
type writeback struct {
	w                io.Writer
	f                *os.File
	written, started int64
	busy             chan struct{} // holds a token while a range is being started
}

// withWriteback wraps an output of outFile or dirFile (other writers are
// returned as they are) and returns the function that waits for the
// writeback started last, to call before the output is committed.
func withWriteback(w io.Writer) (io.Writer, func()) {
	var f *os.File
	switch o := w.(type) {
	case *outFile:
		if o.tmp != nil {
			f = o.tmp.f
		}
	case *dirFile:
		f = o.f
	}
	if f == nil || !writebackSupported {
		return w, func() {}
	}
	b := &writeback{w: w, f: f, busy: make(chan struct{}, 1)}
	return b, func() {
		b.busy <- struct{}{}
		<-b.busy
	}
}

func (b *writeback) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.written += int64(n)
	if b.written-b.started >= writebackBytes {
		select {
		case b.busy <- struct{}{}:
			off, size := b.started, b.written-b.started
			b.started = b.written
			go func() {
				startWriteback(b.f, off, size)
				<-b.busy
			}()
		default: // the last range is still being started: this one joins the next
		}
	}
	return n, err
}
