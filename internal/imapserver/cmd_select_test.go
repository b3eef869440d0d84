package imapserver

import (
	"context"
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/casier/casier/internal/store"
)

// selectFixture delivers three messages to alice's INBOX: 1 \Seen, 2
// unseen, 3 \Seen with the keyword $Forwarded. It returns UIDVALIDITY.
func selectFixture(t *testing.T, ts *testServer) string {
	t.Helper()
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), store.FlagSeen)
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "INBOX", harnessMessage(3), store.FlagSeen, "$Forwarded")
	return u32str(ts.mailbox(t, "alice", "INBOX").UIDValidity)
}

const (
	fixtureFlags     = `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded)`
	fixturePermFlags = `* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Forwarded \*)] Flags permitted.`
)

func TestSelectRev1(t *testing.T) {
	ts := newTestServer(t)
	v := selectFixture(t, ts)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a SELECT INBOX",
		fixtureFlags,
		fixturePermFlags,
		"* 3 EXISTS",
		"* 3 RECENT",
		"* OK [UNSEEN 2] First unseen.",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"), "* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok",
		"a OK [READ-WRITE] SELECT completed")
	// \Recent belongs to the first session: a second one sees none, and
	// EXAMINE never claims it.
	c2 := ts.rawLogin(t, "alice")
	c2.expectCmd("a EXAMINE inbox",
		fixtureFlags,
		"* OK [PERMANENTFLAGS ()] No permanent flags permitted",
		"* 3 EXISTS",
		"* 0 RECENT",
		"* OK [UNSEEN 2] First unseen.",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"), "* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok",
		"a OK [READ-ONLY] EXAMINE completed")
	// Switching mailboxes: [CLOSED] first (RFC 9051 6.3.2).
	c2.expectCmd("b SELECT Sent",
		"* OK [CLOSED] Previous mailbox is now closed",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
		"* 0 EXISTS",
		"* 0 RECENT",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "Sent").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 1] Predicted next UID", highestModSeqLine(t, ts, "alice", "Sent"), "* OK [MAILBOXID (F2)] Ok", "* OK [URLMECH INTERNAL] Ok",
		"b OK [READ-WRITE] SELECT completed")
}

// TestExamineShowsRecent: EXAMINE counts and shows the messages that are
// \Recent without taking the flag (RFC 3501 6.3.2), so STATUS and a later
// SELECT still see them recent.
func TestExamineShowsRecent(t *testing.T) {
	ts := newTestServer(t)
	v := selectFixture(t, ts)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a EXAMINE INBOX",
		fixtureFlags,
		"* OK [PERMANENTFLAGS ()] No permanent flags permitted",
		"* 3 EXISTS",
		"* 3 RECENT",
		"* OK [UNSEEN 2] First unseen.",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"), "* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok",
		"a OK [READ-ONLY] EXAMINE completed")
	c.expectCmd("b FETCH 2 FLAGS", `* 2 FETCH (FLAGS (\Recent))`, "b OK FETCH completed")
	c.expectCmd("c CLOSE", "c OK CLOSE completed")
	c.expectCmd("d STATUS INBOX (RECENT)", "* STATUS INBOX (RECENT 3)", "d OK STATUS completed")
	c.cmd("e SELECT INBOX")
	c.expectCmd("f STATUS INBOX (RECENT)", "* STATUS INBOX (RECENT 0)", "f OK STATUS completed")
	// Once a read-write session took them, EXAMINE sees none.
	c2 := ts.rawLogin(t, "alice")
	if !hasLine(c2.cmd("g EXAMINE INBOX"), "* 0 RECENT") {
		t.Error("EXAMINE after SELECT: want * 0 RECENT")
	}
}

