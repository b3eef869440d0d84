// Package interop drives a real "casier serve" process over TCP with
// independent IMAP clients (Python's imaplib, mbsync, offlineimap) and checks
// that they see what the server stored: the proof that Casier works with
// software its authors did not write. Each test skips when its client is
// not installed, so "go test ./..." passes on a bare machine; CI installs
// them with: apt-get install -y isync offlineimap3 python3
package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// casierBin is the binary built once by TestMain.
var casierBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "casier-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	casierBin = filepath.Join(dir, "casier")
	cmd := exec.Command("go", "build", "-o", casierBin, "github.com/casier/casier/cmd/casier")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building casier: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// server is one "casier serve" process with its own data directory.
type server struct {
	Dir       string // data directory
	IMAPAddr  string // plain IMAP (STARTTLS offered; LOGIN allowed on loopback)
	IMAPSAddr string // implicit TLS
	CertFile  string // the generated self-signed certificate
	Host      string
	IMAPPort  string
	IMAPSPort string

	cmd  *exec.Cmd
	logs *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freePort returns a loopback address nobody listens on right now. The
// port is released before casier binds it; a clash with another process in
// that window fails the start, and startServer retries.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startServer runs "casier serve" on free loopback ports over a fresh data
// directory, with the given users (password "password" each) created
// through the CLI, and stops it when the test ends.
func startServer(t *testing.T, users ...string) *server {
	t.Helper()
	dir := t.TempDir()
	for _, u := range users {
		addUser(t, dir, u, "password")
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := tryStart(t, dir)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting casier: %v", lastErr)
	return nil
}

func tryStart(t *testing.T, dir string) (*server, error) {
	s := &server{Dir: dir, IMAPAddr: freePort(t), IMAPSAddr: freePort(t), logs: &lockedBuffer{}}
	s.Host, s.IMAPPort, _ = net.SplitHostPort(s.IMAPAddr)
	_, s.IMAPSPort, _ = net.SplitHostPort(s.IMAPSAddr)
	s.CertFile = filepath.Join(dir, "tls", "cert.pem")
	s.cmd = exec.Command(casierBin, "serve", "--data", dir, "--imap", s.IMAPAddr,
		"--imaps", s.IMAPSAddr, "--lmtp", "", "--hostname", "localhost", "--log-level", "debug")
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c1, err1 := net.Dial("tcp", s.IMAPAddr)
		c2, err2 := net.Dial("tcp", s.IMAPSAddr)
		if c1 != nil {
			c1.Close()
		}
		if c2 != nil {
			c2.Close()
		}
		if err1 == nil && err2 == nil {
			break
		}
		select {
		case err := <-done:
			return nil, fmt.Errorf("casier exited: %v\n%s", err, s.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-done
			return nil, fmt.Errorf("casier did not listen within 10s\n%s", s.logs)
		}
	}
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
		logs := s.logs.String()
		if t.Failed() {
			t.Logf("casier log:\n%s", logs)
		}
		// A recovered panic or an internal error is a server bug even if
		// the client coped.
		if strings.Contains(logs, "level=ERROR") {
			t.Errorf("casier logged an error:\n%s", logs)
		}
	})
	return s, nil
}

// addUser creates an account with "casier user add", password on stdin.
func addUser(t *testing.T, dir, name, password string) {
	t.Helper()
	cmd := exec.Command(casierBin, "user", "add", "--data", dir, name)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("casier user add %s: %v\n%s", name, err, out)
	}
}

// needBinary skips the test when a client program is not installed.
func needBinary(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y %s); skipping this interoperability test", name, pkg)
	}
	return p
}

// run executes a client program with a timeout and returns its combined
// output; it fails the test on a non-zero exit.
func run(t *testing.T, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(timeout, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(timeout time.Duration, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out lockedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("timed out after %v", timeout)
	}
}

// lines splits s into non-empty trimmed lines.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}
