package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/casier/casier/internal/store"
)

// fid is the MAILBOXID the server gives alice's mailbox name.
func fid(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	return "F" + strconv.FormatInt(int64(ts.mailbox(t, "alice", name).ID), 10)
}

// oidRecord returns the store record of uid in alice's mailbox.
func oidRecord(t *testing.T, ts *testServer, mailbox string, uid uint32) store.Record {
	t.Helper()
	recs, err := ts.account(t, "alice").Records(context.Background(), ts.mailbox(t, "alice", mailbox).ID, []uint32{uid})
	if err != nil || len(recs) != 1 {
		t.Fatalf("record %s/%d: %v %v", mailbox, uid, err, recs)
	}
	return recs[0]
}

func TestObjectIDCapabilities(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	lines := c.cmd("a CAPABILITY")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "* CAPABILITY ") {
		t.Fatalf("CAPABILITY: %q", lines)
	}
	caps := " " + lines[0][len("* CAPABILITY "):] + " "
	for _, want := range []string{"OBJECTID", "SAVEDATE", "REPLACE", "UIDPLUS"} {
		if !strings.Contains(caps, " "+want+" ") {
			t.Errorf("capability %s missing: %q", want, lines[0])
		}
	}
}

// RFC 8474 4: MAILBOXID in CREATE, STATUS, LIST-STATUS and SELECT; kept
// across RENAME, new after DELETE and CREATE of the same name.
func TestMailboxID(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	lines := c.cmd("a CREATE Projects")
	id := fid(t, ts, "Projects")
	if want := "a OK [MAILBOXID (" + id + ")] CREATE completed"; len(lines) != 1 || lines[0] != want {
		t.Fatalf("CREATE: %q, want %q", lines, want)
	}
	c.expectCmd("b STATUS Projects (MESSAGES MAILBOXID)",
		`* STATUS "Projects" (MESSAGES 0 MAILBOXID (`+id+`))`, "b OK STATUS completed")
	c.expectCmd("c RENAME Projects Work", "c OK RENAME completed")
	if got := fid(t, ts, "Work"); got != id {
		t.Fatalf("MAILBOXID after RENAME: store id %s, was %s", got, id)
	}
	c.expectCmd("d STATUS Work (MAILBOXID)", `* STATUS "Work" (MAILBOXID (`+id+`))`, "d OK STATUS completed")
	c.expectCmd(`f LIST "" Work RETURN (STATUS (MAILBOXID UIDNEXT))`,
		`* LIST (\HasNoChildren) "/" "Work"`,
		`* STATUS "Work" (MAILBOXID (`+id+`) UIDNEXT 1)`,
		"f OK LIST completed")
	inbox := fid(t, ts, "INBOX")
	lines = c.cmd("g SELECT INBOX")
	if !hasLine(lines, "* OK [MAILBOXID ("+inbox+")] Ok") {
		t.Fatalf("SELECT without MAILBOXID: %q", lines)
	}
	c.expectCmd("h DELETE Work", "h OK DELETE completed")
	lines = c.cmd("i CREATE Work")
	id2 := fid(t, ts, "Work")
	if id2 == id || id2 == inbox {
		t.Fatalf("MAILBOXID reused: %s", id2)
	}
	if want := "i OK [MAILBOXID (" + id2 + ")] CREATE completed"; len(lines) != 1 || lines[0] != want {
		t.Fatalf("CREATE again: %q, want %q", lines, want)
	}
	c.expectCmd("j STATUS Work (MAILBOXID)", `* STATUS "Work" (MAILBOXID (`+id2+`))`, "j OK STATUS completed")
	c.expectCmd("k STATUS Work (MAILBOXID(", "k BAD expected space or )")
	// RENAME INBOX moves its messages to a new mailbox: INBOX keeps its
	// MAILBOXID (it is not renamed), the new mailbox gets a new one.
	c.cmd("l UNSELECT")
	c.expectCmd("m RENAME INBOX Old", "m OK RENAME completed")
	old := fid(t, ts, "Old")
	if old == inbox || old == id || old == id2 {
		t.Fatalf("mailbox made by RENAME INBOX has MAILBOXID %s", old)
	}
	c.expectCmd("n STATUS INBOX (MAILBOXID)", `* STATUS INBOX (MAILBOXID (`+inbox+`))`, "n OK STATUS completed")
}