func TestSelectRev2(t *testing.T) {
	ts := newTestServer(t)
	v := selectFixture(t, ts)
	if _, err := ts.account(t, "alice").CreateMailbox(context.Background(), "Sent/2024", ""); err != nil {
		t.Fatal(err)
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("e ENABLE IMAP4rev2")
	// No RECENT and no [UNSEEN] in IMAP4rev2; a LIST response instead.
	c.expectCmd("a SELECT INBOX",
		fixtureFlags,
		fixturePermFlags,
		"* 3 EXISTS",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID", highestModSeqLine(t, ts, "alice", "INBOX"), "* OK [MAILBOXID (F1)] Ok", "* OK [URLMECH INTERNAL] Ok",
		`* LIST (\HasNoChildren) "/" INBOX`,
		"a OK [READ-WRITE] SELECT completed")
	c.expectCmd("b EXAMINE Sent",
		"* OK [CLOSED] Previous mailbox is now closed",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		"* OK [PERMANENTFLAGS ()] No permanent flags permitted",
		"* 0 EXISTS",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "Sent").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 1] Predicted next UID", highestModSeqLine(t, ts, "alice", "Sent"), "* OK [MAILBOXID (F2)] Ok", "* OK [URLMECH INTERNAL] Ok",
		`* LIST (\HasChildren \Sent) "/" "Sent"`,
		"b OK [READ-ONLY] EXAMINE completed")
	// rev2 has no \Recent: a rev1 session still finds the messages recent.
	c1 := ts.rawLogin(t, "alice")
	lines := c1.cmd("a SELECT INBOX")
	if !hasLine(lines, "* 3 RECENT") {
		t.Fatalf("rev1 SELECT after a rev2 one: %q", lines)
	}
}

func TestSelectFailures(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a SELECT Nope", "a NO [NONEXISTENT] Mailbox does not exist")
	c.expectCmd("b EXAMINE Nope", "b NO [NONEXISTENT] Mailbox does not exist")
	c.expectCmd(`c SELECT ""`, "c NO [CANNOT] Empty mailbox name")
	c.expectCmd(`d SELECT "a//b"`, "d NO [CANNOT] Mailbox name has an empty hierarchy level")
	c.expectCmd(`e SELECT "/a"`, "e NO [CANNOT] Mailbox name has an empty hierarchy level")
	c.expectCmd(`f SELECT "a/"`, "f NO [CANNOT] Mailbox name has an empty hierarchy level")
	c.expectCmd(`g SELECT "a*"`, "g NO [CANNOT] Mailbox name contains a wildcard")
	c.expectCmd(`h SELECT "a%b"`, "h NO [CANNOT] Mailbox name contains a wildcard")
	c.expectCmd(`i SELECT INBOX (X-UNKNOWN)`, "i BAD Unknown SELECT parameter X-UNKNOWN")
	c.expectBad("j SELECT")
	c.expectBad("k SELECT INBOX extra")

	// A failed SELECT leaves no mailbox selected (RFC 9051 6.3.2).
	c.cmd("l SELECT INBOX")
	c.expectCmd("m SELECT Nope", "* OK [CLOSED] Previous mailbox is now closed", "m NO [NONEXISTENT] Mailbox does not exist")
	c.expectCmd("n CHECK", "n BAD CHECK not allowed now.")
	// A BAD (syntax) SELECT keeps the mailbox.
	c.cmd("o SELECT INBOX")
	c.expectBad("p SELECT")
	c.expectCmd("q CHECK", "q OK CHECK completed")
}

