package imapserver

// End-to-end tests of labels, label folders and All Mail over real
// connections (docs/labels.md): what a keyword-aware client and a
// folder-only client each see of the same messages.

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// statusLine matches "* STATUS <name> (MESSAGES n)".
var statusLine = regexp.MustCompile(`^\* STATUS (?:"([^"]*)"|(\S+)) \(MESSAGES (\d+)\)$`)

// messageCounts returns MESSAGES of every mailbox LIST-STATUS reports
// (RFC 5819), so that a test can check that nothing was duplicated or
// lost: every selectable mailbox, never the \Noselect label root.
func messageCounts(t *testing.T, c *rawConn) map[string]int {
	t.Helper()
	lines := c.cmd(`cnt LIST "" "*" RETURN (STATUS (MESSAGES))`)
	if last := lines[len(lines)-1]; last != "cnt OK LIST completed" {
		t.Fatalf("LIST-STATUS: %q", lines)
	}
	out := map[string]int{}
	for _, l := range lines {
		m := statusLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := m[1] + m[2]
		out[name], _ = strconv.Atoi(m[3])
	}
	return out
}

// expectCounts compares messageCounts with want, mailbox by mailbox.
func expectCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %s has %d messages, want %d (all: %v)", what, n, got[n], w, got)
		}
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			t.Errorf("%s: unexpected mailbox %s (all: %v)", what, n, got)
		}
	}
}

// withCounts returns a copy of m with delta added, mailbox by mailbox (a
// mailbox new to m starts at 0).
func withCounts(m, delta map[string]int) map[string]int {
	out := maps.Clone(m)
	for k, d := range delta {
		out[k] += d
	}
	return out
}

// withoutOtherCodes drops the SELECT response codes that other extensions
// add (MAILBOXID, URLMECH, and HIGHESTMODSEQ unless kept), so that the
// transcripts below show what labels change.
func withoutOtherCodes(lines []string, keep ...string) []string {
	out := lines[:0:0]
	for _, l := range lines {
		drop := false
		for _, code := range []string{"MAILBOXID", "URLMECH", "HIGHESTMODSEQ"} {
			if strings.HasPrefix(l, "* OK ["+code+" ") && !slices.Contains(keep, code) {
				drop = true
			}
		}
		if !drop {
			out = append(out, l)
		}
	}
	return out
}

// oneFetch runs a command and returns its one untagged FETCH line.
func oneFetch(t *testing.T, c *rawConn, cmd string) string {
	t.Helper()
	lines := c.cmd(cmd)
	var got []string
	for _, l := range lines {
		if strings.Contains(l, " FETCH (") {
			got = append(got, l)
		}
	}
	if len(got) != 1 || !strings.Contains(lines[len(lines)-1], " OK ") {
		t.Fatalf("%s: want one FETCH and OK, got %q", cmd, lines)
	}
	return got[0]
}

var emailIDRe = regexp.MustCompile(`EMAILID \(([^)]+)\)`)

func emailID(t *testing.T, fetch string) string {
	t.Helper()
	m := emailIDRe.FindStringSubmatch(fetch)
	if m == nil {
		t.Fatalf("no EMAILID in %q", fetch)
	}
	return m[1]
}

