//go:build unix

package aof_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/pkg/aof"
)

// writeAOFDir makes an AOF folder listing a base and one incr file.
func writeAOFDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
		"appendonly.aof.1.base.aof": "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n",
		"appendonly.aof.1.incr.aof": "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openDirWithin(t *testing.T, dir string) (*aof.Dir, error) {
	t.Helper()
	type result struct {
		d   *aof.Dir
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := aof.OpenDir(dir)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		return r.d, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("OpenDir blocks (it opened a FIFO?)")
		return nil, nil
	}
}

// TestOpenDirRefusesAFIFO: a FIFO listed in the manifest is refused, never
// opened. Issue 9 item 13: it made every command block forever.
func TestOpenDirRefusesAFIFO(t *testing.T) {
	dir := writeAOFDir(t)
	incr := filepath.Join(dir, "appendonly.aof.1.incr.aof")
	os.Remove(incr)
	if err := syscall.Mkfifo(incr, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	d, err := openDirWithin(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	f := d.Files[1]
	if f.Irregular != "a FIFO" || f.Format != aof.FormatMissing {
		t.Errorf("FIFO entry: irregular %q, format %v", f.Irregular, f.Format)
	}
	err = d.Validate()
	if !errors.Is(err, aof.ErrCorrupt) || !strings.Contains(err.Error(), "a FIFO, not a regular file") {
		t.Errorf("Validate: %v", err)
	}
}

// TestOpenDirSeesLinksAndCompression: a symlinked file is marked with its
// target (rdbtool reads through it, never writes through it), and a
// compressed file, which Redis cannot load, is refused by Validate.
func TestOpenDirSeesLinksAndCompression(t *testing.T) {
	dir := writeAOFDir(t)
	incr := filepath.Join(dir, "appendonly.aof.1.incr.aof")
	outside := filepath.Join(t.TempDir(), "redis.conf")
	os.WriteFile(outside, []byte("# Redis configuration\nbind 127.0.0.1\n"), 0o644)
	os.Remove(incr)
	if err := os.Symlink(outside, incr); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	d, err := openDirWithin(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if f := d.Files[1]; f.Link != outside || f.Format != aof.FormatRESP || f.Irregular != "" {
		t.Errorf("linked entry: link %q, format %v, irregular %q", f.Link, f.Format, f.Irregular)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate of a link to a regular file: %v (a server follows links)", err)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	zw.Close()
	os.Remove(incr)
	os.WriteFile(incr, gz.Bytes(), 0o644)
	d, err = openDirWithin(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Files[1].Compressed != "gzip" {
		t.Errorf("compressed entry: %q", d.Files[1].Compressed)
	}
	if err := d.Validate(); !errors.Is(err, aof.ErrCorrupt) || !strings.Contains(err.Error(), "gzip-compressed") {
		t.Errorf("Validate: %v", err)
	}
}
