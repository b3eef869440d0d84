package main

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Mail that `casier import` adds from its own process reaches a session
// that IDLEs on `casier serve` (the store's watcher, sqlite/watch.go).
func TestServeSeesImport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	imapAddr, imapsAddr, lmtpAddr := freePort(t), freePort(t), freePort(t)
	s := startServer(t, "--data", dir, "--imap", imapAddr, "--imaps", imapsAddr, "--lmtp", lmtpAddr, "--hostname", "mail.test")
	s.waitLog(t, "msg=listening addr="+imapsAddr+" kind=imaps\n")
	expect(t, "secret\n", []string{"user", "add", "alice", "--data", dir}, "user alice added\n", "", 0)

	certPEM, err := os.ReadFile(filepath.Join(dir, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	tc, err := tls.Dial("tcp", imapsAddr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	c := newIMAPConn(t, tc)
	if g := c.line(); !strings.HasPrefix(g, "* OK") {
		t.Fatalf("greeting %q", g)
	}
	if r := c.cmd("a", "LOGIN alice secret"); !strings.HasPrefix(r, "a OK") {
		t.Fatalf("LOGIN: %q", r)
	}
	if r := c.cmd("b", "SELECT INBOX"); !strings.HasPrefix(r, "b OK") {
		t.Fatalf("SELECT: %q", r)
	}
	if _, err := tc.Write([]byte("c IDLE\r\n")); err != nil {
		t.Fatal(err)
	}
	if l := c.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}

	src := filepath.Join(t.TempDir(), "in.mbox")
	writeFile(t, src, "From a Thu Jan  4 10:20:30 2024\nSubject: one\n\nhello\n\nFrom b Fri Jan  5 10:20:30 2024\nSubject: two\n\nbody\n")
	out, errOut, code := casier(t, "", "import", "--data", dir, "alice", src)
	if code != 0 || !strings.HasPrefix(out, "2 messages imported") {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	imported := time.Now()
	tc.SetReadDeadline(imported.Add(2 * time.Second))
	if l := c.line(); l != "* 2 EXISTS" {
		t.Fatalf("during IDLE after import: %q, want * 2 EXISTS", l)
	}
	t.Logf("EXISTS %v after the import exited", time.Since(imported))
	tc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := tc.Write([]byte("DONE\r\n")); err != nil {
		t.Fatal(err)
	}
	for {
		l := c.line()
		if strings.HasPrefix(l, "c ") {
			if !strings.HasPrefix(l, "c OK") {
				t.Fatalf("IDLE end: %q", l)
			}
			break
		}
		if l != "* 2 RECENT" {
			t.Fatalf("after DONE: unexpected %q", l)
		}
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, s.stderr)
	}
}
