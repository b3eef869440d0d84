package imapserver

import (
	"context"
	"strconv"
	"testing"

	"github.com/casier/casier/internal/store"
)

// uidonlyFixture fills INBOX with UIDs 1..4 and expunges UID 1, so that
// every UID differs from its message number (UID 3 is message 2), then
// returns a session with IMAP4rev2 and UIDONLY enabled and INBOX selected.
func uidonlyFixture(t *testing.T, ts *testServer) *rawConn {
	t.Helper()
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "INBOX", harnessMessage(3), store.FlagSeen)
	ts.deliver(t, "alice", "INBOX", harnessMessage(4))
	expunge(t, ts, "INBOX", 1)
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a ENABLE IMAP4rev2 UIDONLY", "* ENABLED IMAP4rev2 UIDONLY", "a OK ENABLE completed")
	c.cmd("b SELECT INBOX")
	return c
}

// RFC 9586 3: ENABLE UIDONLY, once; not while a mailbox is selected
// (uidonly.go), where ENABLED leaves it out and message numbers still work.
func TestUIDOnlyEnable(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a ENABLE UIDONLY", "* ENABLED UIDONLY", "a OK ENABLE completed")
	c.expectCmd("b ENABLE UIDONLY", "* ENABLED", "b OK ENABLE completed")

	c2 := ts.rawLogin(t, "alice")
	c2.cmd("a SELECT INBOX")
	c2.expectCmd("b ENABLE UIDONLY", "* ENABLED", "b OK ENABLE completed")
	c2.expectCmd("c FETCH 1 (UID)", "* 1 FETCH (UID 1)", "c OK FETCH completed")
}

// SELECT under UIDONLY: EXISTS (a count, not a message number) stays; the
// IMAP4rev1 [UNSEEN n], a message number, is not sent.
func TestUIDOnlySelect(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), store.FlagSeen)
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	c := ts.rawLogin(t, "alice")
	c.cmd("a ENABLE UIDONLY")
	c.expectCmd("b SELECT INBOX",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
		"* 2 EXISTS",
		"* 2 RECENT",
		"* OK [UIDVALIDITY "+u32str(ts.mailbox(t, "alice", "INBOX").UIDValidity)+"] UIDs valid",
		"* OK [UIDNEXT 3] Predicted next UID",
		highestModSeqLine(t, ts, "alice", "INBOX"),
		"* OK [MAILBOXID (F1)] Ok",
		"* OK [URLMECH INTERNAL] Ok",
		"b OK [READ-WRITE] SELECT completed")
	c.expectCmd("c UID FETCH 2 (FLAGS)", `* 2 UIDFETCH (FLAGS (\Recent))`, "c OK UID FETCH completed")
}

// UID FETCH answers with UIDFETCH, whose number is the UID; the UID item
// the server would add is left out, one the client asks for is kept.
func TestUIDOnlyFetch(t *testing.T) {
	ts := newTestServer(t)
	c := uidonlyFixture(t, ts)
	c.expectCmd("c UID FETCH 3 (FLAGS)", `* 3 UIDFETCH (FLAGS (\Seen))`, "c OK UID FETCH completed")
	c.expectCmd("d UID FETCH 2:* (FLAGS)",
		`* 2 UIDFETCH (FLAGS ())`, `* 3 UIDFETCH (FLAGS (\Seen))`, `* 4 UIDFETCH (FLAGS ())`,
		"d OK UID FETCH completed")
	c.expectCmd("e UID FETCH 4 (UID)", `* 4 UIDFETCH (UID 4)`, "e OK UID FETCH completed")
	c.expectCmd("f UID FETCH 4 (UID FLAGS)", `* 4 UIDFETCH (UID 4 FLAGS ())`, "f OK UID FETCH completed")
	// A body fetch that sets \Seen reports the new flags, still without UID.
	c.expectCmd("g UID FETCH 4 (BODY[HEADER.FIELDS (Subject)])",
		"* 4 UIDFETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 4\r\n\r\n FLAGS (\\Seen))",
		"g OK UID FETCH completed")
	// Under CONDSTORE, MODSEQ comes too, and still no UID.
	c.cmd("h ENABLE CONDSTORE")
	ms := modseqOf(t, ts, "alice", "INBOX")
	c.expectCmd("i UID FETCH 3 (FLAGS MODSEQ)", `* 3 UIDFETCH (FLAGS (\Seen) MODSEQ (`+ms[3]+`))`, "i OK UID FETCH completed")
}