// TestLabelsList: a new account shows All Mail (\All, RFC 6154) and the
// label root (\Noselect); a label folder appears under the root as soon
// as a message carries the keyword; LIST-STATUS skips the root (RFC 5819
// 2); LSUB and RFC 3348 children attributes stay right.
func TestLabelsList(t *testing.T) {
	ts := newTestServer(t)
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a LIST "" "*"`,
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\Noselect \HasNoChildren) "/" "Labels"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasNoChildren \Trash) "/" "Trash"`,
		`a OK LIST completed`)
	c.expectCmd(`b LIST (SPECIAL-USE) "" "*"`,
		`* LIST (\HasNoChildren \All) "/" "All Mail"`,
		`* LIST (\HasNoChildren \Archive) "/" "Archive"`,
		`* LIST (\HasNoChildren \Drafts) "/" "Drafts"`,
		`* LIST (\HasNoChildren \Junk) "/" "Junk"`,
		`* LIST (\HasNoChildren \Sent) "/" "Sent"`,
		`* LIST (\HasNoChildren \Trash) "/" "Trash"`,
		`b OK LIST completed`)

	ts.deliver(t, "alice", "INBOX", harnessMessage(1), "Work")
	c.expectCmd(`c LIST "" "Labels*"`,
		`* LIST (\Noselect \HasChildren) "/" "Labels"`,
		`* LIST (\HasNoChildren) "/" "Labels/Work"`,
		`c OK LIST completed`)
	c.expectCmd(`d LIST "" "Labels/%"`, `* LIST (\HasNoChildren) "/" "Labels/Work"`, `d OK LIST completed`)
	// A new label folder is subscribed, so LSUB-only clients show it; the
	// root is not, and shows as the \Noselect parent (RFC 3501 6.3.9).
	c.expectCmd(`l LSUB "" "Labels*"`, `* LSUB (\HasNoChildren) "/" "Labels/Work"`, `l OK LSUB completed`)
	c.expectCmd(`m LSUB "" "L%"`, `* LSUB (\Noselect \HasChildren) "/" "Labels"`, `m OK LSUB completed`)
	// RFC 5819 2: no STATUS for the \Noselect root.
	c.expectCmd(`e LIST "" "Labels*" RETURN (STATUS (MESSAGES UNSEEN))`,
		`* LIST (\Noselect \HasChildren) "/" "Labels"`,
		`* LIST (\HasNoChildren) "/" "Labels/Work"`,
		`* STATUS "Labels/Work" (MESSAGES 1 UNSEEN 1)`,
		`e OK LIST completed`)
	c.expectCmd(`f LIST "" "All Mail" RETURN (STATUS (MESSAGES))`,
		`* LIST (\HasNoChildren \All) "/" "All Mail"`,
		`* STATUS "All Mail" (MESSAGES 1)`,
		`f OK LIST completed`)
	// LSUB of a subscribed root keeps \Noselect.
	c.expectCmd(`g SUBSCRIBE Labels`, `g OK SUBSCRIBE completed`)
	c.expectCmd(`h LSUB "" "Labels"`, `* LSUB (\Noselect \HasChildren) "/" "Labels"`, `h OK LSUB completed`)
	// IMAP4rev2 LIST: the same attributes.
	c.expectCmd("i ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "i OK ENABLE completed")
	c.expectCmd(`j LIST "" "Labels"`, `* LIST (\Noselect \HasChildren) "/" "Labels"`, `j OK LIST completed`)
}

// TestLabelsNoselect: the label root cannot be selected, examined,
// STATUSed, appended to, copied or moved into: NO [CANNOT] (RFC 5530),
// never [TRYCREATE]. It cannot be renamed or deleted, folders cannot move
// in or out of the label tree, and a label name must be a keyword.
func TestLabelsNoselect(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	const noSelect = "NO [CANNOT] Mailbox cannot be selected and holds no messages"
	c.expectCmd("a SELECT Labels", "a "+noSelect)
	c.expectCmd("b EXAMINE Labels", "b "+noSelect)
	c.expectCmd("c STATUS Labels (MESSAGES)", "c "+noSelect)
	c.send("d APPEND Labels {" + strconv.Itoa(len(harnessMessage(9))) + "}")
	c.expect("+ Ready for literal data")
	c.write(harnessMessage(9) + "\r\n")
	c.expect("d " + noSelect)
	c.cmd("e SELECT INBOX")
	c.expectCmd("f COPY 1 Labels", "f "+noSelect)
	c.expectCmd("g MOVE 1 Labels", "g "+noSelect)
	c.expectCmd("h UID MOVE 1 Labels", "h "+noSelect)

	// The store's reasons, with a capital first letter (RFC 5530 CANNOT:
	// the command can never succeed as given).
	const notKeyword = `Label names must be IMAP keywords: no spaces, no ( ) { % * " \ ] or /`
	c.expectCmd(`i CREATE "Labels/bad name"`, "i NO [CANNOT] "+notKeyword)
	c.expectCmd(`j CREATE "Labels/a(b"`, "j NO [CANNOT] "+notKeyword)
	c.expectCmd(`k CREATE "Labels/Work/Sub"`, "k NO [CANNOT] "+notKeyword)
	c.expectCmd(`l CREATE "Labels/$Forwarded"`, "l NO [CANNOT] $Forwarded is a flag that mail clients set, not a label")
	c.expectCmd(`m DELETE Labels`, "m NO [CANNOT] The labels folder cannot be deleted")
	c.expectCmd(`n RENAME Labels Tags`, "n NO [CANNOT] The labels folder cannot be renamed")
	c.expectCmd(`o RENAME Archive Labels/Archive`, "o NO [CANNOT] A folder cannot be moved into the labels folder")
	lines := c.cmd(`p CREATE "Labels/Work"`)
	expectLines(t, "CREATE Labels/Work", lines, `p OK [MAILBOXID (`+mailboxObjectID(ts.mailbox(t, "alice", "Labels/Work").ID)+`)] CREATE completed`)
	c.expectCmd(`q RENAME "Labels/Work" Archive/Work`, "q NO [CANNOT] A label folder can only be renamed to another label folder")
	c.expectCmd(`r RENAME "Labels/Work" "Labels/bad name"`, "r NO [CANNOT] "+notKeyword)
}

