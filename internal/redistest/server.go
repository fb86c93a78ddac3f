package redistest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure a server.
type Options struct {
	// Dir is the server's --dir. Start and StartErr default it to t.TempDir();
	// Launch requires it. Files placed there before the start (dump.rdb, an
	// appendonlydir) are what the server loads.
	Dir string
	// DBFilename is --dbfilename; default "dump.rdb".
	DBFilename string
	// AppendDirName is --appenddirname; default the server's ("appendonlydir").
	AppendDirName string
	// RDB, when set, is an RDB file copied into Dir as DBFilename before the
	// start, so that the server loads it.
	RDB string
	// AOFDir, when set, is a multi-part AOF directory (manifest, base, incr files)
	// copied into Dir as AppendDirName before the start; it also turns on
	// --appendonly yes, so that the server loads it.
	AOFDir string
	// Args are extra command-line config arguments, given after the defaults, so
	// they win: "--appendonly", "yes", "--list-compress-depth", "1". A "--save"
	// among them replaces the default --save "".
	Args []string
	// StartTimeout bounds the wait for the first PONG (loading included);
	// default 60s.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL; default 10s.
	StopTimeout time.Duration
	// Binaries is the server to run; zero means Debian's (Require). Use
	// RequireNewer for the newer builds of the shared folder.
	Binaries Binaries
}

// Server is a running redis-server.
type Server struct {
	bin     Binaries
	cmd     *exec.Cmd
	addr    string
	port    int
	dir     string
	logPath string
	out     *lockedBuffer // stdout and stderr: errors printed before the log file is set up
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // valid after exited is closed
	stopTO  time.Duration
	stop    sync.Once
	stopErr error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Start launches a server for the test, waits until it answers PING, and stops
// it when the test ends. It fails the test, showing the end of the server's
// log, when the server does not come up (Require's skip rules apply first).
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := StartErr(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// StartErr is Start for tests that expect the server to fail, typically while
// loading a file: it returns the error (with the last lines of the log) instead
// of failing. The *Server is non-nil whenever the process was started, so
// Log() gives the whole log even then.
func StartErr(t testing.TB, o Options) (*Server, error) {
	t.Helper()
	bin := o.Binaries
	if bin.Server == "" {
		bin = Require(t)
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	s, err := Launch(bin, o)
	if s != nil {
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() && err == nil {
				t.Logf("%s %s log (last lines):\n%s", bin.Name, s.Addr(), s.LogTail(30))
			}
		})
	}
	return s, err
}

// Launch starts a server outside of a test (the fixture generator uses it).
// o.Dir must be set; it is created if missing. The caller must call Stop. On
// failure the returned *Server, when non-nil, has exited and keeps its Log.
func Launch(bin Binaries, o Options) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("redistest: Launch needs Options.Dir")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if o.DBFilename == "" {
		o.DBFilename = "dump.rdb"
	}
	if o.RDB != "" {
		b, err := os.ReadFile(o.RDB)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, o.DBFilename), b, 0o644); err != nil {
			return nil, err
		}
	}
	if o.AOFDir != "" {
		name := o.AppendDirName
		if name == "" {
			name = "appendonlydir"
		}
		if err := os.CopyFS(filepath.Join(dir, name), os.DirFS(o.AOFDir)); err != nil {
			return nil, fmt.Errorf("redistest: copying %s: %w", o.AOFDir, err)
		}
		o.Args = append([]string{"--appendonly", "yes"}, o.Args...)
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Second
	}
	// A free port can be taken between our probe and the server's bind; retry.
	for attempt := 0; ; attempt++ {
		s, err := launchOnce(bin, o, dir)
		if err != nil && s != nil && attempt < 4 && strings.Contains(s.Log(), "Address already in use") {
			continue
		}
		return s, err
	}
}

func launchOnce(bin Binaries, o Options, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{
		bin:     bin,
		addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		port:    port,
		dir:     dir,
		logPath: filepath.Join(dir, "redis-"+strconv.Itoa(port)+".log"),
		out:     &lockedBuffer{},
		exited:  make(chan struct{}),
		stopTO:  o.StopTimeout,
	}
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--dbfilename", o.DBFilename,
		"--daemonize", "no",
		"--logfile", s.logPath,
	}
	if !slices.Contains(o.Args, "--save") {
		args = append(args, "--save", "")
	}
	if o.AppendDirName != "" {
		args = append(args, "--appenddirname", o.AppendDirName)
	}
	args = append(args, o.Args...)
	s.cmd = exec.Command(bin.Server, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: starting %s: %w", bin.Server, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(o.StartTimeout); err != nil {
		s.Stop()
		return s, err
	}
	return s, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls PING until PONG; LOADING replies mean "keep waiting".
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("redistest: redis-server exited during startup (%v); log ends:\n%s", s.waitErr, s.LogTail(20))
		default:
		}
		if c, err := Dial(s.addr); err == nil {
			c.Timeout = 5 * time.Second
			r, err := c.Do("PING")
			c.Close()
			if r == SimpleString("PONG") {
				return nil
			}
			if err != nil {
				last = err.Error()
			}
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: redis-server on %s not ready after %v (last: %s); log ends:\n%s", s.addr, timeout, last, s.LogTail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server: SIGTERM, then SIGKILL if it has not exited after the
// stop timeout. It is idempotent and returns how the process ended (nil for a
// clean exit).
func (s *Server) Stop() error {
	s.stop.Do(func() {
		select {
		case <-s.exited:
		default:
			s.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.exited:
			case <-time.After(s.stopTO):
				s.cmd.Process.Kill()
				<-s.exited
			}
		}
		s.stopErr = s.waitErr
	})
	return s.stopErr
}

// Exited reports whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

// Dir is the server's --dir.
func (s *Server) Dir() string { return s.dir }

// PID is the server's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Binaries are the programs this server was started from.
func (s *Server) Binaries() Binaries { return s.bin }

// Log is the server's log file followed by anything it printed to stdout or
// stderr (config errors come there, before the log file is open).
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b) + s.out.String()
}

// LogTail is the last n lines of Log.
func (s *Server) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(s.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Dial opens a new connection to the server.
func (s *Server) Dial() (*Client, error) { return Dial(s.addr) }

// Client opens a connection that is closed when the test ends; it fails the
// test when it cannot connect.
func (s *Server) Client(t testing.TB) *Client {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("redistest: connecting to %s: %v", s.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