// Every command that takes or returns message numbers gets BAD
// [UIDREQUIRED], and so does a message-number search key (RFC 9586 3).
func TestUIDOnlyRequired(t *testing.T) {
	ts := newTestServer(t)
	c := uidonlyFixture(t, ts)
	for _, tc := range []struct{ cmd, name string }{
		{"FETCH 1 (FLAGS)", "FETCH"},
		{`STORE 1 +FLAGS (\Flagged)`, "STORE"},
		{"COPY 1 Archive", "COPY"},
		{"MOVE 1 Archive", "MOVE"},
		{"SEARCH ALL", "SEARCH"},
		{"SORT (DATE) UTF-8 ALL", "SORT"},
		{"THREAD REFERENCES UTF-8 ALL", "THREAD"},
		{"REPLACE 1 INBOX {3+}\r\nx\r\n", "REPLACE"},
	} {
		c.expectCmd("x "+tc.cmd,
			"x BAD [UIDREQUIRED] "+tc.name+" with message numbers is not allowed with UIDONLY; use UID "+tc.name)
	}
	const keyBad = "BAD [UIDREQUIRED] Message numbers are not allowed in search keys with UIDONLY"
	c.expectCmd("y UID SEARCH 1:2", "y "+keyBad)
	c.expectCmd("y UID SEARCH NOT (OR 1 SEEN)", "y "+keyBad)
	c.expectCmd("y UID SORT (DATE) UTF-8 1", "y "+keyBad)
	// Nothing changed meanwhile.
	c.expectCmd("z UID FETCH 1:* (FLAGS)",
		`* 2 UIDFETCH (FLAGS ())`, `* 3 UIDFETCH (FLAGS (\Seen))`, `* 4 UIDFETCH (FLAGS ())`,
		"z OK UID FETCH completed")
}

