package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// outFile is an output written safely: to a temporary file in the destination's
// folder, renamed over the destination only when everything went well, so a
// failed or interrupted run never leaves a truncated file under the real name.
// "-" is standard output.
type outFile struct {
	w      io.Writer
	tmp    *os.File
	final  string
	closed bool
}

// createOutput opens path for writing. An existing file is replaced only with
// force; the check is repeated at rename time.
func createOutput(path string, force bool, stdout io.Writer) (*outFile, error) {
	if path == "" || path == "-" {
		return &outFile{w: stdout}, nil
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return nil, usagef("", "%s exists; use --force to overwrite it", path)
		}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &outFile{w: tmp, tmp: tmp, final: path}, nil
}

func (o *outFile) Write(p []byte) (int, error) { return o.w.Write(p) }

// Commit makes the output visible under its final name.
func (o *outFile) Commit(force bool) error {
	if o.tmp == nil || o.closed {
		return nil
	}
	o.closed = true
	if err := o.tmp.Sync(); err != nil {
		o.abort()
		return err
	}
	if err := o.tmp.Close(); err != nil {
		os.Remove(o.tmp.Name())
		return err
	}
	if !force {
		if _, err := os.Lstat(o.final); err == nil {
			os.Remove(o.tmp.Name())
			return usagef("", "%s appeared while writing; use --force to overwrite it", o.final)
		} else if !errors.Is(err, os.ErrNotExist) {
			os.Remove(o.tmp.Name())
			return err
		}
	}
	if err := os.Rename(o.tmp.Name(), o.final); err != nil {
		os.Remove(o.tmp.Name())
		return err
	}
	return nil
}

// Abort removes the temporary file; safe after Commit.
func (o *outFile) Abort() { o.abort() }

func (o *outFile) abort() {
	if o.tmp == nil || o.closed {
		return
	}
	o.closed = true
	o.tmp.Close()
	os.Remove(o.tmp.Name())
}
