package imapserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casier/casier/internal/store"
)

// notifyMain is the event set of the multi-device scenario.
const notifyMain = "NOTIFY SET (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge MailboxName SubscriptionChange))"

// expectWithin reads one line and checks it arrived within a second of
// start (the target is 100 ms on one machine; the bound leaves room for
// a loaded CI).
func expectWithin(t *testing.T, c *rawConn, start time.Time, want string) {
	t.Helper()
	c.expect(want)
	d := time.Since(start)
	t.Logf("%q after %v", want, d)
	if d > time.Second {
		t.Fatalf("%q took %v", want, d)
	}
}

// Session A asks for events; session B changes things; A hears of them
// while it sends no command at all (RFC 5465 1).
func TestNotifyMultiDevice(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	// All Mail would add a STATUS to every message event in INBOX or
	// Sent (labels_test.go checks those); this scenario is about the
	// folders themselves.
	a.cmd(`a0 DELETE "All Mail"`)
	a.cmd("b SELECT INBOX")
	a.expectCmd("c "+notifyMain, "c OK NOTIFY completed")
	b := ts.rawLogin(t, "alice")

	// New message in the selected mailbox: EXISTS, then the FETCH asked.
	start := time.Now()
	uid := ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	expectWithin(t, a, start, "* 1 EXISTS")
	a.expect("* 1 FETCH (UID 1 FLAGS ())")
	if uid != 1 {
		t.Fatalf("uid %d", uid)
	}
	// Flag change by B in the selected mailbox, with the UID RFC 5465 5.1
	// requires.
	b.cmd("s1 SELECT INBOX")
	start = time.Now()
	b.cmd(`s2 STORE 1 +FLAGS.SILENT (\Flagged)`)
	expectWithin(t, a, start, `* 1 FETCH (FLAGS (\Flagged) UID 1)`)

	// New message elsewhere: STATUS (RFC 5465 5.2).
	start = time.Now()
	ts.deliver(t, "alice", "Sent", harnessMessage(2))
	expectWithin(t, a, start, `* STATUS "Sent" (MESSAGES 1 UIDNEXT 2 UNSEEN 1)`)

	// Mailbox names (RFC 5465 5.4).
	start = time.Now()
	b.cmd("m1 CREATE Foo")
	expectWithin(t, a, start, `* LIST (\HasNoChildren) "/" "Foo"`)
	start = time.Now()
	b.cmd("m2 RENAME Foo Bar")
	expectWithin(t, a, start, `* LIST (\HasNoChildren) "/" "Bar" ("OLDNAME" ("Foo"))`)
	start = time.Now()
	b.cmd("m3 DELETE Bar")
	expectWithin(t, a, start, `* LIST (\NonExistent) "/" "Bar"`)

	// Subscriptions (RFC 5465 5.5).
	b.cmd("m4 CREATE Lists")
	a.expect(`* LIST (\HasNoChildren) "/" "Lists"`)
	start = time.Now()
	b.cmd("m5 SUBSCRIBE Lists")
	expectWithin(t, a, start, `* LIST (\Subscribed \HasNoChildren) "/" "Lists"`)
	b.cmd("m6 UNSUBSCRIBE Lists")
	a.expect(`* LIST (\HasNoChildren) "/" "Lists"`)

	// Expunge in the selected mailbox, between commands ("selected").
	b.cmd(`s3 STORE 1 +FLAGS.SILENT (\Deleted)`)
	a.expect(`* 1 FETCH (FLAGS (\Deleted \Flagged) UID 1)`)
	b.cmd("s4 EXPUNGE")
	a.expect("* 1 EXPUNGE")

	// NOTIFY NONE: nothing more, until the base protocol allows it.
	a.expectCmd("d NOTIFY NONE", "d OK NOTIFY completed")
	ts.deliver(t, "alice", "Sent", harnessMessage(3))
	b.cmd("m7 CREATE Quiet")
	ts.deliver(t, "alice", "INBOX", harnessMessage(4))
	time.Sleep(150 * time.Millisecond)
	a.expectCmd("e NOOP", "* 1 EXISTS", "e OK NOOP completed")
}