// The UID forms work and report UIDs: UID SEARCH (with "$"), UID STORE,
// UID COPY, UID SORT.
func TestUIDOnlyUIDCommands(t *testing.T) {
	ts := newTestServer(t)
	c := uidonlyFixture(t, ts)
	c.expectCmd("c UID SEARCH UNSEEN", `* ESEARCH (TAG "c") UID ALL 2,4`, "c OK UID SEARCH completed")
	c.expectCmd("d UID SEARCH RETURN (SAVE) UID 3:*", "d OK UID SEARCH completed")
	c.expectCmd("e UID SEARCH $", `* ESEARCH (TAG "e") UID ALL 3:4`, "e OK UID SEARCH completed")
	c.expectCmd("f UID FETCH $ (FLAGS)", `* 3 UIDFETCH (FLAGS (\Seen))`, `* 4 UIDFETCH (FLAGS ())`, "f OK UID FETCH completed")
	c.expectCmd(`g UID STORE 3 +FLAGS (\Flagged)`, `* 3 UIDFETCH (FLAGS (\Flagged \Seen))`, "g OK UID STORE completed")
	c.expectCmd(`h UID STORE 4 +FLAGS.SILENT (\Flagged)`, "h OK UID STORE completed")
	c.expectCmd("i UID SORT (REVERSE SUBJECT) UTF-8 ALL", "* SORT 4 3 2", "i OK UID SORT completed")
	uv := u32str(ts.mailbox(t, "alice", "Archive").UIDValidity)
	c.expectCmd("j UID COPY 2:3 Archive", "j OK [COPYUID "+uv+" 2:3 1:2] UID COPY completed")
	// STORE .SILENT under CONDSTORE still reports the MODSEQ (RFC 7162
	// 3.1.3), in a UIDFETCH without UID.
	c.cmd("k ENABLE CONDSTORE")
	lines := c.cmd(`l UID STORE 2 +FLAGS.SILENT ($Work)`)
	ms := modseqOf(t, ts, "alice", "INBOX")
	expectLines(t, "UID STORE .SILENT", lines,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.`,
		"* 2 UIDFETCH (MODSEQ ("+ms[2]+"))",
		"l OK UID STORE completed")
}

// Changes made by another session reach a UIDONLY session as UIDFETCH and
// VANISHED, at the end of a command and during IDLE.
func TestUIDOnlyUnsolicited(t *testing.T) {
	ts := newTestServer(t)
	a := uidonlyFixture(t, ts)
	b := ts.rawLogin(t, "alice")
	b.cmd("a SELECT INBOX")

	b.cmd(`b UID STORE 3 +FLAGS (\Flagged)`)
	a.expectCmd("c NOOP", `* 3 UIDFETCH (FLAGS (\Flagged \Seen))`, "c OK NOOP completed")
	b.cmd(`c UID STORE 3 +FLAGS.SILENT (\Deleted)`)
	b.cmd("d UID EXPUNGE 3")
	// The \Deleted of a message expunged since is not worth reporting.
	a.expectCmd("d NOOP", "* VANISHED 3", "d OK NOOP completed")

	// During IDLE.
	a.send("e IDLE")
	a.expect("+ idling")
	b.cmd(`e UID STORE 2 +FLAGS.SILENT (\Answered)`)
	a.expect(`* 2 UIDFETCH (FLAGS (\Answered))`)
	b.cmd(`f UID STORE 2 +FLAGS.SILENT (\Deleted)`)
	a.expect(`* 2 UIDFETCH (FLAGS (\Answered \Deleted))`)
	b.cmd("g EXPUNGE")
	a.expect("* VANISHED 2")
	ts.deliver(t, "alice", "INBOX", harnessMessage(5))
	a.expect("* 2 EXISTS")
	a.send("DONE")
	a.expect("e OK IDLE completed")

	// Under CONDSTORE the flag change carries MODSEQ, and no UID.
	a.cmd("f ENABLE CONDSTORE")
	b.cmd(`h UID STORE 4 +FLAGS.SILENT (\Seen)`)
	ms := modseqOf(t, ts, "alice", "INBOX")
	a.expectCmd("g NOOP", `* 4 UIDFETCH (FLAGS (\Seen) MODSEQ (`+ms[4]+`))`, "g OK NOOP completed")

	// An expunge pending during UID FETCH goes out with it, as VANISHED.
	b.cmd(`i UID STORE 5 +FLAGS.SILENT (\Deleted)`)
	b.cmd("j EXPUNGE")
	lines := a.cmd("h UID FETCH 4 (UID)")
	expectLines(t, "UID FETCH with a pending expunge", lines, "* 4 UIDFETCH (UID 4)", "* VANISHED 5", "h OK UID FETCH completed")
}

// UID MOVE, UID EXPUNGE and EXPUNGE report VANISHED (RFC 9586 3, as
// QRESYNC does, RFC 7162 3.2.10).
func TestUIDOnlyExpunges(t *testing.T) {
	ts := newTestServer(t)
	c := uidonlyFixture(t, ts)
	uv := u32str(ts.mailbox(t, "alice", "Archive").UIDValidity)
	c.expectCmd("c UID MOVE 2:3 Archive",
		"* OK [COPYUID "+uv+" 2:3 1:2] Moved",
		"* VANISHED 2:3",
		"c OK UID MOVE completed")
	ts.deliver(t, "alice", "INBOX", harnessMessage(5))
	ts.deliver(t, "alice", "INBOX", harnessMessage(6))
	c.expectCmd("d NOOP", "* 3 EXISTS", "d OK NOOP completed")
	c.expectCmd(`d UID STORE 4:6 +FLAGS.SILENT (\Deleted)`, "d OK UID STORE completed")
	c.expectCmd("e UID EXPUNGE 5", "* VANISHED 5", "e OK UID EXPUNGE completed")
	c.expectCmd("f EXPUNGE", "* VANISHED 4,6", "f OK EXPUNGE completed")
	c.expectCmd("g UID FETCH 1:* (FLAGS)", "g OK UID FETCH completed")
}

// QRESYNC under UIDONLY: the changed messages come as UIDFETCH, and
// seq-match-data, which holds message numbers, is refused.
func TestUIDOnlyQresync(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 3; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	mb := ts.mailbox(t, "alice", "INBOX")
	uv := u32str(mb.UIDValidity)
	hm := highestModSeq(t, ts, "alice", "INBOX")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 2)
	expunge(t, ts, "INBOX", 1)
	ms := modseqOf(t, ts, "alice", "INBOX")
	c := ts.rawLogin(t, "alice")
	c.expectCmd("a ENABLE IMAP4rev2 QRESYNC UIDONLY", "* ENABLED IMAP4rev2 QRESYNC UIDONLY", "a OK ENABLE completed")
	c.expectCmd("b SELECT INBOX (QRESYNC ("+uv+" "+hm+" 1:3 (1:3 1:3)))",
		"b BAD [UIDREQUIRED] seq-match-data holds message numbers, not allowed with UIDONLY")
	lines := withoutObjectID(c.cmd("c SELECT INBOX (QRESYNC (" + uv + " " + hm + " 1:3))"))
	expectLines(t, "SELECT (QRESYNC)", lines[len(lines)-3:],
		"* VANISHED (EARLIER) 1",
		`* 2 UIDFETCH (FLAGS (\Flagged) MODSEQ (`+ms[2]+`))`,
		"c OK [READ-WRITE] SELECT completed")
}

// NOTIFY's MessageNew fetch attributes come as UIDFETCH too.
func TestUIDOnlyNotify(t *testing.T) {
	ts := newTestServer(t)
	c := uidonlyFixture(t, ts)
	c.expectCmd("c NOTIFY SET (selected (MessageNew (FLAGS) MessageExpunge FlagChange))", "c OK NOTIFY completed")
	uid := ts.deliver(t, "alice", "INBOX", harnessMessage(5))
	c.expect("* 4 EXISTS", "* "+strconv.Itoa(int(uid))+" UIDFETCH (FLAGS ())")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 2)
	c.expect(`* 2 UIDFETCH (FLAGS (\Flagged))`)
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagDeleted}, 2)
	c.expect(`* 2 UIDFETCH (FLAGS (\Deleted \Flagged))`)
	mb := ts.mailbox(t, "alice", "INBOX")
	if _, err := ts.account(t, "alice").Expunge(context.Background(), mb.ID, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	c.expect("* VANISHED 2")
}
