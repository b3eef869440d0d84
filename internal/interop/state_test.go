package interop

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io/fs"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// mailState is what one side holds: mailbox name -> one entry per message,
// "<message-id> flag flag..." with the flags sorted, the entries sorted. A
// duplicated message shows as a repeated entry, a lost one as a missing
// entry, so comparing two states checks both.
type mailState map[string][]string

func (m mailState) String() string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %s:\n", n)
		for _, e := range m[n] {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	return b.String()
}

func entry(msgID string, flags []string) string {
	flags = slices.Clone(flags)
	sort.Strings(flags)
	return strings.TrimSpace("<" + strings.Trim(msgID, "<>") + "> " + strings.Join(flags, " "))
}

func (m mailState) add(mailbox, msgID string, flags []string) {
	m[mailbox] = append(m[mailbox], entry(msgID, flags))
	sort.Strings(m[mailbox])
}

// equalStates tells whether two states hold the same folders with the same
// messages and flags.
func equalStates(a, b mailState) bool {
	if len(a) != len(b) {
		return false
	}
	for n, ea := range a {
		eb, ok := b[n]
		if !ok || !slices.Equal(ea, eb) {
			return false
		}
	}
	return true
}

// systemOnly keeps the flags a Maildir can hold (RFC 9051 system flags
// except \Recent); keywords are dropped.
func systemOnly(flags []string) []string {
	var out []string
	for _, f := range flags {
		switch f {
		case `\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`:
			out = append(out, f)
		}
	}
	return out
}

// maildirFlags maps the Maildir info letters (":2,FS") to IMAP flags.
var maildirFlags = map[rune]string{'D': `\Draft`, 'F': `\Flagged`, 'R': `\Answered`, 'S': `\Seen`, 'T': `\Deleted`}

// maildirState reads a Maildir++-free, one-directory-per-folder tree (the
// layout "SubFolders Verbatim" in mbsync and "sep = /" in offlineimap
// make): every directory holding cur/ is a folder named by its path.
func maildirState(t *testing.T, root string) mailState {
	t.Helper()
	st := mailState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if _, err := os.Stat(filepath.Join(path, "cur")); err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		name := filepath.ToSlash(rel)
		st[name] = nil
		for _, sub := range []string{"cur", "new"} {
			files, err := os.ReadDir(filepath.Join(path, sub))
			if err != nil {
				return err
			}
			for _, f := range files {
				if f.IsDir() || strings.HasPrefix(f.Name(), ".") {
					continue
				}
				id, err := fileMessageID(filepath.Join(path, sub, f.Name()))
				if err != nil {
					return err
				}
				var flags []string
				if _, info, ok := strings.Cut(f.Name(), ":2,"); ok {
					for _, r := range info {
						if fl, ok := maildirFlags[r]; ok {
							flags = append(flags, fl)
						}
					}
				}
				st.add(name, id, flags)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading maildir %s: %v", root, err)
	}
	return st
}

func fileMessageID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	id := h.Get("Message-Id")
	if id == "" {
		return "", fmt.Errorf("%s: no Message-ID", path)
	}
	return id, nil
}