// RFC 5465 3.1: NOTIFY SET STATUS sends the current STATUS of every
// mailbox with message events, the selected one excepted.
func TestNotifySetStatus(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), store.FlagSeen)
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a := ts.rawLogin(t, "alice")
	a.cmd("a CREATE Lists/imap")
	a.expectCmd("b NOTIFY SET STATUS (mailboxes INBOX (MessageNew MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))",
		"* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UIDVALIDITY "+uidValidity(t, ts, "INBOX")+" UNSEEN 1)",
		`* STATUS "Lists" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY `+uidValidity(t, ts, "Lists")+` UNSEEN 0)`,
		`* STATUS "Lists/imap" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY `+uidValidity(t, ts, "Lists/imap")+` UNSEEN 0)`,
		"b OK NOTIFY completed")
	// Sent is covered by no group: no event.
	ts.deliver(t, "alice", "Sent", harnessMessage(3))
	ts.deliver(t, "alice", "Lists/imap", harnessMessage(4))
	a.expect(`* STATUS "Lists/imap" (MESSAGES 1 UIDNEXT 2 UNSEEN 1)`)
	// A flag change alone is not asked for here (no FlagChange).
	storeFlags(t, ts, "Lists/imap", store.FlagsAdd, []string{store.FlagSeen}, 1)
	// With CONDSTORE, HIGHESTMODSEQ is added; the selected mailbox gets
	// no STATUS.
	a.cmd("c ENABLE CONDSTORE")
	a.cmd("d SELECT Lists/imap")
	ts.deliver(t, "alice", "Lists/imap", harnessMessage(5))
	inbox := ts.mailbox(t, "alice", "INBOX")
	ts.deliver(t, "alice", "INBOX", harnessMessage(6))
	st, err := ts.account(t, "alice").Status(context.Background(), inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.expect("* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UNSEEN 2 HIGHESTMODSEQ " + itoa64(st.HighestModSeq) + ")")
	// The selected mailbox's new message waits for a command (no
	// selected filter).
	a.expectCmd("e NOOP", "* 2 EXISTS", "* 2 RECENT", "e OK NOOP completed")
}

func itoa64(n uint64) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// RFC 5465 5.2: MessageNew with fetch attributes, as in the RFC's example
// (header fields of new messages).
func TestNotifyMessageNewFetch(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	a.cmd("b SELECT INBOX")
	a.expectCmd("c NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge))", "c OK NOTIFY completed")
	ts.deliver(t, "alice", "INBOX", harnessMessage(7))
	a.expect("* 1 EXISTS", "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: test 7\r\n\r\n)")
	// PEEK: \Seen not set, so no flag echo.
	a.expectCmd("d NOOP", "d OK NOOP completed")
}

// selected-delayed: new messages at once, expunges only when a command
// allows them (RFC 5465 6).
func TestNotifySelectedDelayed(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1), store.FlagDeleted)
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	a.cmd("b SELECT INBOX")
	a.expectCmd("c NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange))", "c OK NOTIFY completed")
	mb := ts.mailbox(t, "alice", "INBOX")
	if _, err := ts.account(t, "alice").Expunge(context.Background(), mb.ID, nil); err != nil {
		t.Fatal(err)
	}
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a.expect("* 2 EXISTS")
	a.expectCmd("d NOOP", "* 1 EXPUNGE", "d OK NOOP completed")
}

// During IDLE, events of other mailboxes are pushed too (RFC 5465 4).
func TestNotifyDuringIdle(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	a.expectCmd("a NOTIFY SET (inboxes (MessageNew MessageExpunge FlagChange))", "a OK NOTIFY completed")
	a.send("b IDLE")
	a.expect("+ idling")
	start := time.Now()
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	// FlagChange asked for: HIGHESTMODSEQ comes too (RFC 5465 5.1), so a
	// flag change that leaves the counters alone still shows.
	expectWithin(t, a, start, "* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UNSEEN 1 "+highestModSeqItem(t, ts, "INBOX")+")")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 1)
	a.expect("* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UNSEEN 0 " + highestModSeqItem(t, ts, "INBOX") + ")")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 1)
	a.expect("* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UNSEEN 0 " + highestModSeqItem(t, ts, "INBOX") + ")")
	a.send("DONE")
	a.expect("b OK IDLE completed")
}

// A literal's continuation request and events share the writer: the
// continuation still comes out whole while events flow.
func TestNotifyWithLiteral(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	a.expectCmd("a NOTIFY SET (personal (MailboxName))", "a OK NOTIFY completed")
	a.send("b CREATE {3}")
	a.expect("+ Ready for literal data")
	b := ts.rawLogin(t, "alice")
	b.cmd("x CREATE Other")
	a.expect(`* LIST (\HasNoChildren) "/" "Other"`)
	a.send("Foo")
	a.expect(`* LIST (\HasNoChildren) "/" "Foo"`)
	if l := a.readLine(); !strings.HasPrefix(l, "b OK ") {
		t.Fatalf("CREATE: %q", l)
	}
}

// RFC 5465 5.8: a session whose queue overflows is told so, and NOTIFY
// is then NONE.
func TestNotifyOverflow(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	a.expectCmd("a NOTIFY SET (personal (MessageNew MessageExpunge))", "a OK NOTIFY completed")
	user := ts.account(t, "alice").UserID()
	a.send("b XSLEEP")
	<-xsleepStarted
	// More distinct mailboxes than a subscription queues, while the
	// session is busy.
	for i := range 300 {
		ts.Store.Hub().Publish(store.Change{User: user, Kind: store.ChangeMessages, Mailbox: store.MailboxID(100000 + i), ModSeq: 1})
	}
	a.expect("* OK [NOTIFICATIONOVERFLOW] Too many events; NOTIFY is now NONE", "b OK XSLEEP completed")
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	a.expectCmd("c NOOP", "c OK NOOP completed")
}

