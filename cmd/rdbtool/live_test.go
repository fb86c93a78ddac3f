package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdbtool/rdbtool/internal/canon"
	"github.com/rdbtool/rdbtool/internal/redistest"
	"github.com/rdbtool/rdbtool/pkg/rdb"
)

// Helpers for the tests that talk to live servers: restore, pull, split.

// bigLiveTests reports whether RDBTOOL_LIVE_BIG asks for the larger datasets
// (ten times the keys of the cluster tests); CI runs the small ones.
func bigLiveTests() bool { return os.Getenv("RDBTOOL_LIVE_BIG") != "" }

// liveServer is a test server and the credentials it wants.
type liveServer struct {
	*redistest.Server
	user, pass string
	tlsPort    int
}

// startLive starts a server that requires a password (auth "password"), an
// ACL user (auth "acl", user "restorer") or nothing ("").
func startLive(t *testing.T, bin redistest.Binaries, auth string, args ...string) liveServer {
	t.Helper()
	return startLiveWith(t, redistest.Options{Binaries: bin, Args: args}, auth)
}

func startLiveWith(t *testing.T, o redistest.Options, auth string) liveServer {
	t.Helper()
	s := liveServer{Server: redistest.Start(t, o)}
	c := s.Client(t)
	switch auth {
	case "password":
		s.pass = "pw-" + strconv.Itoa(s.Port())
		if _, err := c.Do("CONFIG", "SET", "requirepass", s.pass); err != nil {
			t.Fatal(err)
		}
	case "acl":
		s.user, s.pass = "restorer", "acl-secret"
		// What a restore and a pull need, and a default user that is off.
		if _, err := c.Do("ACL", "SETUSER", s.user, "on", ">"+s.pass, "~*", "&*", "+@all"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do("ACL", "SETUSER", "default", "off"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// url is the server's URL with its credentials.
func (s liveServer) url() string {
	auth := ""
	switch {
	case s.user != "":
		auth = s.user + ":" + s.pass + "@"
	case s.pass != "":
		auth = ":" + s.pass + "@"
	}
	return "redis://" + auth + s.Addr()
}

// client is a logged-in connection, closed at the end of the test.
func (s liveServer) client(t *testing.T) *redistest.Client {
	t.Helper()
	c := s.Client(t)
	if s.pass != "" {
		args := []any{"AUTH", s.pass}
		if s.user != "" {
			args = []any{"AUTH", s.user, s.pass}
		}
		if _, err := c.Do(args...); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (s liveServer) snapshot(t *testing.T, dbs ...int) []string {
	t.Helper()
	lines, err := redistest.Snapshot(s.client(t), redistest.SnapshotOptions{DBs: dbs})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func (s liveServer) flush(t *testing.T) {
	t.Helper()
	c := s.client(t)
	for _, cmd := range [][]any{{"FLUSHALL"}, {"FUNCTION", "FLUSH"}} {
		if _, err := c.Do(cmd...); err != nil {
			t.Fatal(err)
		}
	}
}

// expectedOf is the dataset of an RDB file as canonical lines, without the
// keys whose TTL has passed (a restore does not send them), and without
// field TTLs when dropFieldTTLs.
func expectedOf(t *testing.T, path string, dropFieldTTLs bool) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := rdb.NewReaderBytes(b, rdb.ReaderOptions{})
	defer r.Close()
	lines, err := canon.FromRDB(r, false)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return liveLines(t, lines, dropFieldTTLs)
}

// expectedFile reads an expected*.jsonl file as liveLines does.
func expectedFile(t *testing.T, path string, dropFieldTTLs bool) []string {
	t.Helper()
	lines, err := canon.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return liveLines(t, lines, dropFieldTTLs)
}

func liveLines(t *testing.T, lines []string, dropFieldTTLs bool) []string {
	t.Helper()
	now := time.Now().UnixMilli() + 60_000
	var out []string
	for _, l := range lines {
		var head struct {
			ExpireAtMs int64 `json:"expire_at_ms"`
		}
		if err := json.Unmarshal([]byte(l), &head); err != nil {
			t.Fatal(err)
		}
		if head.ExpireAtMs != 0 && head.ExpireAtMs < now {
			continue
		}
		if i := strings.Index(l, `,"field_expire_at_ms":`); i >= 0 && dropFieldTTLs {
			l = l[:i] + "}" // the last field of a key line
		}
		out = append(out, l)
	}
	canon.Sort(out)
	return out
}

// sameDataset fails the test when the server's lines differ from want.
func sameDataset(t *testing.T, what string, want, got []string) {
	t.Helper()
	if d := canon.Diff(want, got); d != "" {
		t.Errorf("%s: the server's dataset differs from the source's:\n%s", what, d)
	} else {
		t.Logf("%s: %d lines, the same", what, len(got))
	}
}

// restoreJSONOf runs a restore with --format json and returns its summary.
func restoreRun(t *testing.T, wantCode int, args ...string) restoreJSON {
	t.Helper()
	code, out, errOut := runCLI(t, nil, append([]string{"restore", "--format", "json", "--no-progress"}, args...)...)
	if code != wantCode {
		t.Fatalf("restore %v: exit %d, want %d\n%s%s", args, code, wantCode, out, errOut)
	}
	var j restoreJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("restore %v: summary %q: %v\n%s", args, out, err, errOut)
	}
	return j
}

// tlsFiles writes a CA and a server certificate for 127.0.0.1 (and a client
// certificate signed by the same CA) into dir.
type tlsFiles struct{ ca, cert, key, clientCert, clientKey string }

func makeTLS(t *testing.T, dir string) tlsFiles {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rdbtool test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		k := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kd, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name+".pem", "CERTIFICATE", der), write(name+".key", "EC PRIVATE KEY", kd)
	}
	var f tlsFiles
	f.ca = write("ca.pem", "CERTIFICATE", caDER)
	f.cert, f.key = issue("server", 2, x509.ExtKeyUsageServerAuth)
	f.clientCert, f.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth)
	return f
}

// freePort finds a port for a second listener (TLS); the race with other
// processes is the same one redistest lives with.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// bigDataset writes an RDB 10 file of n small string keys whose slots lie in
// [0, slots), each slot about equally often, plus one function library; and
// before them, when base is not "", the functions and database-0 keys of
// that RDB file.
func bigDataset(t *testing.T, path string, n, slots int, tag func(int) string, base ...string) {
	t.Helper()
	var buf bytes.Buffer
	o, _ := rdb.TargetVersion("redis:7.0")
	w := rdb.NewWriter(&buf, o)
	lib := "#!lua name=livelib\nredis.register_function('ping2', function() return 'pong' end)"
	if err := w.WriteEntry(&rdb.Entry{Kind: rdb.EntryFunction, Function: []byte(lib)}); err != nil {
		t.Fatal(err)
	}
	for _, b := range base {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		r := rdb.NewReaderBytes(data, rdb.ReaderOptions{})
		for {
			e, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case e.Kind == rdb.EntryFunction:
				err = w.WriteEntry(e)
			case e.Kind == rdb.EntryKey && e.DB == 0:
				v, rerr := r.ReadValue(0)
				if rerr != nil {
					t.Fatal(rerr)
				}
				err = w.WriteKey(e, v)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	for i := range n {
		key := fmt.Sprintf("k:{%s}:%d", tag(i%slots), i)
		e := &rdb.Entry{Kind: rdb.EntryKey, Key: []byte(key)}
		if i%7 == 0 {
			e.HasExpire, e.ExpireAtMs = true, time.Now().Add(240*time.Hour).UnixMilli()
		}
		if err := w.WriteKey(e, &rdb.Value{Kind: rdb.KindString, String: []byte("value-" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
}

// canonKey decodes a canonical byte string ("s:text" or "x:hex").
func canonKey(t *testing.T, enc string) []byte {
	t.Helper()
	switch {
	case strings.HasPrefix(enc, "s:"):
		return []byte(enc[2:])
	case strings.HasPrefix(enc, "x:"):
		b, err := hex.DecodeString(enc[2:])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("not a canonical byte string: %q", enc)
	return nil
}
