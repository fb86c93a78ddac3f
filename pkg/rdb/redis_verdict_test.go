package rdb_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// redisLoads starts Debian's Redis 7.0 on file (extra config arguments
// after it) and reports whether it came up with the file loaded; when it did
// not, the end of its log says why.
func redisLoads(t *testing.T, file []byte, args ...string) (bool, string) {
	t.Helper()
	return redisLoadsOn(t, redistest.Binaries{}, file, args...)
}

// redisLoadsOn is redisLoads with another server (zero: Debian's).
func redisLoadsOn(t *testing.T, bin redistest.Binaries, file []byte, args ...string) (bool, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dump.rdb"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := redistest.StartErr(t, redistest.Options{Dir: dir, Args: args, Binaries: bin})
	if err != nil {
		if s == nil || !s.Exited() {
			t.Fatalf("the server did not start: %v", err)
		}
		return false, s.LogTail(8)
	}
	defer s.Stop()
	return true, ""
}

// strictReadErr reads every record and value of file as verify does and
// returns the first error (nil when the file is accepted).
func strictReadErr(file []byte) error {
	return readAllErr(file, rdb.ReaderOptions{Strict: true})
}

// readAllErr reads every record and value of file with opts, and returns the
// first error (nil at the end).
func readAllErr(file []byte, opts rdb.ReaderOptions) error {
	r := rdb.NewReaderBytes(file, opts)
	defer r.Close()
	for {
		e, err := r.Next()
		if err == nil && e.Kind == rdb.EntryKey {
			_, err = r.ReadValue(1 << 24)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// zeroChecksum clears an RDB's CRC64 after its bytes were patched: Redis and
// the Reader do not check a zero checksum.
func zeroChecksum(file []byte) []byte {
	clear(file[len(file)-8:])
	return file
}

// refusedText renders a server verdict for test messages.
func refusedText(loaded bool) string {
	if loaded {
		return "loads it"
	}
	return "refuses it"
}

func hasAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
