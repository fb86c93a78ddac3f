package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/redistest"
)

// pullAndCompare pulls a snapshot into a file, checks the verdict, that the
// file verifies, and that its dataset is the server's.
func pullAndCompare(t *testing.T, s liveServer, url string, wantTransfer string, extra ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pulled.rdb")
	code, _, errOut := runCLI(t, nil, append(append([]string{"pull", "--no-progress"}, extra...), url, out)...)
	if code != 0 || !strings.Contains(errOut, ": OK (") || !strings.Contains(errOut, wantTransfer) {
		t.Fatalf("pull %s: exit %d\n%s", url, code, errOut)
	}
	t.Log(strings.TrimSpace(errOut))
	if code, stdout, _ := runCLI(t, nil, "verify", "--no-progress", out); code != 0 {
		t.Fatalf("the pulled file does not verify: %s", stdout)
	}
	sameDataset(t, "pulled "+wantTransfer, s.snapshot(t), expectedOf(t, out, false))
}

// TestPull takes snapshots over replication from Redis 7.0 (disk and
// diskless transfers, an ACL user), from both newer servers, and checks
// "verify URL".
func TestPull(t *testing.T) {
	corpus := corpusDir(t)
	small := func(server string) string { return filepath.Join(corpus, "generated", server, "small", "dump.rdb") }

	t.Run("redis-7.0", func(t *testing.T) {
		s := startLiveWith(t, redistest.Options{RDB: small("redis-7.0.15"), Args: []string{"--repl-diskless-sync-delay", "0"}}, "acl")
		c := s.client(t)
		if _, err := c.Do("CONFIG", "SET", "repl-diskless-sync", "no"); err != nil {
			t.Fatal(err)
		}
		pullAndCompare(t, s, s.url(), "disk transfer")
		if _, err := c.Do("CONFIG", "SET", "repl-diskless-sync", "yes"); err != nil {
			t.Fatal(err)
		}
		pullAndCompare(t, s, s.url(), "diskless transfer")

		code, stdout, _ := runCLI(t, nil, "verify", "--no-progress", s.url())
		if code != 0 || !strings.Contains(stdout, "redis://restorer:***@") || !strings.Contains(stdout, ": OK (REDIS0010, 412 keys in 5 dbs") {
			t.Errorf("verify URL: exit %d: %s", code, stdout)
		}
		// A user without the replication commands is refused, clearly.
		if _, err := c.Do("ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read", "+replconf"); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, nil, "pull", "--no-progress", "redis://reader:pw@"+s.Addr(), filepath.Join(t.TempDir(), "x.rdb"))
		if code != 1 || !strings.Contains(errOut, "NOPERM") {
			t.Errorf("a user without PSYNC: exit %d\n%s", code, errOut)
		}
		// Existing OUT is kept without --force.
		existing := filepath.Join(t.TempDir(), "keep.rdb")
		os.WriteFile(existing, []byte("mine"), 0o644)
		if code, _, _ := runCLI(t, nil, "pull", "--no-progress", s.url(), existing); code != 2 {
			t.Errorf("pull over an existing file: exit %d", code)
		}
		if b, _ := os.ReadFile(existing); string(b) != "mine" {
			t.Error("pull replaced a file without --force")
		}
	})
	for _, name := range []string{redistest.Redis74, redistest.Valkey8} {
		t.Run(name, func(t *testing.T) {
			bin := redistest.RequireNewer(t, name)
			s := startLiveWith(t, redistest.Options{Binaries: bin, RDB: small(name), Args: []string{"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}}, "password")
			pullAndCompare(t, s, s.url(), "diskless transfer")
			if _, err := s.client(t).Do("CONFIG", "SET", "repl-diskless-sync", "no"); err != nil {
				t.Fatal(err)
			}
			pullAndCompare(t, s, s.url(), "disk transfer")
			code, stdout, _ := runCLI(t, nil, "verify", "--format", "json", "--no-progress", s.url())
			if code != 0 || !strings.Contains(stdout, `"rdb_version":`+strconv.Itoa(bin.RDBVersion)) {
				t.Errorf("verify URL: exit %d: %s", code, stdout)
			}
		})
	}
}

// TestTLS restores and pulls over rediss:// with a certificate the test
// makes, against a Redis 7.0 that also wants client certificates.
func TestTLS(t *testing.T) {
	bin := redistest.Require(t)
	dir := t.TempDir()
	f := makeTLS(t, dir)
	port := freePort(t)
	s := startLive(t, bin, "password", "--tls-port", strconv.Itoa(port), "--tls-cert-file", f.cert, "--tls-key-file", f.key,
		"--tls-ca-cert-file", f.ca, "--tls-auth-clients", "yes", "--repl-diskless-sync-delay", "0")
	s.tlsPort = port
	url := "rediss://:" + s.pass + "@127.0.0.1:" + strconv.Itoa(port)
	certs := []string{"--tls-ca", f.ca, "--tls-cert", f.clientCert, "--tls-key", f.clientKey}

	types := filepath.Join(moduleRoot(t), "fixtures", "types-7.0.rdb")
	restoreRun(t, 0, append(certs, types, url)...)
	sameDataset(t, "restored over TLS", expectedOf(t, types, false), s.snapshot(t))

	pullAndCompare(t, s, url, "transfer", certs...)
	// TLS settings in the URL, for verify, which has no --tls-* options.
	q := "?tls-ca=" + f.ca + "&tls-cert=" + f.clientCert + "&tls-key=" + f.clientKey
	if code, stdout, _ := runCLI(t, nil, "verify", "--no-progress", url+q); code != 0 || !strings.Contains(stdout, "OK (REDIS0010, 84 keys") {
		t.Errorf("verify rediss URL: exit %d: %s", code, stdout)
	}
	// Without the CA the server's certificate is not trusted; without a
	// client certificate the server refuses.
	if code, _, errOut := runCLI(t, nil, "pull", "--no-progress", url, filepath.Join(dir, "x.rdb")); code != 1 || !strings.Contains(errOut, "certificate") {
		t.Errorf("no CA: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "restore", "--no-progress", "--replace", "--tls-ca", f.ca, types, url); code != 1 {
		t.Errorf("no client certificate: exit %d\n%s", code, errOut)
	}
}