func TestMailboxName(t *testing.T) {
	s := &Session{}
	for in, want := range map[string]string{
		"INBOX":       "INBOX",
		"inbox":       "INBOX",
		"InBoX/Sub":   "INBOX/Sub",
		"INBOXES":     "INBOXES",
		"inboxes/x":   "inboxes/x",
		"Work/2024":   "Work/2024",
		"Entwürfe":    "Entwürfe",
		"a b":         "a b",
		"~peter/mail": "~peter/mail",
	} {
		got, err := s.mailboxName(in)
		if err != nil || got != want {
			t.Errorf("mailboxName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/", "a/", "/a", "a//b", "a*", "%", "a\x00b", "a\tb", "a\x7fb", "\xff", string(make([]byte, 1001))} {
		if got, err := s.mailboxName(in); err == nil {
			t.Errorf("mailboxName(%q) = %q, want an error", in, got)
		}
	}
}

func TestCloseExpungesSilently(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2), store.FlagDeleted)
	ts.deliver(t, "alice", "INBOX", harnessMessage(3), store.FlagDeleted)
	mb := ts.mailbox(t, "alice", "INBOX")

	// EXAMINE + CLOSE: read-only, nothing is expunged.
	c := ts.rawLogin(t, "alice")
	c.cmd("a EXAMINE INBOX")
	c.expectCmd("b CLOSE", "b OK CLOSE completed")
	if n := entryCount(t, ts, "alice", mb.ID); n != 3 {
		t.Fatalf("after EXAMINE+CLOSE: %d messages, want 3", n)
	}
	// UNSELECT never expunges.
	c.cmd("c SELECT INBOX")
	c.expectCmd("d UNSELECT", "d OK UNSELECT completed")
	if n := entryCount(t, ts, "alice", mb.ID); n != 3 {
		t.Fatalf("after UNSELECT: %d messages, want 3", n)
	}
	c.expectCmd("e UNSELECT", "e BAD UNSELECT not allowed now.")

	// Another session watching the mailbox is told about the expunge.
	w := ts.rawLogin(t, "alice")
	w.cmd("a SELECT INBOX")

	// SELECT + CLOSE: \Deleted messages go, without EXPUNGE responses.
	c.cmd("f SELECT INBOX")
	c.expectCmd("g CLOSE", "g OK CLOSE completed")
	if n := entryCount(t, ts, "alice", mb.ID); n != 1 {
		t.Fatalf("after CLOSE: %d messages, want 1", n)
	}
	c.expectCmd("h NOOP", "h OK NOOP completed")
	c.expectCmd("i CLOSE", "i BAD CLOSE not allowed now.")
	w.expectCmd("b NOOP", "* 2 EXPUNGE", "* 2 EXPUNGE", "b OK NOOP completed")
}

func entryCount(t *testing.T, ts *testServer, user string, id store.MailboxID) int {
	t.Helper()
	es, err := ts.account(t, user).Entries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestGoIMAPClient drives the core commands with go-imap's client.
func TestGoIMAPClient(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2), store.FlagSeen, "Work")
	cl := ts.client(t, "alice")

	id, err := cl.ID(&imap.IDData{Name: "casier-test", Version: "1"}).Wait()
	if err != nil || id.Name != "Casier" || id.Version != "0.1" {
		t.Fatalf("ID: %+v, %v", id, err)
	}
	ns, err := cl.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Prefix != "" || ns.Personal[0].Delim != '/' || ns.Other != nil || ns.Shared != nil {
		t.Fatalf("NAMESPACE: %+v, %v", ns, err)
	}
	if _, err := cl.Enable(imap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatalf("ENABLE: %v", err)
	}
	sel, err := cl.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	mb := ts.mailbox(t, "alice", "INBOX")
	wantFlags := []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft, "Work"}
	if sel.NumMessages != 2 || sel.UIDNext != 3 || sel.UIDValidity != mb.UIDValidity ||
		!reflect.DeepEqual(sel.Flags, wantFlags) ||
		!reflect.DeepEqual(sel.PermanentFlags, append(wantFlags, imap.FlagWildcard)) ||
		sel.List == nil || sel.List.Mailbox != "INBOX" || sel.List.Delim != '/' {
		t.Fatalf("SELECT data: %+v (list %+v)", sel, sel.List)
	}
	ts.deliver(t, "alice", "INBOX", harnessMessage(3))
	if err := cl.Noop().Wait(); err != nil {
		t.Fatalf("NOOP: %v", err)
	}
	if n := cl.Mailbox().NumMessages; n != 3 {
		t.Fatalf("after NOOP the client counts %d messages, want 3", n)
	}
	if err := cl.Unselect().Wait(); err != nil {
		t.Fatalf("UNSELECT: %v", err)
	}
	if err := cl.Logout().Wait(); err != nil {
		t.Fatalf("LOGOUT: %v", err)
	}
}
