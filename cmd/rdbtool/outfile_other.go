//go:build !linux

package main

import (
	"errors"
	"os"
)

// exchange is not available: Commit moves the old folder aside instead.
func exchange(a, b string) error { return errors.ErrUnsupported }

// syncDir makes a rename in dir durable where the system can sync a folder;
// failing to (Windows cannot) is not an error.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	_ = f.Sync()
	return nil
}
