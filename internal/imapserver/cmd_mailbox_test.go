package imapserver

import (
	"slices"
	"strconv"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestCreate(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE Projects`, `a OK [MAILBOXID (F17)] CREATE completed`)
	c.expectCmd(`b CREATE Projects`, `b NO [ALREADYEXISTS] Mailbox already exists`)
	c.expectCmd(`c CREATE inbox`, `c NO [ALREADYEXISTS] INBOX always exists`)
	c.expectCmd(`d CREATE INBOX`, `d NO [ALREADYEXISTS] INBOX always exists`)
	// RFC 9051 6.3.4: a trailing delimiter names the same mailbox.
	c.expectCmd(`e CREATE "Lists/"`, `e OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`f LIST "" "Lists*"`, `* LIST (\HasNoChildren) "/" "Lists"`, `f OK LIST completed`)
	c.expectCmd(`g CREATE "Lists/"`, `g NO [ALREADYEXISTS] Mailbox already exists`)
	// Missing parents are created.
	c.expectCmd(`h CREATE a/b/c`, `h OK [MAILBOXID (F21)] CREATE completed`)
	c.expectCmd(`i LIST "" "a*"`,
		`* LIST (\HasChildren) "/" "a"`,
		`* LIST (\HasChildren) "/" "a/b"`,
		`* LIST (\HasNoChildren) "/" "a/b/c"`,
		`i OK LIST completed`)
	c.expectCmd(`j CREATE "a//b"`, `j NO [CANNOT] Mailbox name has an empty hierarchy level`)
	c.expectCmd(`k CREATE "/x"`, `k NO [CANNOT] Mailbox name has an empty hierarchy level`)
	c.expectCmd(`l CREATE "x*"`, `l NO [CANNOT] Mailbox name contains a wildcard`)
	c.expectCmd(`m CREATE ""`, `m NO [CANNOT] Empty mailbox name`)
	c.expectCmd(`n CREATE "/"`, `n NO [CANNOT] Mailbox name has an empty hierarchy level`)
	c.expectCmd(`o CREATE`, `o BAD expected space`)
	c.expectCmd(`p CREATE inbox/Sub`, `p OK [MAILBOXID (F22)] CREATE completed`)
	c.expectCmd(`q LIST "" "INBOX*"`,
		`* LIST (\HasChildren) "/" INBOX`,
		`* LIST (\HasNoChildren) "/" "INBOX/Sub"`,
		`q OK LIST completed`)
}

func TestCreateSpecialUse(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	// RFC 6154 3.
	c.expectCmd(`a CREATE "Sent Items" (USE (\sent))`, `a OK [MAILBOXID (F17)] CREATE completed`)
	c.expectCmd(`b LIST "" "Sent*"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent Items"`,
		`b OK LIST completed`)
	c.expectCmd(`c CREATE Stuff (USE (\Bogus))`, `c NO [USEATTR] \Bogus is not a supported special-use attribute`)
	c.expectCmd(`d CREATE Stuff (USE (\Sent \Trash))`, `d NO [USEATTR] Only one special-use attribute per mailbox`)
	c.expectCmd(`e CREATE Stuff (USE ())`, `e OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`f CREATE Other (FOO (\Sent))`, `f BAD Unknown CREATE parameter FOO`)
	c.expectCmd(`g LIST "" "Stuff"`, `* LIST (\HasNoChildren) "/" "Stuff"`, `g OK LIST completed`)
	c.expectCmd(`h CREATE Both (USE (\Junk \junk))`, `h OK [MAILBOXID (F19)] CREATE completed`)
	c.expectCmd(`i LIST "" "Both"`, `* LIST (\HasNoChildren \Junk) "/" "Both"`, `i OK LIST completed`)
}

func TestDelete(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a DELETE INBOX`, `a NO [CANNOT] INBOX cannot be deleted`)
	c.expectCmd(`b DELETE nothing`, `b NO [NONEXISTENT] Mailbox does not exist`)
	c.expectCmd(`c CREATE p/q`, `c OK [MAILBOXID (F18)] CREATE completed`)
	c.expectCmd(`d DELETE p`, `d NO [HASCHILDREN] Mailbox has children`)
	c.expectCmd(`e DELETE p/q`, `e OK DELETE completed`)
	c.expectCmd(`f DELETE p`, `f OK DELETE completed`)
	c.expectCmd(`g LIST "" "p*"`, `g OK LIST completed`)
	// Subscriptions outlive the mailbox (RFC 9051 6.3.7).
	c.expectCmd(`h LSUB "" "Junk"`, `* LSUB (\HasNoChildren) "/" "Junk"`, `h OK LSUB completed`)
	ts.deliver(t, "alice", "Junk", harnessMessage(1))
	c.expectCmd(`i DELETE Junk`, `i OK DELETE completed`)
	c.expectCmd(`j LSUB "" "Junk"`, `* LSUB (\Noselect) "/" "Junk"`, `j OK LSUB completed`)
	c.expectCmd(`k STATUS Junk (MESSAGES)`, `k NO [NONEXISTENT] Mailbox does not exist`)
}

