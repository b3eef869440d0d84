package imapserver

import (
	"strconv"
	"testing"

	"github.com/casier/casier/internal/store"
)

// TestSearchContextUpdates: RETURN (UPDATE) keeps a search up to date
// (RFC 5267 4): messages that arrive, change or disappear elsewhere, or
// that the session changes itself, come as ADDTO and REMOVEFROM, until
// CANCELUPDATE.
func TestSearchContextUpdates(t *testing.T) {
	ts := newTestServer(t)
	for i := 1; i <= 3; i++ {
		ts.deliver(t, "alice", "INBOX", harnessMessage(i))
	}
	c := ts.rawLogin(t, "alice")
	c.cmd("e ENABLE IMAP4rev2")
	c.cmd("s SELECT INBOX")
	c.expectCmd("a UID SEARCH RETURN (UPDATE) UNSEEN", `* ESEARCH (TAG "a") UID ALL 1:3`, "a OK UID SEARCH completed")
	c.expectCmd("b SEARCH RETURN (UPDATE COUNT) SEEN", `* ESEARCH (TAG "b") COUNT 0`, "b OK SEARCH completed")

	// Another device appends a matching message.
	ts.deliver(t, "alice", "INBOX", harnessMessage(4))
	c.expectCmd("n1 NOOP", "* 4 EXISTS", `* ESEARCH (TAG "a") UID ADDTO (0 4)`, "n1 OK NOOP completed")

	// Another device marks message 2 seen: it leaves one result, joins
	// the other (numbered by message sequence number there).
	storeFlags(t, ts, "INBOX", store.FlagsAdd, []string{store.FlagSeen}, 2)
	c.expectCmd("n2 NOOP", `* 2 FETCH (FLAGS (\Seen))`, `* ESEARCH (TAG "a") UID REMOVEFROM (0 2)`,
		`* ESEARCH (TAG "b") ADDTO (0 2)`, "n2 OK NOOP completed")

	// An expunge elsewhere: REMOVEFROM comes before the EXPUNGE, while
	// the message number is still valid.
	expunge(t, ts, "INBOX", 2, 3)
	c.expectCmd("n3 NOOP", `* ESEARCH (TAG "a") UID REMOVEFROM (0 3)`, `* ESEARCH (TAG "b") REMOVEFROM (0 2)`,
		"* 2 EXPUNGE", "* 2 EXPUNGE", "n3 OK NOOP completed")

	// The session's own STORE updates the contexts too (STORE syncs
	// before it writes its FETCH responses).
	c.expectCmd("st STORE 2 +FLAGS (\\Seen)", `* ESEARCH (TAG "a") UID REMOVEFROM (0 4)`,
		`* ESEARCH (TAG "b") ADDTO (0 2)`, `* 2 FETCH (FLAGS (\Seen))`, "st OK STORE completed")
	c.expectCmd(`c1 UID SEARCH RETURN (UPDATE) ALL`, `* ESEARCH (TAG "c1") UID ALL 1,4`, "c1 OK UID SEARCH completed")

	c.expectCmd(`x CANCELUPDATE "a" "c1"`, "x OK CANCELUPDATE completed")
	ts.deliver(t, "alice", "INBOX", harnessMessage(5))
	c.expectCmd("n4 NOOP", "* 3 EXISTS", "n4 OK NOOP completed")
	c.expectCmd(`y CANCELUPDATE "a"`, `y BAD No search context with tag a`)
	c.expectCmd(`y2 CANCELUPDATE "b"`, "y2 OK CANCELUPDATE completed")

	// A new selection ends every context.
	c.expectCmd(`d UID SEARCH RETURN (UPDATE) ALL`, `* ESEARCH (TAG "d") UID ALL 1,4:5`, "d OK UID SEARCH completed")
	c.cmd("s2 SELECT INBOX")
	c.expectCmd(`z CANCELUPDATE "d"`, `z BAD No search context with tag d`)
}

// TestSearchContextOtherSession: the update comes from a second IMAP
// session's APPEND, and to a session idling.
func TestSearchContextOtherSession(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	a := ts.rawLogin(t, "alice")
	a.cmd("e ENABLE IMAP4rev2")
	a.cmd("s SELECT INBOX")
	a.expectCmd(`a UID SEARCH RETURN (UPDATE) SUBJECT "test 2"`, `* ESEARCH (TAG "a") UID`, "a OK UID SEARCH completed")
	b := ts.rawLogin(t, "alice")
	msg := harnessMessage(2)
	b.send("p APPEND INBOX {" + strconv.Itoa(len(msg)) + "+}")
	b.write(msg + "\r\n")
	b.readUntilTagged("p")
	a.send("i IDLE")
	a.expect("+ idling")
	a.expect("* 2 EXISTS", `* ESEARCH (TAG "a") UID ADDTO (0 2)`)
	a.send("DONE")
	a.expect("i OK IDLE completed")
}

// TestSearchContextLimit: past maxSearchContexts a search is answered
// once, with NOUPDATE (RFC 5267 4.2); reusing a tag replaces its context.
func TestSearchContextLimit(t *testing.T) {
	ts := newTestServer(t)
	ts.deliver(t, "alice", "INBOX", harnessMessage(1))
	c := ts.rawLogin(t, "alice")
	c.cmd("s SELECT INBOX")
	for i := 0; i < maxSearchContexts; i++ {
		tag := "t" + strconv.Itoa(i)
		c.expectCmd(tag+" UID SEARCH RETURN (UPDATE COUNT) ALL", `* ESEARCH (TAG "`+tag+`") UID COUNT 1`, tag+" OK UID SEARCH completed")
	}
	c.expectCmd("t0 UID SEARCH RETURN (UPDATE COUNT) ALL", `* ESEARCH (TAG "t0") UID COUNT 1`, "t0 OK UID SEARCH completed")
	c.expectCmd("x UID SEARCH RETURN (UPDATE COUNT) ALL", `* NO [NOUPDATE "x"] Too many search contexts`,
		`* ESEARCH (TAG "x") UID COUNT 1`, "x OK UID SEARCH completed")
	c.expectCmd(`y CANCELUPDATE "x"`, "y BAD No search context with tag x")
	// CONTEXT is a hint the server may ignore (RFC 5267 4.2), not an error.
	c.expectCmd("z UID SEARCH RETURN (CONTEXT COUNT) ALL", `* ESEARCH (TAG "z") UID COUNT 1`, "z OK UID SEARCH completed")
}