// TestLabelsTwoDevices is issue 4's scenario: a keyword-aware client
// labels a message in INBOX; a folder-only client finds it in
// Labels/Work, the same message (flags, EMAILID); a flag set on either
// side reaches the other at once (NOOP, IDLE); expunging it from the
// label folder removes the label only; nothing is ever duplicated or
// lost.
func TestLabelsTwoDevices(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "Sent", harnessMessage(3))

	a := ts.rawLogin(t, "alice") // keyword-aware
	before := messageCounts(t, a)
	expectCounts(t, "before", before, map[string]int{
		"INBOX": 2, "All Mail": 3, "Archive": 0, "Drafts": 0, "Junk": 0, "Sent": 1, "Trash": 0,
	})
	a.cmd("a SELECT INBOX")
	a.expectCmd("b STORE 1 +FLAGS (Work)",
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work)",
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work \\*)] Flags permitted.",
		"* 1 FETCH (FLAGS (Work \\Recent))",
		"b OK STORE completed")
	a.expectCmd(`c LIST "" "Labels/*"`, `* LIST (\HasNoChildren) "/" "Labels/Work"`, "c OK LIST completed")
	expectCounts(t, "labelled", messageCounts(t, a), withCounts(before, map[string]int{"Labels/Work": 1}))
	inbox := oneFetch(t, a, "d FETCH 1 (FLAGS EMAILID)")

	b := ts.rawLogin(t, "alice") // folder-only
	lwv := uidValidity(t, ts, "Labels/Work")
	expectLines(t, "SELECT Labels/Work", withoutOtherCodes(b.cmd(`a SELECT "Labels/Work"`)),
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft Work)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft Work \*)] Flags permitted.`,
		"* 1 EXISTS",
		"* 1 RECENT",
		"* OK [UNSEEN 1] First unseen.",
		"* OK [UIDVALIDITY "+lwv+"] UIDs valid",
		"* OK [UIDNEXT 2] Predicted next UID",
		"a OK [READ-WRITE] SELECT completed")
	label := oneFetch(t, b, "b FETCH 1 (FLAGS EMAILID)")
	if emailID(t, label) != emailID(t, inbox) {
		t.Errorf("EMAILID differs: INBOX %q, Labels/Work %q", inbox, label)
	}
	if want := "* 1 FETCH (FLAGS (Work \\Recent) EMAILID (" + emailID(t, inbox) + "))"; label != want {
		t.Errorf("Labels/Work: %q, want %q", label, want)
	}

	// Flagged in the label folder: INBOX learns it at its next command.
	b.expectCmd(`c STORE 1 +FLAGS (\Flagged)`, `* 1 FETCH (FLAGS (Work \Flagged \Recent))`, "c OK STORE completed")
	a.expectCmd("e NOOP", `* 1 FETCH (FLAGS (Work \Flagged \Recent))`, "e OK NOOP completed")

	// And the reverse, to a label folder session in IDLE.
	b.send("d IDLE")
	b.expect("+ idling")
	a.expectCmd(`f STORE 1 +FLAGS (\Seen)`, `* 1 FETCH (FLAGS (Work \Flagged \Seen \Recent))`, "f OK STORE completed")
	b.expect(`* 1 FETCH (FLAGS (Work \Flagged \Seen \Recent))`)
	b.send("DONE")
	b.expect("d OK IDLE completed")

	// EXPUNGE in the label folder: the label goes, the message stays in
	// INBOX, without \Deleted.
	b.expectCmd(`e STORE 1 +FLAGS (\Deleted)`, `* 1 FETCH (FLAGS (Work \Deleted \Flagged \Seen \Recent))`, "e OK STORE completed")
	b.expectCmd("f EXPUNGE", "* 1 EXPUNGE", "f OK EXPUNGE completed")
	b.expectCmd("g STATUS INBOX (MESSAGES)", "* STATUS INBOX (MESSAGES 2)", "g OK STATUS completed")
	a.expectCmd("g NOOP", `* 1 FETCH (FLAGS (\Flagged \Seen \Recent))`, "g OK NOOP completed")
	a.expectCmd("h FETCH 1 (FLAGS EMAILID)", `* 1 FETCH (FLAGS (\Flagged \Seen \Recent) EMAILID (`+emailID(t, inbox)+`))`, "h OK FETCH completed")
	// The label stays, empty, until deleted (docs/labels.md).
	expectCounts(t, "after EXPUNGE", messageCounts(t, a), withCounts(before, map[string]int{"Labels/Work": 0}))
	a.expectCmd(`i LIST "" "Labels/*"`, `* LIST (\HasNoChildren) "/" "Labels/Work"`, "i OK LIST completed")
}

// TestLabelsCopyMoveAppend: COPY into a label folder adds the keyword and
// stores nothing; MOVE into it archives; APPEND into it files the
// message in Archive with the keyword, and APPENDUID names the label
// folder (RFC 4315). The counts of every folder say where each message
// is.
func TestLabelsCopyMoveAppend(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "INBOX", harnessMessage(3))
	c := ts.rawLogin(t, "alice")
	lines := c.cmd(`a CREATE "Labels/X"`)
	expectLines(t, "CREATE Labels/X", lines, `a OK [MAILBOXID (`+mailboxObjectID(ts.mailbox(t, "alice", "Labels/X").ID)+`)] CREATE completed`)
	before := messageCounts(t, c)
	expectCounts(t, "before", before, map[string]int{
		"INBOX": 3, "All Mail": 3, "Archive": 0, "Drafts": 0, "Junk": 0, "Sent": 0, "Trash": 0, "Labels/X": 0,
	})
	xv := uidValidity(t, ts, "Labels/X")
	c.cmd("b SELECT INBOX")

	// COPY: the keyword is added in INBOX (reported as a change made
	// elsewhere), no message is created.
	c.expectCmd(`c COPY 1 "Labels/X"`,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft X)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft X \*)] Flags permitted.`,
		`* 1 FETCH (FLAGS (X \Recent))`,
		"c OK [COPYUID "+xv+" 1 1] COPY completed")
	expectCounts(t, "after COPY", messageCounts(t, c), withCounts(before, map[string]int{"Labels/X": 1}))

	// MOVE: the message leaves INBOX for Archive, with the keyword.
	c.expectCmd(`d MOVE 2 "Labels/X"`,
		"* OK [COPYUID "+xv+" 2 2] Moved",
		"* 2 EXPUNGE",
		"d OK MOVE completed")
	expectCounts(t, "after MOVE", messageCounts(t, c), withCounts(before, map[string]int{"Labels/X": 2, "INBOX": -1, "Archive": 1}))

	// APPEND: stored once, in Archive, with the keyword; APPENDUID
	// names the label folder.
	msg := harnessMessage(4)
	c.send(`e APPEND "Labels/X" (\Seen) {` + strconv.Itoa(len(msg)) + "}")
	c.expect("+ Ready for literal data")
	c.write(msg + "\r\n")
	c.expect("e OK [APPENDUID " + xv + " 3] APPEND completed")
	after := withCounts(before, map[string]int{"Labels/X": 3, "INBOX": -1, "Archive": 2, "All Mail": 1})
	expectCounts(t, "after APPEND", messageCounts(t, c), after)
	c.cmd("f EXAMINE Archive")
	c.expectCmd("g FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])",
		"* 1 FETCH (FLAGS (X \\Recent) BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 2\r\n\r\n)",
		"* 2 FETCH (FLAGS (X \\Seen \\Recent) BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 4\r\n\r\n)",
		"g OK FETCH completed")

	// MOVE out of the label folder into the folder the message is in:
	// the label goes, nothing is copied.
	c.cmd(`h SELECT "Labels/X"`)
	c.expectCmd("i MOVE 1 INBOX", "* OK [COPYUID "+uidValidity(t, ts, "INBOX")+" 1 1] Moved", "* 1 EXPUNGE", "i OK MOVE completed")
	expectCounts(t, "after MOVE out", messageCounts(t, c), withCounts(after, map[string]int{"Labels/X": -1}))
}