func TestDeleteSelected(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE tmp`, `a OK [MAILBOXID (F17)] CREATE completed`)
	lines := c.cmd(`b SELECT tmp`)
	if last := lines[len(lines)-1]; last != `b OK [READ-WRITE] SELECT completed` {
		t.Fatalf("select: %q", lines)
	}
	// Deleting the selected mailbox is allowed; the session cannot stay
	// in it, and the core's sync ends it with BYE (as Dovecot does).
	c.send(`c DELETE tmp`)
	c.expect(`* BYE Selected mailbox was deleted`)
	c.expectClosed()
	if _, err := ts.account(t, "alice").Mailbox(t.Context(), "tmp"); err == nil {
		t.Fatal("tmp still exists")
	}
}

func TestRename(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a RENAME nothing other`, `a NO [NONEXISTENT] Mailbox does not exist`)
	c.expectCmd(`b RENAME Sent Trash`, `b NO [ALREADYEXISTS] Mailbox already exists`)
	c.expectCmd(`c RENAME Sent INBOX`, `c NO [ALREADYEXISTS] INBOX always exists`)
	c.expectCmd(`d CREATE a/b/c`, `d OK [MAILBOXID (F19)] CREATE completed`)
	c.expectCmd(`e SUBSCRIBE a/b`, `e OK SUBSCRIBE completed`)
	c.expectCmd(`f RENAME a a/x`, `f NO [CANNOT] Cannot move a mailbox into itself`)
	// The subtree moves, and missing parents of the new name are created.
	c.expectCmd(`g RENAME a/b z/y`, `g OK RENAME completed`)
	c.expectCmd(`h LIST "" "*" RETURN (SUBSCRIBED)`,
		`* LIST (\Subscribed \HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\Subscribed \HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\Subscribed \HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\Subscribed \HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\Noselect \HasNoChildren) "/" "Labels"`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\Subscribed \HasNoChildren \Trash) "/" "Trash"`,
		`* LIST (\HasNoChildren) "/" "a"`,
		`* LIST (\HasChildren) "/" "z"`,
		`* LIST (\Subscribed \HasChildren) "/" "z/y"`,
		`* LIST (\HasNoChildren) "/" "z/y/c"`,
		`h OK LIST completed`)
	// UIDVALIDITY survives a rename of an ordinary mailbox.
	before := ts.mailbox(t, "alice", "z/y/c")
	c.expectCmd(`i RENAME z/y/c "c&AOk-"`, `i OK RENAME completed`)
	if after := ts.mailbox(t, "alice", "cé"); after.ID != before.ID || after.UIDValidity != before.UIDValidity {
		t.Fatalf("renamed mailbox: %+v, was %+v", after, before)
	}
}

func TestRenameInbox(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2), `\Seen`)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a CREATE INBOX/child`, `a OK [MAILBOXID (F17)] CREATE completed`)
	// RFC 9051 6.3.6: INBOX's messages move to the new mailbox; INBOX
	// stays, empty, with its children.
	c.expectCmd(`b RENAME inbox Old`, `b OK RENAME completed`)
	c.expectCmd(`c STATUS Old (MESSAGES UNSEEN)`, `* STATUS "Old" (MESSAGES 2 UNSEEN 1)`, `c OK STATUS completed`)
	c.expectCmd(`d STATUS INBOX (MESSAGES)`, `* STATUS INBOX (MESSAGES 0)`, `d OK STATUS completed`)
	c.expectCmd(`e LIST "" "INBOX*"`,
		`* LIST (\HasChildren) "/" INBOX`,
		`* LIST (\HasNoChildren) "/" "INBOX/child"`,
		`e OK LIST completed`)
	c.expectCmd(`f RENAME INBOX Old`, `f NO [ALREADYEXISTS] Mailbox already exists`)
}

