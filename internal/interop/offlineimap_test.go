package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// offlineimapDevice is one machine running offlineimap (offlineimap3)
// against the account, with its own configuration and metadata, so the
// user's ~/.offlineimaprc is never read.
type offlineimapDevice struct {
	name    string
	config  string
	maildir string
}

// newOfflineimapDevice writes an offlineimap configuration syncing every
// folder both ways into a nested Maildir ("sep = /"). With useTLS it
// connects to the IMAPS port and verifies the generated certificate with
// sslcacertfile; imaplib2 matches the host name against DNS names only,
// not IP addresses, so the host is "localhost" (which the certificate
// names). Otherwise it uses plain IMAP on 127.0.0.1.
func newOfflineimapDevice(t *testing.T, s *server, name string, useTLS bool) *offlineimapDevice {
	t.Helper()
	dir := t.TempDir()
	d := &offlineimapDevice{name: name, config: filepath.Join(dir, "offlineimaprc"), maildir: filepath.Join(dir, "Mail")}
	remote := fmt.Sprintf("remotehost = %s\nremoteport = %s\nssl = no\nstarttls = no\n", s.Host, s.IMAPPort)
	if useTLS {
		remote = fmt.Sprintf("remotehost = localhost\nremoteport = %s\nssl = yes\nsslcacertfile = %s\n", s.IMAPSPort, s.CertFile)
	}
	cfg := fmt.Sprintf(`[general]
accounts = casier
metadata = %s
ui = basic

[Account casier]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = %s
sep = /

[Repository remote]
type = IMAP
%sremoteuser = alice
remotepass = password
`, filepath.Join(dir, "metadata"), d.maildir, remote)
	if err := os.WriteFile(d.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *offlineimapDevice) Name() string    { return d.name }
func (d *offlineimapDevice) Maildir() string { return d.maildir }

// Sync runs one pass (-o) with the plain-text UI; offlineimap exits 0 even
// when a folder failed, so its output is checked for errors too.
func (d *offlineimapDevice) Sync(t *testing.T) {
	t.Helper()
	out := run(t, 30*time.Second, []string{"HOME=" + filepath.Dir(d.config)},
		"offlineimap", "-c", d.config, "-o", "-u", "basic")
	if strings.Contains(out, "ERROR") || strings.Contains(out, "Traceback") {
		t.Fatalf("offlineimap %s reported errors:\n%s", d.name, out)
	}
}

// TestOfflineimapTwoDevices runs the two-device round trip with
// offlineimap: one device over IMAPS, the other over plain IMAP on
// loopback.
func TestOfflineimapTwoDevices(t *testing.T) {
	needBinary(t, "offlineimap", "offlineimap3")
	s := startServer(t, "alice")
	twoDeviceRoundTrip(t, s, newOfflineimapDevice(t, s, "dev1", true), newOfflineimapDevice(t, s, "dev2", false))
}

// TestMixedClientsTwoDevices runs the round trip with two different sync
// programs on one account: mbsync on one device, offlineimap on the other.
func TestMixedClientsTwoDevices(t *testing.T) {
	needBinary(t, "mbsync", "isync")
	needBinary(t, "offlineimap", "offlineimap3")
	s := startServer(t, "alice")
	twoDeviceRoundTrip(t, s, newMbsyncDevice(t, s, "mbsync", true), newOfflineimapDevice(t, s, "offlineimap", false))
}
