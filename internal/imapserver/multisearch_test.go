package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/casier/casier/internal/imapwire"
)

// multiServer: INBOX holds "test 1".."test 3", Sent "test 4".."test 5",
// Work "test 6", Work/A "test 7", Work/A/Deep "test 8"; Workshop (not in
// the Work subtree) "test 9". It returns the UIDVALIDITY of each.
func multiServer(t *testing.T) (*testServer, map[string]uint32) {
	ts := newTestServer(t)
	acct := ts.account(t, "alice")
	for _, name := range []string{"Work/A/Deep", "Workshop"} {
		if _, err := acct.CreateMailbox(context.Background(), name, ""); err != nil {
			t.Fatal(err)
		}
	}
	i := 1
	for _, d := range []struct {
		mbox string
		n    int
	}{{"INBOX", 3}, {"Sent", 2}, {"Work", 1}, {"Work/A", 1}, {"Work/A/Deep", 1}, {"Workshop", 1}} {
		for k := 0; k < d.n; k++ {
			ts.deliver(t, "alice", d.mbox, harnessMessage(i))
			i++
		}
	}
	v := map[string]uint32{}
	for _, name := range []string{"INBOX", "Sent", "Work", "Work/A", "Work/A/Deep", "Workshop", "All Mail"} {
		v[name] = ts.mailbox(t, "alice", name).UIDValidity
	}
	return ts, v
}

// TestMultiSearch: ESEARCH IN (...) searches several mailboxes at once,
// in the authenticated state too (RFC 7377 2).
func TestMultiSearch(t *testing.T) {
	ts, v := multiServer(t)
	c := ts.rawLogin(t, "alice")
	corr := func(tag, mbox string) string {
		m := `"` + mbox + `"`
		if mbox == "INBOX" {
			m = "INBOX"
		}
		return fmt.Sprintf(`* ESEARCH (TAG "%s" MAILBOX %s UIDVALIDITY %d) UID`, tag, m, v[mbox])
	}
	c.expectCmd("a ESEARCH IN (mailboxes (INBOX Sent)) RETURN (ALL COUNT) ALL",
		corr("a", "INBOX")+" ALL 1:3 COUNT 3", corr("a", "Sent")+" ALL 1:2 COUNT 2", "a OK ESEARCH completed")
	// No response for a mailbox without results.
	c.expectCmd(`b ESEARCH IN (inboxes mailboxes Sent) SUBJECT "test 5"`, corr("b", "Sent")+" ALL 2", "b OK ESEARCH completed")
	c.expectCmd("c ESEARCH IN (subtree Work) RETURN (MIN MAX) ALL",
		corr("c", "Work")+" MIN 1 MAX 1", corr("c", "Work/A")+" MIN 1 MAX 1", corr("c", "Work/A/Deep")+" MIN 1 MAX 1", "c OK ESEARCH completed")
	c.expectCmd("d ESEARCH IN (subtree-one (Work)) RETURN (COUNT) ALL",
		corr("d", "Work")+" COUNT 1", corr("d", "Work/A")+" COUNT 1", "d OK ESEARCH completed")
	// All Mail is a personal mailbox too, and shows both messages.
	c.expectCmd(`e ESEARCH IN (personal) RETURN (PARTIAL -1:-1) OR SUBJECT "test 9" SUBJECT "test 2"`,
		corr("e", "All Mail")+" PARTIAL (-1:-1 9)", corr("e", "INBOX")+" PARTIAL (-1:-1 2)",
		corr("e", "Workshop")+" PARTIAL (-1:-1 1)", "e OK ESEARCH completed")
	c.expectCmd("f ESEARCH IN (mailboxes Nonexistent) ALL", "f OK ESEARCH completed")
	// Without IN: the selected mailbox, none in the authenticated state.
	c.expectCmd("g ESEARCH ALL", "g OK ESEARCH completed")
	c.cmd("s SELECT Sent")
	c.expectCmd("h ESEARCH UID 2", corr("h", "Sent")+" ALL 2", "h OK ESEARCH completed")
	c.expectCmd("i ESEARCH IN (selected subscribed) SUBJECT test", corr("i", "All Mail")+" ALL 1:9", corr("i", "INBOX")+" ALL 1:3", corr("i", "Sent")+" ALL 1:2", "i OK ESEARCH completed")
	for _, bad := range []string{
		"ESEARCH IN (mailboxes INBOX) 1:3", "ESEARCH IN (personal) UID $", "ESEARCH RETURN (SAVE) ALL",
		"ESEARCH RETURN (UPDATE) ALL", "ESEARCH IN (bogus) ALL", "ESEARCH IN () ALL", "ESEARCH IN (personal (depth)) ALL",
		"ESEARCH IN (mailboxes ()) ALL", "ESEARCH IN (subtree) ALL",
	} {
		got := c.cmd("x " + bad)
		if len(got) != 1 || !strings.HasPrefix(got[0], "x BAD ") {
			t.Errorf("%s: %q, want BAD", bad, got)
		}
	}
}

// FuzzESearchArgs feeds arbitrary arguments to the parsers of ESEARCH's
// source and of the RETURN options (PARTIAL, UPDATE...): errors, never a
// panic; a parsed source names something.
func FuzzESearchArgs(f *testing.F) {
	for _, s := range []string{
		"IN (mailboxes (INBOX Sent) subtree Work) RETURN (PARTIAL -1:-5 COUNT) ALL",
		"IN (personal (x)) ALL", "IN (subtree-one {3}\r\nabc) ALL", "RETURN (UPDATE SAVE MIN) ALL",
		"IN (inboxes selected-delayed subscribed) RETURN (PARTIAL 4294967295:1) ALL", "IN ()", "IN (mailboxes ())",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		r := imapwire.NewReader(bufio.NewReader(strings.NewReader("a ESEARCH "+args+"\r\n")), imapwire.Limits{})
		cmd, err := r.ReadCommand(func(string, int64, bool) error { return nil })
		if err != nil {
			return
		}
		s := &Session{}
		d := cmd.Args()
		if d.SP() != nil {
			return
		}
		if peekAtom(d, "IN") {
			src, err := s.readSource(d)
			if err != nil {
				return
			}
			if src.empty() {
				t.Fatalf("%q: empty source accepted", args)
			}
			if d.SP() != nil {
				return
			}
		}
		if ret, err := searchReturnOpts(d); err == nil && ret != nil && ret.partial != nil {
			if p := ret.partial; p.lo == 0 || p.lo > p.hi {
				t.Fatalf("%q: bad range %+v", args, p)
			}
		}
	})
}