func TestSubscribeUnsubscribe(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a SUBSCRIBE "not/there"`, `a OK SUBSCRIBE completed`)
	c.expectCmd(`b SUBSCRIBE "not/there"`, `b OK SUBSCRIBE completed`)
	c.expectCmd(`c LSUB "" "not*"`, `* LSUB (\Noselect) "/" "not/there"`, `c OK LSUB completed`)
	c.expectCmd(`d UNSUBSCRIBE "not/there"`, `d OK UNSUBSCRIBE completed`)
	c.expectCmd(`e UNSUBSCRIBE "not/there"`, `e OK UNSUBSCRIBE completed`)
	c.expectCmd(`f LSUB "" "not*"`, `f OK LSUB completed`)
	c.expectCmd(`g SUBSCRIBE "a%"`, `g NO [CANNOT] Mailbox name contains a wildcard`)
	c.expectCmd(`h UNSUBSCRIBE inbox`, `h OK UNSUBSCRIBE completed`)
	c.expectCmd(`i LSUB "" INBOX`, `i OK LSUB completed`)
}

func TestStatus(t *testing.T) {
	ts := newTestServer(t, func(cfg *Config) { cfg.MaxMessageSize = 123456 })
	m1, m2, m3 := harnessMessage(1), harnessMessage(2), harnessMessage(3)
	ts.deliver(t, "alice", "INBOX", m1, `\Seen`)
	ts.deliver(t, "alice", "INBOX", m2, `\Deleted`)
	ts.deliver(t, "alice", "INBOX", m3)
	mb := ts.mailbox(t, "alice", "INBOX")
	uv := strconv.FormatUint(uint64(mb.UIDValidity), 10)
	size := strconv.Itoa(len(m1) + len(m2) + len(m3))
	ms := strconv.FormatUint(mb.HighestModSeq, 10)

	c := ts.rawLogin(t, "alice")
	// RFC 9051 7.3.5: items in the order requested.
	c.expectCmd(`a STATUS INBOX (UIDVALIDITY MESSAGES UNSEEN UIDNEXT DELETED SIZE RECENT APPENDLIMIT HIGHESTMODSEQ)`,
		`* STATUS INBOX (UIDVALIDITY `+uv+` MESSAGES 3 UNSEEN 2 UIDNEXT 4 DELETED 1 SIZE `+size+` RECENT 3 APPENDLIMIT 123456 HIGHESTMODSEQ `+ms+`)`,
		`a OK STATUS completed`)
	c.expectCmd(`b status inbox (messages)`, `* STATUS INBOX (MESSAGES 3)`, `b OK STATUS completed`)
	c.expectCmd(`c STATUS Nope (MESSAGES)`, `c NO [NONEXISTENT] Mailbox does not exist`)
	c.expectCmd(`d STATUS INBOX (MESSAGES BOGUS)`, `d BAD Unknown STATUS item BOGUS`)
	c.expectCmd(`e STATUS INBOX ()`, `e BAD STATUS needs at least one item`)
	c.expectCmd(`f STATUS INBOX MESSAGES`, `f BAD expected (`)
	// STATUS of the selected mailbox is allowed.
	c.cmd(`g SELECT INBOX`)
	c.expectCmd(`h STATUS INBOX (MESSAGES)`, `* STATUS INBOX (MESSAGES 3)`, `h OK STATUS completed`)
}

func TestMailboxImapclient(t *testing.T) {
	ts := newTestServer(t)
	cl := ts.client(t, "alice")
	if err := cl.Create("Clients/Acme", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrArchive}}).Wait(); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := cl.Rename("Clients", "Customers", nil).Wait(); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if err := cl.Subscribe("Customers/Acme").Wait(); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	list, err := cl.List("", "Customers/*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	if l := list[0]; l.Mailbox != "Customers/Acme" || !slices.Contains(l.Attrs, imap.MailboxAttrArchive) || !slices.Contains(l.Attrs, imap.MailboxAttrSubscribed) {
		t.Fatalf("list entry: %+v", l)
	}
	st, err := cl.Status("Customers/Acme", &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, Size: true, NumDeleted: true, AppendLimit: true}).Wait()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if *st.NumMessages != 0 || st.UIDNext != 1 || st.UIDValidity == 0 || *st.Size != 0 || *st.NumDeleted != 0 ||
		st.AppendLimit == nil || *st.AppendLimit != uint32(DefaultMaxMessageSize) {
		t.Fatalf("status: %+v", st)
	}
	if err := cl.Delete("Customers").Wait(); err == nil {
		t.Fatal("deleting a mailbox with children succeeded")
	}
	if err := cl.Delete("Customers/Acme").Wait(); err != nil {
		t.Fatalf("delete: %v", err)
	}
}
