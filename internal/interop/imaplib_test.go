package interop

import (
	"strings"
	"testing"
	"time"
)

// TestPythonImaplib runs testdata/imaplib_client.py, which drives the
// server with Python's standard imaplib over plain IMAP on loopback,
// STARTTLS and IMAPS (verifying the generated certificate): folders,
// APPEND, SEARCH (UTF-8 literals too), FETCH, STORE, COPY, MOVE, EXPUNGE,
// RENAME, DELETE, and IDLE while a second connection changes the mailbox.
// The script checks every answer exactly and prints "PASS <n> checks".
func TestPythonImaplib(t *testing.T) {
	py := needBinary(t, "python3", "python3")
	s := startServer(t, "alice")
	out := run(t, 30*time.Second, nil, py, "testdata/imaplib_client.py",
		s.Host, s.IMAPPort, s.IMAPSPort, s.CertFile, "alice", "password")
	if !strings.HasPrefix(strings.TrimSpace(out), "PASS ") {
		t.Fatalf("imaplib client did not pass:\n%s", out)
	}
	t.Log(strings.TrimSpace(out))
}