func TestNotifyErrors(t *testing.T) {
	ts := newTestServer(t)
	a := ts.rawLogin(t, "alice")
	for _, tc := range []struct{ cmd, want string }{
		{"NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))",
			"NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] Unsupported event"},
		{"NOTIFY SET (personal (MessageNew))", "BAD MessageNew and MessageExpunge must be specified together"},
		{"NOTIFY SET (personal (FlagChange))", "BAD FlagChange requires MessageNew and MessageExpunge"},
		{"NOTIFY SET (selected (MailboxName))", "BAD Only message events are allowed with the selected filters"},
		{"NOTIFY SET (personal (MessageNew (UID) MessageExpunge))", "BAD Fetch attributes are allowed with the selected filters only"},
		{"NOTIFY SET (selected (MessageNew (NOSUCH) MessageExpunge))", ""},
		{"NOTIFY SET (selected NONE) (selected-delayed NONE)", "BAD Only one selected filter is allowed"},
		{"NOTIFY SET (shared (MessageNew MessageExpunge))", "BAD Unknown mailbox filter shared"},
		{"NOTIFY GET", "BAD Expected SET or NONE"},
		{"NOTIFY SET", ""},
		{"NOTIFY NONE extra", ""},
	} {
		lines := a.cmd("t " + tc.cmd)
		last := lines[len(lines)-1]
		if tc.want == "" {
			if len(last) < 6 || last[:6] != "t BAD " {
				t.Errorf("%s: got %q, want BAD", tc.cmd, last)
			}
			continue
		}
		if last != "t "+tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, last, "t "+tc.want)
		}
	}
	// NONE event lists and several mailboxes parse.
	a.expectCmd("u NOTIFY SET (selected NONE) (mailboxes (INBOX Sent) (MessageNew MessageExpunge)) (subscribed NONE)", "u OK NOTIFY completed")
	a.expectCmd("v NOTIFY NONE", "v OK NOTIFY completed")
}

// RFC 5465 5.1: a selected filter without FlagChange: flag changes made
// elsewhere give no FETCH, neither between commands nor with a command's
// response; EXISTS and EXPUNGE still flow, and FETCH reads the current
// flags.
func TestNotifySelectedWithoutFlagChange(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	a.cmd("b SELECT INBOX")
	a.expectCmd("c NOTIFY SET (selected (MessageNew MessageExpunge))", "c OK NOTIFY completed")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 1)
	// The next line is the new message's: the flag change sent nothing.
	ts.deliver(t, "alice", "INBOX", harnessMessage(3))
	a.expect("* 3 EXISTS")
	a.expectCmd("d NOOP", "d OK NOOP completed")
	a.expectCmd("e FETCH 1 (FLAGS)", `* 1 FETCH (FLAGS (\Flagged))`, "e OK FETCH completed")
	// Its \Deleted is not reported either; its expunge is.
	expunge(t, ts, "INBOX", 2)
	a.expect("* 2 EXPUNGE")
	a.expectCmd("f FETCH 2 (UID)", "* 2 FETCH (UID 3)", "f OK FETCH completed")
}

// "selected NONE": nothing about the selected mailbox between commands,
// and no flag change at all; the expunge waits for a command, since the
// base protocol needs it to keep message numbers in step.
func TestNotifySelectedNone(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	ts.deliver(t, "alice", "INBOX", harnessMessage(2))
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	a.cmd("b SELECT INBOX")
	a.expectCmd("c NOTIFY SET (selected NONE) (mailboxes Sent (MessageNew MessageExpunge))", "c OK NOTIFY completed")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 1)
	expunge(t, ts, "INBOX", 2)
	ts.deliver(t, "alice", "Sent", harnessMessage(3))
	a.expect(`* STATUS "Sent" (MESSAGES 1 UIDNEXT 2 UNSEEN 1)`)
	a.expectCmd("d NOOP", "* 2 EXPUNGE", "d OK NOOP completed")
}

// Without a selected filter the base protocol governs the selected
// mailbox (RFC 5465 6; RFC 9051 5.2): its flag changes come with the next
// command's response, not between commands.
func TestNotifyNoSelectedFilter(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	a := ts.rawLogin(t, "alice")
	a.cmd("a ENABLE IMAP4rev2")
	a.cmd("b SELECT INBOX")
	a.expectCmd("c NOTIFY SET (mailboxes Sent (MessageNew MessageExpunge))", "c OK NOTIFY completed")
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagFlagged}, 1)
	ts.deliver(t, "alice", "Sent", harnessMessage(2))
	a.expect(`* STATUS "Sent" (MESSAGES 1 UIDNEXT 2 UNSEEN 1)`)
	a.expectCmd("d NOOP", `* 1 FETCH (FLAGS (\Flagged))`, "d OK NOOP completed")
}

// highestModSeqItem is the HIGHESTMODSEQ item of alice's mailbox name as
// a STATUS response carries it.
func highestModSeqItem(t *testing.T, ts *testServer, name string) string {
	t.Helper()
	return "HIGHESTMODSEQ " + highestModSeq(t, ts, "alice", name)
}