// TestLabelsRenameDelete: RENAME of a label folder renames the keyword on
// its messages (a session in INBOX sees FETCH FLAGS) and keeps its
// UIDVALIDITY; DELETE removes the keyword, and no mail.
func TestLabelsRenameDelete(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), "X")
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a := ts.rawLogin(t, "alice")
	before := messageCounts(t, a)
	a.cmd("a SELECT INBOX")
	xv := uidValidity(t, ts, "Labels/X")

	b := ts.rawLogin(t, "alice")
	b.expectCmd(`a RENAME "Labels/X" "Labels/Y"`, "a OK RENAME completed")
	if v := uidValidity(t, ts, "Labels/Y"); v != xv {
		t.Errorf("UIDVALIDITY %s after RENAME, want %s", v, xv)
	}
	a.expectCmd("b NOOP",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft X Y)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft X Y \*)] Flags permitted.`,
		`* 1 FETCH (FLAGS (Y \Recent))`,
		"b OK NOOP completed")
	expectCounts(t, "after RENAME", messageCounts(t, a), withCounts(before, map[string]int{"Labels/X": -1, "Labels/Y": 1}))
	delete(before, "Labels/X")

	b.expectCmd(`b DELETE "Labels/Y"`, "b OK DELETE completed")
	a.expectCmd("c NOOP", `* 1 FETCH (FLAGS (\Recent))`, "c OK NOOP completed")
	a.expectCmd(`d LIST "" "Labels*"`, `* LIST (\Noselect \HasNoChildren) "/" "Labels"`, "d OK LIST completed")
	expectCounts(t, "after DELETE", messageCounts(t, a), before)
}

// TestAllMail: All Mail shows every message except those in Trash and
// Junk; CREATE (USE (\All)) makes a new one (RFC 6154 3) once the first
// is deleted.
func TestAllMail(t *testing.T) {
	ts := newTestServer(t)
	for i, mb := range []string{"INBOX", "INBOX", "Sent", "Archive", "Trash", "Junk", "Drafts"} {
		ts.deliver(t, "alice", mb, harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.expectCmd(`a STATUS "All Mail" (MESSAGES)`, `* STATUS "All Mail" (MESSAGES 5)`, "a OK STATUS completed")
	lines := c.cmd(`b EXAMINE "All Mail"`)
	if !hasLine(lines, "* 5 EXISTS") {
		t.Errorf("EXAMINE All Mail: %q", lines)
	}
	c.expectCmd("c FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject)])",
		"* 1 FETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 0\r\n\r\n)",
		"* 2 FETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 1\r\n\r\n)",
		"* 3 FETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 2\r\n\r\n)",
		"* 4 FETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 3\r\n\r\n)",
		"* 5 FETCH (BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 6\r\n\r\n)",
		"c OK FETCH completed")
	c.cmd("d UNSELECT")

	// RFC 6154 3: the special use cannot be assigned while All Mail
	// exists; the name itself is free.
	c.expectCmd(`e CREATE Everything (USE (\All))`, `e NO [USEATTR] Only one mailbox can be All Mail (\All)`)
	c.expectCmd(`e CREATE "All Mail" (USE (\All))`, `e NO [ALREADYEXISTS] Mailbox already exists`)
	c.expectCmd(`f DELETE "All Mail"`, "f OK DELETE completed")
	lines = c.cmd(`g CREATE Everything (USE (\All))`)
	if !strings.HasPrefix(lines[len(lines)-1], "g OK [MAILBOXID (") {
		t.Fatalf("CREATE (USE (\\All)): %q", lines)
	}
	c.expectCmd(`h LIST "" Everything RETURN (STATUS (MESSAGES))`,
		`* LIST (\HasNoChildren \All) "/" "Everything"`,
		`* STATUS "Everything" (MESSAGES 5)`,
		"h OK LIST completed")
	expectCounts(t, "after", messageCounts(t, c), map[string]int{
		"INBOX": 2, "Everything": 5, "Archive": 1, "Drafts": 1, "Junk": 1, "Sent": 1, "Trash": 1,
	})
}

// TestLabelsCondstoreQresync: a label folder has its own MODSEQs, so
// FETCH CHANGEDSINCE there reports a change made in INBOX (RFC 7162
// 3.1.4), and a QRESYNC SELECT reports VANISHED once the label was
// removed in INBOX (RFC 7162 3.2.5).
func TestLabelsCondstoreQresync(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), "Work")
	ts.deliver(t, "alice", "INBOX", harnessMessage(2), "Work")
	a := ts.rawLogin(t, "alice")
	a.cmd("a SELECT INBOX")

	b := ts.rawLogin(t, "alice")
	b.cmd("a ENABLE QRESYNC")
	lines := b.cmd(`b SELECT "Labels/Work" (CONDSTORE)`)
	hm := highestModSeq(t, ts, "alice", "Labels/Work")
	if !hasLine(lines, "* OK [HIGHESTMODSEQ "+hm+"] Highest") {
		t.Fatalf("SELECT (CONDSTORE): %q", lines)
	}
	v := uidValidity(t, ts, "Labels/Work")
	b.cmd("c UNSELECT")

	a.expectCmd(`b STORE 2 +FLAGS.SILENT (\Flagged)`, "b OK STORE completed")
	c := ts.rawLogin(t, "alice")
	c.cmd(`a SELECT "Labels/Work" (CONDSTORE)`)
	ms := modseqOf(t, ts, "alice", "Labels/Work")
	c.expectCmd("b FETCH 1:* (FLAGS) (CHANGEDSINCE "+hm+")",
		`* 2 FETCH (FLAGS (Work \Flagged) MODSEQ (`+ms[2]+`))`,
		"b OK FETCH completed")

	// The label removed in INBOX: message 1 leaves the label folder.
	a.expectCmd(`c STORE 1 -FLAGS.SILENT (Work)`, "c OK STORE completed")
	got := withoutOtherCodes(b.cmd(`d SELECT "Labels/Work" (QRESYNC (`+v+" "+hm+"))"), "HIGHESTMODSEQ")
	hm2 := highestModSeq(t, ts, "alice", "Labels/Work")
	expectLines(t, "QRESYNC SELECT", got,
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft Work)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft Work \*)] Flags permitted.`,
		"* 1 EXISTS",
		"* 0 RECENT",
		"* OK [UNSEEN 1] First unseen.",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 3] Predicted next UID",
		"* OK [HIGHESTMODSEQ "+hm2+"] Highest",
		"* VANISHED (EARLIER) 1",
		`* 1 FETCH (UID 2 FLAGS (Work \Flagged) MODSEQ (`+ms[2]+`))`,
		"d OK [READ-WRITE] SELECT completed")
}

