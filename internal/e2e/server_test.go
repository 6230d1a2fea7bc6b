package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the codeqr executable built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "codeqr-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "codeqr")
	build := exec.Command("go", "build", "-o", binary, "github.com/codeqr/codeqr/cmd/codeqr")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build codeqr:", err)
		return 1
	}
	return m.Run()
}

// syncBuffer collects a child's output from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one `codeqr serve` child process and the data it runs on; it can
// be stopped, killed and started again on the same data and address.
type server struct {
	t           *testing.T
	databaseURL string
	dataDir     string
	addr        string
	extra       []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	exit   error
	stdout *syncBuffer
	stderr *syncBuffer
	starts int
	// firstKey is the key printed on the very first start.
	firstKey string
}

// URL is the server's base URL.
func (s *server) URL() string { return "http://" + s.addr }

// startServer starts codeqr on a free loopback port; extra are more serve flags.
// The process is killed at cleanup if still running.
func startServer(t *testing.T, databaseURL, dataDir string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, databaseURL: databaseURL, dataDir: dataDir, addr: freeAddr(t), extra: extra}
	t.Cleanup(func() {
		if s.running() {
			s.kill()
		}
		if t.Failed() {
			t.Logf("server stderr (last start):\n%s", tail(s.stderr.String(), 60))
		}
	})
	s.start()
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dbArgs are the flags that point a command at this server's database.
func (s *server) dbArgs() []string {
	if s.databaseURL != "" {
		return []string{"--database-url", s.databaseURL}
	}
	return []string{"--data-dir", s.dataDir}
}

// childEnv is the test's environment without CODEQR_* settings, so that a
// developer's shell cannot change what the child does.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CODEQR_") {
			env = append(env, kv)
		}
	}
	return env
}

// start runs serve and waits until /readyz answers 200.
func (s *server) start() {
	t := s.t
	t.Helper()
	args := append([]string{"serve", "--addr", s.addr, "--base-url", s.URL(),
		"--webhooks-allow-http", "--webhooks-allow-private",
		"--retry-schedule", "100ms,200ms,500ms,1s", "--delivery-timeout", "5s",
		// Load tests make thousands of API calls with one key; the limit
		// itself is tested in internal/api.
		"--api-rate-limit", "0"}, s.dbArgs()...)
	args = append(args, s.extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start codeqr: %v", err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited, s.stdout, s.stderr = cmd, exited, stdout, stderr
	s.starts++
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.exit = err
		s.mu.Unlock()
		close(exited)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		t.Fatalf("codeqr did not become ready: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), tail(stderr.String(), 60))
	}
	if s.starts == 1 {
		s.firstKey = firstStartKey(stdout.String())
	}
}

// firstStartKey is the line after `Created project "default"…`, or "".
func firstStartKey(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, `Created project "default"`) && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	return ""
}

func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: time.Second}
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("process exited: %v", s.exitErr())
		default:
		}
		resp, err := hc.Get(s.URL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 from /readyz within %s (last error %v)", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (s *server) running() bool {
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

func (s *server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exit
}

// stop sends SIGTERM and waits for the exit; it returns the exit error (nil for 0).
func (s *server) stop() error {
	s.t.Helper()
	return s.signal(syscall.SIGTERM, 40*time.Second)
}

// kill sends SIGKILL: the crash of the whole process, mid-whatever.
func (s *server) kill() {
	s.t.Helper()
	_ = s.signal(syscall.SIGKILL, 10*time.Second)
}

func (s *server) signal(sig syscall.Signal, timeout time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-exited:
		return s.exitErr()
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		s.t.Fatalf("codeqr did not exit within %s of %v", timeout, sig)
		return nil
	}
}

// restart starts the server again on the same data and address.
func (s *server) restart() {
	s.t.Helper()
	if s.running() {
		s.t.Fatal("restart: server still running")
	}
	s.start()
}

// createKey runs `codeqr keys create` against the server's data and returns the
// key printed on the last line.
func (s *server) createKey(project string) string {
	s.t.Helper()
	args := append([]string{"keys", "create", "--project", project}, s.dbArgs()...)
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("keys create: %v\n%s%s", err, out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(key, "codeqr_") {
		s.t.Fatalf("keys create: last line %q is not a key", key)
	}
	return key
}

// createUser runs `codeqr users create` on the server's database, the
// password on stdin.
func (s *server) createUser(email, password, project, role string) {
	s.t.Helper()
	args := append([]string{"users", "create", "--email", email, "--project", project, "--role", role}, s.dbArgs()...)
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(password + "\n")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("users create: %v\n%s", err, out.String())
	}
}

// client returns an API client for key.
func (s *server) client(key string) *client {
	return newClient(s.t, s.URL(), key)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// within polls cond until it is true or timeout passes, then fails with what().
func within(t *testing.T, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("after %s: %s", timeout, what())
		case <-tick.C:
		}
	}
}
