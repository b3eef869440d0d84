package imapserver

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// lit is a non-synchronizing literal (LITERAL+) carrying msg.
func lit(msg string) string {
	return "{" + strconv.Itoa(len(msg)) + "+}\r\n" + msg
}

// draft is a small message; i makes it unique.
func draft(i int) string {
	return crlf("From: alice@example.org\nSubject: draft " + strconv.Itoa(i) + "\n\nversion " + strconv.Itoa(i) + "\n")
}

// replaceServer has alice's Drafts with two drafts, selected in a rev2
// session (no \Recent noise).
func replaceServer(t *testing.T, opts ...func(*Config)) (*testServer, *rawConn) {
	ts := newTestServer(t, opts...)
	ts.deliver(t, "alice", "Drafts", draft(1))
	ts.deliver(t, "alice", "Drafts", draft(2))
	c := ts.rawLogin(t, "alice")
	c.expectCmd("e ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "e OK ENABLE completed")
	c.cmd("s SELECT Drafts")
	return ts, c
}

// RFC 8508 3.2: REPLACE within the selected mailbox: APPENDUID in an
// untagged OK, the new message's EXISTS, the old one's EXPUNGE, then OK.
func TestReplaceSelected(t *testing.T) {
	ts, c := replaceServer(t)
	v := uidValidity(t, ts, "Drafts")
	other := ts.rawLogin(t, "alice")
	other.cmd("o SELECT Drafts")
	c.expectCmd(`a REPLACE 1 Drafts (\Draft \Seen) `+lit(draft(3)),
		"* OK [APPENDUID "+v+" 3] Replacement message ready",
		"* 3 EXISTS",
		"* 1 EXPUNGE",
		"a OK REPLACE completed")
	c.expectCmd("b FETCH 1:* (UID FLAGS)",
		`* 1 FETCH (UID 2 FLAGS ())`,
		`* 2 FETCH (UID 3 FLAGS (\Draft \Seen))`,
		"b OK FETCH completed")
	c.expectCmd("c FETCH 2 BODY.PEEK[TEXT]", "* 2 FETCH (BODY[TEXT] {11}\r\nversion 3\r\n)", "c OK FETCH completed")
	// Another device sees the same outcome.
	lines := other.cmd("p NOOP")
	if !hasLine(lines, "* 1 EXPUNGE") || !hasLine(lines, "* 2 EXISTS") {
		t.Fatalf("other session: %q", lines)
	}
	other.expectCmd("q UID SEARCH ALL", "* SEARCH 2 3", "q OK UID SEARCH completed")
	// UID REPLACE with the last message, by "*" as UID.
	c.expectCmd(`d UID REPLACE * Drafts `+lit(draft(4)),
		"* OK [APPENDUID "+v+" 4] Replacement message ready",
		"* 3 EXISTS",
		"* 2 EXPUNGE",
		"d OK UID REPLACE completed")
	c.expectCmd("f UID SEARCH ALL", "* ESEARCH (TAG \"f\") UID ALL 2,4", "f OK UID SEARCH completed")
}

// RFC 8508 3.3: UID REPLACE into another mailbox (a draft becomes a sent
// message); with QRESYNC the old message goes as VANISHED.
func TestReplaceOtherMailbox(t *testing.T) {
	ts, c := replaceServer(t)
	vs := uidValidity(t, ts, "Sent")
	c.expectCmd(`a UID REPLACE 2 Sent (\Seen) `+lit(draft(3)),
		"* OK [APPENDUID "+vs+" 1] Replacement message ready",
		"* 2 EXPUNGE",
		"a OK UID REPLACE completed")
	c.expectCmd("b STATUS Sent (MESSAGES UIDNEXT)", `* STATUS "Sent" (MESSAGES 1 UIDNEXT 2)`, "b OK STATUS completed")
	// (ENABLE in the selected state also reports HIGHESTMODSEQ: RFC 7162.)
	if lines := c.cmd("c ENABLE QRESYNC"); !hasLine(lines, "* ENABLED QRESYNC") {
		t.Fatalf("ENABLE QRESYNC: %q", lines)
	}
	c.expectCmd(`d REPLACE 1 Sent `+lit(draft(4)),
		"* OK [APPENDUID "+vs+" 2] Replacement message ready",
		"* VANISHED 1",
		"d OK REPLACE completed")
	c.expectCmd("f STATUS Drafts (MESSAGES)", `* STATUS "Drafts" (MESSAGES 0)`, "f OK STATUS completed")
	// Within the selected mailbox under QRESYNC: VANISHED, then EXISTS.
	vd := uidValidity(t, ts, "Drafts")
	lines := c.cmd("g APPEND Drafts " + lit(draft(5)))
	if lines[len(lines)-1] != "g OK [APPENDUID "+vd+" 3] APPEND completed" {
		t.Fatalf("APPEND: %q", lines)
	}
	c.expectCmd("h UID REPLACE 3 Drafts "+lit(draft(6)),
		"* OK [APPENDUID "+vd+" 4] Replacement message ready",
		"* VANISHED 3",
		"* 1 EXISTS",
		"h OK UID REPLACE completed")
}

// RFC 8508 3.4: when the new message cannot be stored, the old one stays.
func TestReplaceFailuresKeepOld(t *testing.T) {
	_, c := replaceServer(t, func(cfg *Config) { cfg.MaxMessageSize = 200 })
	big := crlf("Subject: big\n\n0123456789012345678901234567890123456789012345678901234567890123456789\n" +
		"0123456789012345678901234567890123456789012345678901234567890123456789\n" +
		"0123456789012345678901234567890123456789012345678901234567890123456789\n")
	if len(big) <= 200 {
		t.Fatalf("fixture of %d bytes is not too big", len(big))
	}
	c.expectCmd("a REPLACE 1 Drafts "+lit(big), "a NO [TOOBIG] Message is larger than APPENDLIMIT=200")
	c.expectCmd("b REPLACE 1 Nowhere "+lit(draft(3)), "b NO [TRYCREATE] Mailbox does not exist")
	c.expectCmd("c UID REPLACE 9 Drafts "+lit(draft(3)), "c NO [NONEXISTENT] No such message")
	c.expectCmd("d REPLACE 3 Drafts "+lit(draft(3)), "d BAD Invalid message sequence number")
	c.expectCmd("f REPLACE 1:2 Drafts "+lit(draft(3)), "f BAD REPLACE takes a single message number")
	c.expectCmd("g REPLACE 1 Drafts "+lit(""), "g NO Cannot store an empty message")
	c.expectCmd("h UID FETCH 1:* (FLAGS)", "* 1 FETCH (UID 1 FLAGS ())", "* 2 FETCH (UID 2 FLAGS ())", "h OK UID FETCH completed")
	c.expectCmd("i STATUS Drafts (MESSAGES UIDNEXT)", `* STATUS "Drafts" (MESSAGES 2 UIDNEXT 3)`, "i OK STATUS completed")
	// Read-only: the old message cannot be expunged.
	c.cmd("j EXAMINE Drafts")
	c.expectCmd("k REPLACE 1 Drafts "+lit(draft(3)), "k NO Mailbox is read-only")
	// Not selected: REPLACE is a selected-state command.
	c.cmd("l UNSELECT")
	lines := c.cmd("m REPLACE 1 Drafts " + lit(draft(3)))
	if len(lines) != 1 || lines[0][:6] != "m BAD " {
		t.Fatalf("REPLACE outside selected state: %q", lines)
	}
}

// The store's Replace is one transaction: over quota, nothing changes.
func TestReplaceOverQuotaKeepsOld(t *testing.T) {
	ts, c := replaceServer(t)
	st, err := ts.account(t, "alice").Status(context.Background(), ts.mailbox(t, "alice", "Drafts").ID)
	if err != nil {
		t.Fatal(err)
	}
	// Room for the current drafts and a few bytes more.
	if err := ts.Store.SetQuota(context.Background(), "alice", st.Size+10, 0); err != nil {
		t.Fatal(err)
	}
	bigger := crlf("From: alice@example.org\nSubject: draft 1, much longer now\n\nversion 1 with many more words\n")
	lines := c.cmd("a REPLACE 1 Drafts " + lit(bigger))
	if len(lines) != 1 || lines[0][:17] != "a NO [OVERQUOTA] " {
		t.Fatalf("REPLACE over quota: %q", lines)
	}
	c.expectCmd("b UID SEARCH ALL", `* ESEARCH (TAG "b") UID ALL 1:2`, "b OK UID SEARCH completed")
	// A replacement of the same size fits: the old one's space is freed
	// in the same transaction.
	v := uidValidity(t, ts, "Drafts")
	c.expectCmd("c REPLACE 1 Drafts "+lit(draft(7)),
		"* OK [APPENDUID "+v+" 3] Replacement message ready",
		"* 3 EXISTS",
		"* 1 EXPUNGE",
		"c OK REPLACE completed")
}

// A REPLACE literal is a message: it is bounded by APPENDLIMIT, not by the
// small limit on other commands' literals (RFC 8508 3.2, RFC 7889).
func TestReplaceLargeMessage(t *testing.T) {
	ts, c := replaceServer(t)
	v := uidValidity(t, ts, "Drafts")
	big := crlf("From: alice@example.org\nSubject: big draft\n\n") + strings.Repeat("0123456789abcdef\r\n", 8192) // ~147 KiB
	c.expectCmd(`a REPLACE 1 Drafts `+lit(big),
		"* OK [APPENDUID "+v+" 3] Replacement message ready",
		"* 3 EXISTS",
		"* 1 EXPUNGE",
		"a OK REPLACE completed")
	c.expectCmd("b FETCH 2 RFC822.SIZE", "* 2 FETCH (RFC822.SIZE "+strconv.Itoa(len(big))+")", "b OK FETCH completed")
}

// REPLACE (RFC 8508) with CATENATE (RFC 4469): the replacement is built from
// text and URLs, one of them naming the very message being replaced (its
// bytes are read before it is expunged), another a message of another
// mailbox. A bad URL or a result over APPENDLIMIT leaves the old message
// in place.
func TestReplaceCatenate(t *testing.T) {
	ts, c := replaceServer(t, func(cfg *Config) { cfg.MaxMessageSize = 400 })
	v := uidValidity(t, ts, "Drafts")
	ts.deliver(t, "alice", "INBOX", catMessage)
	vIn := uidValidity(t, ts, "INBOX")
	head := "From: alice@example.org\r\nSubject: draft 1, edited\r\n\r\n"
	// Draft 1's text is "version 1\r\n"; the relative URL resolves
	// against the selected mailbox (RFC 4469 5).
	c.expectCmd(`a REPLACE 1 Drafts (\Draft) CATENATE (TEXT `+lit(head)+` URL "/Drafts;UIDVALIDITY=`+v+`/;UID=1/;SECTION=TEXT"`+
		` TEXT `+lit("and more\r\n")+` URL "/INBOX;UIDVALIDITY=`+vIn+`/;UID=1/;SECTION=2")`,
		"* OK [APPENDUID "+v+" 3] Replacement message ready",
		"* 3 EXISTS",
		"* 1 EXPUNGE",
		"a OK REPLACE completed")
	if got, want := storedBody(t, ts, "Drafts", 3), head+"version 1\r\nand more\r\nsecond part body"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}
	c.expectCmd("b FETCH 2 (UID FLAGS)", `* 2 FETCH (UID 3 FLAGS (\Draft))`, "b OK FETCH completed")

	// UID REPLACE whose URL names the replaced message as a whole.
	c.expectCmd(`c UID REPLACE 3 Drafts CATENATE (TEXT `+lit("X-Edited: yes\r\n")+` URL "/Drafts/;UID=3")`,
		"* OK [APPENDUID "+v+" 4] Replacement message ready",
		"* 3 EXISTS",
		"* 2 EXPUNGE",
		"c OK UID REPLACE completed")
	if got, want := storedBody(t, ts, "Drafts", 4), "X-Edited: yes\r\n"+head+"version 1\r\nand more\r\nsecond part body"; got != want {
		t.Fatalf("stored %q, want %q", got, want)
	}

	// Failures keep the old message: a URL to a missing message, a
	// catenation over APPENDLIMIT=400, another user's mailbox without
	// URLAUTH, an empty result.
	c.expectCmd(`d REPLACE 1 Drafts CATENATE (URL "/Drafts/;UID=9")`, "d NO [BADURL /Drafts/;UID=9] No such message")
	c.expectCmd(`e REPLACE 2 Drafts CATENATE (URL "/Drafts/;UID=4" URL "/Drafts/;UID=4" URL "/Drafts/;UID=4" URL "/Drafts/;UID=4")`,
		"e NO [TOOBIG] Catenated message is larger than APPENDLIMIT=400")
	c.expectCmd(`f REPLACE 2 Drafts CATENATE (URL "imap://bob@localhost/INBOX/;UID=1")`,
		"f NO [BADURL imap://bob@localhost/INBOX/;UID=1] URL names another user's mailbox")
	c.expectCmd(`g REPLACE 2 Drafts CATENATE (TEXT `+lit("")+`)`, "g NO Cannot store an empty message")
	c.expectCmd(`h REPLACE 2 Drafts CATENATE ()`, "h BAD CATENATE needs at least one part")
	c.expectCmd("i UID FETCH 1:* (FLAGS)", "* 1 FETCH (UID 2 FLAGS ())", `* 2 FETCH (UID 4 FLAGS ())`, "i OK UID FETCH completed")
}