// TestLabelsNotify: a NOTIFY client learns of a new label folder with a
// MailboxName event (RFC 5465 5.4), and NOTIFY SET STATUS skips the
// \Noselect root.
func TestLabelsNotify(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	n := ts.rawLogin(t, "alice")
	// The STATUS items are NOTIFY's business (notify_test.go); here, which
	// mailboxes get one.
	lines := n.cmd("a NOTIFY SET STATUS (personal (MessageNew MessageExpunge MailboxName))")
	expectLines(t, "NOTIFY SET STATUS", statusNames(lines),
		"INBOX", `"Sent"`, `"Drafts"`, `"Trash"`, `"Junk"`, `"Archive"`, `"All Mail"`, "a OK NOTIFY completed")
	a := ts.rawLogin(t, "alice")
	a.cmd("a SELECT INBOX")
	a.cmd("b STORE 1 +FLAGS.SILENT (Travel)")
	expectLines(t, "NOOP", statusNames(n.cmd("b NOOP")),
		`* LIST (\HasNoChildren) "/" "Labels/Travel"`, `"Labels/Travel"`, "b OK NOOP completed")
}

// statusNames replaces each "* STATUS name (...)" line by its name.
func statusNames(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l
		if rest, ok := strings.CutPrefix(l, "* STATUS "); ok {
			out[i], _, _ = strings.Cut(rest, " (")
		}
	}
	return out
}