// dial logs in as user over IMAPS, trusting the server's generated
// certificate.
func (s *server) dial(t *testing.T, user string) *imapclient.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS(s.IMAPSAddr, &imapclient.Options{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.IMAPSAddr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, "password").Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// serverState reads every mailbox of the account. With all unset, flags
// are cut to what a Maildir can hold (see systemOnly).
func serverState(t *testing.T, c *imapclient.Client, all bool) mailState {
	t.Helper()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("LIST: %v", err)
	}
	st := mailState{}
	for _, mb := range list {
		if slices.Contains(mb.Attrs, imap.MailboxAttrNoSelect) {
			continue
		}
		st[mb.Mailbox] = nil
		sel, err := c.Select(mb.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatalf("EXAMINE %s: %v", mb.Mailbox, err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		var set imap.SeqSet
		set.AddRange(1, 0) // 1:*
		msgs, err := c.Fetch(set, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
		if err != nil {
			t.Fatalf("FETCH in %s: %v", mb.Mailbox, err)
		}
		for _, m := range msgs {
			var flags []string
			for _, f := range m.Flags {
				if string(f) == `\Recent` {
					continue
				}
				flags = append(flags, string(f))
			}
			if !all {
				flags = systemOnly(flags)
			}
			st.add(mb.Mailbox, m.Envelope.MessageID, flags)
		}
	}
	if err := c.Unselect().Wait(); err != nil && c.Mailbox() != nil {
		t.Fatalf("UNSELECT: %v", err)
	}
	return st
}

// testMessage is a small RFC 5322 message.
func testMessage(id, subject string) string {
	return "From: Bob <bob@example.org>\r\n" +
		"To: Alice <alice@example.org>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: Mon, 02 Nov 2026 10:00:00 +0000\r\n" +
		"Message-ID: <" + id + ">\r\n" +
		"\r\n" +
		"Body of " + subject + ".\r\n"
}

func appendMessage(t *testing.T, c *imapclient.Client, mailbox, id string, flags ...imap.Flag) {
	t.Helper()
	msg := testMessage(id, "message "+id)
	cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND %s to %s: %v", id, mailbox, err)
	}
}

// uidOf selects mailbox and returns the UID of the message with that
// Message-ID (exactly one must exist).
func uidOf(t *testing.T, c *imapclient.Client, mailbox, id string) imap.UID {
	t.Helper()
	if _, err := c.Select(mailbox, nil).Wait(); err != nil {
		t.Fatalf("SELECT %s: %v", mailbox, err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{
		Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "<" + id + ">"}},
	}, nil).Wait()
	if err != nil {
		t.Fatalf("UID SEARCH in %s: %v", mailbox, err)
	}
	uids := data.AllUIDs()
	if len(uids) != 1 {
		t.Fatalf("%s in %s: %d messages, want 1", id, mailbox, len(uids))
	}
	return uids[0]
}

func storeFlags(t *testing.T, c *imapclient.Client, mailbox, id string, op imap.StoreFlagsOp, flags ...imap.Flag) {
	t.Helper()
	uid := uidOf(t, c, mailbox, id)
	if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
		t.Fatalf("STORE on %s: %v", id, err)
	}
}

func expungeMessage(t *testing.T, c *imapclient.Client, mailbox, id string) {
	t.Helper()
	storeFlags(t, c, mailbox, id, imap.StoreFlagsAdd, imap.FlagDeleted)
	if err := c.Expunge().Close(); err != nil {
		t.Fatalf("EXPUNGE: %v", err)
	}
}

// writeMaildirMessage drops a new message into a Maildir folder the way a
// local mail program would (tmp/ then rename into new/ or cur/).
func writeMaildirMessage(t *testing.T, dir, name, id, info string) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(testMessage(id, "local "+id)), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "new", name)
	if info != "" {
		dst = filepath.Join(dir, "cur", name+":2,"+info)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// findMaildirFile returns the path of the message with that Message-ID in
// a Maildir folder.
func findMaildirFile(t *testing.T, dir, id string) string {
	t.Helper()
	for _, sub := range []string{"cur", "new"} {
		files, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, f := range files {
			p := filepath.Join(dir, sub, f.Name())
			if got, err := fileMessageID(p); err == nil && got == "<"+id+">" {
				return p
			}
		}
	}
	t.Fatalf("no message %s in %s", id, dir)
	return ""
}

// setMaildirFlags renames a Maildir file to carry exactly these info
// letters, moving it to cur/ as a mail program does.
func setMaildirFlags(t *testing.T, dir, id, info string) {
	t.Helper()
	p := findMaildirFile(t, dir, id)
	base, _, _ := strings.Cut(filepath.Base(p), ":2,")
	if err := os.Rename(p, filepath.Join(dir, "cur", base+":2,"+info)); err != nil {
		t.Fatal(err)
	}
}
