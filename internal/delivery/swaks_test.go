package delivery

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSwaks delivers with swaks, a common SMTP/LMTP test tool (Debian
// package swaks), to check the server against a client we did not write.
func TestSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		t.Skip("swaks not installed (apt-get install -y swaks)")
	}
	e := newTestEnv(t)
	out, err := exec.Command(swaks, "--protocol", "LMTP", "--server", e.Addr,
		"--helo", "client.test", "--from", "bob@example.net",
		"--to", "alice@example.org,alice+Work@example.org,nobody@example.org",
		"--header", "Subject: from swaks", "--body", "Sent by swaks.",
		"--timeout", "5").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "<** 550") {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	for _, want := range []string{
		"<-  250 2.0.0 I'll make sure <alice+Work@example.org> gets this",
		"<** 550 5.1.1 <nobody@example.org> no such user",
		"<-  250 2.0.0 <alice@example.org> delivered",
		"<-  250 2.0.0 <alice+Work@example.org> delivered",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("swaks transcript lacks %q:\n%s", want, out)
		}
	}
	// swaks ends the body with two blank lines of its own.
	for _, box := range []struct{ name, to string }{{"INBOX", "alice@example.org"}, {"Work", "alice+Work@example.org"}} {
		got := bodies(t, e.Store, "alice", box.name)
		if len(got) != 1 || !strings.HasPrefix(got[0], "Return-Path: <bob@example.net>\r\nDelivered-To: "+box.to+"\r\n") ||
			!strings.Contains(got[0], "\r\nSubject: from swaks\r\n") || !strings.HasSuffix(got[0], "\r\n\r\nSent by swaks.\r\n\r\n\r\n") {
			t.Errorf("%s: %q", box.name, got)
		}
	}
}