// TestLabelsGoIMAPClient: a go-imap client sees the label folders as
// ordinary mailboxes and the root as \Noselect, and labelling with
// STORE shows the message in the label folder.
func TestLabelsGoIMAPClient(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	cl := ts.client(t, "alice")
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	err := cl.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{"Receipts"}}, nil).Close()
	if err != nil {
		t.Fatal(err)
	}
	list, err := cl.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string][]imap.MailboxAttr{}
	for _, d := range list {
		attrs[d.Mailbox] = d.Attrs
	}
	if !hasAttr(attrs["Labels"], imap.MailboxAttrNoSelect) || !hasAttr(attrs["All Mail"], imap.MailboxAttrAll) {
		t.Errorf("attributes: %v", attrs)
	}
	if _, ok := attrs["Labels/Receipts"]; !ok {
		t.Fatalf("no Labels/Receipts in %v", attrs)
	}
	sd, err := cl.Select("Labels/Receipts", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sd.NumMessages != 1 {
		t.Errorf("Labels/Receipts: %d messages", sd.NumMessages)
	}
	if err := cl.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Select("Labels", nil).Wait(); err == nil {
		t.Error("SELECT Labels succeeded")
	} else if ie, ok := err.(*imap.Error); !ok || ie.Code != imap.ResponseCodeCannot {
		t.Errorf("SELECT Labels: %v, want NO [CANNOT]", err)
	}
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}