// RFC 8474 5.1: a message and its copy share the EMAILID (one stored
// body); another message has another; SEARCH EMAILID finds them.
func TestEmailID(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	c := ts.rawLogin(t, "alice")
	c.cmd("a CREATE Projects")
	c.cmd("b SELECT INBOX")
	c.cmd("c COPY 1 Projects")
	e1 := "M" + strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 1).MessageID), 10)
	e2 := "M" + strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 2).MessageID), 10)
	if e1 == e2 {
		t.Fatalf("two messages share EMAILID %s", e1)
	}
	c.expectCmd("d FETCH 1:2 (EMAILID)",
		"* 1 FETCH (EMAILID ("+e1+"))",
		"* 2 FETCH (EMAILID ("+e2+"))",
		"d OK FETCH completed")
	c.expectCmd("e SEARCH EMAILID "+e2, "* SEARCH 2", "e OK SEARCH completed")
	c.expectCmd("f SEARCH EMAILID M0", "* SEARCH", "f OK SEARCH completed")
	c.cmd("g SELECT Projects")
	c.expectCmd("h UID FETCH 1 (EMAILID)", "* 1 FETCH (UID 1 EMAILID ("+e1+"))", "h OK UID FETCH completed")
	c.expectCmd("i SEARCH EMAILID "+e1, "* SEARCH 1", "i OK SEARCH completed")
	c.expectCmd("j SEARCH EMAILID M-1", "* SEARCH", "j OK SEARCH completed")
}

// threadMsg is a message with the given Message-ID and reply fields.
func threadMsg(id, inReplyTo, refs string) string {
	h := "From: a@example.org\nSubject: t\nMessage-ID: " + id + "\n"
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\n"
	}
	if refs != "" {
		h += "References: " + refs + "\n"
	}
	return crlf(h + "\nbody " + id + "\n")
}

// RFC 8474 5.2: THREADID computed at delivery from Message-ID,
// In-Reply-To and References, whatever the order of arrival; the same
// for a message and its copy; SEARCH THREADID.
func TestThreadID(t *testing.T) {
	ts := newTestServer(t)
	// A reply arrives before its parent; a folded References field; an
	// unrelated message.
	ts.deliver(t, "alice", "INBOX", threadMsg("<r1@x>", "<p@x>", ""))
	ts.deliver(t, "alice", "INBOX", threadMsg("<p@x>", "", ""))
	ts.deliver(t, "alice", "INBOX", threadMsg("<other@x>", "", ""))
	ts.deliver(t, "alice", "INBOX", threadMsg("<r2@x>", "", "<p@x>\n\t<r1@x>"))
	ts.deliver(t, "alice", "INBOX", crlf("Subject: no ids\n\nbody\n"))
	t1 := "T" + strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 1).MessageID), 10)
	t3 := "T" + strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 3).MessageID), 10)
	t5 := "T" + strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 5).MessageID), 10)
	c := ts.rawLogin(t, "alice")
	c.cmd("a CREATE Projects")
	c.cmd("b SELECT INBOX")
	c.expectCmd("c FETCH 1:* (THREADID)",
		"* 1 FETCH (THREADID ("+t1+"))",
		"* 2 FETCH (THREADID ("+t1+"))",
		"* 3 FETCH (THREADID ("+t3+"))",
		"* 4 FETCH (THREADID ("+t1+"))",
		"* 5 FETCH (THREADID ("+t5+"))",
		"c OK FETCH completed")
	c.expectCmd("d UID SEARCH THREADID "+t1, "* SEARCH 1 2 4", "d OK UID SEARCH completed")
	c.expectCmd("e SEARCH NOT THREADID "+t1, "* SEARCH 3 5", "e OK SEARCH completed")
	c.expectCmd("f SEARCH THREADID T999999", "* SEARCH", "f OK SEARCH completed")
	c.cmd("g COPY 4 Projects")
	c.cmd("h SELECT Projects")
	c.expectCmd("i FETCH 1 (THREADID EMAILID)",
		"* 1 FETCH (THREADID ("+t1+") EMAILID (M"+strconv.FormatInt(int64(oidRecord(t, ts, "INBOX", 4).MessageID), 10)+"))",
		"i OK FETCH completed")
	// A later reply to the thread joins it through any id it names.
	ts.deliver(t, "alice", "Projects", threadMsg("<r3@x>", "<r2@x>", ""))
	c.expectCmd("j NOOP", "* 2 EXISTS", "* 2 RECENT", "j OK NOOP completed")
	c.expectCmd("k FETCH 2 (THREADID)", "* 2 FETCH (THREADID ("+t1+"))", "k OK FETCH completed")
}

// RFC 8514: SAVEDATE is when the message was put in this mailbox (APPEND
// or COPY), FETCH SAVEDATE and SEARCH SAVED*.
func TestSaveDate(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.cmd("a SELECT INBOX")
	sd := oidRecord(t, ts, "INBOX", 1).SaveDate
	if sd.IsZero() {
		t.Fatal("no save date stored")
	}
	c.expectCmd("b FETCH 1 (SAVEDATE)",
		`* 1 FETCH (SAVEDATE "`+sd.Format("_2-Jan-2006 15:04:05 -0700")+`")`, "b OK FETCH completed")
	c.expectCmd("c SEARCH SAVEDATESUPPORTED", "* SEARCH 1", "c OK SEARCH completed")
	c.expectCmd("d SEARCH SAVEDSINCE 1-Jan-2000", "* SEARCH 1", "d OK SEARCH completed")
	c.expectCmd("e SEARCH SAVEDBEFORE 1-Jan-2000", "* SEARCH", "e OK SEARCH completed")
}
