// Package scratch makes temporary files that leave nothing behind, however
// the process ends. Where the system allows (Unix), a file's name is removed
// as soon as the file is open: the data lives on through the open handle and
// goes with it, so a process killed or stopped by its interrupt handler
// leaves no spill file in the temporary folder. Elsewhere the name stays
// until Remove. It imports nothing of rdbtool, so pkg/rdb and pkg/convert may
// both use it.
package scratch

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// New creates a temporary file in dir (os.TempDir() when empty) named after
// pattern, as os.CreateTemp does, and removes its name where the system
// allows.
func New(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if runtime.GOOS != "windows" {
		// An error here leaves the name for Remove: nothing is lost.
		_ = os.Remove(f.Name())
	}
	return f, nil
}

// Remove closes f and removes its name if it still has one.
func Remove(f *os.File) error {
	err := f.Close()
	if rerr := os.Remove(f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}