// TestLabelsMultiappendRollback: a MULTIAPPEND into a label folder whose
// second message is refused stores nothing (RFC 3502 3): the first,
// already filed in Archive, is expunged there, not merely unlabelled.
func TestLabelsMultiappendRollback(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "Archive", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.cmd(`a CREATE "Labels/X"`)
	before := messageCounts(t, c)
	for _, target := range []string{`"Labels/X"`, `"All Mail"`} {
		m1, m2 := harnessMessage(2), "Subject: caf\xc3\xa9\r\n\r\nx\r\n"
		c.send("b APPEND " + target + " {" + strconv.Itoa(len(m1)) + "+}")
		c.write(m1 + " {" + strconv.Itoa(len(m2)) + "+}\r\n" + m2 + "\r\n")
		c.expect("b NO Message has 8-bit header fields; ENABLE UTF8=ACCEPT first")
		expectCounts(t, "after a failed MULTIAPPEND to "+target, messageCounts(t, c), before)
	}
	c.cmd("c EXAMINE Archive")
	c.expectCmd("d FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])",
		"* 1 FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 1\r\n\r\n)",
		"d OK FETCH completed")
}

// TestLabelsFolderCommands walks the rest of docs/labels.md's command
// tables: COPY from Trash into a label files a labelled copy in Archive;
// MOVE between label folders relabels; MOVE out of a label folder into
// another folder copies the message there without the label; MOVE from
// a label folder into All Mail only unlabels; EXPUNGE in All Mail moves
// to Trash; MOVE from All Mail moves between folders; keywords differing
// in case are one label.
func TestLabelsFolderCommands(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), "Y")
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	ts.deliver(t, "alice", "Trash", harnessMessage(3))
	ts.deliver(t, "alice", "INBOX", harnessMessage(4), "work")
	c := ts.rawLogin(t, "alice")
	c.cmd(`a CREATE "Labels/X"`)
	counts := messageCounts(t, c)
	expectCounts(t, "start", counts, map[string]int{
		"INBOX": 3, "All Mail": 3, "Archive": 0, "Drafts": 0, "Junk": 0, "Sent": 0, "Trash": 1,
		"Labels/X": 0, "Labels/Y": 1, "Labels/work": 1,
	})

	c.cmd("b SELECT Trash")
	c.expectCmd(`c COPY 1 "Labels/X"`, "c OK [COPYUID "+uidValidity(t, ts, "Labels/X")+" 1 1] COPY completed")
	counts = withCounts(counts, map[string]int{"Archive": 1, "All Mail": 1, "Labels/X": 1})
	expectCounts(t, "COPY from Trash", messageCounts(t, c), counts)

	c.cmd(`d SELECT "Labels/Y"`)
	c.expectCmd(`e MOVE 1 "Labels/X"`, "* OK [COPYUID "+uidValidity(t, ts, "Labels/X")+" 1 2] Moved", "* 1 EXPUNGE", "e OK MOVE completed")
	counts = withCounts(counts, map[string]int{"Labels/Y": -1, "Labels/X": 1})
	expectCounts(t, "relabel", messageCounts(t, c), counts)

	c.cmd(`f SELECT "Labels/X"`)
	c.expectCmd("g FETCH 2 (FLAGS)", `* 2 FETCH (FLAGS (X \Recent))`, "g OK FETCH completed")
	c.expectCmd("h MOVE 2 Sent", "* OK [COPYUID "+uidValidity(t, ts, "Sent")+" 2 1] Moved", "* 2 EXPUNGE", "h OK MOVE completed")
	counts = withCounts(counts, map[string]int{"Labels/X": -1, "Sent": 1, "All Mail": 1})
	expectCounts(t, "MOVE out of a label", messageCounts(t, c), counts)
	c.expectCmd(`i STATUS INBOX (MESSAGES)`, "* STATUS INBOX (MESSAGES 3)", "i OK STATUS completed")

	c.cmd(`j SELECT "Labels/work"`)
	c.expectCmd(`k MOVE 1 "All Mail"`, "* OK [COPYUID "+uidValidity(t, ts, "All Mail")+" 1 3] Moved", "* 1 EXPUNGE", "k OK MOVE completed")
	counts = withCounts(counts, map[string]int{"Labels/work": -1})
	expectCounts(t, "MOVE from a label into All Mail", messageCounts(t, c), counts)

	// Keywords are case-insensitive: Work is the label "work".
	c.cmd("l SELECT INBOX")
	c.expectCmd("m STORE 3 +FLAGS (Work)", `* 3 FETCH (FLAGS (work \Recent))`, "m OK STORE completed")
	counts = withCounts(counts, map[string]int{"Labels/work": 1})
	expectCounts(t, "Work and work", messageCounts(t, c), counts)

	// EXPUNGE in All Mail: to Trash, without \Deleted.
	c.cmd(`n SELECT "All Mail"`)
	c.expectCmd(`o UID STORE 2 +FLAGS.SILENT (\Deleted)`, "o OK UID STORE completed")
	c.expectCmd("p EXPUNGE", "* 2 EXPUNGE", "p OK EXPUNGE completed")
	counts = withCounts(counts, map[string]int{"INBOX": -1, "Trash": 1, "All Mail": -1})
	expectCounts(t, "EXPUNGE in All Mail", messageCounts(t, c), counts)
	c.cmd("q EXAMINE Trash")
	c.expectCmd("r FETCH 2 (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])",
		"* 2 FETCH (FLAGS (\\Recent) BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 2\r\n\r\n)",
		"r OK FETCH completed")

	// MOVE out of All Mail into a folder moves the message there; All
	// Mail shows it again, under a new UID (RFC 6851: MOVE removes it
	// from the source).
	c.cmd(`s SELECT "All Mail"`)
	c.expectCmd("t UID MOVE 1 Drafts",
		"* OK [COPYUID "+uidValidity(t, ts, "Drafts")+" 1 1] Moved", "* 1 EXPUNGE", "* 4 EXISTS", "* 1 RECENT", "t OK UID MOVE completed")
	counts = withCounts(counts, map[string]int{"INBOX": -1, "Drafts": 1})
	expectCounts(t, "MOVE out of All Mail", messageCounts(t, c), counts)
}
