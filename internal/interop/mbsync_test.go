package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mbsyncDevice is one machine running mbsync against the account: its own
// configuration file and local Maildir.
type mbsyncDevice struct {
	name    string
	config  string
	maildir string
}

// newMbsyncDevice writes an mbsync configuration syncing every folder both
// ways (new messages, flags, deletions, folder creation and removal).
// With useTLS it connects to the IMAPS port and verifies the server with
// its generated certificate; otherwise it uses plain IMAP on loopback.
// isync 1.4 spells the TLS keyword SSLType (1.5 renamed it TLSType and
// still accepts the old name).
func newMbsyncDevice(t *testing.T, s *server, name string, useTLS bool) *mbsyncDevice {
	t.Helper()
	dir := t.TempDir()
	d := &mbsyncDevice{name: name, config: filepath.Join(dir, "mbsyncrc"), maildir: filepath.Join(dir, "Mail")}
	if err := os.MkdirAll(d.maildir, 0o700); err != nil {
		t.Fatal(err)
	}
	conn := fmt.Sprintf("Port %s\nSSLType None\n", s.IMAPPort)
	if useTLS {
		conn = fmt.Sprintf("Port %s\nSSLType IMAPS\nCertificateFile %s\n", s.IMAPSPort, s.CertFile)
	}
	cfg := fmt.Sprintf(`IMAPAccount casier
Host %s
%sUser alice
Pass password

IMAPStore casier-remote
Account casier

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel casier
Far :casier-remote:
Near :local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
`, s.Host, conn, d.maildir, d.maildir)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *mbsyncDevice) Name() string    { return d.name }
func (d *mbsyncDevice) Maildir() string { return d.maildir }

func (d *mbsyncDevice) Sync(t *testing.T) {
	t.Helper()
	out := run(t, 30*time.Second, nil, "mbsync", "-c", d.config, "-a")
	for _, l := range lines(out) {
		if !strings.HasPrefix(l, "Maildir notice:") {
			t.Logf("mbsync %s: %s", d.name, l)
		}
	}
}

// TestMbsyncTwoDevices runs the two-device round trip with mbsync: one
// device over IMAPS, the other over plain IMAP on loopback.
func TestMbsyncTwoDevices(t *testing.T) {
	needBinary(t, "mbsync", "isync")
	s := startServer(t, "alice")
	twoDeviceRoundTrip(t, s, newMbsyncDevice(t, s, "dev1", true), newMbsyncDevice(t, s, "dev2", false))
}
