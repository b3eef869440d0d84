package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a process's output while the test reads it.
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

// freePort returns a loopback address with a port nothing listens on now.
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

type server struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(casierBin, append([]string{"serve"}, args...)...), stderr: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// waitLog waits until the server's stderr contains want.
func (s *server) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("server output lacks %q:\n%s", want, s.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(40 * time.Second):
		t.Fatalf("server still running 40 s after SIGTERM:\n%s", s.stderr)
	}
	return -1
}

// waitExit waits for a server that should stop by itself.
func (s *server) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not exit:\n%s", s.stderr)
	}
	return -1
}

type imapConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func newIMAPConn(t *testing.T, c net.Conn) *imapConn {
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &imapConn{t: t, c: c, r: bufio.NewReader(c)}
}

func (ic *imapConn) line() string {
	ic.t.Helper()
	l, err := ic.r.ReadString('\n')
	if err != nil {
		ic.t.Fatalf("reading: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// cmd sends a tagged command and returns its tagged response line.
func (ic *imapConn) cmd(tag, command string) string {
	ic.t.Helper()
	if _, err := ic.c.Write([]byte(tag + " " + command + "\r\n")); err != nil {
		ic.t.Fatal(err)
	}
	for {
		if l := ic.line(); strings.HasPrefix(l, tag+" ") {
			return l
		}
	}
}

func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	imapAddr, imapsAddr, lmtpAddr := freePort(t), freePort(t), freePort(t)
	s := startServer(t, "--data", dir, "--imap", imapAddr, "--imaps", imapsAddr, "--lmtp", lmtpAddr, "--hostname", "mail.test")
	s.waitLog(t, "msg=listening addr="+imapAddr+" kind=imap\n")
	s.waitLog(t, "msg=listening addr="+imapsAddr+" kind=imaps\n")
	s.waitLog(t, "msg=listening addr="+lmtpAddr+" kind=lmtp size_limit=67107840\n")
	s.waitLog(t, "casier: no users yet; add one with (password on standard input):\n  casier user add --data "+dir+" NAME\n")

	// IMAP (STARTTLS port): greeting.
	c, err := net.Dial("tcp", imapAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	plain := newIMAPConn(t, c)
	if g := plain.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}

	// IMAPS: the generated certificate verifies for localhost.
	certPEM, err := os.ReadFile(filepath.Join(dir, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	tc, err := tls.Dial("tcp", imapsAddr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("IMAPS: %v", err)
	}
	defer tc.Close()
	secure := newIMAPConn(t, tc)
	if g := secure.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("IMAPS greeting %q", g)
	}

	// A user added while the server runs can log in at once.
	expect(t, "secret\n", []string{"user", "add", "Alice", "--data", dir}, "user alice added\n", "", 0)
	if r := secure.cmd("a1", "LOGIN alice wrong"); !strings.HasPrefix(r, "a1 NO [AUTHENTICATIONFAILED]") {
		t.Fatalf("bad LOGIN: %q", r)
	}
	if r := secure.cmd("a2", "LOGIN ALICE secret"); !strings.HasPrefix(r, "a2 OK") {
		t.Fatalf("LOGIN: %q", r)
	}
	s.waitLog(t, `msg="login failed" remote=127.0.0.1 user=alice reason="wrong password"`)

	// SIGTERM: idle sessions get BYE, the process exits 0.
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.stderr)
	}
	if l := plain.line(); !strings.HasPrefix(l, "* BYE") {
		t.Errorf("after SIGTERM got %q, want * BYE", l)
	}
	if l := secure.line(); !strings.HasPrefix(l, "* BYE") {
		t.Errorf("after SIGTERM got %q, want * BYE", l)
	}
	if out := s.stderr.String(); !strings.Contains(out, "msg=stopped") {
		t.Errorf("no stop message:\n%s", out)
	}
}

// The configuration file sets values; flags override it.
func TestServeConfigAndFlags(t *testing.T) {
	dir := t.TempDir()
	fromFile, fromFlag := freePort(t), freePort(t)
	conf := filepath.Join(dir, "casier.conf")
	os.WriteFile(conf, []byte("data_dir = data\nimap_addr = "+fromFile+"\nimaps_addr = "+freePort(t)+
		"\nlmtp_addr =\nlog_format = json\nlog_level = warn\n"), 0o644)
	s := startServer(t, "--config", conf, "--imap", fromFlag, "--imaps", "", "--log-level", "info")
	s.waitLog(t, `"msg":"listening","addr":"`+fromFlag+`","kind":"imap"}`)
	c, err := net.Dial("tcp", fromFlag)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if g := newIMAPConn(t, c).line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, s.stderr)
	}
	out := s.stderr.String()
	if strings.Contains(out, "imaps") || strings.Contains(out, fromFile) || strings.Contains(out, "LMTP") {
		t.Errorf("disabled or overridden listener used:\n%s", out)
	}
	// data_dir is relative to the configuration file.
	if _, err := os.Stat(filepath.Join(dir, "data", "tls", "cert.pem")); err != nil {
		t.Errorf("data directory not where the file says: %v", err)
	}
}

func TestServeErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	badConf := filepath.Join(dir, "bad.conf")
	os.WriteFile(badConf, []byte("# x\nimap_port = 143\n"), 0o644)

	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--data", dir, "--imap", busy.Addr().String(), "--imaps", ""},
			"casier: listen on " + busy.Addr().String() + " (imap): ", 1},
		{[]string{"--data", dir, "--imap", "", "--imaps", ""},
			"casier: nothing to serve: the IMAP and IMAPS addresses are both empty\n", 1},
		{[]string{"--config", badConf}, "casier: " + badConf + `:2: unknown key "imap_port"` + "\n", 1},
		{[]string{"--data", dir, "--log-level", "loud"}, `casier: invalid configuration: log_level "loud"`, 1},
		{[]string{"--data", dir, "--imap", "nocolon"}, "casier: invalid configuration: imap_addr: ", 1},
		{[]string{"--bogus"}, "casier serve: flag provided but not defined: -bogus\n", 2},
		{[]string{"extra"}, `casier serve: unexpected argument "extra"`, 2},
	} {
		s := startServer(t, tc.args...)
		code := s.waitExit(t)
		if code != tc.code || !strings.Contains(s.stderr.String(), tc.want) {
			t.Errorf("serve %q: exit %d, stderr:\n%s\nwant exit %d and %q", tc.args, code, s.stderr, tc.code, tc.want)
		}
	}
}
